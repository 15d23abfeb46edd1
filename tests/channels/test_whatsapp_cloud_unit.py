"""WhatsApp Cloud API adapter, without the app: signatures, recorded updates, rendering, sending."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from bot.channels.base import BadRequest, Parsed, SendError
from bot.channels.whatsapp_cloud import WhatsAppCloudChannel, parse_update, render, signature_ok
from bot.vocab.messages import Button, OutboundMessage
from bot.vocab.topics import HUMAN_PAYLOAD
from tests.helpers.fake_provider import Recorded, serve

PAYLOADS = Path(__file__).parent / "payloads" / "whatsapp_cloud"
SECRET = "meta-app-secret-for-tests-000001"
PHONE_ID = "106540352242922"


def recorded(name: str) -> bytes:
    return (PAYLOADS / f"{name}.json").read_bytes()


def signed(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_signature_is_checked_on_the_raw_body() -> None:
    body = recorded("text")
    assert signature_ok(SECRET, body, signed(body))
    assert not signature_ok(SECRET, body, signed(body, "another-secret"))
    assert not signature_ok(SECRET, body + b" ", signed(body))
    assert not signature_ok(SECRET, body, None)
    assert not signature_ok(SECRET, body, signed(body).removeprefix("sha256="))


def test_text_button_list_location_and_media_become_inbound_messages() -> None:
    [text] = parse_update(recorded("text"), PHONE_ID).messages
    assert (text.channel, text.sender, text.text) == ("whatsapp", "+50688887777", "hola, perdí mi pasaporte")
    assert text.message_id and text.message_id.startswith("wamid.")
    assert text.metadata["reply_from"] == PHONE_ID
    [button] = parse_update(recorded("button_reply"), PHONE_ID).messages
    [row] = parse_update(recorded("list_reply"), PHONE_ID).messages
    assert (button.text, row.text) == ("/ask_documents", "/ask_asylum")
    [pin] = parse_update(recorded("location"), PHONE_ID).messages
    assert pin.text == "" and "location" not in pin.metadata
    assert pin.location is not None and pin.location.latitude == pytest.approx(14.9059)
    [photo] = parse_update(recorded("image"), PHONE_ID).messages
    assert photo.text == "" and photo.metadata["media"] == 1
    assert photo.attachment is not None and photo.attachment.kind == "image"
    assert photo.attachment.ref == "1095224348123456"  # the Graph media id the console fetches


def with_message(message: dict[str, Any]) -> bytes:
    update = json.loads(recorded("image"))
    base = {"from": "50688887777", "id": "wamid.X", "timestamp": "1795000240"}
    update["entry"][0]["changes"][0]["value"]["messages"] = [{**base, **message}]
    return json.dumps(update).encode()


@pytest.mark.parametrize(
    ("message", "kind", "text"),
    [
        (
            {"type": "audio", "audio": {"id": "77", "mime_type": "audio/ogg; codecs=opus", "voice": True}},
            "voice",
            "",
        ),
        ({"type": "sticker", "sticker": {"id": "78", "mime_type": "image/webp"}}, "sticker", ""),
        ({"type": "contacts", "contacts": [{"name": {"formatted_name": "Ana"}}]}, "contact", ""),
        ({"type": "document", "document": {"id": "79", "caption": "mi carta"}}, "document", "mi carta"),
        ({"type": "unsupported"}, "other", ""),
        ({"type": "location", "location": {"latitude": "north", "longitude": 2}}, "other", ""),
    ],
)
def test_media_stickers_contacts_and_bad_pins_are_typed_never_text(
    message: dict[str, Any], kind: str, text: str
) -> None:
    [parsed] = parse_update(with_message(message), PHONE_ID).messages
    assert parsed.attachment is not None and parsed.attachment.kind == kind
    assert parsed.text == text and parsed.location is None


def test_a_reaction_is_not_a_message() -> None:
    reaction = {"type": "reaction", "reaction": {"message_id": "wamid.Y", "emoji": "👍"}}
    assert parse_update(with_message(reaction), PHONE_ID).messages == ()


def test_statuses_are_delivery_updates_not_messages() -> None:
    parsed = parse_update(recorded("status_delivered"), PHONE_ID)
    [delivered] = parsed.statuses
    assert parsed.messages == () and delivered.status == "delivered"
    [failed] = parse_update(recorded("status_failed"), PHONE_ID).statuses
    assert (failed.status, failed.error_code) == ("failed", "131047")


def test_another_numbers_updates_are_ignored() -> None:
    assert parse_update(recorded("text"), "999") == Parsed()


@pytest.mark.parametrize(
    "body",
    [b"[]", b'{"object": "page", "entry": []}', b'{"object": "whatsapp_business_account"}', b"\xff", b"{"],
)
def test_malformed_updates_are_bad_requests(body: bytes) -> None:
    with pytest.raises(BadRequest):
        parse_update(body, PHONE_ID)


def test_a_message_without_sender_is_a_bad_request() -> None:
    data = json.loads(recorded("text"))
    del data["entry"][0]["changes"][0]["value"]["messages"][0]["from"]
    with pytest.raises(BadRequest):
        parse_update(json.dumps(data).encode(), PHONE_ID)


def test_lone_surrogates_never_reach_the_dialogue() -> None:
    body = recorded("text").replace("hola, perdí mi pasaporte".encode(), b"hola \\ud800")
    [message] = parse_update(body, PHONE_ID).messages
    assert message.text == "hola "


def _menu(n: int, language: str = "es") -> OutboundMessage:
    buttons = tuple(Button(f"Tema número {i} con un título largo", f"/topic_{i}") for i in range(n))
    return OutboundMessage(
        "+50688887777", "Elija un tema:", (*buttons, Button("Hablar", HUMAN_PAYLOAD)), language=language
    )


def test_up_to_three_choices_are_reply_buttons_with_short_titles() -> None:
    [payload] = render(_menu(2))
    interactive = payload["interactive"]
    assert interactive["type"] == "button"
    titles = [b["reply"]["title"] for b in interactive["action"]["buttons"]]
    assert len(titles) == 3 and all(len(t) <= 20 for t in titles)
    assert (
        titles[-1].startswith("0.") and interactive["action"]["buttons"][-1]["reply"]["id"] == HUMAN_PAYLOAD
    )


def test_four_to_ten_choices_are_a_list_labelled_in_the_persons_language() -> None:
    [payload] = render(_menu(8, "ht"))
    interactive = payload["interactive"]
    assert interactive["type"] == "list" and interactive["action"]["button"] == "Chwa yo"
    rows = interactive["action"]["sections"][0]["rows"]
    assert len(rows) == 9 and all(len(r["title"]) <= 24 for r in rows)


def test_more_than_ten_choices_keep_a_list_of_ten_with_0_and_the_rest_numbered_under_the_text() -> None:
    [payload] = render(_menu(12))  # 12 topics and "0 Hablar": 13 choices
    interactive = payload["interactive"]
    rows = interactive["action"]["sections"][0]["rows"]
    assert interactive["type"] == "list" and len(rows) == 10
    # 0 (a person) is never pushed out of the list
    assert [r["id"] for r in rows] == [f"/topic_{i}" for i in range(9)] + [HUMAN_PAYLOAD]
    body = interactive["body"]["text"]
    assert body.startswith("Elija un tema:")
    assert all(f"*{n}* Tema número {n - 1} con" in body for n in (10, 11, 12))  # typed by number


def test_long_texts_are_cut_under_the_text_limit() -> None:
    long = OutboundMessage("+1", ("Párrafo largo. " * 100 + "\n\n") * 6)
    assert all(len(p["text"]["body"]) <= 4096 for p in render(long))


def graph_api(record: Recorded) -> tuple[int, Any]:
    to = record.json.get("to", "")
    if to == "0000":
        return 400, {"error": {"message": "Re-engagement message", "type": "OAuthException", "code": 131047}}
    return 200, {
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": to}],
        "messages": [{"id": f"wamid.sent{len(record.body)}"}],
    }


async def test_sending_goes_to_the_phone_number_ids_messages_endpoint() -> None:
    with serve(graph_api) as api:
        channel = WhatsAppCloudChannel("meta-token-0001", SECRET, "verify-me", PHONE_ID, api.url)
        try:
            result = await channel.send(_menu(2))
            assert result.ok and result.provider_id and result.provider_id.startswith("wamid.sent")
            [sent] = api.requests
            assert sent.path == f"/{PHONE_ID}/messages"
            assert sent.headers["authorization"] == "Bearer meta-token-0001"
            assert sent.json["to"] == "50688887777" and sent.json["messaging_product"] == "whatsapp"
            template = await channel.send_template("+50688887777", "alerta_es", "es", ["Costa Rica"])
            assert (
                template.ok
                and api.requests[-1].json["template"]["components"][0]["parameters"][0]["text"]
                == "Costa Rica"
            )
            with pytest.raises(SendError) as refused:
                await channel.post("0000", {"type": "text", "text": {"body": "hola"}})
            assert refused.value.code == 131047 and not refused.value.retryable
        finally:
            await channel.aclose()
