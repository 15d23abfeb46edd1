"""What the programme counts per campaign, by country, language and channel — never an address.

targeted, sent (the provider accepted it), delivered and read (Twilio status callbacks; Telegram has
no receipts, so an accepted Telegram message counts as delivered and read is not known), failed (by
reason, including failures Twilio reported after accepting), skipped, unknown (in flight when a
worker died), and opt-outs within 7 days of the campaign's start (STOP, carrier STOP, blocked, alerts ended).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Campaign, CampaignRecipient, DeliveryStatus, Subscription

COLUMNS = (
    "campaign",
    "country",
    "language",
    "channel",
    "targeted",
    "sent",
    "delivered",
    "read",
    "failed",
    "skipped",
    "unknown",
    "optouts_7d",
)
OPT_OUT_DAYS = 7
FAILED_AFTER_SEND = ("failed", "undelivered")


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    return moment.replace(tzinfo=dt.UTC) if moment is not None and moment.tzinfo is None else moment


def reach(
    sessions: sessionmaker[Session], start: dt.datetime, end: dt.datetime
) -> tuple[list[dict[str, object]], Counter[tuple[str, str, str]]]:
    """(rows per campaign × country × language × channel, failures by (campaign, channel, reason))
    for campaigns created in [start, end)."""
    counts: dict[tuple[str, str, str, str], Counter[str]] = defaultdict(Counter)
    failures: Counter[tuple[str, str, str]] = Counter()
    with sessions() as session:
        query = (
            select(
                CampaignRecipient,
                DeliveryStatus.status,
                DeliveryStatus.error_code,
                Subscription,
                Campaign.created_at,
            )
            .join(Campaign, Campaign.id == CampaignRecipient.campaign_id)
            .join(Subscription, Subscription.id == CampaignRecipient.subscription_id)
            .outerjoin(DeliveryStatus, DeliveryStatus.provider_id == CampaignRecipient.provider_id)
            .where(Campaign.created_at >= start, Campaign.created_at < end)
            .execution_options(yield_per=2000)
        )
        for r, receipt, error_code, sub, started in session.execute(query):
            c = counts[(r.campaign_id, r.country, r.language, r.channel)]
            c["targeted"] += 1
            status, reason = r.status, r.reason
            if status == "sent" and receipt in FAILED_AFTER_SEND:
                status, reason = "failed", f"twilio_{error_code}" if error_code else "twilio_undelivered"
            c[status] += 1
            if status == "sent":
                delivered = receipt in ("delivered", "read") or r.channel == "telegram"
                c["delivered"] += int(delivered)
                c["read"] += int(receipt == "read")
            if status in ("failed", "skipped", "unknown"):
                failures[(r.campaign_id, r.channel, f"{status}:{reason or 'unknown'}")] += 1
            since = _aware(started)
            ended = _aware(sub.ended_at)
            if since and ended and since <= ended <= since + dt.timedelta(days=OPT_OUT_DAYS):
                c["optouts_7d"] += int(sub.end_reason in ("stop", "carrier_stop", "blocked", "changed"))
    rows = [
        {
            "campaign": k[0],
            "country": k[1],
            "language": k[2],
            "channel": k[3],
            **{n: c[n] for n in COLUMNS[4:]},
        }
        for k, c in sorted(counts.items())
    ]
    return rows, failures


def write_reach(
    rows: list[dict[str, object]], failures: Counter[tuple[str, str, str]], out_dir: Path, label: str
) -> list[Path]:
    """CSV of the rows, CSV of the failures by reason, and a PNG bar chart per campaign."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    reach_csv, failures_csv = (
        out_dir / f"{label}_campaign_reach.csv",
        out_dir / f"{label}_campaign_failures.csv",
    )
    with reach_csv.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    with failures_csv.open("w", newline="", encoding="utf-8") as fh:
        writer_f = csv.writer(fh)
        writer_f.writerow(["campaign", "channel", "reason", "count"])
        writer_f.writerows([*key, n] for key, n in sorted(failures.items()))
    written = [reach_csv, failures_csv]
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        totals[str(row["campaign"])].update({n: int(row[n]) for n in COLUMNS[4:]})  # type: ignore[call-overload]
    for campaign, total in totals.items():
        names = ["targeted", "sent", "delivered", "read", "failed", "skipped", "unknown", "optouts_7d"]
        fig, ax = plt.subplots(figsize=(8, 3.5))
        ax.barh(names[::-1], [total[n] for n in names][::-1], color="#0b5394")
        ax.set_title(f"campaign {campaign} — reach")
        fig.tight_layout()
        png = out_dir / f"{label}_campaign_{campaign}.png"
        fig.savefig(png, dpi=100)
        plt.close(fig)
        written.append(png)
    return written
