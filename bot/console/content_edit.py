"""The content editor (role editor): one entry's four languages side by side, drafts, review by a second
editor, history with diffs, rollback, and "needs update" translations. Every action is in the audit log.

The rules live in bot/content/live.py (SQL) so the console, the CLI and the tests share them: an author
never approves their own change, and nothing goes live before the content check passes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import difflib
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot import COUNTRIES, LANGUAGES
from bot.channels.render import as_plain_text, sms_body, whatsapp_bodies
from bot.console.security import EDITORS, Staff, guard
from bot.console.web import audit, back, db, flash, render, runtime
from bot.content import live
from bot.content.loader import GENERAL_KEY
from bot.content.model import ContentEntry
from bot.content.versions import Changes, entry_from_raw, normalise
from bot.db import session_factory
from bot.db.models import ContentVersion
from bot.dialogue import replies
from bot.vocab.topics import TOPIC_INTENTS

TOPICS = (*TOPIC_INTENTS, "emergency")
KEYS = (GENERAL_KEY, *COUNTRIES)
EDITABLE = ("text", "sms", "source", "reviewed", "reviewed_by", "review_by")
MAX_FIELD = {"text": 4000, "sms": 1000, "source": 500, "reviewed_by": 120, "reviewed": 10, "review_by": 10}
MAX_REASON = 500


def _entry_of(request: Request) -> tuple[str, str] | None:
    intent, key = request.path_params["intent"], request.path_params["key"]
    return (intent, key) if intent in TOPICS and key in KEYS else None


def _url(intent: str, key: str) -> str:
    return f"/console/content/entry/{intent}/{key}"


def _base(request: Request) -> Any:
    return runtime(request).content.content_dir


async def _refresh(request: Request) -> None:
    """This worker answers with the new version at once; the others poll within a second."""
    rt = runtime(request)
    await asyncio.to_thread(live.LivePoller(rt.content, session_factory(rt.database)).poll)


def previews(entry: ContentEntry | None) -> dict[str, Any] | None:
    """The entry as WhatsApp, SMS and Telegram / web chat show it."""
    if entry is None:
        return None
    message = replace(replies.answer("preview", entry.lang, entry, dt.date.today()), channel="whatsapp")
    return {"whatsapp": whatsapp_bodies(message), "sms": sms_body(message), "plain": as_plain_text(message)}


def diff_lines(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    """A unified diff of the entry's fields, one field per block."""

    def lines(raw: dict[str, Any] | None) -> list[str]:
        if raw is None:
            return ["(no entry)"]
        out: list[str] = []
        for name in (*EDITABLE, "verify"):
            value = raw.get(name)
            out += [f"{name}: {line}" for line in str(value).splitlines() or [""]]
        return out

    return list(difflib.unified_diff(lines(before), lines(after), "before", "after", lineterm="", n=1))[2:]


@guard(*EDITORS)
async def entries_page(request: Request, staff: Staff) -> Response:
    """Every entry, the translations that need an update, and the versions waiting for a decision."""
    library = runtime(request).content.current()
    ids = sorted({(e.intent, e.country or GENERAL_KEY) for e in library.entries()})

    def load(session: Session) -> tuple[list[Any], list[ContentVersion]]:
        pending = select(ContentVersion).where(ContentVersion.status.in_(("draft", "review")))
        return live.open_flags(session), list(session.scalars(pending.order_by(ContentVersion.id.desc())))

    flags, pending = await db(request, load)
    needs: dict[tuple[str, str], list[str]] = {}
    for flag in flags:
        needs.setdefault((flag.intent, flag.key), []).append(flag.lang)
    await audit(request, staff, "view_content_entries")
    return render(request, "content_entries.html", ids=ids, needs=needs, flags=flags, pending=pending)


