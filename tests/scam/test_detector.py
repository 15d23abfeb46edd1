"""The detector's signals and verdicts, in four languages, on noisy and code-switched text."""

from __future__ import annotations

import pytest

from bot.scam import assess
from bot.scam.lexicon import Matcher
from bot.scam.text import prepare

SIGNAL_CASES = [
    # (text, lang, expected signal)
    ("yo mande m 200 dola pou randevou a", "ht", "payment_for_free_procedure"),
    ("Vendo citas CBP One a 150$ por persona", "es", "payment_for_free_procedure"),
    ("appointment for asylum only $300", "en", "payment_for_free_procedure"),
    ("rendez-vous COMAR 1500 pesos", "fr", "payment_for_free_procedure"),
    ("Deposita a nombre de Carlos en Elektra", "es", "money_transfer_request"),
    ("send the money by Western Union today", "en", "money_transfer_request"),
    ("envoyez 300 dollars par virement", "fr", "money_transfer_request"),
    ("voye lajan an sou MonCash", "ht", "money_transfer_request"),
    ("visa garantizada en 15 dias", "es", "guaranteed_outcome"),
    ("100% guaranteed approval", "en", "guaranteed_outcome"),
    ("résultat garanti", "fr", "guaranteed_outcome"),
    ("papye w garanti, pa gen refi", "ht", "guaranteed_outcome"),
    ("ultimos cupos, solo hoy", "es", "urgency_pressure"),
    ("last spots, act now", "en", "urgency_pressure"),
    ("dernières places !", "fr", "urgency_pressure"),
    ("fok ou peye vit vit", "ht", "urgency_pressure"),
    ("info al whatsapp, escribeme al privado", "es", "personal_contact_only"),
    ("DM me for details", "en", "personal_contact_only"),
    ("écrivez-moi en privé", "fr", "personal_contact_only"),
    ("ekri m sou whatsapp", "ht", "personal_contact_only"),
    ("mandame foto de tu pasaporte", "es", "document_or_photo_request"),
    ("send a photo of your passport", "en", "document_or_photo_request"),
    ("envoyez la photo de votre passeport", "fr", "document_or_photo_request"),
    ("voye foto paspo w ban m", "ht", "document_or_photo_request"),
    ("cita sin hacer fila", "es", "skip_the_queue"),
    ("we can skip the line for you", "en", "skip_the_queue"),
    ("pas besoin d'attendre, on passe devant", "fr", "skip_the_queue"),
    ("ou p ap bezwen fe liy, nou gen moun anndan imigrasyon", "ht", "skip_the_queue"),
    ("soy funcionario de migración", "es", "fake_official_impersonation"),
    ("I work for IOM", "en", "fake_official_impersonation"),
    ("je travaille pour l'OIM", "fr", "fake_official_impersonation"),
    ("m travay ak OIM", "ht", "fake_official_impersonation"),
    ("tarjeta humanitaria en 3 dias, 4 mil pesos", "es", "mx_tarjeta_humanitaria_sale"),
    ("carnet de migracion RD$8,000", "es", "do_carnet_sale"),
    ("VIZA KANADA GRATIS pou tout Ayisyen", "ht", "ht_canada_visa_chain"),
    ("Canada jobs with visa included", "en", "job_visa_included"),
]


@pytest.mark.parametrize(("text", "lang", "signal"), SIGNAL_CASES)
def test_signal_is_found_with_its_evidence(text: str, lang: str, signal: str) -> None:
    result = assess(text, lang)
    assert signal in result.signals, result
    assert result.evidence[signal]
    assert result.verdict != "no_signs"


