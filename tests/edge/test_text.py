"""Text cleaning and bounded normalisation (bot/vocab/text.py), and the steps that use them."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.dialogue.keywords import is_erasure_request, is_opt_out
from bot.vocab.messages import InboundMessage
from bot.vocab.text import MAX_MESSAGE_CHARS, clean_text, fit_normalized, normalize_bounded
from bot.vocab.text import plain_words as normalise

LIGATURE = "\ufdfa"  # ARABIC LIGATURE SALLALLAHOU ALAYHE WASALLAM: 18 characters under NFKD
any_code_point = st.text(st.characters(codec=None, exclude_categories=()), max_size=200)
"""Every code point, surrogates included (what a JSON escape can put in a Python string)."""


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("hola \ud800", "hola "),
        ("a\x00b", "ab"),
        ("\udfff\ud83d", ""),
        ("bonjou\x07\x1b[31m", "bonjou[31m"),
        ("line\r\nnext\rlast", "line\nnext\nlast"),
        ("tab\there\nand newline", "tab\there\nand newline"),
        ("\x85C1 control\x9f", "C1 control"),
        ("emoji 👍🏾 and zwj 👩\u200d👩", "emoji 👍🏾 and zwj 👩\u200d👩"),
        ("Kreyòl: m pèdi paspò m", "Kreyòl: m pèdi paspò m"),
    ],
)
def test_clean_text_drops_what_cannot_be_stored_and_keeps_the_rest(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


@given(any_code_point, st.integers(min_value=0, max_value=300))
def test_cleaned_text_always_encodes_and_is_bounded(raw: str, limit: int) -> None:
    cleaned = clean_text(raw, limit)
    cleaned.encode("utf-8")  # no lone surrogate left: this would raise
    assert "\x00" not in cleaned and len(cleaned) <= limit
    assert all(ch in "\n\t" or unicodedata.category(ch) != "Cc" for ch in cleaned)


def test_normalisation_is_cut_before_and_after() -> None:
    assert len(unicodedata.normalize("NFKD", LIGATURE * 100)) == 1800
    assert len(normalize_bounded("NFKD", LIGATURE * 100, 50)) == 50
    assert normalize_bounded("NFKD", "café", 10) == unicodedata.normalize("NFKD", "café")


@given(any_code_point, st.integers(min_value=0, max_value=300))
def test_fit_normalized_is_the_longest_prefix_that_fits(raw: str, limit: int) -> None:
    fitted = fit_normalized(raw, limit)
    assert raw.startswith(fitted)
    assert len(unicodedata.normalize("NFKD", fitted)) <= limit
    if len(fitted) < len(raw):  # one more character would not fit (or the input was cut to `limit`)
        longer = raw[: len(fitted) + 1]
        assert len(fitted) == limit or len(unicodedata.normalize("NFKD", longer)) > limit


def test_a_message_that_fits_is_sent_unchanged() -> None:
    text = "hola, necesito ayuda con mis papeles"
    assert fit_normalized(text, MAX_MESSAGE_CHARS) == text
    assert fit_normalized(LIGATURE * 4000, MAX_MESSAGE_CHARS) == LIGATURE * (MAX_MESSAGE_CHARS // 18)


def test_keyword_normalisation_is_bounded_but_still_recognises_words() -> None:
    assert len(normalise(LIGATURE * 4000)) <= MAX_MESSAGE_CHARS
    assert is_opt_out("STOP") and is_opt_out("baja") and not is_opt_out("baja la música")
    assert is_erasure_request("Quiero BORRAR mis datos, por favor")


def test_an_inbound_message_is_clean_whoever_builds_it() -> None:
    """The terminal, a replayed journal entry or a future adapter: nothing invalid goes past the message."""
    message = InboundMessage("rest", sender="web\ud800\x00-1", text="hola \udfff\x00", message_id="m\x00")
    assert (message.sender, message.text, message.message_id) == ("web-1", "hola ", "m")
    message.conversation_id.encode("utf-8")
