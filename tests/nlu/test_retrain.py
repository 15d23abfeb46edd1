"""A retrain with labelled examples that make the model worse is refused: the comparison is kept and
no model is swapped in (one real training run in the Rasa environment, on a small held-out slice)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from sqlalchemy import select

from bot.config import PROJECT_ROOT
from bot.db import make_engine, migrate, session_factory
from bot.db.models import LabelledExample, NluRetrain
from bot.vocab.topics import TOPIC_INTENTS

PER_LANGUAGE = 6


def heldout_slice() -> list[dict[str, str]]:
    """The first few topic questions of each language in the held-out set."""
    items: list[dict[str, str]] = []
    with (PROJECT_ROOT / "tests" / "nlu" / "heldout.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            item = json.loads(line)
            if (
                item["intent"] in TOPIC_INTENTS
                and sum(i["lang"] == item["lang"] for i in items) < PER_LANGUAGE
            ):
                items.append(item)
    return items


def test_labelled_examples_that_make_the_model_worse_are_refused(tmp_path: Path) -> None:
    items = heldout_slice()
    heldout = tmp_path / "heldout.jsonl"
    heldout.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    database = f"sqlite:///{tmp_path}/db.sqlite"
    engine = make_engine(database)
    migrate(engine)
    with session_factory(engine).begin() as session:
        for item in items:  # the very questions of the comparison, each taught the wrong topic
            wrong = TOPIC_INTENTS[(TOPIC_INTENTS.index(item["intent"]) + 1) % len(TOPIC_INTENTS)]
            for n in range(3):
                session.add(
                    LabelledExample(
                        language=item["lang"],
                        text=item["text"] + " " * n,
                        intent=wrong,
                        labelled_by="a@example.org",
                        reviewed_by="b@example.org",
                        status="accepted",
                    )
                )
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "INFOBOT_SECRET_KEY": "k" * 40,
        "INFOBOT_VAR_DIR": str(tmp_path / "var"),
    }
    result = subprocess.run(
        [str(PROJECT_ROOT / ".venv/bin/infobot"), "train", "--with-labelled", "--heldout", str(heldout)],
        capture_output=True,
        text=True,
        env=env,
        timeout=1500,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "refused" in result.stdout and "accuracy" in result.stdout
    with session_factory(engine)() as session:
        [record] = session.scalars(select(NluRetrain)).all()
    comparison = json.loads(record.comparison)
    assert record.swapped is False and record.model is None
    assert set(comparison["languages"]) == {"es", "en", "fr", "ht"} and comparison["worse"]
    before, after = comparison["languages"]["es"]["accuracy"]
    assert after < before
