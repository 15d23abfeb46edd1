"""The console with its database cut (PostgreSQL behind a proxy the test cuts): pages, actions and the login
answer 503 with one sentence, never 500, and work again once it is back."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from bench.fault_services import CutProxy
from bot.console.security import DATABASE_DOWN
from bot.db import make_engine
from tests.console.conftest import console_for, log_in, try_login
from tests.console.test_schema import POSTGRES_URL

SCHEMA = "infobot_console_db_down"


def test_a_cut_database_gets_503_and_one_sentence_then_the_console_works_again(tmp_path: Path) -> None:
    engine = make_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}"))
    engine.dispose()
    host_port, database = POSTGRES_URL.rsplit("/", 1)
    proxy = CutProxy(int(host_port.rsplit(":", 1)[1]))
    proxy.start()
    url = f"{host_port.rsplit(':', 1)[0]}:{proxy.port}/{database}?options=-csearch_path%3D{SCHEMA}"
    try:
        for console in console_for(tmp_path, DATABASE_URL=url):
            console.escalate("+50600000031")
            token = log_in(console.client, "agent@example.org")
            proxy.cut()
            for response in (
                console.client.get("/console/"),
                console.client.get("/console/queue/rows"),
                console.client.post("/console/conversations/1/claim", data={"csrf": token}),
                try_login(console.client, "admin@example.org"),
            ):
                assert (response.status_code, response.text) == (503, DATABASE_DOWN)
            proxy.restore()
            assert console.client.get("/console/").status_code == 200
            claimed = console.client.post("/console/conversations/1/claim", data={"csrf": token})
            assert claimed.status_code == 200 and "You hold this conversation now" in claimed.text
    finally:
        proxy.stop()
