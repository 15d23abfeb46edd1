"""`infobot subscribers import`: good rows kept, bad rows reported by line, opted-out people never
re-subscribed; a STOP ends every subscription."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.campaigns.runner import database, import_subscribers
from bot.campaigns.subscribers import person_key
from bot.db.models import ContactPreference, Subscription
from bot.durable import _apply_preference, contact_preference
from tests.helpers.app import make_settings

HEADER = "channel,address,language,country,topics,consent_version,consented_at\n"
GOOD = [
    "whatsapp,whatsapp:+50688887777,es,CR,regularization;fraud,v1,2026-10-01T10:00:00Z",
    "sms,+50255551234,en,GT,work,v1,2026-10-02T10:00:00",
    "telegram,123456789,ht,HT,documents;asylum,v2,2026-10-03T10:00:00+00:00",
]
BAD = [
    "fax,+50688887777,es,CR,work,v1,2026-10-01T10:00:00Z",  # channel
    "sms,88887777,es,CR,work,v1,2026-10-01T10:00:00Z",  # not E.164
    "sms,+50688880000,de,CR,work,v1,2026-10-01T10:00:00Z",  # language
    "sms,+50688880001,es,XX,work,v1,2026-10-01T10:00:00Z",  # country
    "sms,+50688880002,es,CR,lottery,v1,2026-10-01T10:00:00Z",  # topic
    "sms,+50688880003,es,CR,work,v1,yesterday",  # date
    "telegram,-100123,es,CR,work,v1,2026-10-01T10:00:00Z",  # a group, not a person
    "sms,+50688880004,es,CR",  # too few fields
    "sms,+50688880005,es,CR,work,,2026-10-01T10:00:00Z",  # no consent version
]


def write(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "list.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_import_keeps_good_rows_and_reports_bad_ones_by_line(tmp_path: Path, db_url: str, capsys) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path, DATABASE_URL=db_url)
    rows = [GOOD[0], *BAD[:5], GOOD[1], *BAD[5:], GOOD[2]]
    result = import_subscribers(settings, write(tmp_path, rows), __import__("sys").stdout)
    out = capsys.readouterr().out
    assert (result.subscribed, result.updated, len(result.bad)) == (3, 0, len(BAD))
    assert [line for line, _ in result.bad] == [3, 4, 5, 6, 7, 9, 10, 11, 12]
    assert "list.csv:3: skipped: channel 'fax'" in out
    assert "3 subscribed, 0 updated, 9 bad row(s) skipped" in out
    with database(settings)() as session:
        subs = {s.channel: s for s in session.scalars(select(Subscription))}
    assert subs["whatsapp"].address == "+50688887777"  # as the conversation id writes it
    assert subs["whatsapp"].topics == "fraud;regularization"
    assert subs["telegram"].consent_version == "v2" and subs["telegram"].source == "import"
    assert subs["sms"].person == person_key(settings.pseudonym_key, "sms", "+50255551234")
    # importing the same list again changes nothing but the counts
    again = import_subscribers(settings, write(tmp_path, GOOD), __import__("sys").stdout)
    assert (again.subscribed, again.updated) == (0, 3)


def test_an_opted_out_person_is_never_resubscribed_by_an_import(tmp_path: Path, db_url: str) -> None:
    settings = make_settings(tmp_path, DATABASE_URL=db_url)
    sessions = database(settings)
    import_subscribers(settings, write(tmp_path, GOOD), open("/dev/null", "w"))  # noqa: SIM115
    person = person_key(settings.pseudonym_key, "whatsapp", "+50688887777")
    entry = contact_preference("whatsapp:+50688887777", person, opted_out=True, sync_store=False)
    with sessions.begin() as session:  # STOP, as the durable records apply it
        _apply_preference(session, entry)
    with sessions() as session:
        row = session.scalar(select(Subscription).where(Subscription.person == person))
        assert row is not None and (row.active, row.end_reason) == (False, "stop")
    result = import_subscribers(settings, write(tmp_path, GOOD), open("/dev/null", "w"))  # noqa: SIM115
    assert (result.refused_opted_out, result.updated) == (1, 2)
    with sessions() as session:
        row = session.scalar(select(Subscription).where(Subscription.person == person))
        assert row is not None and not row.active
        assert session.get(ContactPreference, person).opted_out  # type: ignore[union-attr]


def test_a_file_without_the_columns_or_missing_is_one_line_error(tmp_path: Path) -> None:
    from tests.test_cli import run

    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/c.db", "INFOBOT_VAR_DIR": str(tmp_path)}
    (tmp_path / "bad.csv").write_text("phone,lang\n+50688887777,es\n")
    result = run(["subscribers", "import", str(tmp_path / "bad.csv")], **env)
    assert result.returncode == 2 and "missing column(s) channel" in result.stderr
    assert "Traceback" not in result.stderr
    result = run(["subscribers", "import", str(tmp_path / "nope.csv")], **env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (tmp_path / "list.csv").write_text(HEADER + GOOD[0] + "\n" + BAD[0] + "\n")
    result = run(["subscribers", "import", str(tmp_path / "list.csv")], **env)
    assert result.returncode == 1 and "list.csv:3: skipped" in result.stdout
