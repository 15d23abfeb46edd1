"""`infobot report --month`: the month's figures as CSV tables and PNG bar charts.

People reached, people assisted, questions by topic, referrals by service, hub, country, language and
channel, share referred, unanswered questions grouped by similarity, stale content, scam reports.
Every table counts pseudonyms or categories: nothing in it identifies a person.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import Engine, select

from bot.content.loader import load_content
from bot.db.models import MessageEvent, Referral, ScamReport, UnansweredQuestion
from bot.vocab.topics import TOPIC_INTENTS

SIMILAR = 70
"""token_set_ratio at or above which two unanswered questions count as the same question."""


Table = list[tuple[str, Any]]


@dataclass
class MonthReport:
    month: str
    tables: dict[str, Table] = field(default_factory=dict)


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    """'2026-11' -> [1 Nov, 1 Dec) in UTC; ValueError with a clear message otherwise."""
    try:
        start = dt.datetime.strptime(month, "%Y-%m").replace(tzinfo=dt.UTC)
    except ValueError as exc:
        raise ValueError(f"'{month}' is not a month: use YYYY-MM, e.g. 2026-11") from exc
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


def group_similar(texts: list[str], top: int = 10) -> list[tuple[str, int]]:
    """Greedy clusters of similar questions: (an example, how many), most frequent first."""
    clusters: list[list[str]] = []
    for text in texts:
        for cluster in clusters:
            if fuzz.token_set_ratio(text.lower(), cluster[0].lower()) >= SIMILAR:
                cluster.append(text)
                break
        else:
            clusters.append([text])
    ranked = sorted(clusters, key=len, reverse=True)[:top]
    return [(cluster[0], len(cluster)) for cluster in ranked]


def build_report(engine: Engine, month: str, content_dir: Path) -> MonthReport:
    start, end = month_bounds(month)
    report = MonthReport(month)
    with engine.connect() as conn:
        events = conn.execute(
            select(MessageEvent).where(MessageEvent.at >= start, MessageEvent.at < end)
        ).all()
        referrals = conn.execute(
            select(Referral).where(Referral.created_at >= start, Referral.created_at < end)
        ).all()
        unanswered = conn.execute(
            select(UnansweredQuestion).where(UnansweredQuestion.at >= start, UnansweredQuestion.at < end)
        ).all()
        scams = conn.execute(
            select(ScamReport)
            .where(ScamReport.at >= start, ScamReport.at < end)
            .order_by(ScamReport.at.desc())
        ).all()
    reached = {e.person for e in events}
    assisted = {e.person for e in events if e.intent in TOPIC_INTENTS}
    referred = {r.person for r in referrals}
    report.tables["summary"] = [
        ("people_reached", len(reached)),
        ("messages", len(events)),
        ("people_assisted", len(assisted)),
        ("referrals", len(referrals)),
        ("people_referred", len(referred)),
        ("share_referred", round(len(referred) / len(reached), 3) if reached else 0.0),
    ]
    report.tables["questions_by_topic"] = Counter(e.intent for e in events if e.intent).most_common()
    for key in ("service", "hub_id", "country", "language", "channel"):
        report.tables[f"referrals_by_{key}"] = Counter(getattr(r, key) for r in referrals).most_common()
    report.tables["people_by_language"] = Counter(
        lang for _, lang in {(e.person, e.language) for e in events}
    ).most_common()
    report.tables["people_by_channel"] = Counter(
        ch for _, ch in {(e.person, e.channel) for e in events}
    ).most_common()
    for lang in sorted({u.language for u in unanswered}):
        report.tables[f"unanswered_{lang}"] = group_similar(
            [u.text for u in unanswered if u.language == lang]
        )
    today = dt.date.today()
    report.tables["stale_content"] = [
        (e.file, str(e.review_by)) for e in load_content(content_dir).entries if e.review_by < today
    ]
    _scam_tables(report, scams)
    return report


def _scam_tables(report: MonthReport, scams: Sequence[Any]) -> None:
    report.tables["scams_by_country"] = Counter(s.country or "unknown" for s in scams).most_common()
    report.tables["scams_by_signal"] = Counter(
        sig for s in scams for sig in s.signals.split(",") if sig
    ).most_common()
    report.tables["scams_by_week"] = sorted(Counter(s.at.strftime("%G-W%V") for s in scams).items())
    report.tables["scams_newest"] = [(s.text[:200], s.verdict) for s in scams[:10]]


def write_report(report: MonthReport, out_dir: Path) -> list[Path]:
    """One CSV per table and a PNG bar chart per count table; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, rows in report.tables.items():
        path = out_dir / f"{report.month}_{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["item", "value"])
            writer.writerows(rows)
        written.append(path)
        if rows and all(isinstance(v, int) for _, v in rows) and name != "summary":
            labels, values = zip(*rows[:15], strict=True)
            fig, ax = plt.subplots(figsize=(8, max(2.5, 0.4 * len(labels) + 1)))
            ax.barh([str(label)[:40] for label in labels][::-1], list(values)[::-1], color="#0b5394")
            ax.set_title(f"{name.replace('_', ' ')} — {report.month}")
            fig.tight_layout()
            png = out_dir / f"{report.month}_{name}.png"
            fig.savefig(png, dpi=100)
            plt.close(fig)
            written.append(png)
    return written
