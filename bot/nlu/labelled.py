"""Missed questions turned into training data: labels from editors, a review by someone else, and the
accepted examples written as Rasa NLU YAML (`infobot nlu export-labelled DIR`,
`infobot train --with-labelled`).

Texts arrive here already masked of personal data (the console masks them before calling): a phone number
or a name never becomes training data.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import LANGUAGES
from bot.db.models import LabelledExample
from bot.vocab.topics import INTENTS

NOT_A_QUESTION = "not_a_question"
LABELS = (*INTENTS, NOT_A_QUESTION)
"""An editor labels a missed question with an intent of the taxonomy, or says it is not a question."""
MAX_TEXT = 500


class LabelError(Exception):
    pass


def label(session: Session, text: str, lang: str, intent: str, actor: str) -> LabelledExample:
    """A pending example; the same text and label twice is one example."""
    text = " ".join(text.split())[:MAX_TEXT]
    if intent not in LABELS:
        raise LabelError(f"'{intent}' is not an intent of the taxonomy")
    if lang not in LANGUAGES or not text:
        raise LabelError("an example needs a text and one of the four languages")
    existing = session.scalars(
        select(LabelledExample).where(LabelledExample.text == text, LabelledExample.intent == intent)
    ).first()
    if existing is not None:
        return existing
    example = LabelledExample(language=lang, text=text, intent=intent, labelled_by=actor, status="pending")
    session.add(example)
    session.flush()
    return example


def decide(session: Session, example_id: int, actor: str, accept: bool) -> LabelledExample:
    """Accept or reject a pending example; whoever labelled it does not review it."""
    example = session.get(LabelledExample, example_id, with_for_update=True)
    if example is None or example.status != "pending":
        raise LabelError("this example is not waiting for review")
    if example.labelled_by == actor:
        raise LabelError("whoever labelled an example does not review it: another editor must")
    example.status, example.reviewed_by = ("accepted" if accept else "rejected"), actor
    return example


def pending(session: Session) -> list[LabelledExample]:
    query = select(LabelledExample).where(LabelledExample.status == "pending")
    return list(session.scalars(query.order_by(LabelledExample.id)))


def accepted(session: Session) -> list[LabelledExample]:
    """Accepted examples that teach an intent ("not a question" teaches nothing)."""
    query = select(LabelledExample).where(
        LabelledExample.status == "accepted", LabelledExample.intent != NOT_A_QUESTION
    )
    return list(session.scalars(query.order_by(LabelledExample.id)))


class _Block(str):
    pass


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Block, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", str(v), style="|"))


def rasa_yaml(examples: list[tuple[str, str]]) -> str:
    """Rasa 3 NLU training data for (text, intent) pairs, one block per intent."""
    by_intent: dict[str, list[str]] = {}
    for text, intent in examples:
        by_intent.setdefault(intent, []).append(text)
    nlu = [
        {"intent": intent, "examples": _Block("".join(f"- {t}\n" for t in texts))}
        for intent, texts in sorted(by_intent.items())
    ]
    body = yaml.dump({"version": "3.1", "nlu": nlu}, Dumper=_Dumper, allow_unicode=True, sort_keys=False)
    return f"# Labelled from missed questions in the console ({dt.date.today()}).\n" + body


def export_labelled(examples: list[LabelledExample], out_dir: Path) -> list[Path]:
    """One file per language, `labelled_<lang>.yml`, ready for intents/data/nlu/."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for lang in LANGUAGES:
        pairs = [(e.text, e.intent) for e in examples if e.language == lang]
        if pairs:
            path = out_dir / f"labelled_{lang}.yml"
            path.write_text(rasa_yaml(pairs), encoding="utf-8")
            written.append(path)
    return written
