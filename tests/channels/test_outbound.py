"""Outbound messages outside a reply: retries on 5xx, never on 4xx, dead letters, opt-out, 24-hour window."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from bot.channels.base import ContactStopped
from bot.db.models import DeadLetter
from bot.outbound import OutsideWhatsAppWindow
from bot.vocab.messages import OutboundMessage
from tests.channels.conftest import Wired, payload, sign

ADDRESS = "whatsapp:+50688887777"


def message(text: str = "Hola, soy del equipo.") -> OutboundMessage:
    return OutboundMessage(
        recipient="+50688887777", text=text, channel="whatsapp", reply_from="whatsapp:+14155238886"
    )


def start_conversation(wired: Wired) -> None:
    params = payload("twilio", "whatsapp_text")
    assert wired.twilio(params, sign(params)).status_code == 200


def runtime(wired: Wired):  # type: ignore[no-untyped-def]
    rt = wired.client.app.state.runtime  # type: ignore[attr-defined]
    rt.sender.base_delay = 0.01
    return rt


def dead_letters(wired: Wired) -> list[DeadLetter]:
    with runtime(wired).database.connect() as conn:
        return list(conn.execute(select(DeadLetter)).all())


def test_server_errors_are_retried_until_success(wired: Wired) -> None:
    start_conversation(wired)
    wired.twilio_api.failures = [500, 503]
    result = wired.client.portal.call(runtime(wired).sender.send, ADDRESS, message())  # type: ignore[attr-defined]
    assert result.ok and len(wired.twilio_api.sent("/Messages.json")) == 3
    assert dead_letters(wired) == []


def test_after_the_last_try_the_message_is_dead_lettered(wired: Wired) -> None:
    start_conversation(wired)
    wired.twilio_api.failures = [500] * 4
    result = wired.client.portal.call(runtime(wired).sender.send, ADDRESS, message())  # type: ignore[attr-defined]
    assert not result.ok and "HTTP 500" in (result.error or "")
    [letter] = dead_letters(wired)
    assert letter.attempts == 4 and letter.body == "Hola, soy del equipo." and letter.channel == "whatsapp"


def test_client_errors_are_not_retried(wired: Wired) -> None:
    start_conversation(wired)
    wired.twilio_api.failures = [400]
    result = wired.client.portal.call(runtime(wired).sender.send, ADDRESS, message())  # type: ignore[attr-defined]
    assert not result.ok and len(wired.twilio_api.sent("/Messages.json")) == 1
    assert dead_letters(wired)[0].attempts == 1


def test_nothing_is_sent_to_a_person_who_opted_out(wired: Wired) -> None:
    start_conversation(wired)
    stop = {**payload("twilio", "whatsapp_text"), "Body": "STOP", "MessageSid": "SM" + "5" * 32}
    wired.twilio(stop, sign(stop))
    with pytest.raises(ContactStopped, match="opted out"):
        wired.client.portal.call(runtime(wired).sender.check_allowed, ADDRESS, "whatsapp")  # type: ignore[attr-defined]
    again = {**stop, "Body": "hola", "MessageSid": "SM" + "6" * 32}
    assert "<Message>" not in wired.twilio(again, sign(again)).text


def test_whatsapp_outside_the_24_hour_window_is_a_clear_error(wired: Wired) -> None:
    rt = runtime(wired)
    start_conversation(wired)
    state = wired.client.portal.call(rt.store.get, ADDRESS)  # type: ignore[attr-defined]
    state["contact"]["last_inbound_at"] = time.time() - 25 * 3600
    wired.client.portal.call(rt.store.update, ADDRESS, state)  # type: ignore[attr-defined]
    with pytest.raises(OutsideWhatsAppWindow, match="24 hours"):
        wired.client.portal.call(rt.sender.check_allowed, ADDRESS, "whatsapp")  # type: ignore[attr-defined]


def test_metrics_count_messages_and_duplicates(wired: Wired) -> None:
    params = {**payload("twilio", "sms"), "MessageSid": "SM" + "7" * 32}
    wired.twilio(params, sign(params))
    wired.twilio(params, sign(params))
    text = wired.client.get("/metrics").text
    assert 'infobot_messages_in_total{channel="sms"}' in text
    assert 'infobot_duplicates_dropped_total{channel="sms"}' in text
