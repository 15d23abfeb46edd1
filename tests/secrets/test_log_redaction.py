"""Secrets never reach a log output: child loggers, propagated records, arguments, exception messages and
tracebacks, other libraries' own handlers, and secrets registered after the handlers were set up."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from bot.logs import REDACTED, configure_json_logging, install_redaction
from bot.runtime import start_runtime
from tests.console.conftest import NO_RASA
from tests.helpers.app import make_settings

TOKEN = "123456789:AAE-telegram-token-for-redaction-tests"
LATE = "nlu-token-registered-after-the-handlers"


@pytest.fixture
def json_output() -> Iterator[io.StringIO]:
    """`infobot serve`'s logging (one JSON handler on the root), writing into a buffer; restored after."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_json_logging()
    stream = io.StringIO()
    [handler] = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    install_redaction([TOKEN])
    try:
        yield stream
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def lines(stream: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_child_loggers_message_and_arguments_are_redacted(json_output: io.StringIO) -> None:
    logging.getLogger("telegram.ext._application").warning(f"GET https://api.telegram.org/bot{TOKEN}/getMe")
    logging.getLogger("httpx._client").warning("HTTP Request: POST %s", f"https://x.example/bot{TOKEN}/send")
    logging.getLogger("some.child").error("token=%s retry=%d", TOKEN, 3)
    output = json_output.getvalue()
    assert TOKEN not in output and output.count(REDACTED) == 3
    assert lines(json_output)[2]["message"] == f"token={REDACTED} retry=3"


def test_exception_messages_and_tracebacks_are_redacted(json_output: io.StringIO) -> None:
    log = logging.getLogger("some.child")
    try:
        raise RuntimeError(f"Bot API refused https://api.telegram.org/bot{TOKEN}/sendMessage")
    except RuntimeError:
        log.exception("sending failed")
    [entry] = lines(json_output)
    assert TOKEN not in json_output.getvalue()
    assert (
        entry["error"] == f"RuntimeError: Bot API refused https://api.telegram.org/bot{REDACTED}/sendMessage"
    )


def test_a_plain_text_handler_gets_a_redacted_traceback(json_output: io.StringIO) -> None:
    """A handler with the standard formatter (full traceback, stack info) on a logger that does not
    propagate: found and protected wherever it is."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    library = logging.getLogger("library.with.own.handler")
    library.addHandler(handler)
    library.propagate = False
    try:
        install_redaction([])
        try:
            raise ValueError(f"credentials {TOKEN} rejected")
        except ValueError:
            library.error("token %s failed", TOKEN, exc_info=True, stack_info=True)
    finally:
        library.removeHandler(handler)
        library.propagate = True
    output = stream.getvalue()
    assert TOKEN not in output
    assert (
        "Traceback (most recent call last)" in output
        and f"ValueError: credentials {REDACTED} rejected" in output
    )


def test_a_secret_registered_later_is_redacted_by_handlers_set_up_before(json_output: io.StringIO) -> None:
    logging.getLogger("bot.nlu.client").warning("nlu unavailable: 401 for /model/parse?token=%s", LATE)
    install_redaction([LATE])
    logging.getLogger("bot.nlu.client").warning("nlu unavailable: 401 for /model/parse?token=%s", LATE)
    first, second = lines(json_output)
    assert LATE in first["message"]  # the control: before it was registered, it was just text
    assert LATE not in second["message"] and REDACTED in second["message"]


def test_url_quoted_secrets_are_redacted(json_output: io.StringIO) -> None:
    quoted = TOKEN.replace(":", "%3A")
    logging.getLogger("twilio.http_client").warning(f"url=https://x.example/?t={quoted}")
    assert quoted not in json_output.getvalue() and REDACTED in json_output.getvalue()


def test_a_bad_format_string_does_not_print_the_secret_in_its_error_report(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """logging reports a record it cannot format on stderr with its message and raw arguments."""
    handler = logging.StreamHandler(io.StringIO())
    library = logging.getLogger("library.with.a.bad.format")
    library.addHandler(handler)
    library.propagate = False
    try:
        install_redaction([TOKEN])
        library.warning("%d items", TOKEN)
    finally:
        library.removeHandler(handler)
        library.propagate = True
    report = capsys.readouterr().err
    assert "Arguments: ('[redacted]',)" in report and TOKEN not in report


def test_uvicorns_own_handlers_are_covered(json_output: io.StringIO) -> None:
    uvicorn.Config(lambda: None, log_level="info")  # uvicorn installs its handlers (they do not propagate)
    install_redaction([])
    streams = []
    for name in ("uvicorn", "uvicorn.access"):
        for handler in logging.getLogger(name).handlers:
            assert isinstance(handler, logging.StreamHandler)
            streams.append(io.StringIO())
            handler.setStream(streams[-1])
    logging.getLogger("uvicorn.error").error("Exception in ASGI application: %s", TOKEN)
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1", "GET", f"/x?t={TOKEN}", "1.1", 200
    )
    output = "".join(s.getvalue() for s in streams)
    assert TOKEN not in output and output.count(REDACTED) == 2


async def test_the_runtime_registers_every_configured_credential(
    json_output: io.StringIO, tmp_path: Path
) -> None:
    credentials = {
        "TWILIO_AUTH_TOKEN": "twilio-auth-token-0123456789abcdef",
        "TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef",
        "RASA_TOKEN": "rasa-token-for-a-server-of-our-own",
        "DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
    }
    settings = make_settings(tmp_path, RASA_URL=NO_RASA, **credentials)
    runtime = await start_runtime(settings, manage_rasa=False)
    try:
        log = logging.getLogger("some.library")
        for secret in (
            credentials["TWILIO_AUTH_TOKEN"],
            credentials["RASA_TOKEN"],
            settings.secret_key.decode(),
        ):
            log.warning("leaking %s", secret)
        log.warning("session key %s", settings.session_key.hex())
    finally:
        await runtime.aclose()
    output = json_output.getvalue()
    messages = [entry["message"] for entry in lines(json_output) if entry["logger"] == "some.library"]
    assert messages == [f"leaking {REDACTED}"] * 3 + [f"session key {REDACTED}"]
    for secret in (credentials["TWILIO_AUTH_TOKEN"], credentials["RASA_TOKEN"], settings.secret_key.decode()):
        assert secret not in output
