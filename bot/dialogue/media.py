"""Messages that are not text (voice notes, photos, documents, stickers, contacts, reactions): a kind
answer in the conversation's language, never a guess at words that were not written.

A voice note or file from someone whose conversation staff hold is passed to the console instead
(the AttachmentForStaff event); the bot itself stays quiet then.
"""

from __future__ import annotations

from bot.dialogue import replies
from bot.dialogue.events import AttachmentForStaff, AttachmentReceived, DialogueEvent
from bot.i18n import N_, translate
from bot.vocab.messages import Attachment, OutboundMessage

LEADS = {
    "sticker": N_(
        "Thank you! I can only read text. Write your question or choose a topic; reply 0 to talk to a person."
    ),
    "contact": N_(
        "I cannot open shared contacts. If you need help for someone, write your question or choose a topic; "
        "reply 0 to talk to a person."
    ),
}
READS_TEXT_ONLY = N_(
    "Sorry, I can only read text: I cannot listen to voice notes or open photos and documents. "
    "Please write your question or choose a topic. Reply 0 to talk to a person."
)
FOR_STAFF = ("voice", "audio", "image", "document", "video")
"""What an agent may need to hear or see in a conversation they hold."""


def reply(to: str, lang: str, attachment: Attachment, events: list[DialogueEvent]) -> list[OutboundMessage]:
    """The kind answer with the main menu (which ends with 0, a person); nothing for a reaction."""
    events.append(AttachmentReceived(attachment.kind))
    if attachment.kind == "reaction":
        return []
    return [replies.menu(to, lang, translate(lang, LEADS.get(attachment.kind, READS_TEXT_ONLY)))]


def for_staff(attachment: Attachment) -> AttachmentForStaff | None:
    """The event that shows a voice note or file to the agent holding the conversation."""
    if attachment.kind not in FOR_STAFF or not attachment.ref:
        return None
    return AttachmentForStaff(attachment.kind, attachment.content_type, attachment.ref)
