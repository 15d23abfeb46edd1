"""Body limits at the edge (bot/edge/limits.py): refused before the route reads, parses or authenticates.

The middleware is driven directly with ASGI messages (to count what the app and the body stream were
asked for), then through the real app on a real uvicorn server (raw sockets: nothing in between)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any, ClassVar

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from bot.channels.registry import ADAPTERS
from bot.edge.limits import KIB, EdgeLimits, route_limit, route_limits
from tests.edge.conftest import REST_API_TOKEN, TELEGRAM_SECRET, Server

LIMITS = route_limits(ADAPTERS)

MIB = 1024 * KIB


class Recording:
    """An app that reads the whole body, the way a route does, and remembers it was called."""

    def __init__(self) -> None:
        self.calls = 0
        self.body = b""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        more = True
        while more:
            message = await receive()
            self.body += message.get("body", b"")
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def scope_for(path: str, headers: dict[str, str]) -> Scope:
    return {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }


def call(
    middleware: EdgeLimits, scope: Scope, chunks: list[bytes], stall_after: int | None = None
) -> tuple[int, int]:
    """(response status, how many body chunks the app pulled) for a body sent as `chunks`."""
    pulled = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal pulled
        if stall_after is not None and pulled >= stall_after:
            await asyncio.Event().wait()  # a client that stops sending
        pulled += 1
        return {"type": "http.request", "body": chunks[pulled - 1], "more_body": pulled < len(chunks)}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(middleware(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, pulled


def test_each_route_has_its_own_cap() -> None:
    assert route_limit("/webhooks/rest/webhook", LIMITS).max_bytes == 64 * KIB
    assert route_limit("/webhooks/rest/outbox", LIMITS).max_bytes == 64 * KIB
    assert route_limit("/webhooks/twilio/status", LIMITS).max_bytes == 64 * KIB
    assert route_limit("/webhooks/telegram", LIMITS).max_bytes == MIB
    assert route_limit("/console/login", LIMITS).name == "console"
    assert route_limit("/healthz", LIMITS).name == "other"


def test_a_declared_length_over_the_cap_is_refused_before_the_app_runs() -> None:
    app = Recording()
    scope = scope_for("/webhooks/rest/webhook", {"content-length": str(20 * MIB)})
    status, pulled = call(EdgeLimits(app, LIMITS), scope, [b"x" * KIB] * 10)
    assert (status, pulled, app.calls) == (413, 0, 0)


@pytest.mark.parametrize("length", ["12abc", "-1", "1e3", "+5", "١٢"])
def test_a_malformed_length_is_refused(length: str) -> None:
    app = Recording()
    status, _ = call(
        EdgeLimits(app, LIMITS), scope_for("/webhooks/twilio", {"content-length": length}), [b""]
    )
    assert (status, app.calls) == (400, 0)


def test_two_different_lengths_are_refused() -> None:
    app = Recording()
    scope = scope_for("/webhooks/rest/webhook", {})
    scope["headers"] = [(b"content-length", b"5"), (b"content-length", b"500000")]
    assert call(EdgeLimits(app, LIMITS), scope, [b"x" * 5]) == (400, 0)


def test_a_streamed_body_is_cut_off_as_soon_as_it_passes_the_cap() -> None:
    """No Content-Length (chunked): the app reads until the cap is passed, and not one chunk more."""
    app = Recording()
    chunks = [b"x" * (16 * KIB)] * 1280  # 20 MiB
    status, pulled = call(EdgeLimits(app, LIMITS), scope_for("/webhooks/rest/webhook", {}), chunks)
    assert status == 413
    assert pulled == 64 // 16 + 1  # the chunk that passed 64 KiB was the last one read
    assert app.calls == 1


def test_a_lying_length_does_not_get_more_than_the_cap_read() -> None:
    app = Recording()
    scope = scope_for("/webhooks/rest/webhook", {"content-length": "100"})
    status, pulled = call(EdgeLimits(app, LIMITS), scope, [b"x" * (16 * KIB)] * 100)
    assert status == 413 and pulled == 5


def test_telegram_gets_a_larger_cap_than_rest() -> None:
    body = [b"x" * (512 * KIB)]
    assert call(EdgeLimits(Recording(), LIMITS), scope_for("/webhooks/telegram", {}), body)[0] == 200
    assert call(EdgeLimits(Recording(), LIMITS), scope_for("/webhooks/rest/webhook", {}), body)[0] == 413


@pytest.mark.parametrize("path", ["/webhooks/twilio", "/webhooks/rest/webhook", "/console/login", "/x"])
@pytest.mark.parametrize(
    "content_type", ["multipart/form-data; boundary=x", "Multipart/Form-Data;boundary=x", "multipart/mixed"]
)
def test_multipart_is_refused_before_the_app_runs(path: str, content_type: str) -> None:
    app = Recording()
    scope = scope_for(path, {"content-type": content_type, "content-length": "10"})
    assert call(EdgeLimits(app, LIMITS), scope, [b"x" * 10]) == (415, 0)
    assert app.calls == 0


def test_a_body_trickled_too_slowly_gets_408() -> None:
    app = Recording()
    scope = scope_for("/webhooks/rest/webhook", {"content-length": "1000"})
    status, pulled = call(EdgeLimits(app, LIMITS, body_seconds=0.2), scope, [b"x" * 10] * 100, stall_after=3)
    assert (status, pulled) == (408, 3)


def test_small_bodies_pass_untouched() -> None:
    app = Recording()
    scope = scope_for("/webhooks/rest/webhook", {"content-length": "11", "content-type": "application/json"})
    assert call(EdgeLimits(app, LIMITS), scope, [b'{"a":', b' "b"}']) == (200, 2)
    assert app.body == b'{"a": "b"}'


# --- the real app on uvicorn -------------------------------------------------------------------------


def raw_request(server: Server, head: str, body: bytes = b"", keep_sending: bytes = b"") -> tuple[int, int]:
    """Sends `head` and `body`, then keeps sending `keep_sending` in 64 KiB pieces until an answer comes.
    Returns (status, bytes of body sent)."""
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        sent = len(body)
        sock.setblocking(False)
        answer = b""
        for start in range(0, len(keep_sending) or 1, 64 * KIB):
            try:
                answer += sock.recv(65536)
                break
            except BlockingIOError:
                pass
            piece = keep_sending[start : start + 64 * KIB]
            try:
                sent += sock.send(piece)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                break
        sock.settimeout(20)
        while b"\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    return int(answer.split(b" ", 2)[1]), sent


def test_twenty_megabytes_are_refused_from_the_headers(dead_nlu_server: Server) -> None:
    head = (
        "POST /webhooks/rest/webhook HTTP/1.1\nHost: t\nContent-Type: application/json\n"
        f"Content-Length: {20 * MIB}\n"
    )
    status, sent = raw_request(dead_nlu_server, head, b'{"sender": "a", "message": "')
    assert status == 413 and sent < KIB  # answered while almost nothing of the body was sent


def test_a_chunked_twenty_megabytes_is_cut_off(dead_nlu_server: Server) -> None:
    head = "POST /webhooks/rest/webhook HTTP/1.1\nHost: t\nTransfer-Encoding: chunked\n"
    head += f"Authorization: Bearer {REST_API_TOKEN}\n"  # else refused (401) before a byte is read
    piece = b"%x\r\n%s\r\n" % (64 * KIB, b"x" * 64 * KIB)
    status, sent = raw_request(dead_nlu_server, head, keep_sending=piece * 320)
    assert status == 413
    assert sent < 20 * MIB


def multipart(fields: dict[str, str]) -> tuple[str, bytes]:
    boundary = "edgeboundary"
    start = f"--{boundary}\r\nContent-Disposition: form-data; "
    parts = [f'{start}name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()]
    file_part = (
        f'{start}name="f"; filename="a.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n" + "x" * 5000 + "\r\n"
    )
    return f"multipart/form-data; boundary={boundary}", (
        "".join(parts) + file_part + f"--{boundary}--\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/webhooks/twilio", {}),  # no signature: the route would answer 403
        ("/webhooks/twilio/status", {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}),
        ("/console/login", {}),  # no CSRF token: the route would answer 403
        ("/webhooks/rest/webhook", {}),
        ("/webhooks/telegram", {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}),
    ],
)
def test_multipart_never_reaches_signature_or_csrf_checks(
    dead_nlu_server: Server, path: str, headers: dict[str, Any]
) -> None:
    content_type, body = multipart({"From": "whatsapp:+50688880000", "Body": "hola", "email": "a@b.c"})
    headers = {**headers, "content-type": content_type}
    response = httpx.post(dead_nlu_server.url + path, content=body, headers=headers, timeout=20)
    assert response.status_code == 415, response.text
    assert "multipart" in response.json()["error"]


def test_a_form_over_the_twilio_cap_is_refused(dead_nlu_server: Server) -> None:
    response = httpx.post(
        dead_nlu_server.url + "/webhooks/twilio", data={"Body": "x" * (70 * KIB)}, timeout=20
    )
    assert response.status_code == 413


def test_a_channel_brings_its_own_cap_from_its_module() -> None:
    """Adding a channel is its module and its registry line: the edge reads the cap it declares."""

    class Pigeon:
        name: ClassVar[str] = "pigeon"
        path: ClassVar[str] = "/webhooks/pigeon"
        max_body_bytes: ClassVar[int] = 2 * KIB

    limits = route_limits([*ADAPTERS, Pigeon])
    assert route_limit("/webhooks/pigeon", limits).max_bytes == 2 * KIB
    assert route_limit("/webhooks/pigeon", LIMITS).name == "other"  # not registered: the default cap
    assert (
        call(EdgeLimits(Recording(), limits), scope_for("/webhooks/pigeon", {}), [b"x" * 3 * KIB])[0] == 413
    )
