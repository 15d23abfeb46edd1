"""The console in real Chromium against a real uvicorn server, real Rasa and a local fake Telegram API:
log in, an escalation appears without reload, claim, reply through Telegram, the bot stays quiet,
close, and the bot answers again. Screenshots for the README are taken on the way."""

from __future__ import annotations

import copy
import itertools
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from bot.app import create_app
from bot.config import PROJECT_ROOT
from tests.channels.conftest import TELEGRAM_SECRET, TELEGRAM_TOKEN, payload
from tests.console.conftest import PASSWORD, create_staff, served_in_thread
from tests.helpers.app import make_settings
from tests.helpers.fake_provider import FakeProvider, serve, telegram_responder

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DOCS = Path(os.environ.get("INFOBOT_SCREENSHOTS") or PROJECT_ROOT / "var" / "screenshots")
"""`INFOBOT_SCREENSHOTS=docs make test` refreshes the README's screenshots; otherwise they go under var/."""
HOSTILE = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'
_ids = itertools.count(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Live:
    url: str
    telegram_api: FakeProvider

    def write(self, chat_id: int, text: str) -> None:
        """A person writes to the bot on Telegram (the webhook answers after the replies are sent)."""
        update = copy.deepcopy(payload("telegram", "message"))
        n = next(_ids)
        update["update_id"], update["message"]["message_id"] = 910000000 + n, 5000 + n
        update["message"]["chat"]["id"] = update["message"]["from"]["id"] = chat_id
        update["message"]["text"], update["message"]["from"]["language_code"] = text, "es"
        response = httpx.post(
            f"{self.url}/webhooks/telegram",
            content=json.dumps(update),
            headers={"content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
            timeout=30,
        )
        assert response.status_code == 200, response.text

    def sent_to(self, chat_id: int) -> list[str]:
        return [
            r.params.get("text", "")
            for r in self.telegram_api.sent("sendMessage")
            if int(r.params["chat_id"]) == chat_id
        ]


def wait_for(condition: Callable[[], Any], seconds: float = 10) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


@pytest.fixture
def live(rasa_url: str, tmp_path: Path) -> Iterator[Live]:
    with serve(telegram_responder) as telegram_api:
        settings = make_settings(
            tmp_path,
            RASA_URL=rasa_url,
            TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
            TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
            TELEGRAM_API_BASE=f"{telegram_api.url}/bot",
        )
        create_staff(settings, "agent@example.org", "agent")
        with served_in_thread(create_app(settings)) as url:
            yield Live(url, telegram_api)


@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def test_hotline_agent_takes_over_a_conversation_and_hands_it_back(live: Live, page: Page) -> None:
    rose, maria = 7101, 7102
    page.goto(f"{live.url}/console/")
    expect(page).to_have_url(f"{live.url}/console/login")
    page.fill("input[name=email]", "agent@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#queue")).to_contain_text("Nobody is waiting.")
    page.evaluate("window.__notReloaded = true")

    live.write(rose, "hola")
    live.write(rose, "0")  # 0 always means a person
    live.write(rose, HOSTILE)
    live.write(maria, "/emergency")
    expect(page.locator("#emergency-alert")).to_be_visible(timeout=10_000)
    rows = page.locator("#queue-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("emergency")
    expect(rows.nth(1)).to_contain_text("asked")
    expect(rows.nth(1)).to_contain_text("telegram")
    assert page.evaluate("window.__notReloaded") is True, "the queue must update without a reload"
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / "console-queue.png"), full_page=True)

    rows.nth(1).locator("a").click()
    transcript = page.locator("#transcript")
    expect(transcript).to_contain_text(HOSTILE)  # shown as text ...
    assert page.evaluate("window.__xss") is None  # ... and inert
    page.click("#claim")
    expect(page.locator("#status")).to_contain_text("claimed by agent@example.org")

    page.select_option("#canned", index=1)
    expect(page.locator("#reply-text")).not_to_have_value("")
    page.fill("#reply-text", "Hola, soy Ana del equipo. ¿En qué ciudad está ahora?")
    page.click("#send")
    wait_for(lambda: "Hola, soy Ana del equipo. ¿En qué ciudad está ahora?" in live.sent_to(rose))

    before = len(live.sent_to(rose))
    live.write(rose, "estoy en San José")
    assert len(live.sent_to(rose)) == before, "the bot must stay quiet while a person holds the conversation"
    expect(transcript).to_contain_text("estoy en San José", timeout=10_000)
    page.fill("#note-text", "Needs a referral to the San José hub.")
    page.click("#add-note")
    expect(transcript).to_contain_text("internal note by agent@example.org")
    page.screenshot(path=str(DOCS / "console-conversation.png"), full_page=True)

    page.select_option("#outcome", "answered")
    page.click("#close")
    expect(page.locator(".notice").first).to_contain_text("Closed (answered)")
    wait_for(lambda: any("infobot" in text for text in live.sent_to(rose)[before:]))
    after_close = len(live.sent_to(rose))
    live.write(rose, "hola")
    assert len(live.sent_to(rose)) > after_close, "after closing, the bot answers again"


def test_a_person_on_the_web_chat_sees_the_agents_reply(live: Live, page: Page) -> None:
    browser = page.context.browser
    assert browser is not None
    person_context = browser.new_context()  # the person's own browser session, apart from the agent's
    person = person_context.new_page()
    try:
        person.goto(f"{live.url}/")
        person.fill("#text", "bonjou")
        person.press("#text", "Enter")
        expect(person.locator(".msg.bot").first).to_be_visible(timeout=10_000)
        person.fill("#text", "0")  # 0 always means a person
        person.press("#text", "Enter")

        page.goto(f"{live.url}/console/")
        page.fill("input[name=email]", "agent@example.org")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        row = page.locator("#queue-table tbody tr").first
        expect(row).to_contain_text("rest", timeout=10_000)
        row.locator("a").click()
        page.click("#claim")
        page.fill("#reply-text", "Bonjou, se Ana nan ekip la. Ki kote ou ye kounye a?")
        page.click("#send")
        expect(page.locator(".notice").first).to_contain_text("Sent.")

        staff = person.locator(".msg.staff")
        expect(staff).to_have_text("Bonjou, se Ana nan ekip la. Ki kote ou ye kounye a?", timeout=15_000)
        person.wait_for_timeout(5_000)  # later polls hand out nothing twice
        expect(staff).to_have_count(1)
    finally:
        person_context.close()
