"""The word lists (content/scam/*.yml) find each sign with the person's own words, in four languages,
on noisy and code-switched text — the evidence the answer quotes. Verdicts are the model's (test_detector)."""

from __future__ import annotations

import pytest

from bot.scam.lexicon import Matcher, default_lexicon
from bot.scam.rules import RuleFindings, find_signals
from bot.scam.text import prepare


def _find(text: str) -> RuleFindings:
    return find_signals(prepare(text), default_lexicon())


SIGNAL_CASES = [
    # (text, expected signal)
    ("yo mande m 200 dola pou randevou a", "payment_for_free_procedure"),
    ("Vendo citas CBP One a 150$ por persona", "payment_for_free_procedure"),
    ("appointment for asylum only $300", "payment_for_free_procedure"),
    ("rendez-vous COMAR 1500 pesos", "payment_for_free_procedure"),
    ("Deposita a nombre de Carlos en Elektra", "money_transfer_request"),
    ("send the money by Western Union today", "money_transfer_request"),
    ("envoyez 300 dollars par virement", "money_transfer_request"),
    ("voye lajan an sou MonCash", "money_transfer_request"),
    ("visa garantizada en 15 dias", "guaranteed_outcome"),
    ("100% guaranteed approval", "guaranteed_outcome"),
    ("résultat garanti", "guaranteed_outcome"),
    ("papye w garanti, pa gen refi", "guaranteed_outcome"),
    ("ultimos cupos, solo hoy", "urgency_pressure"),
    ("last spots, act now", "urgency_pressure"),
    ("dernières places !", "urgency_pressure"),
    ("fok ou peye vit vit", "urgency_pressure"),
    ("info al whatsapp, escribeme al privado", "personal_contact_only"),
    ("DM me for details", "personal_contact_only"),
    ("écrivez-moi en privé", "personal_contact_only"),
    ("ekri m sou whatsapp", "personal_contact_only"),
    ("mandame foto de tu pasaporte", "document_or_photo_request"),
    ("send a photo of your passport", "document_or_photo_request"),
    ("envoyez la photo de votre passeport", "document_or_photo_request"),
    ("voye foto paspo w ban m", "document_or_photo_request"),
    ("cita sin hacer fila", "skip_the_queue"),
    ("we can skip the line for you", "skip_the_queue"),
    ("pas besoin d'attendre, on passe devant", "skip_the_queue"),
    ("ou p ap bezwen fe liy, nou gen moun anndan imigrasyon", "skip_the_queue"),
    ("soy funcionario de migración", "fake_official_impersonation"),
    ("I work for IOM", "fake_official_impersonation"),
    ("je travaille pour l'OIM", "fake_official_impersonation"),
    ("m travay ak OIM", "fake_official_impersonation"),
    ("tarjeta humanitaria en 3 dias, 4 mil pesos", "mx_tarjeta_humanitaria_sale"),
    ("carnet de migracion RD$8,000", "do_carnet_sale"),
    ("VIZA KANADA GRATIS pou tout Ayisyen", "ht_canada_visa_chain"),
    ("Canada jobs with visa included", "job_visa_included"),
    ("bro they want 200 dolares pa la cita de CBP One", "payment_for_free_procedure"),
    ("on me demande de payer 100 dola pou randevou a", "payment_for_free_procedure"),
    ("Mi amigo dice visa Canada garanti, peye 300 USD via Western Union", "money_transfer_request"),
]


@pytest.mark.parametrize(("text", "signal"), SIGNAL_CASES)
def test_each_signal_is_found_with_the_words_that_show_it(text: str, signal: str) -> None:
    found = _find(text)
    assert signal in found.signals, found
    assert found.evidence[signal] and found.evidence[signal] in text  # the person's own words, quoted


