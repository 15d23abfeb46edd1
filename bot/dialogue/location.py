"""A shared location: the nearest Information Hubs, the country when the pin is clearly inside one, and
the prompt that asks for a pin.

The pin is read here and forgotten: the state keeps the country (as if the person had said it) and, if
they accept a referral, the hub; the events carry neither coordinates nor distances.
"""

from __future__ import annotations

from bot.dialogue import referral, replies
from bot.dialogue.events import CountrySet, DialogueEvent, LocationShared
from bot.dialogue.hub_list import hub_list, nearest_list, nearest_to
from bot.dialogue.state import ConversationState
from bot.i18n import translate
from bot.referrals import Directory, find_place
from bot.referrals.geo import country_at
from bot.vocab.messages import Button, Location, OutboundMessage

SHARE_LOCATION_PAYLOAD = "/share_location"
"""A button that asks the person's app for a pin (Telegram's request_location); channels that cannot
ask for one never show it."""
REFER_HUB = "refer_hub"
"""Payload name: a referral to the hub named after the colon (the nearest one shown)."""


def nearest(
    st: ConversationState,
    to: str,
    lang: str,
    pin: Location,
    directory: Directory,
    events: list[DialogueEvent],
) -> list[OutboundMessage]:
    """The nearest hubs to `pin`, or, in the middle of a referral, the consent question for the nearest
    hub offering the service."""
    country = country_at(pin.latitude, pin.longitude)
    if country is not None and country != st.country:
        st.country = country
        events.append(CountrySet(country, source="location"))
    if country is not None and st.awaiting == "country":
        st.awaiting, st.pending_intent = None, None
    origin, where = (pin.latitude, pin.longitude), country or st.country
    if st.awaiting == "place" and where:
        service = None if st.ref_service in (None, "any") else st.ref_service
        offering = [h for h, _ in nearest_to(directory, origin, where) if h.offers(service)]
        if offering:
            events.append(LocationShared(country, referral=True))
            return referral.propose(st, to, lang, offering[0])
    found = nearest_to(directory, origin, where)
    events.append(LocationShared(country, tuple(h.id for h, _ in found)))
    if not found:
        text = translate(
            lang, "Sorry, I did not find an Information Hub near you. Reply 0 to talk to a person."
        )
        return [replies.menu(to, lang, text)]
    buttons: tuple[Button, ...] = (replies.menu_button(lang),)
    if not st.referral_declined:
        refer = Button(translate(lang, "Refer me to an Information Hub"), f"/{REFER_HUB}:{found[0][0].id}")
        buttons = (refer, *buttons)
    return [nearest_list(to, lang, found, buttons)]


def refer_to(
    st: ConversationState, to: str, lang: str, hub_id: str, directory: Directory
) -> list[OutboundMessage]:
    """The referral button under the nearest hubs: consent for that hub, for any service."""
    hub = directory.get(hub_id)
    if hub is None or st.referral_declined:
        return [replies.menu(to, lang, translate(lang, "Please choose a topic by number:"))]
    st.ref_service = "any"
    return referral.propose(st, to, lang, hub)


def prompt(to: str, lang: str, channel: str) -> OutboundMessage | None:
    """How to share a pin on the person's channel (None where a pin cannot be sent: SMS, web chat)."""
    if channel == "telegram":
        text = translate(
            lang,
            "To see the Hubs nearest to you, press the button to share your location, or write your city.",
        )
        return replies.say(
            to, lang, text, (Button(translate(lang, "Share my location"), SHARE_LOCATION_PAYLOAD),)
        )
    if channel == "whatsapp":
        text = translate(
            lang,
            "To see the Hubs nearest to you, share your location: tap the clip (📎) or +, then Location, "
            "then Send your current location. Or write the name of your city.",
        )
        return replies.say(to, lang, text)
    return None


def typed_place(
    st: ConversationState, to: str, lang: str, text: str, directory: Directory
) -> list[OutboundMessage] | None:
    """A city written after the prompt: the hubs nearest it, or None to read the text as usual."""
    if not st.country or find_place(text, st.country, directory) is None:
        return None
    buttons: tuple[Button, ...] = (replies.menu_button(lang),)
    if not st.referral_declined:
        buttons = (Button(translate(lang, "Refer me to an Information Hub"), "/refer:any"), *buttons)
    listing = hub_list(to, lang, st.country, text, directory, buttons)
    return [listing] if listing else None
