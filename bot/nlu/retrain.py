"""Retraining with labelled examples: train a candidate in the Rasa environment, score it and the model in
use on the held-out set, and keep it only when it is not worse in any language.

"Not worse" is per language of the held-out set: accuracy not lower and wrong answers (a substantive
intent that is not the right one) not more frequent. The comparison is kept in SQL (nlu_retrains) whether
or not the model is swapped in. Workers pick up a swapped-in model with Rasa's model-replace API
(`ModelSwap`, PUT /model): the old model answers until the new one is loaded, no restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.db.models import NluRetrain
from bot.jsonlines import BadLine, read_objects
from bot.nlu.client import RasaClient
from bot.nlu.evaluation import Scores
from bot.nlu.labelled import accepted, rasa_yaml
from bot.nlu.server import RasaServer
from bot.nlu.training import model_path, train

log = logging.getLogger(__name__)
PARALLEL = 4


class RetrainError(Exception):
    pass


@dataclass(frozen=True)
class Outcome:
    retrain_id: int
    swapped: bool
    reasons: list[str]
    comparison: dict[str, Any]
    model: Path


def read_heldout(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as lines:
        return [item for item in read_objects(lines, ("text", "intent")) if not isinstance(item, BadLine)]


async def score(root: Path, model: Path, items: list[dict[str, str]]) -> dict[str, Scores]:
    """Each held-out text through a Rasa server of its own loaded with `model`, scored per language."""
    server = RasaServer(root, model)
    await server.start()
    scores: dict[str, Scores] = {}
    limit = asyncio.Semaphore(PARALLEL)
    try:
        async with httpx.AsyncClient(base_url=server.url, params={"token": server.token}, timeout=60) as http:

            async def one(item: dict[str, str]) -> tuple[dict[str, str], str]:
                async with limit:
                    response = await http.post("/model/parse", json={"text": item["text"]})
                    response.raise_for_status()
                    return item, str((response.json().get("intent") or {}).get("name") or "nlu_fallback")

            for item, predicted in await asyncio.gather(*(one(i) for i in items)):
                scores.setdefault(item.get("lang", "all"), Scores()).add(item["intent"], predicted)
    finally:
        await server.stop()
    return scores


def compare(before: dict[str, Scores], after: dict[str, Scores]) -> tuple[list[str], dict[str, Any]]:
    """(why the candidate is worse, empty when it is not; the figures side by side)."""
    reasons: list[str] = []
    table: dict[str, Any] = {}
    for lang in sorted(before):
        old, new = before[lang], after.get(lang, Scores())
        table[lang] = {
            "n": old.total,
            "accuracy": [round(old.accuracy, 4), round(new.accuracy, 4)],
            "wrong_answers": [round(old.wrong_answer_rate, 4), round(new.wrong_answer_rate, 4)],
        }
        if new.accuracy < old.accuracy:
            reasons.append(f"{lang}: accuracy {old.accuracy:.3f} -> {new.accuracy:.3f}")
        if new.wrong_answer_rate > old.wrong_answer_rate:
            reasons.append(
                f"{lang}: wrong answers {old.wrong_answer_rate:.3f} -> {new.wrong_answer_rate:.3f}"
            )
    return reasons, table


def candidate_intents(intents_dir: Path, examples: list[tuple[str, str, str]], out: Path) -> Path:
    """A copy of intents/ with the labelled examples as data/nlu/labelled_<lang>.yml."""
    target = out / "intents"
    shutil.copytree(intents_dir, target, ignore=shutil.ignore_patterns("__pycache__", ".rasa"))
    for lang in sorted({lang for lang, _, _ in examples}):
        pairs = [(text, intent) for lg, text, intent in examples if lg == lang]
        (target / "data" / "nlu" / f"labelled_{lang}.yml").write_text(rasa_yaml(pairs), encoding="utf-8")
    return target


def current_model(sessions: sessionmaker[Session], settings: Settings) -> Path:
    """The model in use: the last one swapped in, else the one trained from intents/."""
    with sessions() as session:
        swapped = session.scalars(
            select(NluRetrain.model)
            .where(NluRetrain.swapped.is_(True))
            .order_by(NluRetrain.id.desc())
            .limit(1)
        ).first()
    if swapped and Path(swapped).exists():
        return Path(swapped)
    return model_path(settings.models_dir, settings.intents_dir)


async def retrain(
    settings: Settings, sessions: sessionmaker[Session], actor: str, heldout: Path | None = None
) -> Outcome:
    """Train, evaluate both models, record the comparison, swap only a model that is not worse."""
    with sessions() as session:
        examples = [(e.language, e.text, e.intent) for e in accepted(session)]
    if not examples:
        raise RetrainError("no accepted labelled examples: label missed questions in the console first")
    items = read_heldout(heldout or settings.root / "tests" / "nlu" / "heldout.jsonl")
    before_model = current_model(sessions, settings)
    if not before_model.exists():
        before_model, _ = await asyncio.to_thread(
            train, settings.root, settings.intents_dir, settings.models_dir
        )
    with tempfile.TemporaryDirectory(prefix="infobot-retrain-") as tmp:
        intents = candidate_intents(settings.intents_dir, examples, Path(tmp))
        candidate, _ = await asyncio.to_thread(train, settings.root, intents, settings.models_dir)
    before = await score(settings.root, before_model, items)
    after = await score(settings.root, candidate, items)
    reasons, table = compare(before, after)
    comparison = {
        "before": str(before_model.name),
        "after": candidate.name,
        "languages": table,
        "worse": reasons,
    }
    with sessions.begin() as session:
        record = NluRetrain(
            actor=actor,
            examples=len(examples),
            comparison=json.dumps(comparison, ensure_ascii=False),
            swapped=not reasons,
            model=str(candidate) if not reasons else None,
        )
        session.add(record)
        session.flush()
        retrain_id = record.id
    return Outcome(retrain_id, not reasons, reasons, comparison, candidate)


@dataclass
class ModelSwap:
    """A worker's Rasa follows the last model swapped in (polled from SQL), through PUT /model."""

    sessions: sessionmaker[Session]
    settings: Settings
    client: RasaClient
    server: RasaServer | None
    loaded: str | None = None

    async def follow(self) -> bool:
        """True when a new model was put in; a refusal is raised and retried at the next round."""

        def newest() -> str | None:
            with self.sessions() as session:
                query = select(NluRetrain.model).where(NluRetrain.swapped.is_(True))
                return session.scalars(query.order_by(NluRetrain.id.desc()).limit(1)).first()

        model = await asyncio.to_thread(newest)
        if model is None or model == self.loaded or not Path(model).exists():
            return False
        await self.client.replace_model(model)
        if self.server is not None:
            self.server.model = Path(model)  # a restart after a crash keeps the new model
        self.loaded = model
        log.info("nlu model replaced: %s", Path(model).name)
        return True
