"""Twilio signatures bind the whole URL: PUBLIC_BASE_URL's when it is set, nothing the request says about
its host; without it, the URL as received, with X-Forwarded-* believed only from FORWARDED_ALLOW_IPS
(real uvicorn, real twilio RequestValidator computing every signature)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.testclient import TestClient

from bot.app import create_app
from bot.nlu.server import free_port
from bot.production import problems
from bot.referrals import Directory
from bot.serve import uvicorn_config
from tests.channels.conftest import PUBLIC_BASE_URL, TWILIO_SID, TWILIO_TOKEN, payload, sign
from tests.helpers.app import make_settings

NO_RASA = "http://127.0.0.1:9"
"""Signatures need no NLU: while it is down the bot answers with the numbered menu."""
_sids = iter(range(10**6))


def message(name: str = "whatsapp_text") -> dict[str, str]:
    """A recorded payload with a fresh MessageSid (each request is a new message, never a duplicate)."""
    return {**payload("twilio", name), "MessageSid": f"SM{next(_sids):032d}"}


def status(raw: str = "delivered") -> dict[str, str]:
    return {
        "MessageSid": f"SM{next(_sids):032d}",
        "MessageStatus": raw,
        "To": "whatsapp:+50688887777",
        "AccountSid": TWILIO_SID,
    }


def app_client(tmp_path: Path, public_base_url: str | None) -> Iterator[TestClient]:
    env = {"RASA_URL": NO_RASA, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "TWILIO_ACCOUNT_SID": TWILIO_SID}
    if public_base_url is not None:
        env["PUBLIC_BASE_URL"] = public_base_url
    with TestClient(create_app(make_settings(tmp_path, **env))) as client:
        yield client


@pytest.fixture
def behind_public_url(tmp_path: Path) -> Iterator[TestClient]:
    yield from app_client(tmp_path, PUBLIC_BASE_URL)


def post(client: Any, path: str, params: dict[str, str], signed_for: str, **headers: str) -> Any:
    signature = sign(params, url=signed_for)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature, **headers})


@pytest.mark.parametrize(
    ("signed_for", "path", "name"),
    [
        (PUBLIC_BASE_URL + "/webhooks/twilio", "/webhooks/twilio", "whatsapp_text"),
        (PUBLIC_BASE_URL + "/webhooks/twilio", "/webhooks/twilio", "messaging_service"),
        ("https://bot.example.org:443/webhooks/twilio", "/webhooks/twilio", "sms"),
        (PUBLIC_BASE_URL + "/webhooks/twilio?channel=x", "/webhooks/twilio?channel=x", "sms"),
        (PUBLIC_BASE_URL + "/webhooks/twilio?channel=x&n=1", "/webhooks/twilio?channel=x&n=1", "sms"),
    ],
    ids=["plain", "messaging-service", "explicit-port", "query", "two-query-values"],
)
def test_a_request_signed_for_the_public_url_is_accepted(
    behind_public_url: TestClient, signed_for: str, path: str, name: str
) -> None:
    response = post(behind_public_url, path, message(name), signed_for)
    assert response.status_code == 200, response.text
    assert "<Message>" in response.text


@pytest.mark.parametrize(
    ("signed_for", "path", "headers"),
    [
        (
            "https://evil.example.com/webhooks/twilio",
            "/webhooks/twilio",
            {"X-Forwarded-Host": "evil.example.com", "X-Forwarded-Proto": "https"},
        ),
        ("https://evil.example.com/webhooks/twilio", "/webhooks/twilio", {"Host": "evil.example.com"}),
        ("http://testserver/webhooks/twilio", "/webhooks/twilio", {}),  # the URL as this server saw it
        (PUBLIC_BASE_URL + "/webhooks/twilio", "/webhooks/twilio?channel=x", {}),  # query added
        (PUBLIC_BASE_URL + "/webhooks/twilio?channel=x", "/webhooks/twilio?channel=y", {}),
        (PUBLIC_BASE_URL.replace("https", "http") + "/webhooks/twilio", "/webhooks/twilio", {}),
        (PUBLIC_BASE_URL + "/webhooks/twilio/status", "/webhooks/twilio", {}),  # another route's URL
    ],
    ids=["x-forwarded-host", "host-header", "as-seen", "query-added", "query-changed", "http", "other-path"],
)
def test_a_signature_for_any_other_url_is_refused(
    behind_public_url: TestClient, signed_for: str, path: str, headers: dict[str, str]
) -> None:
    response = post(behind_public_url, path, message(), signed_for, **headers)
    assert response.status_code == 403 and "does not match" in response.json()["error"]


def test_status_callbacks_are_bound_to_the_public_url_too(behind_public_url: TestClient) -> None:
    path = "/webhooks/twilio/status"
    genuine = post(behind_public_url, path, status(), PUBLIC_BASE_URL + path)
    assert genuine.json() == {"status": "delivered"}
    evil = {"X-Forwarded-Host": "evil.example.com", "X-Forwarded-Proto": "https"}
    forged = post(behind_public_url, path, status(), "https://evil.example.com" + path, **evil)
    assert forged.status_code == 403
    queried = post(behind_public_url, path + "?w=1", status("sent"), PUBLIC_BASE_URL + path + "?w=1")
    assert queried.json() == {"status": "sent"}


@pytest.mark.parametrize(
    ("configured", "signed_for"),
    [
        ("https://bot.example.org/", "https://bot.example.org/webhooks/twilio"),
        ("https://bot.example.org:8443", "https://bot.example.org:8443/webhooks/twilio"),
        ("https://bot.example.org:8443/", "https://bot.example.org:8443/webhooks/twilio"),
        ("https://example.org/infobot", "https://example.org/infobot/webhooks/twilio"),
        ("https://example.org/infobot/", "https://example.org/infobot/webhooks/twilio"),
    ],
    ids=["trailing-slash", "port", "port-trailing-slash", "path-prefix", "path-prefix-trailing-slash"],
)
def test_every_shape_of_public_base_url_works(tmp_path: Path, configured: str, signed_for: str) -> None:
    for client in app_client(tmp_path, configured):
        assert post(client, "/webhooks/twilio", message(), signed_for).status_code == 200
        elsewhere = "https://evil.example.com/webhooks/twilio"
        forged = post(
            client, "/webhooks/twilio", message(), elsewhere, **{"X-Forwarded-Host": "evil.example.com"}
        )
        assert forged.status_code == 403


class Served:
    """The real app under real uvicorn, configured as `infobot serve` configures it."""

    def __init__(self, tmp_path: Path, **env: str) -> None:
        settings = make_settings(
            tmp_path, RASA_URL=NO_RASA, TWILIO_AUTH_TOKEN=TWILIO_TOKEN, TWILIO_ACCOUNT_SID=TWILIO_SID, **env
        )
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn_config(settings, create_app(settings), "127.0.0.1", self.port))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def post(self, params: dict[str, str], signed_for: str, **headers: str) -> httpx.Response:
        """`headers` may be spelled with underscores for dashes (X_Forwarded_Host)."""
        headers = {name.replace("_", "-"): value for name, value in headers.items()}
        signature = sign(params, url=signed_for)
        return httpx.post(
            self.url + "/webhooks/twilio",
            data=params,
            headers={"X-Twilio-Signature": signature, **headers},
            timeout=30,
        )


def test_without_public_url_the_url_as_received_counts_and_a_trusted_proxy_gives_the_scheme(
    tmp_path: Path,
) -> None:
    with Served(tmp_path) as served:  # FORWARDED_ALLOW_IPS unset: loopback, where this test's proxy is
        path = f"127.0.0.1:{served.port}/webhooks/twilio"
        assert served.post(message(), f"http://{path}").status_code == 200
        https = served.post(message(), f"https://{path}", **{"X-Forwarded-Proto": "https"})
        assert https.status_code == 200  # the proxy ended TLS; Twilio signed the https URL
        assert served.post(message(), f"https://{path}").status_code == 403  # no proxy said https
        for scheme, proto in (("http", {}), ("https", {"X-Forwarded-Proto": "https"})):
            evil = served.post(
                message(),
                f"{scheme}://evil.example.com/webhooks/twilio",
                X_Forwarded_Host="evil.example.com",
                **proto,
            )
            assert evil.status_code == 403  # X-Forwarded-Host is never believed, even from a trusted proxy
        named = served.post(message(), "http://infobot.internal/webhooks/twilio", Host="infobot.internal")
        assert named.status_code == 200  # a proxy that passes the Host header on (nginx: proxy_set_header)


def test_forwarded_headers_from_an_untrusted_address_are_ignored(tmp_path: Path) -> None:
    with Served(tmp_path, FORWARDED_ALLOW_IPS="10.9.8.7") as served:  # loopback is not the proxy here
        path = f"127.0.0.1:{served.port}/webhooks/twilio"
        https = served.post(message(), f"https://{path}", **{"X-Forwarded-Proto": "https"})
        assert https.status_code == 403
        assert served.post(message(), f"http://{path}").status_code == 200


def test_production_refuses_twilio_without_a_public_url(tmp_path: Path) -> None:
    without = make_settings(tmp_path, TWILIO_AUTH_TOKEN=TWILIO_TOKEN)
    assert any("without PUBLIC_BASE_URL" in p for p in problems(without, Directory(hubs=())))
    with_url = make_settings(tmp_path, TWILIO_AUTH_TOKEN=TWILIO_TOKEN, PUBLIC_BASE_URL=PUBLIC_BASE_URL)
    assert not any("PUBLIC_BASE_URL" in p for p in problems(with_url, Directory(hubs=())))
