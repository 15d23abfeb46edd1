"""What the console tells staff about the parts of the service: a banner on every page while the
conversation store or the NLU is down, saying what still works; and the store's quiet flags that could
not be set while it was down, set once it is back (bot/console/handover.py).

Both are checked at most every few seconds per worker, whatever the number of agents polling.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request

from bot.console.handover import heal_pending_handovers
from bot.runtime import Runtime
from bot.state.base import StoreUnavailable

log = logging.getLogger(__name__)
CHECK_SECONDS = 5.0
PROBLEMS = {
    "store": (
        "The conversation store (Redis) is unavailable. Claims and closes are recorded in the database and "
        "the bot reads them from there; its own quiet flags are set when the store is back. Replies to web "
        "chat cannot be sent until then (WhatsApp, SMS and Telegram replies can)."
    ),
    "nlu": (
        "The NLU server is unavailable. The bot still recognises emergencies and requests for a person "
        "(keyword rules) and escalates them; everything else gets the numbered menu."
    ),
    "database": "The database is unavailable: escalations, transcripts and the audit log cannot be read.",
}


@dataclass
class _Watch:
    checked_at: float = -CHECK_SECONDS
    problems: list[str] = field(default_factory=list)
    healed_at: float = -CHECK_SECONDS
    healing: asyncio.Task[Any] | None = None
    """The pass under way, kept referenced until it ends."""


def _runtime(request: Request) -> Runtime:
    value: Runtime = request.app.state.runtime
    return value


def _watch(request: Request) -> _Watch:
    state = request.app.state
    if not isinstance(getattr(state, "console_watch", None), _Watch):
        state.console_watch = _Watch()
    watch: _Watch = state.console_watch
    return watch


async def problems(request: Request) -> list[str]:
    """One sentence per part that is down (the last check, at most CHECK_SECONDS old)."""
    watch = _watch(request)
    if time.monotonic() - watch.checked_at >= CHECK_SECONDS:
        parts = await _runtime(request).health()
        watch.problems = [
            PROBLEMS[name] for name, state in parts.items() if state != "up" and name in PROBLEMS
        ]
        watch.checked_at = time.monotonic()
    return watch.problems


def heal_in_background(request: Request) -> None:
    """Set pending quiet flags in the background (never slowing the request), at most every few seconds."""
    watch = _watch(request)
    if watch.healing is not None or time.monotonic() - watch.healed_at < CHECK_SECONDS:
        return
    watch.healed_at = time.monotonic()
    runtime = _runtime(request)

    async def heal() -> None:
        try:
            if healed := await heal_pending_handovers(runtime):
                log.info("console: %d quiet flag(s) set now that the store is back", healed)
        except (SQLAlchemyError, StoreUnavailable) as exc:
            log.warning("console: pending quiet flags not set yet (%s)", exc.__class__.__name__)
        finally:
            watch.healing = None

    watch.healing = asyncio.get_running_loop().create_task(heal(), name="console-quiet-flags")
