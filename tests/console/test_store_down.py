"""The console with the conversation store (Redis) down: every action that needs it says on the page what
is unavailable and what was still done, never 500; the queue shows what is down; the quiet flag a claim
could not set is set once the store is back."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bench.fault_services import CutProxy
from bot.console import health
from bot.console.conversation import CLAIMED, CLAIMED_STORE_DOWN, CLOSED_STORE_DOWN
from bot.console.handover import WEB_CHAT_STORE_DOWN
from bot.db import make_engine, session_factory
from bot.db.models import AuditEntry, Escalation
from bot.dialogue.state import ConversationState
from bot.nlu.server import free_port
from bot.state.record import StoredConversation
from tests.channels.conftest import TELEGRAM_SECRET, TELEGRAM_TOKEN
from tests.console.conftest import Console, console_for, log_in
from tests.console.test_actions import add_rows, escalation
from tests.console.test_actions import notices as escaped_notices
from tests.helpers.app import say
from tests.helpers.fake_provider import serve, telegram_responder
from tests.helpers.services import require_redis

SENDER = "+50688001122"


def notices(page: str) -> list[str]:
    return [html.unescape(n) for n in escaped_notices(page)]


@pytest.fixture(autouse=True)
def no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Health and pending flags are checked on every request here (every few seconds in service)."""
    monkeypatch.setattr(health, "CHECK_SECONDS", 0.0)


@pytest.fixture
def dead_store(tmp_path: Path) -> Iterator[Console]:
    """Redis configured, and nothing listening on its port."""
    yield from console_for(tmp_path, REDIS_URL=f"redis://127.0.0.1:{free_port()}/4")


def escalation_row(console: Console, escalation_id: int = 1) -> Escalation:
    with session_factory(make_engine(console.settings.database_url))() as session:
        row = session.get(Escalation, escalation_id)
        assert row is not None
        return row


def audited(console: Console) -> list[str]:
    with session_factory(make_engine(console.settings.database_url))() as session:
        return list(session.scalars(select(AuditEntry.action)))


def test_the_queue_says_what_is_down(dead_store: Console) -> None:
    log_in(dead_store.client, "agent@example.org")
    response = dead_store.client.get("/console/")
    assert response.status_code == 200
    banners = re.findall(r"<div class=\"alert health\"[^>]*>(.*?)</div>", response.text, flags=re.S)
    assert any("conversation store (Redis) is unavailable" in b for b in banners)
    assert any("NLU server is unavailable" in b and "emergencies" in b for b in banners)


def test_claim_reply_and_close_with_the_store_down_say_what_is_true(dead_store: Console) -> None:
    console = dead_store
    console.escalate(SENDER)  # the bot records the escalation in SQL while the store is down
    token = log_in(console.client, "agent@example.org")
    claimed = console.client.post("/console/conversations/1/claim", data={"csrf": token})
    assert claimed.status_code == 200 and CLAIMED_STORE_DOWN in notices(claimed.text)
    row = escalation_row(console)
    assert (row.status, row.claimed_by, row.handover_pending) == ("claimed", "agent@example.org", True)
    assert say(console.client, SENDER, "hola? sigue ahi?") == []  # the bot reads the claim from SQL
    replied = console.client.post("/console/conversations/1/reply", data={"csrf": token, "text": "Hola"})
    assert replied.status_code == 200
    assert f"Not sent — {WEB_CHAT_STORE_DOWN}." in notices(replied.text)
    closed = console.client.post(
        "/console/conversations/1/close", data={"csrf": token, "outcome": "answered"}
    )
    assert closed.status_code == 200 and CLOSED_STORE_DOWN in notices(closed.text)
    assert escalation_row(console).status == "closed"
    assert say(console.client, SENDER, "hola") != []  # the bot answers again
    assert {"claim_store_down", "reply_refused", "close"} <= set(audited(console))


def test_a_reply_through_telegram_still_goes_out_with_the_store_down(tmp_path: Path) -> None:
    with serve(telegram_responder) as api:
        env = {"TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET}
        redis = f"redis://127.0.0.1:{free_port()}/4"
        for console in console_for(tmp_path, TELEGRAM_API_BASE=f"{api.url}/bot", REDIS_URL=redis, **env):
            add_rows(console, escalation("telegram:7301", "telegram"))
            token = log_in(console.client, "agent@example.org")
            console.client.post("/console/conversations/1/claim", data={"csrf": token})
            html = console.client.post(
                "/console/conversations/1/reply", data={"csrf": token, "text": "Hola"}
            ).text
            assert "Sent." in notices(html)
            assert [r.params["text"] for r in api.sent("sendMessage")] == ["Hola"]


def stored_state(console: Console, conversation_id: str) -> ConversationState:
    store = console.client.app.state.runtime.store  # type: ignore[attr-defined]
    return StoredConversation.from_dict(console.client.portal.call(store.get, conversation_id)).dialogue  # type: ignore[union-attr]


def settled(console: Console) -> bool:
    """Any console request starts the pending-flag pass; wait for it to finish."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        console.client.get("/console/queue/rows")
        if not escalation_row(console).handover_pending:
            return True
        time.sleep(0.1)
    return False


def test_the_quiet_flag_follows_the_claim_and_the_close_once_the_store_is_back(tmp_path: Path) -> None:
    redis_url = require_redis()
    redis_port, db = redis_url.rsplit(":", 1)[1].split("/")
    proxy = CutProxy(int(redis_port))
    proxy.start()
    try:
        for console in console_for(tmp_path, REDIS_URL=f"redis://127.0.0.1:{proxy.port}/{db}"):
            console.escalate(SENDER)
            token = log_in(console.client, "agent@example.org")
            proxy.cut()
            html = console.client.post("/console/conversations/1/claim", data={"csrf": token}).text
            assert CLAIMED_STORE_DOWN in notices(html)
            proxy.restore()
            assert settled(console)
            assert stored_state(console, f"rest:{SENDER}").handed_over  # the store has the flag now
            assert say(console.client, SENDER, "hola?") == []
            proxy.cut()
            console.client.post("/console/conversations/1/close", data={"csrf": token, "outcome": "answered"})
            proxy.restore()
            assert settled(console)
            assert not stored_state(console, f"rest:{SENDER}").handed_over
            assert say(console.client, SENDER, "hola") != []
            claimed_again = console.client.post("/console/conversations/1/claim", data={"csrf": token})
            assert CLAIMED not in notices(claimed_again.text)  # closed: nothing to claim, said so
    finally:
        proxy.stop()
