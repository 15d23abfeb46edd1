"""Hostile requests for every inbound route, as Hypothesis strategies, and one way to send them.

Shared by the bounded fuzzing in the test suite (tests/edge/test_fuzz_routes.py) and the long run
(bench/fuzz.py). A request is built whole (method, path, headers, body bytes) so that anything a client can
put on the wire can be generated: random bytes, JSON nested thousands deep, numbers of thousands of digits,
lone surrogates and NUL (as JSON escapes, UTF-8 bytes or percent-escapes), wrong content types, huge
fields, Unicode that grows under normalisation, missing and mistyped fields. Twilio requests are signed
with the test auth token (or not, or wrongly); Telegram ones carry the secret header (or not); console
logins carry the session's CSRF token (or not).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

CSRF = "__CSRF_OF_THE_SESSION__"
"""Replaced, when sending, by the CSRF token of the client's console session."""
HANG_SECONDS = 20.0
"""A request not answered in this time counts as hung (a hang detector, not a speed requirement)."""


@dataclass(frozen=True)
class Attempt:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def __repr__(self) -> str:  # Hypothesis prints failing examples: keep them readable
        more = "…" if len(self.body) > 300 else ""
        return f"Attempt({self.method} {self.path} {self.headers} {self.body[:300]!r}{more})"


@dataclass
class Tally:
    """What the fuzzing saw."""

    requests: int = 0
    by_class: Counter[str] = field(default_factory=Counter)
    by_status: Counter[int] = field(default_factory=Counter)
    hung: list[Attempt] = field(default_factory=list)
    errors: list[tuple[Attempt, int]] = field(default_factory=list)
    """Responses >= 500 and connections dropped without an answer (status 0)."""

    def note(self, attempt: Attempt, status: int | None) -> None:
        self.requests += 1
        if status is None:
            self.by_class["hung"] += 1
            self.hung.append(attempt)
            return
        self.by_class[f"{status // 100}xx" if status else "dropped"] += 1
        self.by_status[status] += 1
        if status >= 500 or status == 0:
            self.errors.append((attempt, status))


def send(client: httpx.Client, attempt: Attempt) -> int | None:
    """The status of the answer; 0 when the connection dropped without one; None when it hung."""
    body, headers = attempt.body, attempt.headers
    if CSRF.encode() in body:
        page = client.get("/console/login", timeout=HANG_SECONDS)
        token = page.text.split('name="csrf" value="', 1)[-1].split('"', 1)[0]
        body = body.replace(CSRF.encode(), token.encode())
        # the session cookie is Secure (PUBLIC_BASE_URL is https): the client would not send it over http
        cookies = [c.split(";", 1)[0] for c in page.headers.get_list("set-cookie")]
        headers = {**headers, "cookie": "; ".join(cookies)}
    try:
        response = client.request(
            attempt.method, attempt.path, headers=headers, content=body, timeout=HANG_SECONDS
        )
    except httpx.TimeoutException:
        return None
    except httpx.TransportError:
        return 0
    return response.status_code


# --- pieces --------------------------------------------------------------------------------------------

LIGATURE = "\ufdfa"
ODD_TEXTS = [
    "hola \ud800",
    "\udfff",
    "\ud83d",
    "a\x00b",
    "\x00",
    LIGATURE * 4000,
    LIGATURE * 5000,
    "1" * 5000,
    "a." * 2500,
    "a-" * 2500,
    "$1 " * 1500,
    "? $1 " * 900,
    "http://" + "a" * 4000 + ".com",
    "www." + "a." * 2000 + "com",
    "x@" + "a." * 2000 + "1",
    "\u202eevil\u202c",
    "\u200d" * 3000,
    "👩\u200d👩\u200d👧\u200d👦" * 400,
    "İ" * 3000,
    "ß" * 3000,
    "\r\n" * 2000,
    "me van a matar, ayuda",
    "STOP",
    "0",
    "1",
    "/set_country:XX",
    "/refer:" + "x" * 1000,
    "/consent:yes",
    "/set_language:ht",
    "borrar mis datos",
    "es estafa? me piden 500 dolares por la cita en migracion-gob.com",
]
"""Texts known to hurt somewhere: invalid code points, growth under NFKD, long runs for regexes, payloads."""

