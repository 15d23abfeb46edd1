"""The hotline staff console at /console: queue, conversations, dead letters, editor and admin views.

Server-rendered (Starlette + autoescaped Jinja2), with one small script for live updates. Every view
and action requires a login (a session kept in SQL, bot/console/sessions.py), checks the role, checks the
CSRF token on POST and writes the audit log.
"""

from __future__ import annotations

from pathlib import Path

from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.config import Settings
from bot.console import (
    admin,
    campaigns,
    content_edit,
    conversation,
    editor,
    letters,
    login,
    media,
    queue,
    recent,
    referral,
    scams,
    training,
)
from bot.console.security import Staff, guard
from bot.console.sessions import SESSION_SECONDS

__all__ = ["COOKIE", "console_app"]
COOKIE = "infobot_console"
STATIC = Path(__file__).resolve().parent / "static"
HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class _SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


@guard(page=False)
async def script(request: Request, staff: Staff) -> Response:
    return FileResponse(STATIC / "console.js", media_type="text/javascript")


def routes() -> list[Route]:
    c = "/conversations/{escalation_id:int}"
    e, v = "/content/entry/{intent}/{key}", "/content/versions/{version_id:int}"
    return [
        Route("/login", login.login_page, methods=["GET"]),
        Route("/login", login.login_submit, methods=["POST"]),
        Route("/logout", login.logout, methods=["POST"]),
        Route("/", queue.queue_page),
        Route("/queue/rows", queue.queue_rows),
        Route(c, conversation.conversation_page),
        Route(c + "/transcript", conversation.transcript_part),
        Route(c + "/claim", conversation.claim, methods=["POST"]),
        Route(c + "/reply", conversation.reply, methods=["POST"]),
        Route(c + "/note", conversation.note, methods=["POST"]),
        Route(c + "/close", conversation.close, methods=["POST"]),
        Route(c + "/referral", referral.create_referral, methods=["POST"]),
        Route(c + "/media/{media_id:int}", media.media_item),
        Route("/recent", recent.recent_page),
        Route("/recent/open", recent.open_for_person, methods=["POST"]),
        Route("/scams", scams.scams_page),
        Route("/campaigns", campaigns.campaigns_page),
        Route("/campaigns", campaigns.compose, methods=["POST"]),
        Route("/campaigns/{campaign_id}", campaigns.campaign_page),
        Route("/campaigns/{campaign_id}/approve", campaigns.approve, methods=["POST"]),
        Route("/dead-letters", letters.dead_letters),
        Route("/dead-letters/{letter_id:int}/retry", letters.retry, methods=["POST"]),
        Route("/content", editor.preview),
        Route("/content/review", editor.review),
        Route("/content/entries", content_edit.entries_page),
        Route(e, content_edit.entry_page),
        Route(e, content_edit.save_draft, methods=["POST"]),
        Route(e + "/history", content_edit.history_page),
        Route(e + "/rollback", content_edit.rollback_entry, methods=["POST"]),
        Route(e + "/confirm", content_edit.confirm_translation, methods=["POST"]),
        Route(v, content_edit.version_page),
        Route(v + "/submit", content_edit.submit_version, methods=["POST"]),
        Route(v + "/approve", content_edit.approve_version, methods=["POST"]),
        Route(v + "/reject", content_edit.reject_version, methods=["POST"]),
        Route("/content/label", training.label_question, methods=["POST"]),
        Route("/training", training.training_page),
        Route("/training/{example_id:int}", training.decide_example, methods=["POST"]),
        Route("/training/retrain", training.start_retrain, methods=["POST"]),
        Route("/admin/audit", admin.audit_log),
        Route("/admin/staff", admin.staff_list),
        Route("/admin/staff/{user_id:int}/unlock", admin.unlock, methods=["POST"]),
        Route("/admin/staff/{user_id:int}/role", admin.change_role, methods=["POST"]),
        Route("/static/console.js", script),
    ]


def console_app(settings: Settings) -> ASGIApp:
    """The console, with its own session cookie (HttpOnly, SameSite=Lax, Secure behind https)."""
    secure = (settings.public_base_url or "").startswith("https://")
    sessions = SessionMiddleware(
        Router(routes()),
        secret_key=settings.session_key.hex(),
        session_cookie=COOKIE,
        max_age=SESSION_SECONDS,
        path="/console",
        same_site="lax",
        https_only=secure,
    )
    return _SecurityHeaders(sessions)
