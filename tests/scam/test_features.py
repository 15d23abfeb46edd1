"""The model's engineered features: quoted passages, warning and debunking framing, official links, receipts,
and the pairs of cues — each seen on the message it is meant for, and bounded on hostile input."""

from __future__ import annotations

import pytest

from bot.scam import assess
from bot.scam.features import QUOTED_PREFIX, Prepared, prepare_message
from bot.scam.lexicon import default_lexicon
from bot.scam.training import default_model


def _prepared(text: str) -> Prepared:
    return prepare_message(text, default_lexicon())


def test_quoted_words_are_marked_and_the_rest_is_not() -> None:
    item = _prepared('Circula «vendo citas CBP One a 200 dólares», es falso. También "pague ya".')
    words = item.word_doc.split()
    assert {f"{QUOTED_PREFIX}{w}" for w in ("vendo", "200", "pague")} <= set(words)
    assert "circula" in words and "falso" in words and f"{QUOTED_PREFIX}falso" not in words
    plain = _prepared("Vendo citas CBP One a 200 dólares")
    assert plain.word_doc == plain.words


def test_an_unclosed_quote_marks_nothing() -> None:
    item = _prepared('ella dijo "vendo citas a 200 dólares')
    assert QUOTED_PREFIX not in item.word_doc


def test_framing_cues_in_every_language() -> None:
    cases = {
        "frame:debunk": [
            "Pasaportes en 3 días no existen",
            "That program does not exist",
            "Ce programme n'existe pas",
            "Pwogram sa a pa egziste",
        ],
        "frame:story": [
            "Mi primo perdió 900 dólares",
            "My cousin lost 900 dollars",
            "Mon cousin a perdu 900 dollars",
            "Kouzen m pèdi 900 dola",
        ],
        "frame:never_pay": ["No le crean", "Don't believe them", "Ne croyez pas ça", "Pa kwè yo"],
    }
    for cue, texts in cases.items():
        for text in texts:
            assert cue in _prepared(text).cues, (cue, text)


def test_an_official_link_is_a_cue_and_a_lookalike_is_not_one() -> None:
    assert "link:official" in _prepared("Aplike sèlman sou canada.ca").cues
    assert "link:official" in _prepared("Info en https://www.gob.mx/comar").cues
    lookalike = _prepared("Citas en comar-gob-mx.com")
    assert "link:official" not in lookalike.cues and "domain:lookalike" in lookalike.cues


def test_receipts_and_cue_pairs() -> None:
    item = _prepared("Remitly: Tu envío llegó. Juan recibió 300 USD. Referencia 8830.")
    assert "frame:receipt_head" in item.cues and "frame:receipt" in item.cues
    assert "ask:amount&frame:receipt" in item.cues  # pairs are sorted and joined with "&"
    assert all(a < b for a, b in (c.split("&") for c in item.cues if "&" in c))


def test_explanations_quote_the_persons_words_not_the_model_markers() -> None:
    model = default_model()
    item = _prepared('Mi vecino me reenvió esto: "Vendo cita CBP One, 300 dólares, pago por OXXO", ¿es real?')
    assert all(QUOTED_PREFIX not in w for w in model.telling_words(item, limit=5))
    result = assess(item.text.original, "es")
    assert all(QUOTED_PREFIX not in quote for quote in result.evidence.values())


def test_hostile_quote_characters_keep_every_word_once() -> None:
    hostile = (('"' + "a " * 150) * 10 + '"«»“”„' * 300)[:4096]
    item = _prepared(hostile)
    assert len(item.word_doc.split()) == len(item.words.split())


@pytest.mark.parametrize(
    ("lang", "offer", "question"),
    [
        (
            "es",
            "me piden 200 dolares por una cita en migracion, pago urgente por whatsapp",
            "¿es una estafa?",
        ),
        (
            "en",
            "they ask me 200 dollars for an immigration appointment, urgent payment by whatsapp",
            "is this a scam?",
        ),
        (
            "fr",
            "on me demande 200 dollars pour un rendez-vous à l'immigration, paiement urgent",
            "c'est une arnaque ?",
        ),
        ("ht", "yo mande m 200 dola pou yon randevou imigrasyon, fok mwen peye vit", "eske se yon eskwokri?"),
    ],
)
def test_the_persons_own_is_this_a_scam_question_does_not_mute_the_offer(
    lang: str, offer: str, question: str
) -> None:
    """People ask "is this a scam?" about the offer they paste: that question is not a warning."""
    alone = assess(offer, lang).verdict
    assert alone != "no_signs"
    assert assess(f"{offer}, {question}", lang).verdict == alone
    assert assess(f"{question} {offer}", lang).verdict == alone
    assert assess(question, lang).verdict == "no_signs"  # a bare question: no offer to assess
