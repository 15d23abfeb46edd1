"""Missed questions become training data: an editor labels one (masked first), another reviews it.

The labels wait in a review list; accepted ones are what `infobot train --with-labelled` and
`infobot nlu export-labelled` use.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.console.security import EDITORS, Staff, guard
from bot.console.web import audit, back, db, flash, render
from bot.nlu import labelled
from bot.scam import mask_personal_data

MAX_TEXT = 2000


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
    def load(session: Session) -> tuple[list[object], int]:
        return list(labelled.pending(session)), len(labelled.accepted(session))

    waiting, accepted = await db(request, load)
    await audit(request, staff, "view_training_data")
    return render(request, "training.html", waiting=waiting, accepted=accepted)


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
