"""Hypothesis fuzzing of every inbound route against the real app on uvicorn: no answer >= 500, no request
left hanging (20 s per request detects a hang; it is not a speed requirement), no connection dropped.

Bounded and reproducible here (derandomized, no example database); `bench/fuzz.py` is the long run.
Both NLU paths are fuzzed: the real Rasa (SQLite) and an unreachable NLU (PostgreSQL, which refuses what
SQLite would silently store, such as NUL)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import strategies as st

from tests.channels.conftest import TWILIO_TOKEN
from tests.edge.conftest import PUBLIC_BASE_URL, REST_API_TOKEN, STAFF_EMAIL, TELEGRAM_SECRET, Server
from tests.edge.hostile import (
    Attempt,
    Tally,
    console_attempts,
    rest_attempts,
    run_attempts,
    telegram_attempts,
    twilio_attempts,
)

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")


def fuzz(server: Server, attempts: st.SearchStrategy[Attempt], examples: int) -> Tally:
    tally = run_attempts(server.url, attempts, examples, derandomize=True)
    assert tally.hung == [], f"no answer within 20 s: {tally.hung[:3]!r}"
    assert tally.errors == [], f"answers >= 500 or dropped connections: {tally.errors[:3]!r}"
    assert tally.requests >= examples
    return tally


ROUTES: dict[str, tuple[Callable[[], st.SearchStrategy[Attempt]], int, int]] = {
    "rest webhook": (lambda: rest_attempts("/webhooks/rest/webhook", REST_API_TOKEN), 120, 200),
    "rest outbox": (lambda: rest_attempts("/webhooks/rest/outbox", REST_API_TOKEN), 80, 200),
    "twilio webhook": (lambda: twilio_attempts("/webhooks/twilio", PUBLIC_BASE_URL, TWILIO_TOKEN), 150, 200),
    "twilio status": (
        lambda: twilio_attempts("/webhooks/twilio/status", PUBLIC_BASE_URL, TWILIO_TOKEN),
        100,
        200,
    ),
    "telegram": (lambda: telegram_attempts(TELEGRAM_SECRET), 150, 200),
    "console login": (lambda: console_attempts(STAFF_EMAIL), 60, 401),
}
"""Route -> (hostile requests, how many, the status of a request that went all the way through: for the
console login, 401 means the CSRF check passed and the password was checked)."""


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_no_route_answers_500_or_hangs_with_the_nlu_down(dead_nlu_server: Server, route: str) -> None:
    strategy, examples, through = ROUTES[route]
    tally = fuzz(dead_nlu_server, strategy(), examples)
    assert tally.by_status[through] >= examples // 10, f"too few requests got through: {tally.by_status}"


@pytest.mark.parametrize("route", ["rest webhook", "twilio webhook", "telegram"])
def test_no_route_answers_500_or_hangs_with_the_real_nlu(live_server: Server, route: str) -> None:
    strategy, examples, _ = ROUTES[route]
    fuzz(live_server, strategy(), examples // 2)
