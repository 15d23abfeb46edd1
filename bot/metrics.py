"""Prometheus metrics, served at /metrics."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.responses import Response

MESSAGES_IN = Counter("infobot_messages_in_total", "Messages received", ["channel"])
MESSAGES_OUT = Counter("infobot_messages_out_total", "Replies sent", ["channel", "language"])
DUPLICATES = Counter("infobot_duplicates_dropped_total", "Provider retries answered once", ["channel"])
SEND_FAILURES = Counter(
    "infobot_send_failures_total", "Outbound messages that failed", ["channel", "retryable"]
)
NLU_ERRORS = Counter("infobot_nlu_errors_total", "NLU requests that failed after the retry")
HANDLE_SECONDS = Histogram("infobot_handle_seconds", "Time to decide the replies to one message", ["channel"])
RATE_LIMITED = Counter(
    "infobot_rate_limited_total",
    "Requests refused (REST, console: 429) or dropped (Twilio, Telegram: quiet 200) by the abuse limits",
    ["route", "scope"],
)


def metrics_response() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
