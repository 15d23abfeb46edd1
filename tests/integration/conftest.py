"""One real app per test module: the project's content and intents, real Rasa, a throw-away database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from bot.app import create_app
from tests.helpers.app import make_settings


@pytest.fixture(scope="module")
def client(rasa_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("app"), RASA_URL=rasa_url)
    with TestClient(create_app(settings)) as test_client:
        yield test_client
