"""The content workflow in real Chromium against a real uvicorn server: editor A drafts an edit in Kreyòl
and Spanish and cannot approve it, editor B approves, a person's next REST message gets the new answer,
the other languages show "needs update", and a rollback restores the old answer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bot.app import create_app
from bot.nlu.server import free_port
from tests.console.conftest import PASSWORD, create_staff, served_in_thread
from tests.console.test_browser import CHROMIUM, CHROMIUM_ARGS, DOCS, wait_for
from tests.helpers.app import make_settings

NEW_HT = "Tès: pa janm peye pou yon randevou."
NEW_ES = "Prueba: nunca pague por una cita."


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    settings = make_settings(tmp_path, RASA_URL=f"http://127.0.0.1:{free_port()}")  # payloads need no NLU
    create_staff(settings, "ana@example.org", "editor")
    create_staff(settings, "beto@example.org", "editor")
    with served_in_thread(create_app(settings)) as url:
        yield url


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def editor(browser: Browser, url: str, email: str) -> Page:
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.goto(f"{url}/console/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Content entries")
    return page


def answer(url: str, lang: str) -> str:
    """A person's next message on the REST channel (button payloads: no NLU needed)."""
    for message in (f"/set_language:{lang}", "/ask_fraud"):
        response = httpx.post(
            f"{url}/webhooks/rest/webhook", json={"sender": f"person-{lang}", "message": message}, timeout=30
        )
        assert response.status_code == 200, response.text
    return str(response.json()[0]["text"])


def test_two_editors_publish_an_edit_and_roll_it_back(server: str, browser: Browser) -> None:
    old_ht, old_es = answer(server, "ht"), answer(server, "es")
    ana = editor(browser, server, "ana@example.org")
    ana.goto(f"{server}/console/content/entry/ask_fraud/general")
    for lang, new in (("ht", NEW_HT), ("es", NEW_ES)):
        box = ana.locator(f'textarea[name="{lang}-text"]')
        box.fill(new + "\n\n" + box.input_value())
    ana.fill("input[name=reason]", "A fee scam was reported today")
    ana.click("button:has-text('Save draft')")
    expect(ana.locator("#status")).to_have_text("draft")
    version_url = ana.url
    ana.click("button:has-text('Submit for review')")
    expect(ana.locator("#status")).to_have_text("review")
    ana.click("button:has-text('Approve and publish')")
    expect(ana.locator(".notice.error").first).to_contain_text("never approves their own change")
    expect(ana.locator("#status")).to_have_text("review")
    assert answer(server, "ht") == old_ht

    beto = editor(browser, server, "beto@example.org")
    beto.goto(version_url)
    expect(beto.locator(".diff").first).to_contain_text("+text:")
    beto.click("button:has-text('Approve and publish')")
    expect(beto.locator(".notice").first).to_contain_text("is live")
    wait_for(lambda: answer(server, "ht").startswith(NEW_HT), 5)
    assert answer(server, "es").startswith(NEW_ES)

    beto.goto(f"{server}/console/content/entry/ask_fraud/general")
    for lang in ("en", "fr"):
        expect(beto.locator(f'[data-lang="{lang}"] .needs-update')).to_have_text("needs update")
    for lang in ("ht", "es"):
        expect(beto.locator(f'[data-lang="{lang}"] .needs-update')).to_have_count(0)
    DOCS.mkdir(parents=True, exist_ok=True)
    beto.screenshot(path=str(DOCS / "console-content-editor.png"), full_page=True)

    beto.goto(f"{server}/console/content/entry/ask_fraud/general/history")
    beto.click("tr[data-version='0'] button")
    expect(beto.locator(".notice").first).to_contain_text("is back as in version 0")
    wait_for(lambda: answer(server, "ht") == old_ht, 5)
    assert answer(server, "es") == old_es
