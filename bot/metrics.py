"""Prometheus metrics, served at /metrics."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest
from starlette.responses import Response

MESSAGES_IN = Counter("infobot_messages_in_total", "Messages received", ["channel"])
MESSAGES_OUT = Counter("infobot_messages_out_total", "Replies sent", ["channel", "language"])


def metrics_response() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
