"""`assess`: three-level verdicts from the model, never "safe", and what is shown agrees with the verdict."""

from __future__ import annotations

import pytest

from bot import LANGUAGES
from bot.scam import assess
from bot.scam.detector import GENERIC_SIGNAL, MAX_CHARS
from bot.scam.render import load_messages
from bot.scam.verdict import FRAUD_THRESHOLD, WARN_THRESHOLD, verdict_for

OFFERS = [
    ("Vendo citas CBP One 150 USD, escribe al whatsapp", "es"),
    ("yo mande m 200 dola pou randevou a, fok ou peye vit vit", "ht"),
    ("Garantizamos tu visa, sin hacer fila, deposita 300 dolares hoy", "es"),
    ("on me demande 100 dollars pour le rendez-vous à la COMAR", "fr"),
    ("Trip to the border in a private car with no checkpoints, 2500 per person", "en"),
    ("We have your son. Send 3000 by Western Union in one hour and tell nobody", "en"),
    ("Trabajo en Canada con visa incluida, solo pagas 500$ de tramites, ekri m", "es"),
]
NOT_OFFERS = [
    ("Hola, ¿dónde queda la oficina de la COMAR?", "es"),
    ("IOM reminds you: our services are free of charge. Never pay anyone for an appointment.", "en"),
    ("If someone asks you for money for an appointment, it is a scam.", "en"),
    ("Les frais de passeport se paient à la banque avec le bordereau officiel.", "fr"),
    ("Pa janm peye pesonn pou yon randevou. Demach yo gratis.", "ht"),
    ("M vle voye 100 dola bay manman m, kisa ki pi bon mache?", "ht"),
    ("I get paid $15 per hour at my job, is that legal?", "en"),
    ("bonjou", "ht"),
]


@pytest.mark.parametrize(("text", "lang"), OFFERS)
def test_offers_are_flagged_with_explanations_that_have_wording(text: str, lang: str) -> None:
    result = assess(text, lang)
    assert result.verdict in ("likely_fraud", "warning_signs"), result
    assert result.signals and set(result.evidence) == set(result.signals)
    wording = load_messages()[lang]["signals"]
    assert all(signal in wording for signal in result.signals), result.signals


@pytest.mark.parametrize(("text", "lang"), NOT_OFFERS)
def test_no_signs_shows_no_alarming_signal(text: str, lang: str) -> None:
    result = assess(text, lang)
    assert result.verdict == "no_signs", result
    assert result.signals == [] and result.evidence == {} and result.patterns == []


# The same offer, made and warned about, in each language (framing and negation decide, not the words).
FRAMING = {
    "es": (
        "Te vendo tu cita de CBP One por 200 dólares, me depositas hoy en Oxxo",
        "Circula un mensaje que vende citas de CBP One por 200 dólares: es una ESTAFA, las citas son gratis.",
    ),
    "en": (
        "I sell you a CBP One appointment for 200 dollars, pay me today at Western Union",
        "A message selling CBP One appointments for 200 dollars is going around: "
        "it is a SCAM, they are free.",
    ),
    "fr": (
        "Je te vends ton rendez-vous CBP One 200 dollars, tu paies aujourd'hui par Western Union",
        "Un message qui vend des rendez-vous CBP One à 200 dollars circule : "
        "c'est une ARNAQUE, ils sont gratuits.",
    ),
    "ht": (
        "M ap vann ou randevou CBP One lan 200 dola, peye m jodi a sou MonCash",
        "Gen yon mesaj k ap vann randevou CBP One 200 dola: se ESKWOKRI, randevou yo gratis, pa peye.",
    ),
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_offer_is_flagged_and_a_warning_quoting_it_is_not(lang: str) -> None:
    offer, warning = FRAMING[lang]
    assert assess(offer, lang).verdict != "no_signs"
    assert assess(warning, lang).verdict == "no_signs"


def test_the_model_explains_a_scheme_the_word_lists_do_not_name() -> None:
    text = "Mi novio de Facebook dice que nos casamos si le pago 600 dólares de la visa a su abogado"
    result = assess(text, "es")
    assert result.verdict != "no_signs"
    assert "romance_visa_fee" in result.signals and "romance_visa_fee" in result.patterns
    assert result.evidence["romance_visa_fee"] in text  # the person's own words


def test_thresholds_give_three_levels_and_never_a_safe_one() -> None:
    assert 0 < WARN_THRESHOLD < FRAUD_THRESHOLD < 1
    assert verdict_for(FRAUD_THRESHOLD) == "likely_fraud"
    assert verdict_for(WARN_THRESHOLD) == "warning_signs"
    assert verdict_for(WARN_THRESHOLD - 0.01) == "no_signs"
    assert GENERIC_SIGNAL in load_messages()["en"]["signals"]


def test_language_is_detected_when_not_given() -> None:
    assert assess("yo mande m 200 dola pou randevou a").language == "ht"
    assert assess("They ask 200 dollars for the appointment", "en").language == "en"


def test_only_the_message_limit_is_read() -> None:
    offer = " Vendo citas CBP One 300 dólares, deposita en Oxxo hoy mismo."
    filler = "hola buenas tardes " * (MAX_CHARS // 19 + 1)
    assert assess(offer, "es").verdict != "no_signs"
    assert assess(filler[:MAX_CHARS] + offer, "es").verdict == "no_signs"
