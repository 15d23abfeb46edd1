"""The answer: every language has every line, quotes the evidence, never says "safe", fits 900 chars."""

from __future__ import annotations

import pytest

from bot import LANGUAGES
from bot.scam import assess, render_assessment
from bot.scam.detector import GENERIC_SIGNAL
from bot.scam.lexicon import default_lexicon
from bot.scam.render import MAX_CHARS, load_messages, missing_messages
from bot.scam.training import load_corpus

SAFE_WORDS = {"es": "es seguro", "en": "is safe", "fr": "est sûr", "ht": "san danje"}


def test_every_signal_and_pattern_has_wording_in_every_language() -> None:
    model_patterns = tuple(sorted({e.pattern for e in load_corpus() if e.scam}))
    ids = default_lexicon().signal_ids + ("unofficial_domain", GENERIC_SIGNAL) + model_patterns
    assert missing_messages(ids) == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_signs_never_claims_the_offer_is_safe(lang: str) -> None:
    line = load_messages()[lang]["verdict"]["no_signs"]
    text = render_assessment(assess("hola", lang), lang)
    assert line in text
    # the line may only mention safety to deny it ("no quiere decir que sea seguro")
    assert not text.lower().startswith(SAFE_WORDS[lang])


OFFERS = {
    "es": "URGENTE vendo citas CBP One 200 dolares garantizado, escribe al whatsapp, deposita en Elektra",
    "en": "Last spots! CBP One appointment $200 guaranteed, DM me, send the money by Western Union",
    "fr": "Dernières places ! rendez-vous CBP One 200 $ garanti, écrivez-moi en privé, envoyez 200 $",
    "ht": "Denye plas! randevou CBP One 200 dola garanti, ekri m sou whatsapp, voye lajan an sou MonCash",
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_render_quotes_evidence_and_reminds_that_procedures_are_free(lang: str) -> None:
    result = assess(OFFERS[lang], lang)
    assert result.verdict == "likely_fraud"
    text = render_assessment(result, lang)
    messages = load_messages()[lang]
    assert text.startswith(messages["verdict"]["likely_fraud"])
    assert messages["reminder"] in text and messages["offer"] in text
    assert f'("{result.evidence[result.signals[0]]}")' in text
    assert len(text) <= MAX_CHARS
    assert "<" not in text and "*" not in text  # plain text, no markup


def test_render_stays_within_limit_with_every_signal() -> None:
    huge = " ".join(OFFERS.values()) + " www.migracion-gob.com soy funcionario de migracion sin hacer fila"
    for lang in LANGUAGES:
        assert len(render_assessment(assess(huge, lang), lang)) <= MAX_CHARS