CODE_SWITCHED = [
    ("bro they want 200 dolares pa la cita de CBP One", "payment_for_free_procedure"),
    ("yo mande m 150 dollars for the appointment, fok mwen peye jodi a", "payment_for_free_procedure"),
    ("on me demande de payer 100 dola pou randevou a", "payment_for_free_procedure"),
    ("Mi amigo dice visa Canada garanti, peye 300 USD via Western Union", "money_transfer_request"),
    ("Trabajo en Canada con visa incluida, solo pagas 500$ de tramites, ekri m", "job_visa_included"),
]


@pytest.mark.parametrize(("text", "signal"), CODE_SWITCHED)
def test_code_switched_offers_are_flagged(text: str, signal: str) -> None:
    result = assess(text)
    assert result.verdict != "no_signs"
    assert signal in result.signals, result


NOISY_AMOUNTS = [
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
]


@pytest.mark.parametrize("amount", NOISY_AMOUNTS)
def test_amounts_in_every_shape_count_as_money(amount: str) -> None:
    result = assess(f"cita para asilo {amount}", "es")
    assert "payment_for_free_procedure" in result.signals


VERDICTS = [
    ("Vendo citas CBP One 150 USD, escribe al whatsapp", "es", "likely_fraud"),
    ("Garantizamos tu visa, sin hacer fila", "es", "likely_fraud"),
    ("yo mande m 200 dola pou randevou a, fok ou peye vit vit", "ht", "likely_fraud"),
    ("on me demande 100 dollars pour le rendez-vous", "fr", "warning_signs"),
    ("ultimos cupos!", "es", "warning_signs"),
    ("Hola, ¿dónde queda la oficina de la COMAR?", "es", "no_signs"),
    (
        "IOM reminds you: our services are free of charge. Never pay anyone for an appointment.",
        "en",
        "no_signs",
    ),
    ("If someone asks you for money for an appointment, it is a scam.", "en", "no_signs"),
    ("Les frais de passeport se paient à la banque avec le bordereau officiel.", "fr", "no_signs"),
    ("Pa janm peye pesonn pou yon randevou. Demach yo gratis.", "ht", "no_signs"),
    ("M vle voye 100 dola bay manman m, kisa ki pi bon mache?", "ht", "no_signs"),
    ("I get paid $15 per hour at my job, is that legal?", "en", "no_signs"),
]


@pytest.mark.parametrize(("text", "lang", "verdict"), VERDICTS)
def test_verdicts(text: str, lang: str, verdict: str) -> None:
    assert assess(text, lang).verdict == verdict


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
    result = assess(text, "es")
    assert ("unofficial_domain" in result.signals) is unofficial, result
    if unofficial:
        assert "fake_official_impersonation" in result.signals  # they borrow agency / government words


def test_plain_unofficial_site_is_a_warning_and_messaging_links_are_personal_contact() -> None:
    assert assess("more at bestjobs-now.com", "en").signals == ["unofficial_domain"]
    assert "personal_contact_only" in assess("escribe a wa.me/50937001234", "es").signals


def test_free_mail_named_after_an_agency_is_impersonation() -> None:
    assert "fake_official_impersonation" in assess("escriba a citas.comar@gmail.com", "es").signals


def test_language_is_detected_when_not_given() -> None:
    assert assess("yo mande m 200 dola pou randevou a").language == "ht"
    assert assess("They ask 200 dollars for the appointment", "en").language == "en"


def test_never_a_safe_verdict() -> None:
    assert assess("bonjou").verdict == "no_signs"


def test_normalised_view_keeps_offsets_to_quote_the_original() -> None:
    text = prepare("URGENTEEEE, Cítas YA!!")
    assert "urgente" in text.lower and "citas" in text.words
    start = text.words.index("citas")
    assert text.quote(start, start + 5).startswith("Cítas")


def test_phrase_syntax_wildcards_and_gaps() -> None:
    matcher = Matcher.build(["garantiz*", "envia .. pasaporte"])
    assert matcher.find("visa garantizada", [])
    assert matcher.find("envia foto de tu pasaporte", [])
    assert not matcher.find("envia cinco seis siete ocho pasaporte", [])
