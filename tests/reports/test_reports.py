"""The monthly report and the referral export: right figures, CSV and PNG, and no personal data."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
from pathlib import Path

from sqlalchemy import Engine

from bot.config import PROJECT_ROOT
from bot.db import make_engine, migrate, session_factory
from bot.db.models import MessageEvent, Referral, ScamReport, UnansweredQuestion
from bot.privacy import pseudonymise
from bot.reports.export import referral_rows, write_export
from bot.reports.monthly import build_report, group_similar, write_report

SECRET = b"report-secret-0123456789abcdefghij"
PHONES = ["+50688887777", "+50937778888", "+5215512345678"]
AT = dt.datetime(2026, 10, 15, 12, tzinfo=dt.UTC)


def seeded(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path}/report.db")
    migrate(engine)
    people = [pseudonymise(SECRET, f"whatsapp:{phone}") for phone in PHONES]
    with session_factory(engine).begin() as session:
        for i, person in enumerate(people):
            for intent in ("greet", "ask_asylum", "ask_documents")[: i + 1]:
                session.add(
                    MessageEvent(
                        at=AT,
                        person=person,
                        channel="whatsapp",
                        language=["es", "ht", "fr"][i],
                        country="MX",
                        intent=intent,
                    )
                )
        session.add(MessageEvent(at=AT - dt.timedelta(days=40), person="old", channel="sms", language="es"))
        session.add(
            Referral(
                code="ABC-1234",
                idempotency_key="k1",
                created_at=AT,
                service="asylum",
                hub_id="mx-tapachula",
                country="MX",
                language="ht",
                channel="whatsapp",
                person=people[1],
                consent_version="v1",
            )
        )
        for text in (
            "cuanto cuesta la visa canadiense",
            "cuánto cuesta la visa canadiense?",
            "visa canadiense costo",
            "horario del consulado de venezuela",
        ):
            session.add(
                UnansweredQuestion(at=AT, person=people[0], channel="whatsapp", language="es", text=text)
            )
        session.add(
            ScamReport(
                at=AT,
                person=people[0],
                channel="whatsapp",
                country="MX",
                language="es",
                verdict="likely_fraud",
                signals="payment_for_free_procedure,urgency_pressure",
                text="me piden 300 dolares, llamar a [phone]",
            )
        )
    return engine


def test_the_month_figures(tmp_path: Path) -> None:
    report = build_report(seeded(tmp_path), "2026-10", PROJECT_ROOT / "content")
    summary = dict(report.tables["summary"])
    assert summary["people_reached"] == 3 and summary["people_assisted"] == 2 and summary["referrals"] == 1
    assert summary["share_referred"] == round(1 / 3, 3)
    assert dict(report.tables["referrals_by_service"]) == {"asylum": 1}
    assert dict(report.tables["questions_by_topic"])["greet"] == 3
    assert report.tables["unanswered_es"][0][1] == 3  # the three ways of asking about the Canadian visa
    assert dict(report.tables["scams_by_signal"]) == {"payment_for_free_procedure": 1, "urgency_pressure": 1}


def test_report_files_and_export_contain_no_personal_data(tmp_path: Path) -> None:
    engine = seeded(tmp_path)
    files = write_report(build_report(engine, "2026-10", PROJECT_ROOT / "content"), tmp_path / "out")
    assert any(f.suffix == ".png" for f in files) and any(f.name.endswith("summary.csv") for f in files)
    buffer = io.StringIO()
    write_export(referral_rows(engine, dt.date(2026, 10, 1)), "json", buffer)
    exported = json.loads(buffer.getvalue())
    assert [row["code"] for row in exported] == ["ABC-1234"]
    everything = buffer.getvalue() + "".join(f.read_text() for f in files if f.suffix == ".csv")
    for phone in PHONES:
        assert phone not in everything and phone.lstrip("+") not in everything
        assert f"whatsapp:{phone}" not in everything


def test_the_cli_writes_the_report_and_refuses_a_bad_month(tmp_path: Path) -> None:
    seeded(tmp_path)
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/report.db",
        "INFOBOT_SECRET_KEY": SECRET.decode(),
    }
    cli = str(PROJECT_ROOT / ".venv/bin/infobot")
    ok = subprocess.run(
        [cli, "report", "--month", "2026-10", "--out", str(tmp_path / "cli")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0 and "people_reached: 3" in ok.stdout
    assert (tmp_path / "cli" / "2026-10_referrals_by_service.png").exists()
    bad = subprocess.run([cli, "report", "--month", "October"], env=env, capture_output=True, text=True)
    assert (
        bad.returncode == 2
        and bad.stderr.strip() == "infobot: error: 'October' is not a month: use YYYY-MM, e.g. 2026-11"
    )
    csv_out = subprocess.run(
        [cli, "referrals", "export", "--format", "csv"], env=env, capture_output=True, text=True
    )
    assert csv_out.stdout.splitlines()[1].startswith("ABC-1234,")


def test_similar_questions_are_grouped() -> None:
    groups = group_similar(["donde queda la oim", "dónde queda la OIM?", "precio del pasaporte"])
    assert groups == [("donde queda la oim", 2), ("precio del pasaporte", 1)]