every_code_point = st.characters(codec=None, exclude_categories=())
texts = st.one_of(
    st.text(every_code_point, max_size=80),
    st.sampled_from(ODD_TEXTS),
    st.builds(lambda s, n: s * n, st.text(every_code_point, min_size=1, max_size=3), st.integers(1, 3000)),
)
encodable_texts = texts.map(lambda s: s.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))
"""The same, for places where a client cannot send a lone surrogate as such (form fields, headers)."""

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=20,
)


def _mutated(base: dict[str, Any], field: str, text: Any, changed: dict[str, Any], dropped: list[str]) -> Any:
    """`base` with `field` set to `text`, some fields changed and some dropped."""
    form = {**base, field: text, **changed}
    for name in dropped:
        form.pop(name, None)
    return form


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()  # ensure_ascii: lone surrogates become \ud800 escapes


raw_json = st.one_of(
    st.integers(1, 6000).map(lambda n: b"[" * n),
    st.integers(1, 6000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(1, 3000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.integers(20, 6000).map(lambda n: b'{"sender": "n", "message": ' + b"9" * n + b"}"),
    st.integers(20, 6000).map(lambda n: b'{"sender": "n", "message": "x", "n": -0.' + b"5" * n + b"e-99}"),
    st.sampled_from(
        [
            b'{"sender": "n", "message": NaN}',
            b'{"sender": "n", "message": "x", "n": Infinity}',
            b'{"sender": "n", "message": "x", "n": 1e999999}',
            b'{"sender": "s\xed\xa0\x80", "message": "hola \xed\xa0\x80"}',
            b'\xef\xbb\xbf{"sender": "bom", "message": "hola"}',
            '{"sender": "utf16", "message": "hola"}'.encode("utf-16"),
            '{"sender": "utf32", "message": "hola"}'.encode("utf-32"),
            b'{"sender": "dup", "sender": ["x"], "message": "hola"}',
            b"",
            b"null",
            b"[]",
            b'"just a string"',
        ]
    ),
)
raw_bytes = st.binary(max_size=3000)
content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-16",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "application/octet-stream",
        "",
        "application/json, text/html",
        ";;;",
    ]
)


def mostly(usual: st.SearchStrategy[Any], *others: st.SearchStrategy[Any], share: int = 4) -> Any:
    """`usual` about `share` times in `share + 1`, else one of `others`: most generated requests get past
    the checks into the deeper code, and many still do not."""
    unusual = st.one_of(*others)
    return st.integers(0, share).flatmap(lambda i: usual if i < share else unusual)


def _headers(content_type: str, extra: dict[str, str]) -> dict[str, str]:
    return {**({"content-type": content_type} if content_type else {}), **extra}


# --- REST ------------------------------------------------------------------------------------------------

rest_objects = st.builds(
    _mutated,
    st.just({"sender": "fuzz"}),
    st.just("message"),
    texts,
    st.dictionaries(
        st.one_of(st.sampled_from(["sender", "message", "metadata"]), texts),
        st.one_of(texts, texts, json_values, st.sampled_from(["webchat:abc", "a" * 200, "x" * 10000])),
        max_size=3,
    ),
    st.lists(st.sampled_from(["sender", "message"]), max_size=1),
)
"""{"sender", "message"} with a hostile message, and sometimes other fields hostile, missing or added."""


def rest_attempts(path: str, api_token: str | None) -> st.SearchStrategy[Attempt]:
    """The REST webhook or outbox; with the bearer token of the server (or a wrong one, or none), the web
    chat's start header and a forged conversation cookie sometimes."""
    # Hypothesis leans towards the first choices: the ones that get past the checks come first
    wrong = st.sampled_from([{}, {"authorization": "Bearer wrong"}, {"authorization": "Basic Zm9vOmJhcg=="}])
    auth = mostly(st.just({"authorization": f"Bearer {api_token}"}), wrong) if api_token else wrong
    extras = st.builds(
        lambda a, start, cookie: {**a, **start, **cookie},
        auth,
        mostly(st.just({}), st.just({"x-infobot-web-chat": "1"}), share=2),
        mostly(st.just({}), st.just({"cookie": "infobot_webchat=forged.token.value"}), share=6),
    )
    objects = rest_objects.map(_dumps)
    bodies = mostly(objects, raw_json, raw_bytes, json_values.map(_dumps))
    types = mostly(st.just("application/json"), content_types)
    return st.builds(lambda b, t, e: Attempt("POST", path, _headers(t, e), b), bodies, types, extras)


