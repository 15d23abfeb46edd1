"""Fear of being sent back is a protection (asylum) question, not a request to go home: answering it with
voluntary return information could cost a life. Checked with the real Rasa model in every language."""

from __future__ import annotations

import httpx
import pytest

from bot.nlu.server import RasaServer

CASES = [
    ("tengo miedo de regresar a mi pais", "ask_asylum"),
    ("me da miedo regresar", "ask_asylum"),
    ("I am scared to go back home", "ask_asylum"),
    ("j ai peur de rentrer", "ask_asylum"),
    ("m pè tounen lakay", "ask_asylum"),
    ("quiero volver a mi pais", "ask_return"),
    ("i want to go back home", "ask_return"),
    ("je veux rentrer chez moi", "ask_return"),
    ("m vle retounen lakay mwen", "ask_return"),
]


@pytest.mark.rasa
async def test_fear_of_return_is_asylum_and_wanting_to_go_home_is_return(rasa_server: RasaServer) -> None:
    async with httpx.AsyncClient(
        base_url=rasa_server.url, params={"token": rasa_server.token}, timeout=10.0
    ) as http:
        got = {
            text: (await http.post("/model/parse", json={"text": text})).json()["intent"]["name"]
            for text, _ in CASES
        }
    assert got == dict(CASES)
