"""The list of Information Hubs a person asked for: where each one is, its phone and when it is open.

`ask_info_hub` promises "the list of hubs with their addresses comes next"; this is that list, in the
person's language, for their country, or the hubs nearest the place they named. A referral stays one
button away (the dialogue adds the button), but nobody has to accept one just to learn an address.
"""

from __future__ import annotations

from bot.dialogue.hours import render_hours
from bot.i18n import translate
from bot.referrals import Directory, Hub, distance_km, find_place
from bot.vocab.messages import Button, OutboundMessage
from bot.vocab.topics import COUNTRY_LABELS

MAX_NEAREST = 3
"""Hubs shown when the person named a place: the nearest few, so the list stays short on a phone."""


def hubs_to_show(directory: Directory, country: str, text: str) -> tuple[list[Hub], str | None]:
    """(hubs, the place they are nearest to): the hubs nearest a place named in `text`, else all of the
    country's hubs with the default one first."""
    hubs = directory.hubs_for(country)
    found = find_place(text, country, directory) if text and hubs else None
    origin = found.hub.coordinates if found else None
    if found is not None and origin is not None:

        def distance(hub: Hub) -> float:
            return distance_km(origin, hub.coordinates) if hub.coordinates else float("inf")

        return sorted(hubs, key=distance)[:MAX_NEAREST], found.name
    return sorted(hubs, key=lambda hub: not hub.default), None


def nearest_to(
    directory: Directory, origin: tuple[float, float], country: str | None
) -> list[tuple[Hub, float]]:
    """Up to MAX_NEAREST hubs with coordinates nearest `origin` (great-circle km), in `country` when
    known (a hub across a border is no help), else in any country."""
    hubs = directory.hubs_for(country) if country else list(directory.hubs)
    located = [(hub, distance_km(origin, hub.coordinates)) for hub in hubs if hub.coordinates]
    return sorted(located, key=lambda pair: pair[1])[:MAX_NEAREST]


def format_km(lang: str, km: float) -> str:
    """ "3.2" in English, "3,2" in the other languages; whole kilometres from 10 km."""
    shown = f"{km:.0f}" if km >= 10 else f"{km:.1f}"
    return shown if lang == "en" else shown.replace(".", ",")


def _hub_block(lang: str, hub: Hub, km: float | None = None) -> str:
    lines = [hub.name, f"{hub.address}, {hub.city}", translate(lang, "Phone: {phone}", phone=hub.phone)]
    if km is not None:
        lines.insert(1, translate(lang, "About {km} km away", km=format_km(lang, km)))
    if hub.whatsapp:
        lines.append(f"WhatsApp: {hub.whatsapp}")
    if hub.hours:
        lines.append(translate(lang, "Open: {hours}", hours=render_hours(lang, hub.hours)))
    return "\n".join(lines)


def nearest_list(
    to: str, lang: str, nearest: list[tuple[Hub, float]], buttons: tuple[Button, ...]
) -> OutboundMessage:
    """The hubs nearest a shared location, with their distance. Transcripts keep the list without the
    distances: three distances would locate the person."""
    lead = translate(lang, "The Information Hubs nearest to the location you shared:")
    body = "\n\n".join(_hub_block(lang, hub, km) for hub, km in nearest)
    sms = _sms_lines(lang, [hub for hub, _ in nearest])
    kept = "\n\n".join(_hub_block(lang, hub) for hub, _ in nearest)
    return OutboundMessage(
        recipient=to,
        text=f"{lead}\n\n{body}",
        buttons=buttons,
        intent="ask_info_hub",
        language=lang,
        sms_text=f"{lead}\n{sms}",
        transcript=f"{lead}\n\n{kept}",
    )


def _sms_lines(lang: str, hubs: list[Hub]) -> str:
    """One short line per hub: what fits an SMS."""
    return "\n".join(f"{h.name} ({h.city}) {h.phone}; {render_hours(lang, h.hours)}" for h in hubs)


def hub_list(
    to: str, lang: str, country: str, text: str, directory: Directory, buttons: tuple[Button, ...]
) -> OutboundMessage | None:
    """The hubs message, or None when the country has no hub in the directory."""
    hubs, place = hubs_to_show(directory, country, text)
    if not hubs:
        return None
    if place is not None:
        lead = translate(lang, "The Information Hubs nearest to {place}:", place=place)
    else:
        label = translate(lang, COUNTRY_LABELS.get(country, country))
        lead = translate(lang, "The Information Hubs in {country}:", country=label)
    body = "\n\n".join(_hub_block(lang, hub) for hub in hubs)
    sms = _sms_lines(lang, hubs)
    return OutboundMessage(
        recipient=to,
        text=f"{lead}\n\n{body}",
        buttons=buttons,
        intent="ask_info_hub",
        language=lang,
        sms_text=f"{lead}\n{sms}",
    )
