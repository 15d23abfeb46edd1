"""The shipped answers people act on: each country's own emergency numbers, trafficking help with phone
safety, no overclaim about fees, and the Kreyòl and French wording fixed in issue 14."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from bot import COUNTRIES, LANGUAGES
from bot.config import PROJECT_ROOT
from bot.content.facts import facts
from bot.content.loader import load_content
from bot.i18n import LOCALE_DIR

ENTRIES = {(e.intent, e.lang, e.country): e for e in load_content(PROJECT_ROOT / "content").entries}
NUMBERS = {
    "BZ": {"911"},
    "CR": {"911"},
    "DO": {"911"},
    "GD": {"911"},
    "GT": {"110", "120", "122", "123", "125"},
    "HN": {"911"},
    "HT": {"114", "122", "116"},
    "MX": {"911"},
    "PA": {"104", "911"},
    "SR": {"115"},
    "SV": {"911"},
}
PHONE_SAFETY = {
    "es": "Si alguien revisa su teléfono, borre este chat",
    "en": "If someone checks your phone, delete this chat",
    "fr": "Si quelqu'un regarde votre téléphone, effacez cette conversation",
    "ht": "Si yon moun konn gade telefòn ou, efase konvèsasyon sa a",
}


def numbers_in(text: str) -> set[str]:
    return set(re.findall(r"(?<!\d)\d{3}(?!\d)", text))


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("country", COUNTRIES)
def test_each_country_has_its_own_emergency_numbers_first(lang: str, country: str) -> None:
    entry = ENTRIES[("emergency", lang, country)]
    assert entry.content_id == f"emergency.{country}"
    first_paragraph = entry.text.split("\n\n")[0]
    assert numbers_in(first_paragraph) & NUMBERS[country], first_paragraph  # the next step comes first
    assert numbers_in(entry.text) == NUMBERS[country]  # and no other country's number
    assert entry.source and entry.reviewed_by == "infobot content team"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_general_safety_answers_give_no_countrys_number(lang: str) -> None:
    for intent in ("emergency", "ask_trafficking"):
        entry = ENTRIES[(intent, lang, None)]
        assert not any(fact.isdigit() for fact in facts(entry.text)), entry.text
        assert not re.search(r"\d", entry.sms), entry.sms


def test_unconfirmed_numbers_are_marked_and_confirmed_ones_cite_an_official_page() -> None:
    for country in COUNTRIES:
        entry = ENTRIES[("emergency", "en", country)]
        if entry.verify:
            assert "to be confirmed" in entry.source or "http" in entry.source, country
        else:
            assert re.search(r"https?://\S+/\S", entry.source), (country, entry.source)  # a page, not a home


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("country", (None, *COUNTRIES))
def test_trafficking_answers_give_the_country_numbers_and_phone_safety(
    lang: str, country: str | None
) -> None:
    entry = ENTRIES[("ask_trafficking", lang, country)]
    assert PHONE_SAFETY[lang] in entry.text
    if country is not None:
        assert NUMBERS[country] <= numbers_in(entry.text)
    if country == "MX":
        assert "800 5533 000" in entry.text and entry.verify
    if lang == "fr":
        assert "traite des personnes" in entry.text


def test_no_answer_claims_every_official_procedure_is_free() -> None:
    claims = re.compile(
        r"official migration procedures (and IOM services )?are free|demach migrasyon gouvènman yo",
        re.IGNORECASE,
    )
    for entry in ENTRIES.values():
        assert not claims.search(entry.text + entry.sms), entry.content_id
    readme = (PROJECT_ROOT / "content" / "README.md").read_text(encoding="utf-8")
    assert "Government migration procedures and IOM services are **free**" not in readme


def test_a_person_without_papers_is_told_to_ask_a_hub_before_the_police() -> None:
    hub = re.compile(r"Centro de Información|Information Hub|Centre d'information|Sant Enfòmasyon")
    for (intent, lang, country), entry in ENTRIES.items():
        if intent == "ask_documents":
            police_lines = [
                line
                for line in entry.text.splitlines()
                if re.search(r"(a la|à la|to the|en la|bay) (polic|lapolis)", line)
            ]
            assert police_lines and all(hub.search(line) for line in police_lines), (lang, country)


KREYOL_CALQUES = (
    "Inite Refij",
    "demann refij",
    "entèmedyè",
    "estati migratwa",
    "Tegousigalpa",
    "biwo enfòmasyon",
)


def test_kreyol_and_french_wording_fixed() -> None:
    for (_, lang, _), entry in ENTRIES.items():
        if lang == "ht":
            for word in KREYOL_CALQUES:
                assert word.lower() not in (entry.text + entry.sms).lower(), (entry.content_id, word)
        if lang == "fr":
            assert "protection comme réfugié" not in entry.text
    with (LOCALE_DIR / "ht" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="ht")
    strings = " ".join(str(m.string) for m in catalog if m.id)
    assert "biwo enfòmasyon" not in strings.lower() and "Sant Enfòmasyon" in strings


def test_the_mexico_asylum_answer_gives_the_same_steps_in_every_language() -> None:
    must = {
        "es": ("Donde no hay oficina de la COMAR", "No salga del estado", "hay un plazo"),
        "en": ("Where there is no COMAR office", "Do not leave the state", "there is a time limit"),
        "fr": ("Là où il n'y a pas de bureau de la COMAR", "Ne quittez pas l'État", "il y a un délai"),
        "ht": ("Kote ki pa gen biwo COMAR", "Pa kite eta", "gen yon delè"),
    }
    for lang, phrases in must.items():
        text = ENTRIES[("ask_asylum", lang, "MX")].text
        for phrase in phrases:
            assert phrase in text, (lang, phrase)
