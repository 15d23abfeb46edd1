"""Which of our countries a shared pin is in, offline: timezonefinder's shipped time-zone polygons.

Time-zone polygons (timezone-boundary-builder, from OpenStreetMap) follow national borders, and each of
our countries has zones of its own (IANA zone.tab), so a zone names the country without any network call.
"Clearly inside" means the pin and four points ~2 km around it fall in the same country (points at sea
do not count against it, so a pin on the beach in Cancún counts); a pin at a border, at sea or elsewhere
gives None and the country is left for the person to say.
"""

from __future__ import annotations

import math
from functools import lru_cache

from timezonefinder import TimezoneFinder

ZONE_COUNTRY: dict[str, str] = {
    "America/Belize": "BZ",
    "America/Costa_Rica": "CR",
    "America/Santo_Domingo": "DO",
    "America/Grenada": "GD",
    "America/Guatemala": "GT",
    "America/Tegucigalpa": "HN",
    "America/Port-au-Prince": "HT",
    "America/Panama": "PA",
    "America/Paramaribo": "SR",
    "America/El_Salvador": "SV",
    **{
        f"America/{zone}": "MX"
        for zone in (
            "Mexico_City",
            "Cancun",
            "Merida",
            "Monterrey",
            "Matamoros",
            "Chihuahua",
            "Ciudad_Juarez",
            "Ojinaga",
            "Mazatlan",
            "Bahia_Banderas",
            "Hermosillo",
            "Tijuana",
        )
    },
}
"""The IANA zones of the programme's countries (zone.tab); zones of other countries are not listed."""
MARGIN_KM = 2.0
"""How far from a border a pin must be to count as clearly inside a country."""


@lru_cache(maxsize=1)
def _finder() -> TimezoneFinder:
    return TimezoneFinder(in_memory=False)


def _zone(lat: float, lon: float) -> str | None:
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return _finder().timezone_at(lat=lat, lng=lon)


def _around(lat: float, lon: float) -> list[tuple[float, float]]:
    dlat = MARGIN_KM / 111.0
    dlon = MARGIN_KM / (111.0 * max(math.cos(math.radians(lat)), 0.01))
    return [(lat + dlat, lon), (lat - dlat, lon), (lat, lon + dlon), (lat, lon - dlon)]


def country_at(lat: float, lon: float) -> str | None:
    """The programme country the pin is clearly inside (ISO alpha-2), or None."""
    zone = _zone(lat, lon)
    country = ZONE_COUNTRY.get(zone or "")
    if country is None:
        return None
    for near_lat, near_lon in _around(lat, lon):
        near = _zone(near_lat, near_lon)
        if near is None or near.startswith("Etc/"):  # the sea next to a coast
            continue
        if ZONE_COUNTRY.get(near) != country:
            return None
    return country
