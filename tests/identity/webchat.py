"""A person on the web chat page, as the page talks: no sender of its own, the server's cookie."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.testclient import TestClient

from bot.channels.webchat_token import COOKIE

WEBHOOK = "/webhooks/rest/webhook"
OUTBOX = "/webhooks/rest/outbox"
PAGE = {"X-Infobot-Web-Chat": "1"}


@dataclass
class WebChatPerson:
    client: TestClient
    cookie: str
    """The conversation's cookie, sent by hand so one test client can play several people."""
    sender: str
    """The conversation's sender as the server named it (the replies' recipient_id)."""

    def say(self, text: str) -> Any:
        return self.client.post(WEBHOOK, json={"message": text}, headers={**PAGE, "Cookie": self.cookie})

    def outbox(self) -> Any:
        return self.client.post(OUTBOX, json={}, headers={**PAGE, "Cookie": self.cookie})


def open_web_chat(client: TestClient, first: str = "hola") -> WebChatPerson:
    """The page's first message: the answer names the conversation and sets its cookie."""
    response = client.post(WEBHOOK, json={"message": first}, headers=PAGE)
    assert response.status_code == 200, response.text
    token = response.cookies[COOKIE]
    client.cookies.delete(COOKIE)  # kept by hand in WebChatPerson, never shared with the next person
    return WebChatPerson(client, f"{COOKIE}={token}", response.json()[0]["recipient_id"])
