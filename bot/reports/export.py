"""`infobot referrals export`: the referral log, pseudonymised (no phone number, no chat id, no name)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from typing import TextIO

from sqlalchemy import Engine, select

from bot.db.models import Referral

FIELDS = (
    "code",
    "created_at",
    "service",
    "hub_id",
    "country",
    "language",
    "channel",
    "status",
    "consent_version",
    "sex",
    "age_group",
    "person",
)
"""`person` is the keyed-hash pseudonym: it counts people without identifying them."""


def referral_rows(engine: Engine, since: dt.date | None) -> list[dict[str, str | None]]:
    query = select(Referral).order_by(Referral.created_at)
    if since is not None:
        query = query.where(Referral.created_at >= dt.datetime.combine(since, dt.time(), dt.UTC))
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    out = []
    for row in rows:
        item = {name: row[name] for name in FIELDS}
        created = row["created_at"]
        item["created_at"] = created.isoformat() if created is not None else None
        out.append(item)
    return out


def write_export(rows: list[dict[str, str | None]], fmt: str, out: TextIO) -> None:
    if fmt == "json":
        json.dump(rows, out, ensure_ascii=False, indent=1)
        out.write("\n")
        return
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    writer.writerows(rows)
