"""Fault benchmark (issue 12): is any reply lost or doubled, any escalation or opt-out dropped, when Redis,
the database or a worker dies under load?

Set-up, all on loopback and started here: Redis without persistence (a restart comes back empty), a
PostgreSQL cluster of its own reached through a TCP proxy that can cut it, one Rasa NLU server, a fake
Twilio REST API recording every message sent (late replies), and two `infobot serve` workers as on two
machines (each its own INFOBOT_VAR_DIR, i.e. its own spool and journal; the same INFOBOT_SECRET_KEY).

Traffic: `--deliveries` signed Twilio webhooks (WhatsApp and SMS, es/en/fr/ht: greetings, questions,
emergencies, requests for a person, opt-outs) at a steady `--rate`, alternating between the workers;
10 % are duplicate deliveries of a MessageSid, half at the same moment on both workers, half 0.3-4 s
later. Each person's next message waits for the previous one's reply (bench/fault_traffic.py).

Retries, modelled on Twilio's connection overrides (`#rc=5&rp=all`: up to 5 retries of a webhook that
fails) behind a load balancer: a delivery that gets a connection error, a timeout (15 s, Twilio's) or a
5xx is sent again, same MessageSid, to the other worker after 1, 2, 3, 4, 5 s. A 4xx is not retried.
The balancer alternates between the workers and, after a connection refused, leaves that worker out for
10 s (a passive health check, as nginx's max_fails=1 fail_timeout=10s).

Faults, at 15 %, 35 % and 55 % of the planned run: Redis SIGKILLed and restarted (empty) after 5 s; the
database cut (every connection closed, new ones refused) for 10 s; one worker SIGKILLed while requests
are in flight on it (it waits up to 10 s for 2, then 10 s for 1) and started again 2 s later, as a
supervisor would.
`--quick`: 1,000 deliveries, Redis down 3 s, database cut 5 s. `--no-restart`: the killed worker stays
down, as a machine lost with its disk (its journal is never replayed).

At the end it waits (up to `--settle` s) for late replies and journal replays, then prints replies lost
and duplicated, escalations and opt-outs recorded in PostgreSQL against those sent, and latency per phase
as ratios to the pre-fault phase of the same run (bench/fault_report.py). A finished run exits 0 whatever
it found: the last line says PASS or FAIL against the targets (0 lost, 0 duplicated, every escalation and
opt-out recorded, nothing sent after an opt-out).

    .venv/bin/python bench/faults.py [--deliveries 10000] [--rate 20] [--quick] [--no-faults]
"""

# ruff: noqa: E402  (imports after sys.path is set)
from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path

import httpx
import psycopg
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fault_report import Phase, RunRecord, dump, report
from fault_services import (
    CutProxy,
    PostgresCluster,
    RasaHost,
    RedisProcess,
    TwilioRecorder,
    Worker,
    export_commit,
    fake_twilio,
    pseudonyms,
)
from fault_traffic import (
    GREETINGS,
    LANGUAGES,
    QUESTIONS,
    Answer,
    Attempt,
    Delivery,
    Message,
    Sender,
    plan,
    twiml_bodies,
)
from webhooks import PUBLIC, TOKEN

from bot.nlu.training import train

ACCOUNT_SID = "AC" + "0" * 32
RETRY_DELAYS = (1.0, 2.0, 3.0, 4.0, 5.0)
WEBHOOK_TIMEOUT = 15.0
LB_FAIL_TIMEOUT = 10.0
THINK_SECONDS = 4.0
"""Mean pause of a person between a reply and their next message (exponential, at least 1 s)."""
LATE_WAIT = 120.0
"""A person with no reply writes again after this long (their next message then owns later replies)."""


