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


def _hub_block(lang: str, hub: Hub) -> str:
    lines = [hub.name, f"{hub.address}, {hub.city}", translate(lang, "Phone: {phone}", phone=hub.phone)]
    if hub.whatsapp:
        lines.append(f"WhatsApp: {hub.whatsapp}")
    if hub.hours:
        lines.append(translate(lang, "Open: {hours}", hours=render_hours(lang, hub.hours)))
    return "\n".join(lines)


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
    sms = "\n".join(f"{h.name} ({h.city}) {h.phone}; {render_hours(lang, h.hours)}" for h in hubs)
    return OutboundMessage(
        recipient=to,
        text=f"{lead}\n\n{body}",
        buttons=buttons,
        intent="ask_info_hub",
        language=lang,
        sms_text=f"{lead}\n{sms}",
    )