@guard(*EDITORS)
async def entry_page(request: Request, staff: Staff) -> Response:
    found = _entry_of(request)
    if found is None:
        return PlainTextResponse("no such entry", status_code=404)
    intent, key = found
    library = runtime(request).content.current()
    country = None if key == GENERAL_KEY else key
    columns = []
    for lang in LANGUAGES:
        entry = library.lookup(intent, lang, country)
        entry = entry if entry is not None and entry.country == country else None
        columns.append({"lang": lang, "entry": entry, "preview": previews(entry)})
    flags = await db(request, lambda s: {f.lang: f for f in live.open_flags(s) if (f.intent, f.key) == found})
    await audit(request, staff, "view_content_entry", live.entry_id(intent, key))
    return render(request, "content_entry.html", intent=intent, key=key, columns=columns, flags=flags)


def _form_changes(form: Any, current: dict[Any, Any], intent: str, key: str) -> tuple[Changes, list[str]]:
    """The languages whose fields differ from the live entry, and what is wrong with the form."""
    changes: Changes = {}
    problems: list[str] = []
    for lang in LANGUAGES:
        now = current.get((lang, intent, key))
        raw: dict[str, Any] = dict(now or {})
        for name in EDITABLE:
            value = str(form.get(f"{lang}-{name}", "")).replace("\r\n", "\n").strip()
            if len(value) > MAX_FIELD[name]:
                problems.append(f"{lang} {name}: at most {MAX_FIELD[name]} characters")
            raw[name] = value
        raw["verify"] = form.get(f"{lang}-verify") == "on"
        for name in ("reviewed", "review_by"):
            try:
                dt.date.fromisoformat(raw[name])
            except ValueError:
                problems.append(f"{lang} {name}: write a date as YYYY-MM-DD")
        if now is None and not raw["text"]:
            continue
        if normalise(raw) != now:
            changes[(lang, intent, key)] = normalise(raw)
    return changes, problems


@guard(*EDITORS)
async def save_draft(request: Request, staff: Staff) -> Response:
    found = _entry_of(request)
    if found is None:
        return PlainTextResponse("no such entry", status_code=404)
    intent, key = found
    form = await request.form()
    reason = str(form.get("reason", "")).strip()[:MAX_REASON]
    base = _base(request)
    current = await db(request, lambda s: live.live_state(s, base))
    changes, problems = _form_changes(form, current, intent, key)
    if problems:
        for problem in problems:
            flash(request, problem, "error")
        return back(_url(intent, key))
    if not changes:
        flash(request, "Nothing changed: no draft was saved.", "error")
        return back(_url(intent, key))
    if not reason:
        flash(request, "Say why you change it (the reason is kept with the version).", "error")
        return back(_url(intent, key))
    version = await db(request, lambda s: live.create_version(s, staff.email, reason, "edit", changes))
    await audit(request, staff, "content_draft", f"version:{version.id} {version.entries}"[:200])
    flash(request, f"Draft saved as version {version.id}. Submit it for review when it is ready.")
    return back(f"/console/content/versions/{version.id}")


def _version_id(request: Request) -> int:
    return int(request.path_params["version_id"])


@guard(*EDITORS)
async def version_page(request: Request, staff: Staff) -> Response:
    version_id = _version_id(request)
    base = _base(request)

    def load(session: Session) -> tuple[ContentVersion, list[dict[str, Any]]] | None:
        version = session.get(ContentVersion, version_id)
        if version is None:
            return None
        changes = live.from_json(version.changes)
        seq = (version.published_seq - 1) if version.published_seq else None
        rows = []
        for (lang, intent, key), raw in sorted(changes.items()):
            before = (
                live.entry_at(session, base, intent, key, seq)[lang]
                if seq is not None
                else live.live_state(session, base).get((lang, intent, key))
            )
            entry = entry_from_raw(lang, intent, key, raw) if raw else None
            rows.append(
                {
                    "lang": lang,
                    "id": live.entry_id(intent, key),
                    "url": _url(intent, key),
                    "diff": diff_lines(before, raw),
                    "preview": previews(entry),
                }
            )
        return version, rows

    found = await db(request, load)
    if found is None:
        return PlainTextResponse("no such version", status_code=404)
    version, rows = found
    await audit(request, staff, "view_content_version", f"version:{version_id}")
    return render(request, "content_version.html", version=version, rows=rows)