class FaultBench:
    def __init__(
        self,
        args: argparse.Namespace,
        workers: list[Worker],
        redis: RedisProcess,
        proxy: CutProxy,
        twilio: TwilioRecorder,
        pg: PostgresCluster,
    ) -> None:
        self.args, self.workers, self.redis, self.proxy = args, workers, redis, proxy
        self.twilio, self.pg = twilio, pg
        self.down_until = [0.0] * len(workers)
        self.in_flight = [0] * len(workers)
        self.rng = random.Random(args.seed)
        self.validator = RequestValidator(TOKEN)
        self.deliveries: list[Delivery] = []
        self.events: list[tuple[float, str, str | None]] = []
        self.t0 = 0.0
        self.turn = 0
        self.rest_seen: dict[str, float] = {}
        self._rest_cursor = 0
        self.pseudonyms: dict[str, str] = {}
        """conversation id -> the pseudonym the code under test stores (contact_preferences.person)."""
        self.http = httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT, limits=httpx.Limits(max_connections=400))

    def mark(self, what: str, phase: str | None = None) -> None:
        """Print an event of the run; `phase` names the phase it starts."""
        self.events.append((time.monotonic(), what, phase))
        print(f"  {time.monotonic() - self.t0:7.1f} s  {what}", flush=True)

    # --- one delivery, with the retries of Twilio's connection overrides behind a load balancer ---

    def choose(self, preferred: int) -> int:
        """The load balancer's pick: the preferred worker unless a connection error in the last
        LB_FAIL_TIMEOUT seconds marked it down (a passive health check: nginx max_fails=1, fail_timeout)."""
        n = len(self.workers)
        for index in (preferred % n, (preferred + 1) % n):
            if self.down_until[index] <= time.monotonic():
                return index
        return preferred % n

    async def deliver(self, message: Message, first_worker: int, delay: float = 0.0) -> None:
        if delay:
            await asyncio.sleep(delay)
        params = message.params()
        signature = self.validator.compute_signature(PUBLIC + "/webhooks/twilio", params)
        delivery = Delivery(message, time.monotonic())
        self.deliveries.append(delivery)
        index = self.choose(first_worker)
        for attempt in range(len(RETRY_DELAYS) + 1):
            worker = self.workers[index]
            started = time.monotonic()
            status = 0
            self.in_flight[index] += 1
            try:
                response = await self.http.post(
                    f"{worker.url}/webhooks/twilio", data=params, headers={"X-Twilio-Signature": signature}
                )
                status, outcome = response.status_code, str(response.status_code)
            except httpx.HTTPError as exc:
                outcome = exc.__class__.__name__
                if isinstance(exc, httpx.ConnectError):
                    self.down_until[index] = time.monotonic() + LB_FAIL_TIMEOUT
            finally:
                self.in_flight[index] -= 1
            now = time.monotonic()
            delivery.attempts.append(Attempt(started, now - started, outcome, worker.name))
            if status == 200 and (bodies := twiml_bodies(response.text)):
                message.answers.append(Answer(now, bodies, "twiml", worker.name))
            if 0 < status < 500:
                break
            if attempt < len(RETRY_DELAYS):
                await asyncio.sleep(RETRY_DELAYS[attempt])
                index = self.choose(index + 1)
        delivery.finished = time.monotonic()

    async def warm_up(self, per_worker: int = 20) -> None:
        """A few conversations on each worker before the clock starts (first requests load lazily), from
        senders outside the plan so they count nowhere."""
        texts = [text for lang in LANGUAGES for text in (*GREETINGS[lang], *QUESTIONS[lang])]
        for index, worker in enumerate(self.workers):
            for i in range(per_worker):
                sender = Sender("whatsapp", f"+999{index}{i:06d}", "es")
                message = Message(f"WU{index}{i:030d}", sender, 0, texts[i % len(texts)], "question")
                params = message.params()
                signature = self.validator.compute_signature(PUBLIC + "/webhooks/twilio", params)
                await self.http.post(
                    f"{worker.url}/webhooks/twilio", data=params, headers={"X-Twilio-Signature": signature}
                )

    # --- people writing, one message after the other ---

    def _scan_rest(self) -> None:
        sent = self.twilio.sent
        while self._rest_cursor < len(sent):
            item = sent[self._rest_cursor]
            self.rest_seen[item.to] = item.at
            self._rest_cursor += 1

    def _answered(self, message: Message) -> bool:
        self._scan_rest()
        if any(a.via == "twiml" for a in message.answers):
            return True
        return self.rest_seen.get(message.sender.from_field, 0.0) >= (message.first_sent or 0.0)

    async def step(self, sender: Sender, message: Message, ready: collections.deque[Sender]) -> None:
        message.first_sent = time.monotonic()
        self.turn += 1
        first = self.turn % len(self.workers)
        jobs: list[Awaitable[None]] = [self.deliver(message, first)]
        if message.duplicate == "concurrent":
            jobs.append(self.deliver(message, first + 1))
        elif message.duplicate == "later":
            jobs.append(
                self.deliver(message, self.rng.randrange(len(self.workers)), self.rng.uniform(0.3, 4.0))
            )
        await asyncio.gather(*jobs)
        if message.expects_reply:
            deadline = time.monotonic() + LATE_WAIT
            while not self._answered(message) and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
        await asyncio.sleep(max(1.0, self.rng.expovariate(1 / THINK_SECONDS)))
        if sender.next_index < len(sender.messages):
            ready.append(sender)

    async def traffic(self, senders: list[Sender]) -> None:
        interval = 1 / self.args.rate
        ready: collections.deque[Sender] = collections.deque()
        fresh = iter(senders)
        remaining = sum(len(s.messages) for s in senders)
        tasks: set[asyncio.Task[None]] = set()
        slot = time.monotonic()
        while remaining:
            await asyncio.sleep(max(0.0, slot - time.monotonic()))
            sender = ready.popleft() if ready else next(fresh, None)
            if sender is None:  # everyone in conversation is waiting: the pace slips, as it would
                await asyncio.sleep(0.05)
                continue
            message = sender.messages[sender.next_index]
            sender.next_index += 1
            remaining -= 1
            task = asyncio.create_task(self.step(sender, message, ready))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            slot += interval * (2 if message.duplicate else 1)
        if tasks:
            await asyncio.wait(tasks)

    # --- faults ---

    async def faults(self, planned: float) -> None:
        quick = self.args.quick
        await self._at(0.15 * planned)
        self.mark("Redis killed (SIGKILL)", "Redis down")
        self.redis.kill()
        await asyncio.sleep(3 if quick else 5)
        await asyncio.to_thread(self.redis.start)
        self.mark("Redis restarted (empty)", "after Redis")
        await self._at(0.35 * planned)
        await asyncio.to_thread(self.proxy.cut)
        self.mark("database cut", "database cut")
        await asyncio.sleep(5 if quick else 10)
        await asyncio.to_thread(self.proxy.restore)
        self.mark("database back", "after database")
        await self._at(0.55 * planned)
        victim = self.workers[1]
        window = time.monotonic()  # the fault's phase starts here, so the requests it kills belong to it
        for wanted, wait in ((2, 10.0), (1, 10.0)):  # kill it in the middle of turns
            deadline = time.monotonic() + wait
            while self.in_flight[1] < wanted and time.monotonic() < deadline:
                await asyncio.sleep(0.002)
            if self.in_flight[1] >= wanted:
                break
        busy = self.in_flight[1]
        victim.kill()
        self.events.append((window, f"waiting for requests in flight on {victim.name}", "worker down"))
        self.mark(f"{victim.name} killed (SIGKILL) with {busy} requests in flight")
        if self.args.no_restart:  # a machine lost with its disk: its journal never comes back
            return
        await asyncio.sleep(2)
        seconds = await asyncio.to_thread(victim.start)
        self.mark(f"{victim.name} restarted and healthy ({seconds:.1f} s to start)", "after worker")

    async def _at(self, offset: float) -> None:
        await asyncio.sleep(max(0.0, self.t0 + offset - time.monotonic()))

    def phases(self) -> list[Phase]:
        """Before the first fault, during each fault and after it (until the next one)."""
        phases = [Phase("before faults", self.t0)]
        for at, _, phase in self.events:
            if phase:
                phases[-1].end = at
                phases.append(Phase(phase, at))
        return phases

    # --- the end: wait for late replies and replays, then count ---

    def database_counts(self) -> tuple[list[tuple[str, str, int, str]], set[str] | None]:
        """Escalation rows, and the pseudonyms of people opted out in SQL (None: no such table)."""
        with psycopg.connect(self.pg.url(), connect_timeout=5) as conn:
            rows = conn.execute("SELECT conversation_id, reason, priority, status FROM escalations")
            escalations = [(str(a), str(b), int(c), str(d)) for a, b, c, d in rows]
            tables = {
                r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            }
            opted_out = None
            if "contact_preferences" in tables:  # issue 12's opt-outs in SQL, keyed by pseudonym
                found = conn.execute("SELECT person FROM contact_preferences WHERE opted_out")
                opted_out = {r[0] for r in found}
        return escalations, opted_out

    async def settle(self, messages: list[Message], senders: list[Sender]) -> float:
        started = time.monotonic()
        want_escalated = {s.conversation_id for s in senders if s.kinds() & {"emergency", "human"}}
        want_stopped = {self.pseudonyms[s.conversation_id] for s in senders if "optout" in s.kinds()}
        while time.monotonic() - started < self.args.settle:
            waiting = [m for m in messages if m.expects_reply and not self._answered(m)]
            with contextlib.suppress(psycopg.Error):
                escalations, opted_out = await asyncio.to_thread(self.database_counts)
                escalated = {r[0] for r in escalations}
                stopped_ok = opted_out is None or want_stopped <= opted_out
                if not waiting and want_escalated <= escalated and stopped_ok:
                    break
            await asyncio.sleep(2)
        return time.monotonic() - started

    def record(self, senders: list[Sender], messages: list[Message], settled: float) -> RunRecord:
        escalations: list[tuple[str, str, int, str]] | None = None
        opted_out: set[str] | None = None
        try:
            escalations, opted_out = self.database_counts()
        except psycopg.Error as exc:
            print(f"the database could not be read at the end: {exc}")
        return RunRecord(
            t0=self.t0,
            senders=senders,
            messages=messages,
            deliveries=self.deliveries,
            phases=self.phases(),
            sent=[(s.at, s.to, s.body) for s in self.twilio.sent],
            escalations=escalations,
            opted_out=opted_out,
            pseudonyms=self.pseudonyms,
            logs=[(w.name, w.log) for w in self.workers],
            settled=settled,
        )


