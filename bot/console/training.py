"""Missed questions become training data: an editor labels one (masked first), another reviews it.

The labels wait in a review list; accepted ones are what `infobot train --with-labelled` and
`infobot nlu export-labelled` use.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.console.security import ADMINS, EDITORS, Staff, guard
from bot.console.web import audit, back, db, flash, render, runtime
from bot.db import session_factory
from bot.db.models import NluRetrain
from bot.nlu import labelled
from bot.nlu.retrain import RetrainError, retrain
from bot.nlu.training import TrainingError
from bot.scam import mask_personal_data

MAX_TEXT = 2000
log = logging.getLogger(__name__)
_running: set[asyncio.Task[Any]] = set()
"""The retrain started from the console (one at a time per worker; it takes minutes)."""


@guard(*EDITORS)
async def label_question(request: Request, staff: Staff) -> Response:
    form = await request.form()
    text, lang, intent = (str(form.get(name, "")) for name in ("text", "lang", "intent"))
    if len(text) > MAX_TEXT:
        return PlainTextResponse("the question is too long", status_code=400)
    masked = mask_personal_data(text)
    try:
        example = await db(request, lambda s: labelled.label(s, masked, lang, intent, staff.email))
    except labelled.LabelError as exc:
        flash(request, str(exc), "error")
        return back("/console/content/review")
    await audit(request, staff, "label_question", f"example:{example.id} {intent}")
    flash(request, f"Labelled {intent}: it waits for review in Training data.")
    return back("/console/content/review")


@guard(*EDITORS)
async def training_page(request: Request, staff: Staff) -> Response:
    def load(session: Session) -> tuple[list[object], int, list[NluRetrain]]:
        retrains = session.scalars(select(NluRetrain).order_by(NluRetrain.id.desc()).limit(20))
        return list(labelled.pending(session)), len(labelled.accepted(session)), list(retrains)

    waiting, accepted, retrains = await db(request, load)
    rows = [{"r": r, "c": json.loads(r.comparison)} for r in retrains]
    await audit(request, staff, "view_training_data")
    return render(
        request, "training.html", waiting=waiting, accepted=accepted, retrains=rows, running=bool(_running)
    )


@guard(*ADMINS)
async def start_retrain(request: Request, staff: Staff) -> Response:
    """Starts a retrain in the background (minutes of CPU); the page shows its comparison when done."""
    if _running:
        flash(request, "A retrain is already running.", "error")
        return back("/console/training")
    rt = runtime(request)

    async def run() -> None:
        try:
            outcome = await retrain(rt.settings, session_factory(rt.database), staff.email)
            log.info("retrain %d: %s", outcome.retrain_id, "swapped in" if outcome.swapped else "refused")
        except (RetrainError, TrainingError, RuntimeError) as exc:
            log.error("retrain failed: %s", exc)

    task = asyncio.get_running_loop().create_task(run(), name="retrain")
    _running.add(task)
    task.add_done_callback(_running.discard)
    await audit(request, staff, "start_retrain")
    flash(request, "Retrain started: it takes a few minutes. The comparison appears below when it is done.")
    return back("/console/training")


@guard(*EDITORS)
async def decide_example(request: Request, staff: Staff) -> Response:
    example_id = int(request.path_params["example_id"])
    accept = (await request.form()).get("decision") == "accept"
    try:
        await db(request, lambda s: labelled.decide(s, example_id, staff.email, accept))
    except labelled.LabelError as exc:
        flash(request, str(exc), "error")
        return back("/console/training")
    await audit(request, staff, "accept_example" if accept else "reject_example", f"example:{example_id}")
    flash(request, f"Example {example_id} {'accepted' if accept else 'rejected'}.")
    return back("/console/training")
