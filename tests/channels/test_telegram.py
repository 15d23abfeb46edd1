"""Telegram through python-telegram-bot: recorded updates replayed against a fake Bot API."""

from __future__ import annotations

import json

import pytest

from tests.channels.conftest import TELEGRAM_TOKEN, Wired, payload


def sent_texts(wired: Wired) -> list[dict[str, object]]:
    return [r.params for r in wired.telegram_api.sent("/sendMessage")]


def keyboard_titles(sent: dict[str, object]) -> list[str]:
    markup = sent["reply_markup"]
    keyboard = markup if isinstance(markup, dict) else json.loads(str(markup))
    return [button["text"] for row in keyboard["inline_keyboard"] for button in row]


def test_a_private_message_is_answered_in_its_language_with_an_inline_keyboard(wired: Wired) -> None:
    response = wired.telegram(payload("telegram", "message"))
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    [sent] = sent_texts(wired)
    assert str(sent["chat_id"]) == "7001" and str(sent["text"]).startswith("Bonjou")
    assert sent["parse_mode"] == "HTML"
    titles = keyboard_titles(sent)
    assert titles[0] == "1. Papye ak pèmi pou w rete legal" and titles[-1] == "0. Pale ak yon moun"
    assert wired.telegram_api.requests[0].path == f"/bot{TELEGRAM_TOKEN}/getMe"


def test_start_offers_the_four_languages(wired: Wired) -> None:
    wired.telegram(payload("telegram", "start"))
    [sent] = sent_texts(wired)
    assert keyboard_titles(sent) == ["1. Español", "2. English", "3. Français", "4. Kreyòl"]


def test_a_button_press_is_answered_and_acknowledged(wired: Wired) -> None:
    response = wired.telegram(payload("telegram", "callback_query"))
    assert response.status_code == 200
    [ack] = wired.telegram_api.sent("/answerCallbackQuery")
    assert ack.params["callback_query_id"] == "4382bfdwdsb323b2d9"
    [sent] = sent_texts(wired)
    assert "français" in str(sent["text"])  # /set_language:fr confirmed in French


@pytest.mark.parametrize("name", ["edited_message"])
def test_edits_are_ignored(wired: Wired, name: str) -> None:
    response = wired.telegram(payload("telegram", name))
    assert response.status_code == 200 and response.json() == {"status": "ignored"}
    assert sent_texts(wired) == []


def test_a_group_gets_one_polite_line_then_silence(wired: Wired) -> None:
    update = payload("telegram", "group_message")
    wired.telegram(update)
    wired.telegram({**update, "update_id": update["update_id"] + 1})
    [sent] = sent_texts(wired)
    assert str(sent["chat_id"]) == "-100123456" and "private" in str(sent["text"])


@pytest.mark.parametrize("secret", [None, "wrong-secret", ""])
def test_a_missing_or_wrong_secret_is_refused(wired: Wired, secret: str | None) -> None:
    response = wired.telegram(payload("telegram", "message"), secret=secret)
    assert response.status_code == 403 and sent_texts(wired) == []


@pytest.mark.parametrize(
    "body", [b"{not json", b"[]", b'{"message": {"text": "hola"}}', b'{"update_id": "x"}']
)
def test_a_malformed_update_gets_400(wired: Wired, body: bytes) -> None:
    response = wired.telegram(body)
    assert response.status_code == 400 and "Update" in response.json()["error"]


def test_a_redelivered_update_is_answered_once(wired: Wired) -> None:
    update = payload("telegram", "message")
    wired.telegram(update)
    second = wired.telegram(update)
    assert second.json() == {"status": "duplicate"} and len(sent_texts(wired)) == 1


def test_html_in_a_reply_is_escaped(wired: Wired) -> None:
    from bot.channels.base import OutboundMessage
    from bot.channels.telegram import TelegramChannel

    [(text, keyboard)] = TelegramChannel.render(OutboundMessage(recipient="1", text="a <b>x</b> & y"))
    assert text == "a &lt;b&gt;x&lt;/b&gt; &amp; y" and keyboard is None


def test_the_token_never_reaches_the_logs(wired: Wired) -> None:
    wired.telegram(payload("telegram", "message"))
    assert TELEGRAM_TOKEN not in wired.log_text()