# --- Twilio -------------------------------------------------------------------------------------------------

TWILIO_FIELDS = [
    "From",
    "To",
    "Body",
    "MessageSid",
    "NumMedia",
    "MediaContentType0",
    "MessageStatus",
    "ErrorCode",
]
twilio_values = st.one_of(
    encodable_texts,
    st.sampled_from(
        [
            "whatsapp:+50688887777",
            "+50688887777",
            "whatsapp:+14155238886",
            "SM" + "0" * 32,
            "1" * 5000,
            "-1",
            "delivered",
            "read",
            "failed",
            "whatsapp:+" + "5" * 300,
            "x" * 70000,
        ]
    ),
)
GENUINE_FORM = {
    "From": "whatsapp:+50688887777",
    "To": "whatsapp:+14155238886",
    "MessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
    "Body": "hola",
    "NumMedia": "0",
    "MessageStatus": "delivered",
}


def _genuine_form(n: int) -> dict[str, str]:
    """A delivery of its own (another MessageSid and sender), so that most are not retries of one."""
    return {**GENUINE_FORM, "MessageSid": f"SM{n:032x}", "From": f"whatsapp:+5068{n % 10**7:07d}"}


twilio_forms = st.builds(
    _mutated,
    st.integers(0, 2**64).map(_genuine_form),
    st.just("Body"),
    encodable_texts,
    st.dictionaries(st.one_of(st.sampled_from(TWILIO_FIELDS), encodable_texts), twilio_values, max_size=3),
    st.lists(st.sampled_from(TWILIO_FIELDS), max_size=2),
)
"""Mostly genuine deliveries with a few fields hostile, missing or added: most get past the checks."""
raw_forms = st.lists(
    st.sampled_from(
        [
            b"From=whatsapp%3A%2B50688887777",
            b"To=whatsapp%3A%2B14155238886",
            b"MessageSid=SM1",
            b"Body=hola%00%01%ED%A0%80%FF",
            b"Body=" + b"%EF%B7%BA" * 4000,
            b"NumMedia=99999999999999999999999999999999999999",
            b"MessageStatus=delivered",
            b"=&&==&",
            b"%",
            b"Body",
        ]
    ),
    max_size=8,
).map(lambda parts: b"&".join(parts))


def twilio_attempts(path: str, public_base_url: str, auth_token: str) -> st.SearchStrategy[Attempt]:
    """A form (signed correctly for PUBLIC_BASE_URL + path + query, wrongly, or not at all) or a raw body."""
    validator = RequestValidator(auth_token)

    def build(form: dict[str, str], query: str, signing: str, content_type: str) -> Attempt:
        target = f"{path}?{query}" if query else path
        headers = _headers(content_type, {})
        if signing == "signed":
            headers["x-twilio-signature"] = validator.compute_signature(public_base_url + target, form)
        elif signing == "wrong":
            headers["x-twilio-signature"] = "bm90IGEgcmVhbCBzaWduYXR1cmU="
        return Attempt("POST", target, headers, urlencode(form).encode())

    forms = st.builds(
        build,
        twilio_forms,
        st.sampled_from(["", "", "a=1", "x=%00&y=%ED%A0%80"]),
        mostly(st.just("signed"), st.sampled_from(["wrong", "none"])),
        mostly(st.just("application/x-www-form-urlencoded"), content_types),
    )
    raw = st.builds(
        lambda body, t, sig: Attempt("POST", path, _headers(t, sig), body),
        st.one_of(raw_forms, raw_bytes, raw_json),
        mostly(st.just("application/x-www-form-urlencoded"), content_types),
        st.sampled_from([{}, {"x-twilio-signature": "AAAA"}]),
    )
    return mostly(forms, raw)


# --- Telegram -------------------------------------------------------------------------------------------


