"""The content editor over plain HTTP: draft, submit, no self-approval, a second editor publishes, the
next message gets the new answer, needs-update flags, history, rollback, broken versions refused."""

from __future__ import annotations

import html
import re
from typing import Any

from sqlalchemy import select

from bot.db import make_engine, session_factory
from bot.db.models import AuditEntry, ContentVersion
from tests.console.conftest import Console, create_staff, csrf_of, log_in
from tests.helpers.app import say

ENTRY = "/console/content/entry/ask_fraud/general"
NEW_HT = "Tès: pa janm peye pou yon randevou, se gratis."
NEW_ES = "Prueba: nunca pague por una cita, es gratis."


def answer(console: Console, sender: str, lang: str) -> str:
    say(console.client, sender, f"/set_language:{lang}")
    [reply] = say(console.client, sender, "/ask_fraud")
    assert reply["metadata"]["content_id"] == "ask_fraud"
    return str(reply["text"])


def entry_form(console: Console, csrf: str, **texts: str) -> dict[str, Any]:
    """The entry's live fields for the four languages, with some texts replaced."""
    library = console.client.app.state.runtime.content.current()  # type: ignore[attr-defined]
    form: dict[str, Any] = {"csrf": csrf, "reason": "fee scam reported today"}
    for lang in ("es", "en", "fr", "ht"):
        e = library.lookup("ask_fraud", lang, None)
        form.update(
            {
                f"{lang}-text": texts.get(lang, e.text),
                f"{lang}-sms": e.sms,
                f"{lang}-source": e.source,
                f"{lang}-reviewed": e.reviewed.isoformat(),
                f"{lang}-reviewed_by": e.reviewed_by,
                f"{lang}-review_by": e.review_by.isoformat(),
            }
        )
        if e.verify:
            form[f"{lang}-verify"] = "on"
    return form


def switch(console: Console, email: str) -> str:
    page = console.client.get("/console/content/entries")
    if page.status_code == 200 and "Log out" in page.text:
        console.client.post("/console/logout", data={"csrf": csrf_of(page.text)})
    return log_in(console.client, email)


