"""What the fault benchmark sends and how it scores what came back.

People write in es/en/fr/ht on WhatsApp or SMS: greetings and questions, some emergencies, some ask for a
person ("0"), some opt out (STOP, BAJA, KANPE, ARRÊT) and may write again afterwards. Each person's
messages go one after the other, as a person types: the next one leaves only when every delivery of the
previous one is over and its reply has been seen (or a long wait has passed), so a reply sent later
through the REST API is attributed to the one message it answers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from xml.etree import ElementTree

LANGUAGES = ("es", "en", "fr", "ht")
GREETINGS = {
    "es": ("hola", "buenas tardes", "hola buenos días"),
    "en": ("hello", "good morning", "hi"),
    "fr": ("bonjour", "bonsoir", "salut"),
    "ht": ("bonjou", "bonswa", "alo"),
}
QUESTIONS = {
    "es": (
        "perdí mi pasaporte en costa rica",
        "quiero pedir asilo en mexico",
        "dónde puedo encontrar trabajo en panamá",
        "necesito un médico",
        "me piden 300 dolares por la cita",
        "quiero regresar a mi pais",
        "gracias",
    ),
    "en": (
        "i lost my passport in costa rica",
        "i want to apply for asylum in mexico",
        "where can i find work in panama",
        "i need a doctor",
        "they ask me for 300 dollars for the appointment",
        "thank you",
    ),
    "fr": (
        "j'ai perdu mon passeport au panama",
        "je veux demander l'asile au mexique",
        "je cherche du travail au panama",
        "j'ai besoin d'un médecin",
        "merci",
    ),
    "ht": (
        "kijan pou m jwenn papye nan dominikani",
        "mwen pèdi paspò m",
        "mwen bezwen travay nan panama",
        "mwen bezwen yon doktè",
        "mèsi anpil",
    ),
}
EMERGENCIES = {
    "es": ("me van a matar, ayuda", "ayuda me quieren matar"),
    "en": ("they want to kill me, help", "help someone is trying to kill me"),
    "fr": ("on veut me tuer, aidez-moi", "au secours ils vont me tuer"),
    "ht": ("yo vle touye m", "ede m yo vle touye m"),
}
ASK_HUMAN = {
    "es": ("0", "quiero hablar con una persona"),
    "en": ("0", "i want to talk to a person"),
    "fr": ("0", "je veux parler à une personne"),
    "ht": ("0", "mwen vle pale ak yon moun"),
}
OPT_OUTS = {
    "es": ("STOP", "BAJA", "parar"),
    "en": ("STOP", "stop", "UNSUBSCRIBE"),
    "fr": ("ARRÊT", "STOP"),
    "ht": ("KANPE", "SISPANN", "STOP"),
}
OUR_WHATSAPP = "whatsapp:+14155238886"
OUR_SMS = "+14155238886"


@dataclass
class Answer:
    """One reply seen: a TwiML response with messages, or a group of REST messages (one turn's)."""

    at: float
    """When it reached the person: the HTTP response, or the first REST message of the group."""
    bodies: list[str]
    via: str  # "twiml" or "rest"
    worker: str = ""
    """The worker whose TwiML it was (REST messages do not say which worker sent them)."""
    last: float = 0.0


@dataclass(eq=False)
class Message:
    sid: str
    sender: Sender
    index: int
    text: str
    kind: str
    """greeting, question, emergency, human, optout, after_optout."""
    duplicate: str | None = None
    """None, "concurrent" (a second delivery at the same moment, to the other worker) or "later"."""
    first_sent: float | None = None
    answers: list[Answer] = field(default_factory=list)

    @property
    def expects_reply(self) -> bool:
        """Every message is answered except those of a person who opted out and has not opted in again
        (no START is sent here). No conversation is held by staff in this run (no agent claims one), so
        none is excluded for that reason."""
        return self.kind != "after_optout"

    def params(self) -> dict[str, str]:
        return {
            "From": self.sender.from_field,
            "To": OUR_WHATSAPP if self.sender.channel == "whatsapp" else OUR_SMS,
            "Body": self.text,
            "MessageSid": self.sid,
            "AccountSid": "AC" + "0" * 32,
            "NumMedia": "0",
        }


@dataclass(eq=False)
class Sender:
    channel: str
    address: str
    language: str
    messages: list[Message] = field(default_factory=list)
    next_index: int = 0

    @property
    def from_field(self) -> str:
        return f"whatsapp:{self.address}" if self.channel == "whatsapp" else self.address

    @property
    def conversation_id(self) -> str:
        return f"{self.channel}:{self.address}"

    def kinds(self) -> set[str]:
        return {m.kind for m in self.messages}


def _script(rng: random.Random, lang: str) -> list[tuple[str, str]]:
    """One person's messages as (kind, text): mostly questions, some emergencies, some ask for a person,
    some opt out (and some of those write again)."""
    opening = [("greeting", rng.choice(GREETINGS[lang]))] if rng.random() < 0.5 else []
    questions = [("question", rng.choice(QUESTIONS[lang])) for _ in range(rng.randint(1, 3))]
    roll = rng.random()
    if roll < 0.08:
        cry = [("emergency", rng.choice(EMERGENCIES[lang]))]
        if rng.random() < 0.3:  # writes it again: still one open escalation for this person
            cry.append(("emergency", rng.choice(EMERGENCIES[lang])))
        return opening + cry + questions[:1]
    if roll < 0.16:
        return opening + questions[:1] + [("human", rng.choice(ASK_HUMAN[lang]))]
    if roll < 0.22:
        after = [("after_optout", rng.choice(QUESTIONS[lang])) for _ in range(rng.choice((0, 0, 1, 2)))]
        return opening + questions[:1] + [("optout", rng.choice(OPT_OUTS[lang]))] + after
    return opening + questions


@dataclass
class Attempt:
    """One HTTP request of a delivery."""

    started: float
    seconds: float
    outcome: str
    """HTTP status, or the client's exception name (ConnectError, ReadTimeout, ...)."""
    worker: str


@dataclass(eq=False)
class Delivery:
    """One delivery of a MessageSid (the provider's first try or a duplicate), with its retries."""

    message: Message
    started: float
    finished: float = 0.0
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def final(self) -> str:
        return self.attempts[-1].outcome if self.attempts else "none"


def plan(deliveries: int, duplicate_share: float, seed: int) -> tuple[list[Sender], list[Message]]:
    """Senders with their scripts, cut to `deliveries` deliveries of which `duplicate_share` repeat a
    MessageSid (half at the same moment on both workers, half a few seconds later)."""
    rng = random.Random(seed)
    duplicates = round(deliveries * duplicate_share)
    unique = deliveries - duplicates
    senders: list[Sender] = []
    messages: list[Message] = []
    while len(messages) < unique:
        n = len(senders)
        lang = LANGUAGES[n % 4]
        channel = "whatsapp" if rng.random() < 0.7 else "sms"
        prefix = {"es": "+50688", "en": "+1876", "fr": "+33655", "ht": "+50937"}[lang]
        sender = Sender(channel, f"{prefix}{n:07d}", lang)
        for kind, text in _script(rng, lang)[: unique - len(messages)]:
            message = Message(
                f"SM{len(messages):08d}{rng.getrandbits(96):024x}", sender, len(sender.messages), text, kind
            )
            sender.messages.append(message)
            messages.append(message)
        senders.append(sender)
    for i, message in enumerate(rng.sample(messages, duplicates)):
        message.duplicate = "concurrent" if i % 2 == 0 else "later"
    return senders, messages


def attribute_rest(senders: list[Sender], sent: list[tuple[float, str, str]], group_gap: float = 2.0) -> int:
    """Attach every REST message to the latest message its recipient had sent before it; one turn's
    bodies (sent one after the other) form one answer, a repeated body or a gap starts another.
    Returns how many REST messages matched no message (sent to nobody of this run, or before)."""
    by_address = {s.from_field: s for s in senders}
    unmatched = 0
    groups: dict[str, Answer] = {}
    for at, to, body in sorted(sent):
        sender = by_address.get(to)
        owner = None
        if sender is not None:
            earlier = [m for m in sender.messages if m.first_sent is not None and m.first_sent <= at]
            owner = max(earlier, key=lambda m: m.first_sent or 0.0) if earlier else None
        if owner is None:
            unmatched += 1
            continue
        current = groups.get(owner.sid)
        if current is None or body in current.bodies or at - current.last > group_gap:
            current = Answer(at, [], "rest")
            owner.answers.append(current)
            groups[owner.sid] = current
        current.bodies.append(body)
        current.last = at
    return unmatched


def twiml_bodies(xml: str) -> list[str]:
    """The texts of a TwiML response's <Message> elements ([] for an empty <Response/>)."""
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        return []
    return ["".join(m.itertext()) for m in root.iter("Message")]