async def _decide(request: Request, staff: Staff, action: str) -> Response:
    """submit, approve or reject one version; refusals are shown, audited and change nothing."""
    version_id = _version_id(request)
    url = f"/console/content/versions/{version_id}"
    base, today = _base(request), dt.date.today()

    def run(session: Session) -> ContentVersion:
        if action == "submit":
            return live.submit(session, version_id, staff.email)
        if action == "reject":
            return live.reject(session, version_id, staff.email)
        return live.approve(session, version_id, staff.email, base, today)

    try:
        version = await db(request, run)
    except live.VersionError as exc:
        await audit(request, staff, f"content_{action}_refused", f"version:{version_id} {exc}"[:200])
        flash(request, str(exc), "error")
        for problem in exc.problems[:30]:
            flash(request, str(problem), "error")
        return back(url)
    await audit(request, staff, f"content_{action}", f"version:{version_id} {version.entries}"[:200])
    if action == "approve":
        await _refresh(request)
        flash(request, f"Version {version_id} is live.")
    else:
        flash(request, f"Version {version_id}: {version.status}.")
    return back(url)


@guard(*EDITORS)
async def submit_version(request: Request, staff: Staff) -> Response:
    return await _decide(request, staff, "submit")


@guard(*EDITORS)
async def approve_version(request: Request, staff: Staff) -> Response:
    return await _decide(request, staff, "approve")


@guard(*EDITORS)
async def reject_version(request: Request, staff: Staff) -> Response:
    return await _decide(request, staff, "reject")


@guard(*EDITORS)
async def history_page(request: Request, staff: Staff) -> Response:
    found = _entry_of(request)
    if found is None:
        return PlainTextResponse("no such entry", status_code=404)
    intent, key = found
    base = _base(request)

    def load(session: Session) -> list[dict[str, Any]]:
        rows = []
        for version in live.history(session, intent, key):
            changes = live.from_json(version.changes)
            seq = (version.published_seq - 1) if version.published_seq else None
            before = live.entry_at(session, base, intent, key, seq) if seq is not None else None
            diffs = [
                (lang, diff_lines(before[lang] if before else None, raw))
                for (lang, i, k), raw in sorted(changes.items())
                if (i, k) == (intent, key)
            ]
            rows.append({"version": version, "diffs": diffs})
        return rows

    rows = await db(request, load)
    await audit(request, staff, "view_content_history", live.entry_id(intent, key))
    return render(request, "content_history.html", intent=intent, key=key, rows=rows)


@guard(*EDITORS)
async def rollback_entry(request: Request, staff: Staff) -> Response:
    found = _entry_of(request)
    if found is None:
        return PlainTextResponse("no such entry", status_code=404)
    intent, key = found
    raw = str((await request.form()).get("version", ""))
    if not raw.isdigit() or len(raw) > 9:
        return PlainTextResponse("version must be a version number", status_code=400)
    base, today = _base(request), dt.date.today()
    try:
        version = await db(
            request, lambda s: live.rollback(s, intent, key, int(raw), staff.email, base, today)
        )
    except live.VersionError as exc:
        await audit(request, staff, "content_rollback_refused", f"{live.entry_id(intent, key)} to {raw}")
        flash(request, str(exc), "error")
        for problem in exc.problems[:30]:
            flash(request, str(problem), "error")
        return back(_url(intent, key) + "/history")
    await audit(
        request, staff, "content_rollback", f"{live.entry_id(intent, key)} to {raw} as version:{version.id}"
    )
    await _refresh(request)
    flash(request, f"{live.entry_id(intent, key)} is back as in version {raw} (new version {version.id}).")
    return back(_url(intent, key) + "/history")


@guard(*EDITORS)
async def confirm_translation(request: Request, staff: Staff) -> Response:
    found = _entry_of(request)
    if found is None:
        return PlainTextResponse("no such entry", status_code=404)
    intent, key = found
    lang = str((await request.form()).get("lang", ""))
    if lang not in LANGUAGES:
        return PlainTextResponse("unknown language", status_code=400)
    done = await db(request, lambda s: live.confirm(s, intent, key, lang, staff.email))
    if done:
        await audit(request, staff, "content_confirm_translation", f"{live.entry_id(intent, key)} {lang}")
        flash(request, f"{lang}: confirmed up to date.")
    return back(_url(intent, key))