def resolve(revision: str) -> str:
    """The full commit id of a revision, fixed once: HEAD moves while others commit during a run."""
    return subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", f"{revision}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


async def run(args: argparse.Namespace) -> None:
    """Start everything, run traffic and faults, report; every part is stopped on any exit (SIGTERM too)."""
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    senders, messages = plan(args.deliveries, 0.10, args.seed)
    if args.commit:
        args.commit = resolve(args.commit)
    tested = args.commit[:7] if args.commit else f"{resolve('HEAD')[:7]} + working tree"
    work = Path(tempfile.mkdtemp(prefix="infobot-faults-"))
    print(
        f"fault bench {time.strftime('%Y-%m-%d %H:%M')} commit {tested}: "
        f"{args.deliveries} deliveries at {args.rate:g}/s, 2 workers, {os.cpu_count()} cores "
        f"(load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}); logs in {work}",
        flush=True,
    )
    finished = False
    try:
        code = export_commit(args.commit, work) if args.commit else ROOT
        model, _ = train(ROOT, ROOT / "intents", ROOT / "models")
        redis, pg = RedisProcess(work), PostgresCluster()
        proxy = CutProxy(pg.port)
        rasa = RasaHost(code, model, work)
        async with contextlib.AsyncExitStack() as stack:
            stack.callback(pg.stop)
            stack.callback(redis.stop)
            stack.callback(proxy.stop)
            stack.callback(rasa.stop)
            twilio_url, recorder = stack.enter_context(fake_twilio())
            started = await asyncio.gather(
                *(asyncio.to_thread(part.start) for part in (redis, pg, rasa)), return_exceptions=True
            )
            for outcome in started:  # every start has returned, so every stop below sees what to stop
                if isinstance(outcome, BaseException):
                    raise outcome
            proxy.start()
            env = {
                "REDIS_URL": redis.url,
                "DATABASE_URL": pg.url(proxy.port),
                "RASA_URL": rasa.url,
                **({"RASA_TOKEN": rasa.token} if rasa.token else {}),
                "INFOBOT_SECRET_KEY": args.secret,
                "TWILIO_AUTH_TOKEN": TOKEN,
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "TWILIO_API_BASE": twilio_url,
                "PUBLIC_BASE_URL": PUBLIC,
                # abuse limits (issue 12) far above this traffic, all from loopback: faults are measured here
                "INFOBOT_RATE_LIMIT_SENDER": "1000/minute",
                "INFOBOT_RATE_LIMIT_PROVIDER": "100000/minute",
            }
            workers = [Worker(f"worker{i + 1}", work, env, code) for i in range(2)]
            for worker in workers:
                stack.callback(worker.stop)
            first = await asyncio.to_thread(workers[0].start)  # migrates the empty database
            await asyncio.to_thread(workers[1].start)
            print(f"  workers up ({first:.1f} s for the first, migrations included)", flush=True)
            bench = FaultBench(args, workers, redis, proxy, recorder, pg)
            stack.push_async_callback(bench.http.aclose)
            ids = [s.conversation_id for s in senders]
            bench.pseudonyms = dict(zip(ids, pseudonyms(code, args.secret, ids), strict=True))
            await bench.warm_up()
            planned = args.deliveries / args.rate
            bench.t0 = time.monotonic()
            bench.mark(f"traffic starts ({planned:.0f} s planned)")
            jobs = [bench.traffic(senders)]
            if not args.no_faults:
                jobs.append(bench.faults(planned))
            await asyncio.gather(*jobs)
            bench.mark("last delivery answered")
            settled = await bench.settle(messages, senders)
            record = bench.record(senders, messages, settled)
            report(record)
            if args.keep:
                dump(record, work / "messages.jsonl")
            print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        finished = True
    finally:
        if finished and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"logs and var directories kept in {work}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=10000)
    parser.add_argument("--rate", type=float, default=20.0, help="deliveries per second")
    parser.add_argument("--quick", action="store_true", help="1,000 deliveries and shorter faults")
    parser.add_argument("--no-faults", action="store_true", help="the same traffic without faults")
    parser.add_argument(
        "--no-restart",
        action="store_true",
        help="the killed worker stays down (a machine lost, disk and all)",
    )
    parser.add_argument("--settle", type=float, default=90.0, help="seconds to wait for late replies")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument(
        "--commit", help="run the workers from this commit (git archive), not from the working tree"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the logs, var directories and messages.jsonl (every delivery and answer)",
    )
    args = parser.parse_args()
    if args.quick and args.deliveries == parser.get_default("deliveries"):
        args.deliveries = 1000
    args.secret = secrets.token_hex(32)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
