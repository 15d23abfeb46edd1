"""Twilio (WhatsApp and SMS): recorded payloads replayed valid, unsigned, forged, malformed and twice."""

from __future__ import annotations

import re

import pytest

from tests.channels.conftest import PUBLIC_BASE_URL, TWILIO_SID, TWILIO_TOKEN, Wired, payload, sign

GENUINE = ["whatsapp_text", "whatsapp_media", "sms", "sms_non_gsm", "messaging_service"]


def bodies(twiml: str) -> list[str]:
    return re.findall(r"<Message>(.*?)</Message>", twiml, flags=re.S)


@pytest.mark.parametrize("name", GENUINE)
def test_a_genuine_signed_delivery_is_answered_with_twiml(wired: Wired, name: str) -> None:
    params = payload("twilio", name)
    response = wired.twilio(params, sign(params))
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    assert bodies(response.text), response.text


@pytest.mark.parametrize("name", GENUINE)
def test_a_missing_signature_is_refused(wired: Wired, name: str) -> None:
    response = wired.twilio(payload("twilio", name))
    assert response.status_code == 403 and "missing" in response.json()["error"]


@pytest.mark.parametrize(
    "forge",
    [
        lambda p: sign(p, token="not-the-right-token"),
        lambda p: sign({**p, "Body": "something else"}),
        lambda p: sign(p, url="https://evil.example.com/webhooks/twilio"),
        lambda p: "bm90IGEgc2lnbmF0dXJl",
    ],
)
def test_a_forged_signature_is_refused(wired: Wired, forge) -> None:  # type: ignore[no-untyped-def]
    params = payload("twilio", "sms")
    response = wired.twilio(params, forge(params))
    assert response.status_code == 403 and "does not match" in response.json()["error"]


@pytest.mark.parametrize(
    ("signed_url", "path", "headers"),
    [
        (PUBLIC_BASE_URL + "/webhooks/twilio", "/webhooks/twilio", {}),
        ("https://bot.example.org:443/webhooks/twilio", "/webhooks/twilio", {}),
        (PUBLIC_BASE_URL + "/webhooks/twilio?channel=wa", "/webhooks/twilio?channel=wa", {}),
    ],
    ids=["public-base", "with-port", "with-query"],  # more shapes, and the refused ones: test_twilio_urls.py
)
def test_every_genuine_url_shape_is_accepted(
    wired: Wired, signed_url: str, path: str, headers: dict[str, str]
) -> None:
    params = payload("twilio", "whatsapp_text")
    response = wired.twilio(params, sign(params, url=signed_url), path=path, headers=headers)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("missing", ["From", "To", "MessageSid"])
def test_a_malformed_delivery_gets_400_naming_the_field(wired: Wired, missing: str) -> None:
    params = {k: v for k, v in payload("twilio", "sms").items() if k != missing}
    response = wired.twilio(params, sign(params))
    assert response.status_code == 400 and missing in response.json()["error"]


def test_a_retried_delivery_is_answered_once(wired: Wired) -> None:
    params = payload("twilio", "whatsapp_text")
    first = wired.twilio(params, sign(params))
    second = wired.twilio(params, sign(params))
    assert bodies(first.text) and bodies(second.text) == []
    assert wired.twilio_api.requests == []  # replies went in the TwiML, nothing through the REST API


def test_whatsapp_reply_is_in_spanish_with_bold_numbered_choices(wired: Wired) -> None:
    params = {**payload("twilio", "whatsapp_text"), "Body": "hola", "MessageSid": "SM" + "1" * 32}
    [body] = bodies(wired.twilio(params, sign(params)).text)
    assert "Hola" in body and "*1* Situación migratoria" in body and "*0* Hablar con una persona" in body


def test_media_without_text_asks_for_text(wired: Wired) -> None:
    params = payload("twilio", "whatsapp_media")
    [body] = bodies(wired.twilio(params, sign(params)).text)
    assert "texto" in body or "text" in body.lower()


def test_sms_uses_the_short_variant(wired: Wired) -> None:
    first = {
        **payload("twilio", "sms"),
        "Body": "I lost my passport in Costa Rica",
        "MessageSid": "SM" + "2" * 32,
    }
    [body] = bodies(wired.twilio(first, sign(first)).text)
    assert len(body) < 600 and "migracion.go.cr" in body


def test_phone_numbers_and_tokens_never_reach_the_logs(wired: Wired) -> None:
    params = payload("twilio", "whatsapp_text")
    wired.twilio(params, sign(params))
    wired.twilio(params, "forged")
    text = wired.log_text()
    assert "50688887777" not in text and TWILIO_TOKEN not in text


def test_status_callbacks_are_mapped_and_recorded(wired: Wired) -> None:
    from sqlalchemy import select

    from bot.db.models import DeliveryStatus

    runtime = wired.client.app.state.runtime  # type: ignore[attr-defined]
    for raw, expected in [("sent", "sent"), ("delivered", "delivered"), ("undelivered", "undelivered")]:
        params = {
            "MessageSid": "SM" + "9" * 32,
            "MessageStatus": raw,
            "To": "whatsapp:+50688887777",
            "AccountSid": TWILIO_SID,
        }
        path = "/webhooks/twilio/status"
        response = wired.twilio(params, sign(params, url=PUBLIC_BASE_URL + path), path=path)
        assert response.json() == {"status": expected}
        with runtime.database.connect() as conn:
            assert conn.execute(select(DeliveryStatus.status)).scalar_one() == expected
    unsigned = wired.twilio({"MessageSid": "SMx", "MessageStatus": "sent"}, path="/webhooks/twilio/status")
    assert unsigned.status_code == 403


async def test_outbound_send_goes_through_the_twilio_rest_client(wired: Wired) -> None:
    """A staff-style message after the conversation: real twilio client, fake Twilio API, exact request."""
    params = payload("twilio", "whatsapp_text")
    wired.twilio(params, sign(params))
    runtime = wired.client.app.state.runtime  # type: ignore[attr-defined]
    from bot.channels.base import OutboundMessage

    message = OutboundMessage(
        recipient="+50688887777",
        text="Hola, soy Ana del equipo.",
        channel="whatsapp",
        reply_from="whatsapp:+14155238886",
    )
    result = wired.client.portal.call(runtime.sender.send, "whatsapp:+50688887777", message)  # type: ignore[attr-defined]
    assert result.ok and result.provider_id.startswith("SM")
    [request] = wired.twilio_api.sent("/Messages.json")
    assert request.path == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    assert request.form == {
        "To": "whatsapp:+50688887777",
        "From": "whatsapp:+14155238886",
        "Body": "Hola, soy Ana del equipo.",
    }
    assert request.headers["authorization"].startswith("Basic ")
