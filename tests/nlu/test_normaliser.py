"""The phone-typing normaliser of the Rasa pipeline (intents/components/normalise.py), without Rasa."""

from __future__ import annotations

import importlib.util

import pytest

from bot.config import PROJECT_ROOT

_spec = importlib.util.spec_from_file_location(
    "normalise", PROJECT_ROOT / "intents" / "components" / "normalise.py"
)
assert _spec is not None and _spec.loader is not None
normalise = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(normalise)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Holaaaa!!!", "holaa!"),
        ("m pèdi paspò m???", "m pedi paspo m?"),
        ("se me venció el permiso", "se me vencio el permiso"),
        ("👍🏾👍🏾", "emo_thumbs_up_sign"),
        ("gracias 🙏", "gracias emo_person_with_folded_hands"),
        ("mira https://example.com/x", "mira url"),
        ("  ça   va ", "ca va"),
        ("need a good book", "need a good book"),
    ],
)
def test_normalise_text(text: str, expected: str) -> None:
    assert normalise.normalise_text(text) == expected
