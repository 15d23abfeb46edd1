"""One local fake for the two APIs a campaign reaches: Twilio's Messages.json and Telegram's sendMessage.

The real twilio and python-telegram-bot clients talk to it (base URLs changed). It records who got what,
can answer chosen addresses with chosen errors (21610, 403, 429 with Retry-After, a 5xx after taking the
message) and can be slowed down (a worker then has requests in flight when it is killed). Twilio's message
list (GET Messages.json?To=&From=, newest first) answers from what it took, as Twilio's does.
Keep-alive HTTP/1.1, so the benchmark measures the sender, not connection set-up.
"""

from __future__ import annotations

import email.utils
import json
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Answer = tuple[int, dict[str, Any], dict[str, str]]
TAKEN = "x-fake-taken"
"""A scripted error with this header is answered after the message was taken (a 5xx Twilio sent anyway)."""


@dataclass
class Sent:
    channel: str
    """whatsapp, sms or telegram."""
    to: str
    """The address as the recipient is known in subscriptions (no `whatsapp:` prefix)."""
    params: dict[str, str]
    at: float


@dataclass
class CampaignFake:
    url: str = ""
    delay: float = 0.0
    scripted: dict[str, list[Answer]] = field(default_factory=dict)
    """address → answers to give first (then success)."""
    sent: list[Sent] = field(default_factory=list)
    """Accepted messages only."""
    refused: list[Sent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    count_only: bool = False
    """Benchmarks: keep counts, not every message."""
    counts: Counter[str] = field(default_factory=Counter)
    first_at: float = 0.0
    last_at: float = 0.0
    """When the first and the latest accepted message arrived (benchmarks' rates)."""
    taken: dict[str, list[tuple[str, float, str, str]]] = field(default_factory=lambda: defaultdict(list))
    """Twilio only: the `To` as written → (sid, created at, From or MessagingServiceSid, Body) per message."""
    listed: int = 0
    """Message-list requests answered (a settle of a send in doubt)."""
    taken_total: int = 0
    """Every message ever taken: ids stay unique when a test clears `sent`."""

    @property
    def twilio_base(self) -> str:
        return self.url

    @property
    def telegram_base(self) -> str:
        return f"{self.url}/bot"

    def per_address(self) -> Counter[str]:
        return Counter(s.to for s in self.sent) if not self.count_only else self.counts

    def answer(self, path: str, params: dict[str, str]) -> Answer:
        if path.endswith("/getMe"):
            return (
                200,
                {"ok": True, "result": {"id": 42, "is_bot": True, "first_name": "b", "username": "b"}},
                {},
            )
        if path.endswith("/sendMessage"):
            channel, to = "telegram", str(params.get("chat_id"))
        else:
            raw = params.get("To", "")
            channel, to = (
                ("whatsapp" if raw.startswith("whatsapp:") else "sms"),
                raw.removeprefix("whatsapp:"),
            )
        record = Sent(channel, to, params, time.time())
        with self.lock:
            queue = self.scripted.get(to)
            scripted = queue.pop(0) if queue else None
            if scripted is None or TAKEN in scripted[2]:
                self.first_at, self.last_at = self.first_at or record.at, record.at
                if self.count_only:
                    self.counts[to] += 1
                else:
                    self.sent.append(record)
                self.taken_total += 1
                n = self.taken_total
                if channel != "telegram":
                    sender = params.get("MessagingServiceSid") or params.get("From", "")
                    self.taken[params.get("To", "")].append(
                        (f"SM{n:032d}", record.at, sender, params.get("Body", ""))
                    )
            else:
                self.refused.append(record)
        if scripted is not None:
            status, body, headers = scripted
            return status, body, {k: v for k, v in headers.items() if k != TAKEN}
        if channel == "telegram":
            result = {
                "message_id": n,
                "date": 1795000000,
                "chat": {"id": int(to), "type": "private"},
                "text": "",
            }
            return 200, {"ok": True, "result": result}, {}
        body = {
            "sid": f"SM{n:032d}",
            "status": "queued",
            "to": params.get("To"),
            "account_sid": "AC" + "0" * 32,
        }
        return 201, body, {}

    def message_list(self, query: str) -> Answer:
        """Twilio's GET Messages.json filtered by To (and From), newest first, one page."""
        asked = {k: v[0] for k, v in parse_qs(query).items()}
        with self.lock:
            self.listed += 1
            rows = list(self.taken.get(asked.get("To", ""), []))
        rows = [r for r in rows if "From" not in asked or r[2] == asked["From"]]
        size = int(asked.get("PageSize", 50))
        messages = [
            {
                "sid": sid,
                "to": asked.get("To"),
                "from": None if sender.startswith("MG") else sender,
                "messaging_service_sid": sender if sender.startswith("MG") else None,
                "body": body,
                "direction": "outbound-api",
                "status": "sent",
                "date_created": email.utils.formatdate(at, usegmt=True),
                "account_sid": "AC" + "0" * 32,
            }
            for sid, at, sender, body in reversed(rows)
        ][:size]
        return 200, {"messages": messages, "next_page_uri": None, "page": 0, "page_size": size}, {}


def twilio_error(code: int, status: int = 400, retry_after: str | None = None, taken: bool = False) -> Answer:
    """A Twilio error; `taken`: Twilio kept the message even so (a 5xx after accepting it)."""
    body = {"code": code, "message": f"error {code}", "more_info": "", "status": status}
    headers = {"Retry-After": retry_after} if retry_after else {}
    return status, body, headers | ({TAKEN: "1"} if taken else {})


def telegram_error(status: int, description: str, retry_after: int | None = None) -> Answer:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return status, body, {}


@contextmanager
def campaign_fake(delay: float = 0.0, count_only: bool = False) -> Iterator[CampaignFake]:
    fake = CampaignFake(delay=delay, count_only=count_only)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            if self.headers.get("content-type", "").startswith("application/json"):
                params = {k: str(v) for k, v in json.loads(raw or b"{}").items()}
            else:
                params = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            if fake.delay:
                time.sleep(fake.delay)
            status, body, headers = fake.answer(self.path, params)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            if not url.path.endswith("/Messages.json"):
                self.do_POST()
                return
            status, body, _ = fake.message_list(url.query)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
