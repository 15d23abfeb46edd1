"""Missed questions become training data: labelled masked, reviewed by someone else, exported as Rasa YAML."""

from __future__ import annotations

import html
import os
import subprocess
from pathlib import Path

import yaml
from sqlalchemy import select

from bot.config import PROJECT_ROOT
from bot.db import make_engine, session_factory
from bot.db.models import LabelledExample, UnansweredQuestion
from tests.console.conftest import Console, create_staff, csrf_of, log_in


def test_an_editor_labels_a_missed_question_and_another_accepts_it(console: Console, tmp_path: Path) -> None:
    create_staff(console.settings, "editor2@example.org", "editor")
    engine = make_engine(console.settings.database_url)
    with session_factory(engine).begin() as session:
        session.add(
            UnansweredQuestion(person="p", channel="rest", language="es", text="donde renuevo mi carnet")
        )
    csrf = log_in(console.client, "editor@example.org")
    review = console.client.get("/console/content/review").text
    assert 'name="intent"' in review and "donde renuevo mi carnet" in review
    question = "me llamo Rosa Pérez, mi número es +506 8888 1234, donde renuevo mi carnet"
    for intent in ("ask_documents", "not_an_intent"):
        page = console.client.post(
            "/console/content/label", data={"csrf": csrf, "text": question, "lang": "es", "intent": intent}
        )
        assert page.status_code == 200
    assert "not an intent of the taxonomy" in html.unescape(page.text)
    with session_factory(engine)() as session:
        [example] = session.scalars(select(LabelledExample)).all()
    assert "8888" not in example.text and example.status == "pending"
    training = console.client.get("/console/training").text
    refused = console.client.post(
        f"/console/training/{example.id}", data={"csrf": csrf, "decision": "accept"}
    )
    assert "does not review it" in html.unescape(refused.text) and str(example.id) in training
    console.client.post("/console/logout", data={"csrf": csrf_of(training)})
    csrf = log_in(console.client, "editor2@example.org")
    console.client.post(f"/console/training/{example.id}", data={"csrf": csrf, "decision": "accept"})
    env = {**os.environ, "DATABASE_URL": console.settings.database_url, "INFOBOT_SECRET_KEY": "k" * 40}
    out = tmp_path / "labelled"
    result = subprocess.run(
        [str(PROJECT_ROOT / ".venv/bin/infobot"), "nlu", "export-labelled", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    data = yaml.safe_load((out / "labelled_es.yml").read_text(encoding="utf-8"))
    [block] = data["nlu"]
    assert block["intent"] == "ask_documents" and block["examples"].startswith("- ")
    assert "8888" not in block["examples"] and "carnet" in block["examples"]