@pytest.mark.parametrize(
    "amount",
    [
        "500$",
        "$500",
        "500 dolares",
        "5mil pesos",
        "USD 300",
        "US$300",
        "RD$5,000",
        "2000 goud",
        "3000 lempiras",
        "Q2000",
        "1500 quetzales",
        "50000 colones",
        "200 balboas",
        "200 dola",
    ],
)
def test_amounts_in_every_shape_count_as_money(amount: str) -> None:
    assert "payment_for_free_procedure" in _find(f"cita para asilo {amount}").signals


CANCELLED = [
    "Nadie puede cobrarle por una cita de asilo.",  # negation
    "If someone asks you for money for an appointment, it is a scam.",  # warning context
    "¿Cuánto cuesta la cita en la COMAR?",  # a question without an amount
    "M vle voye 100 dola bay manman m pou randevou doktè a",  # the person's own plan
    "Pa janm peye pesonn pou yon randevou.",
]


@pytest.mark.parametrize("text", CANCELLED)
def test_negation_warning_questions_and_own_plans_cancel_the_payment_sign(text: str) -> None:
    assert "payment_for_free_procedure" not in _find(text).signals


DOMAINS = [
    ("Pide tu cita en https://migracion-gob.com/citas", True),
    ("Regístrate en www.citas-cbpone.online", True),
    ("info en inm-gob-mx.net", True),
    ("apply at iom-assistance.org", True),
    ("Visit migracion.gob.mx.com", True),
    ("Requisitos en https://www.migracion.go.cr", False),
    ("Citas en https://migracion.gob.do", False),
    ("Info: https://www.gob.mx/comar", False),
    ("See https://help.unhcr.org/mexico", False),
    ("www.iom.int/es", False),
    ("Consulte https://igm.gob.gt/requisitos", False),
]


@pytest.mark.parametrize(("text", "unofficial"), DOMAINS)
def test_unofficial_and_lookalike_domains_versus_official_ones(text: str, unofficial: bool) -> None:
    found = _find(text)
    assert ("unofficial_domain" in found.signals) is unofficial, found
    if unofficial:
        assert "fake_official_impersonation" in found.signals  # they borrow agency / government words


def test_plain_unofficial_site_messaging_links_and_agency_mailboxes() -> None:
    assert _find("more at bestjobs-now.com").signals == ["unofficial_domain"]
    assert "personal_contact_only" in _find("escribe a wa.me/50937001234").signals
    assert "fake_official_impersonation" in _find("escriba a citas.comar@gmail.com").signals


def test_the_lexicon_verdict_is_kept_for_the_baseline() -> None:
    assert _find("Vendo citas CBP One 150 USD, escribe al whatsapp").verdict == "likely_fraud"
    assert _find("ultimos cupos!").verdict == "warning_signs"
    assert _find("Hola, ¿dónde queda la oficina de la COMAR?").verdict == "no_signs"


def test_normalised_view_keeps_offsets_to_quote_the_original() -> None:
    text = prepare("URGENTEEEE, Cítas YA!!")
    assert "urgente" in text.lower and "citas" in text.words
    start = text.words.index("citas")
    assert text.quote(start, start + 5).startswith("Cítas")


def test_phrase_syntax_wildcards_and_gaps() -> None:
    matcher = Matcher.build(["garantiz*", "envia .. pasaporte", "garantia total"])
    assert matcher.find("visa garantizada", [])
    assert matcher.find("envia foto de tu pasaporte", [])
    assert not matcher.find("envia cinco seis siete ocho pasaporte", [])
    # phrases sharing a first letter are grouped; the longest still wins where both match
    assert matcher.find("la garantia total", []) == [(3, 17)]


def test_clauses_are_found_by_position_in_long_messages() -> None:
    text = prepare("uno. dos? tres! " * 200)
    assert text.clause_at(0).start == 0
    middle = text.clauses[300]
    assert text.clause_at(middle.start + 1) == middle
    assert text.clause_at(middle.end - 1).is_question == middle.is_question
