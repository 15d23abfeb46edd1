"""Campaign delivery at scale (issue 16): 100,000 subscribers against a local fake Twilio API.

Four phases, each a real `infobot campaign send` worker process (PostgreSQL, in-process queue):
  baseline   the bare twilio client sending to the same fake with the same concurrency (no SQL, no claim)
  high       the rate limit set high: messages/s (and the ratio to the baseline) and the worker's peak
             memory, sampled at 25/50/75/100 % of the campaign (flat means no growth with progress)
  paced      the rate limit at 80/s: the measured rate over the campaign vs 80 (ratio)
  crash      a second campaign to the same 100,000, the worker SIGKILLed at 50 % and restarted:
             duplicates (someone got it twice) and missed (someone never got it); the sends the dead
             worker had in flight are settled with the fake's Twilio message list

    .venv/bin/python bench/campaigns.py --subscribers 100000 --paced 2400
    .venv/bin/python bench/campaigns.py --phases crash      # one phase (the baseline always runs)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text  # noqa: E402

from bot.campaigns.worker import IN_FLIGHT  # noqa: E402
from bot.config import PROJECT_ROOT, Settings  # noqa: E402
from bot.db import make_engine, migrate  # noqa: E402
from bot.db.models import Subscription  # noqa: E402
from bot.privacy import pseudonymise  # noqa: E402
from tests.helpers.campaign_fakes import CampaignFake, campaign_fake  # noqa: E402

INFOBOT = str(PROJECT_ROOT / ".venv" / "bin" / "infobot")
POSTGRES = os.environ.get("INFOBOT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/infobot_h16")
SECRET = "bench-secret-key-0123456789abcdefghijkl"
SID = "AC" + "0" * 32


def database() -> str:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    engine = make_engine(POSTGRES)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return f"{POSTGRES}?options=-csearch_path%3D{schema}"


def subscribe(url: str, n: int, country: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    key = Settings.from_env({"INFOBOT_SECRET_KEY": SECRET}).pseudonym_key
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "person": pseudonymise(key, f"sms:+1555{country_digit(country)}{i:07d}"),
            "channel": "sms",
            "address": f"+1555{country_digit(country)}{i:07d}",
            "language": ("es", "en", "fr", "ht")[i % 4],
            "country": country,
            "topics": "fraud",
            "consent_version": "bench",
            "consented_at": now,
            "source": "import",
            "active": True,
        }
        for i in range(n)
    ]
    with engine.begin() as conn:
        for start in range(0, n, 5000):
            conn.execute(insert(Subscription), rows[start : start + 5000])
    engine.dispose()


def country_digit(country: str) -> int:
    return {"HT": 1, "DO": 2}[country]


def campaign_file(directory: Path, campaign_id: str, country: str) -> Path:
    path = directory / f"{campaign_id}.yml"
    path.write_text(
        f"id: {campaign_id}\n"
        f"audience: {{countries: [{country}], languages: [es, en, fr, ht], topics: [fraud]}}\n"
        "messages: {es: 'Alerta', en: 'Alert', fr: 'Alerte', ht: 'Alèt'}\n"
    )
    return path


def env(fake: CampaignFake, url: str, directory: Path, rate: float) -> dict[str, str]:
    return {
        **os.environ,
        "INFOBOT_SECRET_KEY": SECRET,
        "DATABASE_URL": url,
        "INFOBOT_VAR_DIR": str(directory / "var"),
        "REDIS_URL": "",
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": "bench-token",
        "TWILIO_API_BASE": fake.twilio_base,
        "TWILIO_SMS_FROM": "+15005550006",
        "INFOBOT_CAMPAIGN_RATE_SMS": str(rate),
        "INFOBOT_CAMPAIGN_LEASE": "5",
    }


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run(
    fake: CampaignFake, environment: dict[str, str], path: Path, total: int, kill_at: int = 0
) -> dict[str, float]:
    """One worker; RSS peak sampled at each quarter; killed (SIGKILL) once `kill_at` were accepted."""
    start_count = sum(fake.counts.values())
    process = subprocess.Popen(
        [INFOBOT, "campaign", "send", str(path)], env=environment, stdout=subprocess.PIPE, text=True
    )
    samples: dict[str, float] = {}
    while process.poll() is None:
        done = sum(fake.counts.values()) - start_count
        rss = peak_rss_mb(process.pid)
        for quarter in (25, 50, 75, 100):
            if done >= total * quarter // 100 and f"rss_{quarter}" not in samples and rss:
                samples[f"rss_{quarter}"] = rss
        samples["rss_peak"] = max(samples.get("rss_peak", 0.0), rss)
        if kill_at and done >= kill_at:
            process.send_signal(signal.SIGKILL)
            process.wait()
            samples["killed_at"] = done
            break
        time.sleep(0.2)
    if process.stdout is not None:
        samples["summary"] = 0.0
        lines = [line for line in process.stdout.read().splitlines() if line.startswith("campaign ")]
        print("   ", lines[-1] if lines else f"(no summary: exit {process.returncode})")
    return samples


async def baseline(fake: CampaignFake, n: int, in_flight: int) -> float:
    """The bare twilio client, the same concurrency as a worker, no SQL: the ceiling on this machine."""
    from twilio.http.async_http_client import AsyncTwilioHttpClient
    from twilio.rest import Client

    client = Client(SID, "bench-token", http_client=AsyncTwilioHttpClient(timeout=10))
    client.api.base_url = fake.twilio_base
    queue = list(range(n))

    async def sender() -> None:
        while queue:
            i = queue.pop()
            await client.messages.create_async(to=f"+1555900{i:04d}", from_="+15005550006", body="x")

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(in_flight)))
    elapsed = time.perf_counter() - started
    await client.http_client.close()
    return n / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--paced", type=int, default=2400, help="recipients of the 80/s campaign (30 s)")
    parser.add_argument("--baseline", type=int, default=5000)
    parser.add_argument("--phases", default="high,paced,crash", help="comma-separated: high, paced, crash")
    args = parser.parse_args()
    phases = set(args.phases.split(","))
    directory = Path(tempfile.mkdtemp(prefix="bench-campaigns-"))
    url = database()
    n = args.subscribers
    print(f"setup: {n} subscribers (HT) + {args.paced} (DO) in PostgreSQL ({url.split('?')[0]})")
    subscribe(url, n, "HT")
    subscribe(url, args.paced, "DO")
    with campaign_fake(count_only=True) as fake:
        base = asyncio.run(baseline(fake, args.baseline, IN_FLIGHT))
        print(f"baseline  bare twilio client, {IN_FLIGHT} in flight: {base:.0f} messages/s")

        if "high" in phases:
            high_phase(fake, url, directory, n, base)
        if "paced" in phases:
            paced_phase(fake, url, directory, args.paced)
        if "crash" in phases:
            crash_phase(fake, url, directory, n)
    return 0


def high_phase(fake: CampaignFake, url: str, directory: Path, n: int, base: float) -> None:
    fake.counts.clear()
    fake.first_at = 0.0
    high = run(fake, env(fake, url, directory, 100_000), campaign_file(directory, "high", "HT"), n)
    rate = sum(fake.counts.values()) / max(1e-9, fake.last_at - fake.first_at)
    sent_once = sum(1 for v in fake.counts.values() if v == 1)
    print(
        f"high      {sum(fake.counts.values())} sent ({sent_once} once) at {rate:.0f} messages/s "
        f"= {rate / base:.2f} x baseline; worker peak RSS MB at 25/50/75/100 %: "
        + " / ".join(f"{high.get(f'rss_{q}', 0):.0f}" for q in (25, 50, 75, 100))
    )


def paced_phase(fake: CampaignFake, url: str, directory: Path, recipients: int) -> None:
    fake.counts.clear()
    fake.first_at = 0.0
    run(fake, env(fake, url, directory, 80), campaign_file(directory, "paced", "DO"), recipients)
    paced = (sum(fake.counts.values()) - 1) / max(1e-9, fake.last_at - fake.first_at)
    print(f"paced     limit 80/s: measured {paced:.2f} messages/s = {paced / 80:.3f} x the limit")


def crash_phase(fake: CampaignFake, url: str, directory: Path, n: int) -> None:
    fake.counts.clear()
    fake.first_at = 0.0
    crash_env = env(fake, url, directory, 100_000)
    crash_file = campaign_file(directory, "crash", "HT")
    killed = run(fake, crash_env, crash_file, n, kill_at=n // 2)
    time.sleep(6)  # the dead worker's lease (5 s) runs out; a restart would also wait for it
    run(fake, crash_env, crash_file, n)
    counts = fake.counts
    duplicates = sum(v - 1 for v in counts.values() if v > 1)
    missed = n - len(counts)
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT status, coalesce(reason, ''), count(*) FROM campaign_recipients "
                "WHERE campaign_id='crash' AND in_doubt_since IS NOT NULL GROUP BY 1, 2"
            )
        ).all()
    engine.dispose()
    doubt = {f"{status} {reason}".strip(): int(count) for status, reason, count in rows}
    print(
        f"crash     SIGKILL at {int(killed.get('killed_at', 0))} accepted, restarted: "
        f"{duplicates} duplicates, {missed} missed; in doubt after the kill "
        f"({sum(doubt.values())}), settled with the provider's list: {doubt or 'none'}"
    )


if __name__ == "__main__":
    sys.exit(main())
