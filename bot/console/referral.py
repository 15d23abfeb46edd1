"""A referral logged by staff from a conversation, after the person consented by phone or chat.

It goes through the same write-ahead ReferralLog as the bot's referrals (spool, then SQL), with the
consent version marked "staff-…" so reports can tell the two apart. The code is shown to the agent and
kept as an internal note in the transcript.
"""

from __future__ import annotations

import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.console.conversation import _id, _note, _url, hub_choices, show
from bot.console.security import AGENTS, Staff, guard
from bot.console.web import audit, back, db, flash, runtime
from bot.db.models import Escalation
from bot.dialogue.referral import CONSENT_VERSION, referral_code
from bot.referrals import SERVICES
from bot.referrals.log import ReferralRecord

NO_CONSENT = (
    "Not logged: tick “the person consented by phone/chat” first. "
    "A referral is only logged when the person agreed to it."
)


@guard(*AGENTS)
async def create_referral(request: Request, staff: Staff) -> Response:
    form = await request.form()
    escalation = await db(request, lambda s: s.get(Escalation, _id(request)))
    if escalation is None:
        return PlainTextResponse("no such conversation", status_code=404)
    service, hub_id = str(form.get("service", "")), str(form.get("hub", ""))
    hub = next((h for h in hub_choices(request, escalation) if h.id == hub_id), None)
    referrals = runtime(request).conversations.referrals
    problem = ""
    if form.get("consent") != "yes":
        problem = NO_CONSENT
    elif service not in SERVICES:
        problem = "Not logged: choose a service from the list."
    elif hub is None:
        problem = "Not logged: choose a hub from the list."
    elif not hub.offers(service):
        problem = f"Not logged: {hub.name} does not offer {service}; choose another hub or service."
    elif not escalation.conversation_id:
        problem = "Not logged: this person's address was erased, so no referral code can be made."
    elif referrals is None:
        problem = "Not logged: the referral log is not available on this server."
    if problem or hub is None or referrals is None:
        flash(request, problem, "error")
        await audit(request, staff, "referral_refused", f"escalation:{escalation.id}")
        return await show(request, staff, status_code=400)
    code, key = referral_code(escalation.conversation_id, time.time(), 0)
    record = ReferralRecord.now(
        code=code,
        idempotency_key=key,
        service=service,
        hub_id=hub.id,
        country=hub.country,
        language=escalation.language,
        channel=escalation.channel,
        person=escalation.person,
        consent_version="staff-" + CONSENT_VERSION,
    )
    outcome = await run_in_threadpool(referrals.log, record)
    runtime(request).conversations.notify_hub(record)
    text = (
        f"Referral {code} logged by staff: {service} at {hub.name} ({hub.id}); consent given by phone/chat."
    )
    await _note(request, escalation.person, "note", staff.email, text)
    await audit(request, staff, "referral", f"escalation:{escalation.id}:referral:{code}")
    spooled = (
        " (saved to the spool: the database will receive it when it is back)" if outcome == "spooled" else ""
    )
    flash(request, f"Referral logged{spooled}. Referral code: {code} — give it to the person for {hub.name}.")
    return back(_url(escalation.id))
