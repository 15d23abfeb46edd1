"""Place names in free text -> the right hub, tolerant of accents, spacing, typos and Kreyòl spellings."""

from __future__ import annotations

import pytest

from bot.referrals import Directory, Hub, find_place, load_directory, match_place, nearest_hub, normalize


@pytest.fixture(scope="module")
def shipped() -> Directory:
    return load_directory()


@pytest.mark.parametrize(
    ("country", "text", "hub_id"),
    [
        ("CR", "san jose", "cr-san-jose"),
        ("CR", "San José", "cr-san-jose"),
        ("CR", "sanjose", "cr-san-jose"),
        ("CR", "SAN  JOSÉ!!", "cr-san-jose"),
        ("CR", "estoy en san jose centro", "cr-san-jose"),
        ("CR", "upal", "cr-upala"),
        ("CR", "paso canoas", "cr-paso-canoas"),
        ("MX", "Tapachul", "mx-tapachula"),
        ("MX", "tapachula chiapas", "mx-tapachula"),
        ("MX", "cdmx", "mx-ciudad-de-mexico"),
        ("MX", "ciudad juares", "mx-ciudad-juarez"),
        ("HT", "cap haitien", "ht-cap-haitien"),
        ("HT", "kap ayisyen", "ht-cap-haitien"),
        ("HT", "ouanament", "ht-ouanaminthe"),
        ("HT", "Ouanaminthe", "ht-ouanaminthe"),
        ("HT", "mwen nan potoprens", "ht-port-au-prince"),
        ("HN", "san pedro", "hn-san-pedro-sula"),
        ("HN", "tegusigalpa", "hn-tegucigalpa"),
        ("PA", "darien", "pa-lajas-blancas"),
        ("GT", "tecun uman", "gt-tecun-uman"),
        ("DO", "dajabon", "do-dajabon"),
    ],
)
def test_place_matching(shipped: Directory, country: str, text: str, hub_id: str) -> None:
    hub = match_place(text, country, shipped)
    assert hub is not None and hub.id == hub_id


@pytest.mark.parametrize(
    ("country", "text"),
    [
        ("CR", "no sé"),
        ("CR", ""),
        ("MX", "estoy en mexico"),
        ("MX", "hola necesito ayuda"),
        ("MX", "where is the office"),
        ("HT", "mwen pa konnen"),
        ("HT", "je cherche un centre"),
        ("SV", "no se donde"),
        ("DO", "santo"),
    ],
)
def test_no_place_named(shipped: Directory, country: str, text: str) -> None:
    assert match_place(text, country, shipped) is None


def test_matching_is_restricted_to_the_country(shipped: Directory) -> None:
    assert match_place("san jose", "MX", shipped) is None
    assert match_place("tapachula", "GT", shipped) is None
    assert match_place("san jose", "US", shipped) is None


def test_find_place_says_what_matched(shipped: Directory) -> None:
    found = find_place("kap ayisyen", "HT", shipped)
    assert found is not None
    assert (found.hub.id, found.name, found.kind, found.score) == (
        "ht-cap-haitien",
        "Kap Ayisyen",
        "alias",
        100.0,
    )


def test_normalize() -> None:
    assert normalize("  Cap-Haïtien ") == "cap haitien"
    assert normalize("Tecún Umán, San Marcos") == "tecun uman san marcos"


@pytest.mark.parametrize(
    ("country", "text", "hub_id"),
    [
        ("CR", "no sé", "cr-san-jose"),
        ("CR", None, "cr-san-jose"),
        ("CR", "San José", "cr-san-jose"),
        ("MX", "Tapachul", "mx-tapachula"),
        ("HT", "ouanament", "ht-ouanaminthe"),
        ("HT", "no idea", "ht-port-au-prince"),
    ],
)
def test_nearest_hub_on_shipped_directory(
    shipped: Directory, country: str, text: str | None, hub_id: str
) -> None:
    hub = nearest_hub(shipped, country, "documents", text)
    assert hub is not None and hub.id == hub_id


def test_nearest_hub_unknown_country(shipped: Directory) -> None:
    assert nearest_hub(shipped, "US", "documents", "san jose") is None
    assert nearest_hub(shipped, "ZZ", None, None) is None


def hub(
    hub_id: str, city: str, services: tuple[str, ...], lat: float | None, lon: float | None, **kw: object
) -> Hub:
    return Hub(
        id=hub_id,
        name=city,
        country="CR",
        city=city,
        department=str(kw.pop("department", city)),
        address="Sample address",
        phone="+000 0000 0000 (sample)",
        hours=(("mon-fri", "08:00-16:00"),),
        timezone="America/Costa_Rica",
        languages=("es",),
        services=services,
        lat=lat,
        lon=lon,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def small() -> Directory:
    """Default San José (no shelter); Upala (no asylum); Los Chiles and Paso Canoas have shelter."""
    return Directory(
        (
            hub("cr-san-jose", "San José", ("documents", "health"), 9.93, -84.09, default=True),
            hub("cr-upala", "Upala", ("documents",), 10.90, -85.02, department="Alajuela"),
            hub(
                "cr-los-chiles", "Los Chiles", ("shelter", "documents"), 11.03, -84.72, department="Alajuela"
            ),
            hub("cr-paso-canoas", "Paso Canoas", ("shelter", "asylum"), 8.53, -82.84),
            hub("cr-nowhere", "Nowhere", ("labour",), None, None),
            hub("cr-liberia", "Liberia", ("return",), None, None),
        )
    )


@pytest.mark.parametrize(
    ("service", "place", "hub_id", "why"),
    [
        ("documents", "upala", "cr-upala", "the named place offers it"),
        ("shelter", "upala", "cr-los-chiles", "nearest hub with shelter to Upala (Paso Canoas is far)"),
        ("shelter", "san jose", "cr-los-chiles", "Los Chiles (~140 km) is nearer San José than Paso Canoas"),
        ("shelter", "paso canoas", "cr-paso-canoas", "the named place offers it"),
        ("asylum", "upala", "cr-paso-canoas", "the only hub with asylum"),
        ("health", "no sé", "cr-san-jose", "no place: the default offers it"),
        ("shelter", "no sé", "cr-los-chiles", "no place, default lacks it: first hub offering it"),
        ("labour", "upala", "cr-nowhere", "no coordinates to compare: the only hub offering it"),
        ("documents", "nowhere", "cr-san-jose", "matched hub without coordinates lacks it: default"),
        ("shelter", "nowhere", "cr-los-chiles", "no coordinates, default lacks it: first offering it"),
        ("regularization", "upala", None, "nobody offers it"),
        (None, "liberia", "cr-liberia", "any service"),
        ("documents", "alajuela", "cr-upala", "department shared by two hubs: the first"),
    ],
)
def test_service_aware_choice(
    small: Directory, service: str | None, place: str, hub_id: str | None, why: str
) -> None:
    found = nearest_hub(small, "CR", service, place)
    assert (found.id if found else None) == hub_id, why


def test_city_beats_department() -> None:
    """A hub in the city named wins over the default hub whose department has the same name."""
    directory = Directory(
        (
            hub("cr-a", "San Carlos", ("documents",), 10.3, -84.4, department="Upala", default=True),
            hub("cr-b", "Upala", ("documents",), 10.9, -85.0, department="Alajuela"),
        )
    )
    found = find_place("upala", "CR", directory)
    assert found is not None and found.hub.id == "cr-b" and found.kind == "city"