def draft(console: Console, csrf: str, **texts: str) -> int:
    response = console.client.post(ENTRY, data=entry_form(console, csrf, **texts), follow_redirects=False)
    assert response.status_code == 303, response.text
    found = re.search(r"/versions/(\d+)$", response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


def act(console: Console, csrf: str, version: int, action: str) -> str:
    response = console.client.post(f"/console/content/versions/{version}/{action}", data={"csrf": csrf})
    assert response.status_code == 200, response.text
    return html.unescape(response.text)


def actions(console: Console) -> list[str]:
    engine = make_engine(console.settings.database_url)
    with session_factory(engine)() as session:
        return [a.action for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_a_second_editor_publishes_and_a_rollback_restores(console: Console) -> None:
    create_staff(console.settings, "editor2@example.org", "editor")
    old_ht, old_es = answer(console, "p-ht", "ht"), answer(console, "p-es", "es")
    csrf = switch(console, "editor@example.org")
    version = draft(console, csrf, ht=NEW_HT, es=NEW_ES)
    assert f"Version {version}: review" in act(console, csrf, version, "submit")
    page = act(console, csrf, version, "approve")
    assert "never approves their own change" in page
    assert answer(console, "p-ht", "ht") == old_ht

    csrf = switch(console, "editor2@example.org")
    page = act(console, csrf, version, "approve")
    assert f"Version {version} is live" in page
    assert answer(console, "p-ht", "ht").startswith(NEW_HT)
    assert answer(console, "p-es", "es").startswith(NEW_ES)

    entries = console.client.get("/console/content/entries").text
    flagged = re.search(r'<table id="needs-update">(.*?)</table>', entries, re.S)
    assert flagged and "ask_fraud" in flagged.group(1)
    assert {"en", "fr"} <= set(re.findall(r"<td>(\w\w) <span class=\"badge\">needs update", flagged.group(1)))
    assert "ht <span" not in flagged.group(1) and "es <span" not in flagged.group(1)

    history = console.client.get(ENTRY + "/history").text
    assert f'data-version="{version}"' in history and "+text: " + NEW_HT.split(":")[0] in html.unescape(
        history
    )
    response = console.client.post(ENTRY + "/rollback", data={"csrf": csrf, "version": "0"})
    assert response.status_code == 200
    assert answer(console, "p-ht", "ht") == old_ht and answer(console, "p-es", "es") == old_es
    assert {"content_draft", "content_submit", "content_approve_refused", "content_approve"} <= set(
        actions(console)
    )
    assert "content_rollback" in actions(console)


def test_a_broken_version_is_refused_with_the_checks_message(console: Console) -> None:
    create_staff(console.settings, "editor2@example.org", "editor")
    before = answer(console, "p-ht", "ht")
    csrf = switch(console, "editor@example.org")
    version = draft(console, csrf, ht="Gade https://exa mple. la")
    act(console, csrf, version, "submit")
    csrf = switch(console, "editor2@example.org")
    page = act(console, csrf, version, "approve")
    assert "nothing went live" in page and "content/ht/ask_fraud.yml" in page
    assert answer(console, "p-ht", "ht") == before
    engine = make_engine(console.settings.database_url)
    with session_factory(engine)() as session:
        assert session.get(ContentVersion, version).status == "review"  # type: ignore[union-attr]


def test_bad_forms_and_roles_are_refused(console: Console) -> None:
    csrf = switch(console, "agent@example.org")
    assert console.client.get(ENTRY).status_code == 403
    csrf = switch(console, "editor@example.org")
    assert console.client.get("/console/content/entry/nope/general").status_code == 404
    assert console.client.get("/console/content/entry/ask_fraud/XX").status_code == 404
    form = entry_form(console, csrf, ht=NEW_HT)
    form["ht-reviewed"] = "yesterday"
    assert "YYYY-MM-DD" in html.unescape(console.client.post(ENTRY, data=form).text)
    no_csrf = {**entry_form(console, csrf, ht=NEW_HT), "csrf": "wrong"}
    assert console.client.post(ENTRY, data=no_csrf).status_code == 403
    unchanged = console.client.post(ENTRY, data=entry_form(console, csrf)).text
    assert "Nothing changed" in unchanged
    assert console.client.post(ENTRY + "/rollback", data={"csrf": csrf, "version": "x"}).status_code == 400
    assert console.client.get("/console/content/versions/999").status_code == 404


def test_a_confirmed_translation_leaves_the_list_and_hostile_text_stays_inert(console: Console) -> None:
    create_staff(console.settings, "editor2@example.org", "editor")
    hostile = "Tès <script>alert('x')</script> fen."
    csrf = switch(console, "editor@example.org")
    version = draft(console, csrf, ht=hostile)
    act(console, csrf, version, "submit")
    csrf = switch(console, "editor2@example.org")
    act(console, csrf, version, "approve")
    page = console.client.get(ENTRY).text
    assert "<script>alert('x')</script>" not in page and "&lt;script&gt;" in page
    assert page.count("needs update</span>") == 3
    response = console.client.post(ENTRY + "/confirm", data={"csrf": csrf, "lang": "fr"})
    assert "fr: confirmed up to date" in response.text
    assert response.text.count("needs update</span>") == 2
    assert console.client.post(ENTRY + "/confirm", data={"csrf": csrf, "lang": "xx"}).status_code == 400
    assert "content_confirm_translation" in actions(console)


def test_the_live_version_survives_a_dead_database(console: Console) -> None:
    """A worker whose database is gone keeps answering with the content it has (the poll retries)."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.content.live import LivePoller

    runtime = console.client.app.state.runtime  # type: ignore[attr-defined]
    before = answer(console, "p-ht", "ht")
    dead = session_factory(make_engine("postgresql://nobody@127.0.0.1:9/none"))
    try:
        LivePoller(runtime.content, dead).poll()
    except SQLAlchemyError:
        pass
    else:
        raise AssertionError("a dead database must raise, so the repeat loop logs and retries")
    assert answer(console, "p-ht", "ht") == before
