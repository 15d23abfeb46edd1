"""The bot's client of the Rasa NLU server (`POST /model/parse`), with a timeout and one retry."""

from __future__ import annotations

import asyncio
import logging

import httpx

from bot.metrics import NLU_ERRORS
from bot.nlu.language import LanguageIdentifier
from bot.nlu.safety import safety_rules
from bot.nlu.types import FALLBACK_INTENT, NluResult
from bot.vocab.text import INLINE_CHARS, fit_normalized

log = logging.getLogger(__name__)
NLU_MAX_CHARS = 1000
"""Rasa reads a message's first 1,000 characters (after NFKD, as its normaliser sees them): an intent shows
long before (training examples are under 200), and Rasa answers one request at a time, so every other
conversation would wait while it featurised 4,000 characters."""


class NluUnavailable(Exception):
    """The NLU server did not answer in time (after one retry) or answered an error."""


class RasaClient:
    def __init__(self, base_url: str, timeout: float = 3.0, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        auth = {"token": token} if token else None  # Rasa's --auth-token, checked on every API request
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout, params=auth)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def parse_intent(self, text: str) -> tuple[str, float, tuple[tuple[str, float], ...]]:
        """(intent, confidence, ranking) from Rasa; raises NluUnavailable."""
        last_error: Exception | None = None
        bounded = fit_normalized(text, NLU_MAX_CHARS)  # Rasa's normaliser applies NFKD: U+FDFA x 18
        for _attempt in range(2):
            try:
                response = await self._http.post("/model/parse", json={"text": bounded})
                response.raise_for_status()
                body = response.json()
                intent = body.get("intent") or {}
                ranking = tuple((r["name"], float(r["confidence"])) for r in body.get("intent_ranking", []))
                return intent.get("name") or FALLBACK_INTENT, float(intent.get("confidence") or 0.0), ranking
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                last_error = exc
        raise NluUnavailable(f"Rasa at {self.base_url} did not answer: {last_error!r}")

    async def replace_model(self, model_file: str, timeout: float = 300.0) -> None:
        """Rasa's model-replace API (PUT /model): Rasa loads the new model, then answers with it; the
        old one serves until then. Raises NluUnavailable when Rasa refuses or does not answer."""
        try:
            response = await self._http.put("/model", json={"model_file": model_file}, timeout=timeout)
        except httpx.HTTPError as exc:
            raise NluUnavailable(f"Rasa at {self.base_url} did not take the model: {exc!r}") from exc
        if response.status_code != 204:
            raise NluUnavailable(f"Rasa at {self.base_url} refused the model ({response.status_code})")

    async def is_ready(self) -> bool:
        try:
            response = await self._http.get("/status", timeout=2.0)
            return response.status_code == 200 and bool(response.json().get("model_file"))
        except (httpx.HTTPError, ValueError):
            return False


class NluService:
    """Intent from Rasa plus language from the identifier; degrades instead of failing."""

    def __init__(self, client: RasaClient, languages: LanguageIdentifier) -> None:
        self.client = client
        self.languages = languages

    async def parse(self, text: str) -> NluResult:
        if len(text) <= INLINE_CHARS:
            language, language_confidence = self.languages.identify(text)
        else:
            language, language_confidence = await asyncio.to_thread(self.languages.identify, text)
        try:
            intent, confidence, ranking = await self.client.parse_intent(text)
        except NluUnavailable as exc:
            log.warning("nlu unavailable: %s", exc)
            NLU_ERRORS.inc()
            return _without_nlu(text, language, language_confidence)
        return NluResult(text, intent, confidence, language, language_confidence, ranking)


def _without_nlu(text: str, language: str, language_confidence: float) -> NluResult:
    """Rasa is down: the safety rules still recognise emergencies and requests for a person."""
    rules = safety_rules()
    found = rules.match(text)
    if found is None:
        return NluResult(text, FALLBACK_INTENT, 0.0, language, language_confidence, (), available=False)
    log.warning("nlu unavailable: safety rule for %s (%s) matched", found.intent, found.language)
    ranking = ((found.intent, rules.confidence),)
    return NluResult(
        text, found.intent, rules.confidence, language, language_confidence, ranking, available=False
    )
