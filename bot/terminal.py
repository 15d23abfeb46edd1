"""`infobot chat`: a conversation in the terminal through the same dialogue as every channel.

Closing the terminal (SIGHUP) or `kill` (SIGTERM) ends the chat like Ctrl-D does: the turn in progress
finishes, then the runtime closes and stops its Rasa server. Lines are read by a daemon thread, so a
blocked read of the terminal never holds up the exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading

from bot.channels.render import as_plain_text
from bot.config import Settings
from bot.dialogue.state import ConversationState
from bot.runtime import start_runtime
from bot.state.record import StoredConversation, write_conversation
from bot.vocab.messages import InboundMessage

SENDER = "terminal"
STOP_SIGNALS = (signal.SIGHUP, signal.SIGTERM)


class _StopOnSignal:
    """Records the signal; cancels the chat unless a turn is being answered (then it ends after it)."""

    def __init__(self, task: asyncio.Task[int]) -> None:
        self.task = task
        self.signal: int | None = None
        self.answering = False

    def __call__(self, signum: int) -> None:
        self.signal = signum
        if not self.answering:
            self.task.cancel()


def _read_lines(loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]) -> None:
    """Feed stdin's lines to the loop; None at the end (EOF, or the terminal gone: EIO)."""
    with contextlib.suppress(RuntimeError):  # the chat already ended and its loop is closed
        with contextlib.suppress(OSError, ValueError):
            for line in iter(sys.stdin.readline, ""):
                loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, None)


async def chat(settings: Settings, lang: str | None, country: str | None) -> int:
    """Exit status 0 at the end of input, 128 + the signal's number after SIGHUP or SIGTERM."""
    task = asyncio.current_task()
    assert task is not None
    stop = _StopOnSignal(task)
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop, signum)
    try:
        await _converse(settings, lang, country, stop)
    except asyncio.CancelledError:
        if stop.signal is None:
            raise
        task.uncancel()
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
    return 0 if stop.signal is None else 128 + stop.signal


async def _converse(settings: Settings, lang: str | None, country: str | None, stop: _StopOnSignal) -> None:
    print("Starting infobot (the first start trains the NLU model)...", flush=True)
    runtime = await start_runtime(settings)
    try:
        conversation_id = f"terminal:{SENDER}"
        dialogue = ConversationState(language=lang, country=country)
        await write_conversation(runtime.store, conversation_id, StoredConversation(dialogue))
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        reader = threading.Thread(target=_read_lines, args=(asyncio.get_running_loop(), lines), daemon=True)
        reader.start()
        print("Write a message (Ctrl-D to quit).", flush=True)
        while stop.signal is None:
            line = await lines.get()
            if line is None:
                break
            if not line.strip():
                continue
            inbound = InboundMessage(channel="terminal", sender=SENDER, text=line.strip()[:4096])
            stop.answering = True
            try:
                replies = await runtime.conversations.handle(inbound)
            finally:
                stop.answering = False
            for reply in replies:
                print("\n" + as_plain_text(reply) + "\n", flush=True)
    finally:
        await runtime.aclose()
