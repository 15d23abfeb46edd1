"""Personal data masked before a report is stored: phones in every shape, e-mails, names; amounts stay."""

from __future__ import annotations

import pytest

from bot.scam import mask_personal_data

PHONES = [
    "+509 3712 4455",
    "+50937124455",
    "809-555-1234",
    "(502) 5555 5555",
    "+52 1 55 1234 5678",
    "5512345678",
    "8095551234",
    "+1 (809) 555-1234",
    "6123-4567",
    "3712.4455",
    "+506 8888-7777",
]


@pytest.mark.parametrize("phone", PHONES)
def test_phone_numbers_are_masked(phone: str) -> None:
    masked = mask_personal_data(f"escribe al {phone} para tu cita")
    assert masked == "escribe al [phone] para tu cita"


@pytest.mark.parametrize(
    "link",
    [
        "wa.me/50937124455",
        "https://wa.me/+5215512345678?text=hola",
        "https://api.whatsapp.com/send?phone=50937124455",
    ],
)
def test_whatsapp_links_are_masked(link: str) -> None:
    assert mask_personal_data(f"ekri m {link} kounye a") == "ekri m [phone] kounye a"


def test_emails_are_masked() -> None:
    assert mask_personal_data("write to citas.comar@gmail.com now") == "write to [email] now"


NAMES = [
    ("Me llamo Juan Pérez y soy de Honduras", "Me llamo [name] y soy de Honduras"),
    ("hola me llamo juan perez y necesito ayuda", "hola me llamo [name] y necesito ayuda"),
    ("My name is Mary Smith, they asked me $500", "My name is [name], they asked me $500"),
    ("je m'appelle Jean-Pierre Louis et je suis à Tapachula", "je m'appelle [name] et je suis à Tapachula"),
    ("Bonjou mwen rele Wilner, yo mande m 200 dola", "Bonjou mwen rele [name], yo mande m 200 dola"),
    ("non m se Marie ak pitit mwen", "non m se [name] ak pitit mwen"),
]


@pytest.mark.parametrize(("text", "masked"), NAMES)
def test_introduced_names_are_masked(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


KEPT = [
    "RD$5,000 por el carnet de la DGM",
    "1.500.000 pesos",
    "25000 gourdes pou OIM",
    "5mil pesos para la COMAR",
    "$500 o 500$ o US$300 o 500 dolares",
    "Q5000 o L.3500 o 8000 lempiras, 12.500 quetzales, B/.1200, 50000 colones",
    "cita el 2024-05-12 en el INM",
]


@pytest.mark.parametrize("text", KEPT)
def test_amounts_dates_and_agencies_stay(text: str) -> None:
    assert mask_personal_data(text) == text


def test_mixed_message() -> None:
    text = (
        "Me llamo Ana Ruiz. Pague 3mil pesos a citas.inm@gmail.com o al +52 55 1234 5678 (wa.me/525512345678)"
    )
    assert mask_personal_data(text) == "Me llamo [name]. Pague 3mil pesos a [email] o al [phone] ([phone])"
