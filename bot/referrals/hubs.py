"""Information Hubs as immutable records: one `Hub` per office, the `Directory` of all of them.

Loaded from `referrals/hubs/<CC>.yml` by `bot.referrals.directory`; checked by `bot.referrals.hub_checks`.
"""

from __future__ import annotations

from dataclasses import dataclass

SERVICES: tuple[str, ...] = (
    "regularization",
    "asylum",
    "documents",
    "legal_aid",
    "labour",
    "health",
    "psychosocial",
    "shelter",
    "return",
    "counter_trafficking",
)
"""The fixed list of services; reports count referrals by these names, so free text is not allowed."""

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Hub:
    """One Information Hub. Frozen so a loaded directory can be shared by every conversation safely."""

    id: str
    name: str
    country: str
    city: str
    department: str
    address: str
    phone: str
    hours: tuple[tuple[str, str], ...]
    """Opening hours as written, e.g. (("mon-fri", "08:00-16:00"),), in `timezone`."""
    timezone: str
    languages: tuple[str, ...]
    services: tuple[str, ...]
    whatsapp: str | None = None
    lat: float | None = None
    lon: float | None = None
    webhook_url: str | None = None
    source: str | None = None
    """Where the details were confirmed (an office, a letter, a page); production refuses a hub without."""
    aliases: tuple[str, ...] = ()
    default: bool = False
    sample: bool = False
    file: str = ""
    line: int = 0

    def offers(self, service: str | None) -> bool:
        """True when the hub offers `service`; `None` means any service."""
        return service is None or service in self.services

    @property
    def coordinates(self) -> tuple[float, float] | None:
        return None if self.lat is None or self.lon is None else (self.lat, self.lon)


@dataclass(frozen=True)
class Directory:
    """All hubs, in file order (country files sorted, hubs as written), which is the fallback order."""

    hubs: tuple[Hub, ...] = ()

    def hubs_for(self, country: str, service: str | None = None) -> list[Hub]:
        """The country's hubs, optionally only those offering `service`; [] for an unknown country."""
        code = country.upper()
        return [h for h in self.hubs if h.country == code and h.offers(service)]

    def default_hub(self, country: str) -> Hub | None:
        """The hub people are sent to when they name no place (or one we cannot match)."""
        return next((h for h in self.hubs_for(country) if h.default), None)

    def get(self, hub_id: str) -> Hub | None:
        """A hub by id, for looking up a logged referral's hub."""
        return next((h for h in self.hubs if h.id == hub_id), None)

    @property
    def countries(self) -> tuple[str, ...]:
        return tuple(sorted({h.country for h in self.hubs}))
