"""Hot reload while the server runs: an edit changes the answer; a broken edit keeps the old one."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from starlette.testclient import TestClient

from bot.app import create_app
from bot.config import PROJECT_ROOT
from bot.nlu.server import free_port
from tests.helpers.app import make_settings


def answer(client: TestClient, sender: str) -> str:
    [reply] = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "/ask_fraud"}).json()
    assert reply["metadata"]["content_id"] == "ask_fraud"
    return str(reply["text"])


def test_edits_take_effect_without_a_restart_and_broken_edits_never_do(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "content", content)
    settings = make_settings(
        tmp_path, RASA_URL=f"http://127.0.0.1:{free_port()}", INFOBOT_CONTENT_DIR=str(content)
    )
    path = content / "ht" / "ask_fraud.yml"
    original = path.read_text(encoding="utf-8")
    with TestClient(create_app(settings)) as client:
        client.post("/webhooks/rest/webhook", json={"sender": "hr", "message": "/set_language:ht"})
        before = answer(client, "hr")
        first_line = before.splitlines()[0]
        path.write_text(original.replace(first_line, "Tès: nouvo repons pou eskwokri.", 1), encoding="utf-8")
        time.sleep(1.2)
        assert answer(client, "hr").startswith("Tès: nouvo repons pou eskwokri.")
        path.write_text(original + "\ngeneral: [this is : broken", encoding="utf-8")
        time.sleep(1.2)
        assert answer(client, "hr").startswith("Tès: nouvo repons pou eskwokri.")
        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        assert any("cannot read this YAML" in str(p) for p in runtime.content.last_problems)
