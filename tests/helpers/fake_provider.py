"""A local stand-in for a provider's REST API (Twilio, Telegram Bot API) that records every request.

Only servers across the internet are faked; the real twilio and python-telegram-bot clients talk to it
through their normal code with the base URL changed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    @property
    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    @property
    def params(self) -> dict[str, Any]:
        """Form or JSON parameters, whichever the client sent."""
        if self.headers.get("content-type", "").startswith("application/json"):
            data: dict[str, Any] = self.json
            return data
        return self.form


Responder = Callable[[Recorded], tuple[int, Any]]


@dataclass
class FakeProvider:
    responder: Responder
    requests: list[Recorded] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    """HTTP statuses to answer first, one per request, before the responder (to test retries)."""
    url: str = ""

    def sent(self, path_part: str) -> list[Recorded]:
        return [r for r in self.requests if path_part in r.path]


@contextmanager
def serve(responder: Responder) -> Iterator[FakeProvider]:
    provider = FakeProvider(responder)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("content-length") or 0)
            record = Recorded(
                self.command,
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length),
            )
            provider.requests.append(record)
            status, body = (
                (provider.failures.pop(0), {"message": "injected failure"})
                if provider.failures
                else provider.responder(record)
            )
            raw = isinstance(body, bytes)  # a file (media downloads), sent as it is
            payload = body if raw else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/octet-stream" if raw else "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()


def twilio_responder(record: Recorded) -> tuple[int, Any]:
    """Twilio's Messages.json create answer, shaped like the real one."""
    n = len(record.path) + len(record.body)
    form = record.form
    return 201, {
        "sid": f"SM{n:032d}",
        "status": "queued",
        "to": form.get("To"),
        "from": form.get("From"),
        "body": form.get("Body"),
        "account_sid": record.path.split("/")[3],
        "num_segments": "1",
        "direction": "outbound-api",
        "date_created": "Mon, 23 Nov 2026 12:00:00 +0000",
    }


def telegram_responder(record: Recorded) -> tuple[int, Any]:
    """The Bot API methods infobot calls, answered as the real API does."""
    method = record.path.rsplit("/", 1)[-1]
    params = record.params
    if method == "getMe":
        return 200, {
            "ok": True,
            "result": {"id": 42, "is_bot": True, "first_name": "infobot", "username": "infobot_test_bot"},
        }
    if method == "sendMessage":
        chat_id = int(params["chat_id"])
        return 200, {
            "ok": True,
            "result": {
                "message_id": len(record.body),
                "date": 1795000000,
                "chat": {"id": chat_id, "type": "private"},
                "text": params.get("text", ""),
            },
        }
    if method == "answerCallbackQuery":
        return 200, {"ok": True, "result": True}
    return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
