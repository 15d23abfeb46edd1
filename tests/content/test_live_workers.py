"""Two `infobot serve` workers sharing PostgreSQL: a content version published through one worker's console
is answered by the other within 5 s, without a restart (polled with a deadline, not timed)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from bot.config import PROJECT_ROOT
from bot.console.accounts import add_staff
from bot.content.loader import load_content
from bot.db import make_engine, migrate
from bot.nlu.server import free_port
from tests.console.conftest import PASSWORD
from tests.helpers.workers import serve_workers

POSTGRES_URL = os.environ.get("INFOBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SCHEMA = "infobot_content_workers"
NEW_HT = "Tès: de travayè, yon sèl vèsyon."


def shared_database() -> str:
    engine = make_engine(POSTGRES_URL)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}"))
    except Exception as exc:  # noqa: BLE001 - turned into a clear instruction
        pytest.fail(f"This test needs PostgreSQL at {POSTGRES_URL} ({exc.__class__.__name__})")
    finally:
        engine.dispose()
    url = POSTGRES_URL + f"?options=-csearch_path%3D{SCHEMA}"
    engine = make_engine(url)
    migrate(engine)
    add_staff(engine, "a@example.org", "editor", PASSWORD)
    add_staff(engine, "b@example.org", "editor", PASSWORD)
    engine.dispose()
    return url


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[str]]:
    env = {
        **os.environ,
        "RASA_URL": f"http://127.0.0.1:{free_port()}",  # buttons and payloads need no NLU
        "INFOBOT_SECRET_KEY": "shared-secret-0123456789abcdefghij",
        "DATABASE_URL": shared_database(),
        "INFOBOT_VAR_DIR": str(tmp_path / "var"),
    }
    env.pop("REDIS_URL", None)
    with serve_workers(env, tmp_path, ready=(200, 503)) as urls:  # 503: no NLU, still serving buttons
        yield urls


def ht_answer(url: str) -> str:
    for message in ("/set_language:ht", "/ask_fraud"):
        response = httpx.post(
            f"{url}/webhooks/rest/webhook", json={"sender": "w-ht", "message": message}, timeout=30
        )
        assert response.status_code == 200, response.text
    return str(response.json()[0]["text"])


def logged_in(url: str, email: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=url, timeout=60, follow_redirects=True)
    token = re.findall(r'name="csrf" value="([^"]+)"', client.get("/console/login").text)[0]
    response = client.post("/console/login", data={"email": email, "password": PASSWORD, "csrf": token})
    assert response.status_code in (200, 303), response.text
    page = client.get("/console/content/entries").text
    return client, re.findall(r'name="csrf" value="([^"]+)"', page)[0]


def form(csrf: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"csrf": csrf, "reason": "two workers"}
    for e in load_content(PROJECT_ROOT / "content").entries:
        if e.intent == "ask_fraud" and e.country is None:
            fields |= {
                f"{e.lang}-text": NEW_HT if e.lang == "ht" else e.text,
                f"{e.lang}-sms": e.sms,
                f"{e.lang}-source": e.source,
                f"{e.lang}-reviewed": e.reviewed.isoformat(),
                f"{e.lang}-reviewed_by": e.reviewed_by,
                f"{e.lang}-review_by": e.review_by.isoformat(),
            } | ({f"{e.lang}-verify": "on"} if e.verify else {})
    return fields


def test_a_version_published_on_one_worker_is_answered_by_the_other(workers: list[str]) -> None:
    first, second = workers
    before = ht_answer(second)
    a, csrf_a = logged_in(first, "a@example.org")
    response = a.post("/console/content/entry/ask_fraud/general", data=form(csrf_a))
    version = re.search(r"Content version (\d+)", response.text)
    assert version, response.text[-2000:]
    a.post(f"/console/content/versions/{version.group(1)}/submit", data={"csrf": csrf_a})
    b, csrf_b = logged_in(first, "b@example.org")
    page = b.post(f"/console/content/versions/{version.group(1)}/approve", data={"csrf": csrf_b}).text
    assert "is live" in page, page[-2000:]
    deadline = time.monotonic() + 5
    while not ht_answer(second).startswith(NEW_HT):
        assert time.monotonic() < deadline, "the other worker still answers with the old version after 5 s"
        time.sleep(0.2)
    assert ht_answer(first).startswith(NEW_HT) and not before.startswith(NEW_HT)
