"""Campaigns in the console: compose (the campaign file's YAML), preview per channel, audience count, and a
second editor (or an admin) approves and schedules; `infobot campaign worker` sends it when due.

The one who composed a campaign cannot approve it: two people read every broadcast before thousands do.
"""

from __future__ import annotations

import datetime as dt
import html
from collections import Counter
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from bot.campaigns.audience import matching
from bot.campaigns.spec import MAX_SPEC_BYTES, CampaignSpec, SpecError
from bot.channels.render import sms_body, whatsapp_bodies
from bot.console.security import EDITORS, guard
from bot.console.sessions import Staff
from bot.console.web import audit, back, db, flash, render
from bot.db.models import Campaign, CampaignRecipient
from bot.vocab.messages import OutboundMessage

EXAMPLE = """id: fraud-alert-2026-12
audience: {countries: [MX], languages: [es, en, fr, ht], topics: [fraud]}
messages:
  es: "..."
  en: "..."
  fr: "..."
  ht: "..."
whatsapp_template:
  es: {content_sid: HX0123456789abcdef0123456789abcdef, variables: {"1": "MX"}}
"""


def _campaigns(session: Session) -> list[dict[str, Any]]:
    status = dict(
        session.execute(
            select(CampaignRecipient.campaign_id, func.count()).group_by(CampaignRecipient.campaign_id)
        ).all()
    )
    rows = session.scalars(select(Campaign).order_by(Campaign.created_at.desc()).limit(100))
    return [{"c": c, "targeted": status.get(c.id, 0)} for c in rows]


@guard(*EDITORS)
async def campaigns_page(request: Request, staff: Staff) -> Response:
    rows = await db(request, _campaigns)
    return render(request, "campaigns.html", rows=rows, example=EXAMPLE)


@guard(*EDITORS)
async def compose(request: Request, staff: Staff) -> Response:
    form = await request.form(max_fields=4, max_part_size=MAX_SPEC_BYTES)
    text = str(form.get("spec") or "")
    try:
        if len(text.encode()) > MAX_SPEC_BYTES:
            raise SpecError(f"longer than {MAX_SPEC_BYTES // 1024} KB")
        spec = CampaignSpec.from_data(yaml.safe_load(text))
    except (SpecError, yaml.YAMLError) as exc:
        flash(request, f"Not saved: {exc}", "error")
        return back("/console/campaigns")

    def save(session: Session) -> bool:
        if session.get(Campaign, spec.id) is not None:
            return False
        session.add(Campaign(id=spec.id, spec=spec.to_json(), status="draft", created_by=staff.email))
        return True

    if not await db(request, save):
        flash(request, f"Not saved: the id {spec.id} is taken; campaign ids are never reused", "error")
        return back("/console/campaigns")
    await audit(request, staff, "campaign_compose", spec.id)
    return back(f"/console/campaigns/{spec.id}")


def audience(session: Session, spec: CampaignSpec) -> Counter[tuple[str, str]]:
    return Counter((channel, language) for _, _, channel, language, _ in matching(session, spec))


def preview(spec: CampaignSpec) -> list[dict[str, str]]:
    """What each language looks like on each channel (the channels' own renderers)."""
    shown = []
    for lang, text in spec.messages.items():
        message = OutboundMessage(recipient="", text=text, language=lang)
        template = spec.whatsapp_template.get(lang)
        shown.append(
            {
                "language": lang,
                "sms": sms_body(message),
                "whatsapp": "\n---\n".join(whatsapp_bodies(message)),
                "whatsapp_outside_window": (
                    f"template {template.content_sid} {template.variables}"
                    if template
                    else "skipped (no template)"
                ),
                "telegram": html.escape(text, quote=False),
            }
        )
    return shown


@guard(*EDITORS)
async def campaign_page(request: Request, staff: Staff) -> Response:
    campaign_id = request.path_params["campaign_id"]
    row = await db(request, lambda s: s.get(Campaign, campaign_id))
    if row is None:
        return Response("no such campaign", status_code=404)
    spec = CampaignSpec.from_json(row.spec)
    counts = await db(request, lambda s: audience(s, spec))
    can_approve = row.status == "draft" and row.created_by != staff.email
    return render(
        request,
        "campaign.html",
        c=row,
        spec=spec,
        preview=preview(spec),
        counts=sorted(counts.items()),
        total=sum(counts.values()),
        can_approve=can_approve,
    )


@guard(*EDITORS)
async def approve(request: Request, staff: Staff) -> Response:
    campaign_id = request.path_params["campaign_id"]
    form = await request.form(max_fields=4, max_part_size=200)
    try:
        when = dt.datetime.fromisoformat(str(form.get("when") or "")) if form.get("when") else None
    except ValueError:
        flash(request, "Not approved: the time is not a date and time", "error")
        return back(f"/console/campaigns/{campaign_id}")
    when = (when.replace(tzinfo=dt.UTC) if when and when.tzinfo is None else when) or dt.datetime.now(dt.UTC)

    def decide(session: Session) -> str:
        row = session.get(Campaign, campaign_id, with_for_update=True)
        if row is None or row.status != "draft":
            return "it is not a draft"
        if row.created_by == staff.email:
            return "a second editor (or an admin) must approve what you composed"
        row.status, row.approved_by, row.scheduled_at = "approved", staff.email, when
        return ""

    refused = await db(request, decide)
    if refused:
        flash(request, f"Not approved: {refused}", "error")
    else:
        await audit(request, staff, "campaign_approve", campaign_id)
        flash(request, f"Approved; sent from {when:%Y-%m-%d %H:%M} UTC by the campaign workers")
    return back(f"/console/campaigns/{campaign_id}")
