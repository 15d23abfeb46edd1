"""In real Chromium against a real uvicorn server and a fake Telegram Bot API: a voice note sent into a
conversation the agent holds loads in the page's audio player; another browser, not logged in, is
refused the same URL."""

from __future__ import annotations

import copy
import io
import json
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from bot.app import create_app
from tests.channels.conftest import TELEGRAM_SECRET, TELEGRAM_TOKEN, payload
from tests.console.conftest import NO_RASA, PASSWORD, create_staff, served_in_thread
from tests.console.test_browser import CHROMIUM, CHROMIUM_ARGS, wait_for
from tests.helpers.app import make_settings
from tests.helpers.fake_provider import Recorded, serve, telegram_responder

VOICE_PATH = "voice/file_9.wav"
CHAT = 7301


def half_a_second_of_silence() -> bytes:
    """A real, playable audio file (WAV: Chromium decodes it without extra codecs)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 4000)
    return out.getvalue()


VOICE = half_a_second_of_silence()


def telegram_api(record: Recorded) -> tuple[int, Any]:
    if record.path.endswith("/getFile"):
        result = {"file_id": record.params["file_id"], "file_unique_id": "u9", "file_path": VOICE_PATH}
        return 200, {"ok": True, "result": result}
    if unquote(record.path) == f"/file/bot{TELEGRAM_TOKEN}/{VOICE_PATH}":
        return 200, VOICE
    return telegram_responder(record)


def post_update(url: str, update: dict[str, Any]) -> None:
    headers = {"content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    response = httpx.post(f"{url}/webhooks/telegram", content=json.dumps(update), headers=headers, timeout=30)
    assert response.status_code == 200, response.text


def update(n: int, **part: Any) -> dict[str, Any]:
    data = copy.deepcopy(payload("telegram", "voice"))
    message = data["message"]
    del message["voice"]
    data["update_id"], message["message_id"] = 920000000 + n, 6000 + n
    message["chat"]["id"] = message["from"]["id"] = CHAT
    message.update(part)
    return data


@pytest.fixture
def live(tmp_path: Path) -> Iterator[str]:
    with serve(telegram_api) as fake:
        settings = make_settings(
            tmp_path,
            RASA_URL=NO_RASA,
            TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
            TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
            TELEGRAM_API_BASE=f"{fake.url}/bot",
        )
        create_staff(settings, "agent@example.org", "agent")
        with served_in_thread(create_app(settings)) as url:
            yield url


@pytest.fixture
def agent_page() -> Iterator[Page]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_context().new_page()
        finally:
            browser.close()


def test_a_voice_note_plays_in_the_console_for_the_agent_and_not_for_anyone_else(
    live: str, agent_page: Page
) -> None:
    page = agent_page
    post_update(live, update(1, text="hola"))
    post_update(live, update(2, text="0"))
    page.goto(f"{live}/console/")
    page.fill("input[name=email]", "agent@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.locator("#queue-table tbody tr").first.locator("a").click()
    page.click("#claim")
    expect(page.locator("#status")).to_contain_text("claimed by agent@example.org")

    voice = {
        "file_id": "AwACAgEAAxkBAAIBrowser",
        "file_unique_id": "u9",
        "duration": 1,
        "mime_type": "audio/wav",
    }
    post_update(live, update(3, voice=voice))
    page.reload()
    audio = page.locator("#media audio")
    expect(audio).to_have_count(1)
    audio.evaluate("a => a.load()")
    wait_for(lambda: audio.evaluate("a => a.readyState >= 1 && a.duration > 0.4 && a.duration < 0.6"), 20)
    src = str(audio.get_attribute("src"))

    browser = page.context.browser
    assert browser is not None
    stranger = browser.new_context()
    try:
        response = stranger.request.get(f"{live}{src}", max_redirects=0)
        assert response.status in (401, 403, 303) and response.body() != VOICE
    finally:
        stranger.close()