GENUINE_MESSAGE = {
    "message_id": 11,
    "from": {"id": 7001, "is_bot": False, "first_name": "Rose", "language_code": "ht"},
    "chat": {"id": 7001, "first_name": "Rose", "type": "private"},
    "date": 1795000000,
    "text": "bonjou",
}


def _update(kind: str, message: dict[str, Any], chat_id: Any, update_id: Any) -> Any:
    if isinstance(message.get("chat"), dict):
        message = {**message, "chat": {**message["chat"], "id": chat_id}}
    if kind == "callback_query":
        query = {"id": "cq1", "from": message.get("from"), "chat_instance": "1", "data": message.get("text")}
        return {"update_id": update_id, "callback_query": {**query, "message": message}}
    return {"update_id": update_id, kind: message}


telegram_updates = st.builds(
    _update,
    st.sampled_from(["message"] * 6 + ["callback_query"] * 2 + ["edited_message", "channel_post"]),
    st.builds(
        _mutated,
        st.just(GENUINE_MESSAGE),
        st.just("text"),
        st.one_of(encodable_texts, encodable_texts, texts, json_values),
        st.dictionaries(st.sampled_from([*GENUINE_MESSAGE, "entities"]), json_values, max_size=2),
        st.lists(st.sampled_from(["from", "chat", "date", "text", "message_id"]), max_size=1),
    ),
    st.one_of(st.integers(1, 10**9), st.integers(1, 10**9), st.integers(), json_values),
    st.one_of(st.integers(1, 2**53), st.integers(1, 2**53), json_values),
)
"""Mostly genuine private messages with a hostile text, and sometimes a field mistyped, missing or added."""


def telegram_attempts(secret: str) -> st.SearchStrategy[Attempt]:
    wrong = st.sampled_from([{}, {"x-telegram-bot-api-secret-token": "wrong"}])
    headers = mostly(st.just({"x-telegram-bot-api-secret-token": secret}), wrong)
    updates = telegram_updates.map(_dumps)
    bodies = mostly(updates, raw_json, raw_bytes)
    types = mostly(st.just("application/json"), content_types)
    return st.builds(
        lambda b, t, h: Attempt("POST", "/webhooks/telegram", _headers(t, h), b), bodies, types, headers
    )


# --- console login ----------------------------------------------------------------------------------------


def console_attempts(staff_email: str) -> st.SearchStrategy[Attempt]:
    """A login form with the session's CSRF token (or a wrong one, or none), hostile fields, or raw bytes."""
    emails = st.one_of(st.just(staff_email), encodable_texts, st.just("a" * 70000))

    def build(email: str, password: str, csrf: str, extra: dict[str, str], content_type: str) -> Attempt:
        form = {"email": email, "password": password, **extra}
        if csrf != "missing":
            form["csrf"] = CSRF if csrf == "right" else "forged-csrf"
        return Attempt("POST", "/console/login", _headers(content_type, {}), urlencode(form).encode())

    forms = st.builds(
        build,
        emails,
        encodable_texts,
        mostly(st.just("right"), st.sampled_from(["wrong", "missing"])),
        st.dictionaries(encodable_texts, encodable_texts, max_size=3),
        mostly(st.just("application/x-www-form-urlencoded"), content_types),
    )
    raw = st.builds(
        lambda body, t: Attempt("POST", "/console/login", _headers(t, {}), body),
        st.one_of(
            raw_forms, raw_bytes, raw_json, st.just(f"csrf={CSRF}&email=%00&password=%ED%A0%80".encode())
        ),
        mostly(st.just("application/x-www-form-urlencoded"), content_types),
    )
    return mostly(forms, raw)


def run_attempts(
    url: str, attempts: st.SearchStrategy[Attempt], examples: int, *, derandomize: bool
) -> Tally:
    """Send `examples` hostile requests drawn from `attempts` to the server at `url`, tallying every answer
    (never raising, so a long run goes on): the test asserts on the tally, the bench prints it."""
    tally = Tally()
    with httpx.Client(base_url=url) as client:

        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=derandomize,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(attempts)
        def one(attempt: Attempt) -> None:
            tally.note(attempt, send(client, attempt))

        one()
    return tally
