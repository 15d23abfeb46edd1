"""The stored conversation keeps the dialogue's state and the contact apart, and reads older records."""

from __future__ import annotations

from bot.dialogue.state import ConversationState
from bot.state.record import Contact, StoredConversation


def test_dialogue_and_contact_round_trip_apart() -> None:
    kept = StoredConversation(
        ConversationState(language="ht", country="DO", awaiting="country"),
        Contact(channel="whatsapp", address="+50937000000", reply_from="whatsapp:+1415", last_inbound_at=5.0),
    )
    raw = kept.to_dict()
    assert set(raw) == {"dialogue", "contact"}
    assert "reply_from" not in raw["dialogue"] and "language" not in raw["contact"]
    assert StoredConversation.from_dict(raw) == kept


def test_a_flat_record_written_before_the_split_reads_as_both() -> None:
    flat = {
        "language": "es",
        "country": "MX",
        "opted_out": True,
        "reply_from": "+15550001111",
        "last_inbound_at": 1700000000.0,
        "outbox": [{"text": "Hola", "language": "es"}],
        "handed_over": True,
        "a_field_from_a_newer_version": 1,
    }
    kept = StoredConversation.from_dict(flat)
    assert (kept.dialogue.language, kept.dialogue.country, kept.dialogue.handed_over) == ("es", "MX", True)
    assert kept.contact.opted_out and kept.contact.reply_from == "+15550001111"
    assert kept.contact.last_inbound_at == 1700000000.0 and kept.contact.outbox[0]["text"] == "Hola"


def test_nothing_stored_is_a_new_conversation() -> None:
    assert StoredConversation.from_dict(None) == StoredConversation()
    assert StoredConversation.from_dict({}) == StoredConversation()
