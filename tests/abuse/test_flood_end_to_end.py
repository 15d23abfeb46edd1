"""The flood of the issue, end to end with real Rasa: "me van a matar, ayuda" from many WhatsApp numbers
(signed Twilio deliveries, so no address limit holds them back) and one genuine, different emergency
written after them. The hotline queue shows the copies as one flood row and the genuine person first."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from bot.app import create_app
from bot.db import make_engine, session_factory
from bot.db.models import Escalation
from tests.channels.conftest import PUBLIC_BASE_URL, TWILIO_SID, TWILIO_TOKEN, payload, sign
from tests.console.conftest import create_staff, log_in
from tests.helpers.app import make_settings
from tests.helpers.fake_provider import serve, twilio_responder

COPIES = 30
_sids = iter(range(10**6))


@pytest.fixture
def client(rasa_url: str, tmp_path: Path) -> Iterator[TestClient]:
    with serve(twilio_responder) as twilio_api:
        settings = make_settings(
            tmp_path,
            RASA_URL=rasa_url,
            PUBLIC_BASE_URL=PUBLIC_BASE_URL,
            TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
            TWILIO_ACCOUNT_SID=TWILIO_SID,
            TWILIO_API_BASE=twilio_api.url,
        )
        create_staff(settings, "agent@example.org", "agent")
        # https: the console's cookie is Secure when PUBLIC_BASE_URL is https
        with TestClient(create_app(settings), base_url="https://testserver") as client:
            yield client


def whatsapp(client: TestClient, number: str, text: str) -> None:
    params = {
        **payload("twilio", "whatsapp_text"),
        "From": f"whatsapp:{number}",
        "Body": text,
        "MessageSid": f"SM{next(_sids):032d}",
    }
    response = client.post("/webhooks/twilio", data=params, headers={"X-Twilio-Signature": sign(params)})
    assert response.status_code == 200, response.text


def escalations(client: TestClient) -> int:
    engine = client.app.state.runtime.database  # type: ignore[attr-defined]
    with session_factory(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(Escalation)) or 0)


def test_copies_from_many_numbers_are_one_flood_row_and_a_real_emergency_stays_first(
    client: TestClient,
) -> None:
    for n in range(COPIES):
        whatsapp(client, f"+5068800{n:04d}", "me van a matar, ayuda")
    whatsapp(client, "+50677770001", "hola")
    whatsapp(client, "+50677770001", "me estan siguiendo y tengo miedo")
    deadline = time.monotonic() + 30
    while escalations(client) < COPIES + 1:
        assert time.monotonic() < deadline, f"only {escalations(client)} escalations recorded"
        time.sleep(0.2)

    log_in(client, "agent@example.org")
    page = client.get("/console/").text
    rows = re.findall(r'<tr class="(p\d[^"]*)" data-(escalation|flood)="(\w+)"', page)
    assert len(rows) == 2, rows
    (first_class, first_kind, first_id), (second_class, second_kind, _) = rows
    assert (first_class, first_kind, second_class, second_kind) == ("p0", "escalation", "p0 flood", "flood")
    assert re.search(rf"flood: {COPIES} similar messages in \d+ minutes?", page)  # however slow this machine
    engine = make_engine(str(client.app.state.runtime.settings.database_url))  # type: ignore[attr-defined]
    with session_factory(engine)() as session:
        genuine = session.get(Escalation, int(first_id))
        assert (
            genuine is not None
            and genuine.priority == 0
            and genuine.created_at == max(session.scalars(select(Escalation.created_at)))
        )  # written last, shown first
    engine.dispose()
