"""Three fault cases of bench/faults.py played step by step, each ending in one line: what the person got.

The fault benchmark finds these by chance under load; here each is forced, with the same parts (its own
Redis, PostgreSQL behind a cuttable proxy, Rasa, the fake Twilio REST API, signed deliveries):

- `opt-out`: a person writes STOP; Redis is restarted empty and the database cut; they write again.
  Expected: no answer (the opt-out holds when neither Redis nor SQL can say).
- `killed-mid-turn`: a turn is held up (Rasa stopped with SIGSTOP), its worker is SIGKILLed, the
  provider retries on the other worker (after 1 s, then again after 20 s). Expected: one answer, never
  an empty 200 that leaves the message unanswered while the dead worker stays down.
- `stale-redis`: Redis restarts, the database is cut, and the same MessageSid reaches both workers at
  once. Expected: answered once.

    .venv/bin/python bench/fault_cases.py [opt-out|killed-mid-turn|stale-redis ...] [--commit REV]
"""

# ruff: noqa: E402  (imports after sys.path is set)
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fault_services import (
    CutProxy,
    PostgresCluster,
    RasaHost,
    RedisProcess,
    TwilioRecorder,
    Worker,
    export_commit,
    fake_twilio,
)
from fault_traffic import twiml_bodies
from webhooks import PUBLIC, TOKEN

from bot.nlu.training import train


@dataclass
class Parts:
    redis: RedisProcess
    proxy: CutProxy
    rasa: RasaHost
    twilio: TwilioRecorder
    workers: list[Worker]
    http: httpx.AsyncClient

    async def deliver(self, worker: Worker, sid: str, sender: str, text: str) -> str:
        """One signed delivery: 'HTTP <status>: <n> message(s)', or the client's error."""
        params = {
            "From": f"whatsapp:{sender}",
            "To": "whatsapp:+14155238886",
            "Body": text,
            "MessageSid": sid,
            "AccountSid": "AC" + "0" * 32,
            "NumMedia": "0",
        }
        signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/webhooks/twilio", params)
        try:
            response = await self.http.post(
                f"{worker.url}/webhooks/twilio", data=params, headers={"X-Twilio-Signature": signature}
            )
        except httpx.HTTPError as exc:
            return exc.__class__.__name__
        return f"HTTP {response.status_code}: {len(twiml_bodies(response.text))} message(s)"

    def sent_to(self, sender: str) -> int:
        return sum(1 for s in self.twilio.sent if s.to == f"whatsapp:{sender}")


@contextlib.asynccontextmanager
async def parts(code: Path, work: Path, workers: int) -> AsyncIterator[Parts]:
    model, _ = train(ROOT, ROOT / "intents", ROOT / "models")
    redis, pg = RedisProcess(work), PostgresCluster()
    proxy = CutProxy(pg.port)
    rasa = RasaHost(code, model, work)
    with contextlib.ExitStack() as stack:
        for part in (pg, redis, proxy, rasa):
            stack.callback(part.stop)
        twilio_url, recorder = stack.enter_context(fake_twilio())
        for part in (redis, pg, proxy, rasa):
            await asyncio.to_thread(part.start)
        env = {
            "REDIS_URL": redis.url,
            "DATABASE_URL": pg.url(proxy.port),
            "RASA_URL": rasa.url,
            **({"RASA_TOKEN": rasa.token} if rasa.token else {}),
            "INFOBOT_SECRET_KEY": secrets.token_hex(32),
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_API_BASE": twilio_url,
            "PUBLIC_BASE_URL": PUBLIC,
        }
        started = [Worker(f"worker{i + 1}", work, env, code) for i in range(workers)]
        for worker in started:
            stack.callback(worker.stop)
            await asyncio.to_thread(worker.start)
        async with httpx.AsyncClient(timeout=30) as http:
            yield Parts(redis, proxy, rasa, recorder, started, http)


def verdict(ok: bool, what: str) -> bool:
    print(f"{'PASS' if ok else 'FAIL'}: {what}")
    return ok


async def opt_out(p: Parts) -> bool:
    who, worker = "+50688000001", p.workers[0]
    print("  hola ->", await p.deliver(worker, "SMCASE0001" + "0" * 24, who, "hola"))
    print("  STOP ->", await p.deliver(worker, "SMCASE0002" + "0" * 24, who, "STOP"))
    p.redis.kill()
    p.redis.start()
    p.proxy.cut()
    print("  Redis restarted empty, database cut")
    got = await p.deliver(worker, "SMCASE0003" + "0" * 24, who, "necesito un médico")
    p.proxy.restore()
    print("  necesito un médico ->", got)
    return verdict(got.endswith(" 0 message(s)"), "nothing sent after STOP with Redis empty and SQL cut")


def pid_listening(port: int) -> int:
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    found = re.search(r"pid=(\d+)", out)
    if found is None:
        raise RuntimeError(f"nothing listens on port {port}")
    return int(found.group(1))


async def killed_mid_turn(p: Parts) -> bool:
    who, sid = "+50688000002", "SMCASE0004" + "0" * 24
    rasa_pid = pid_listening(int(p.rasa.url.rsplit(":", 1)[1]))
    os.kill(rasa_pid, signal.SIGSTOP)  # the turn waits for the NLU
    try:
        first = asyncio.create_task(p.deliver(p.workers[1], sid, who, "necesito un médico"))
        await asyncio.sleep(1.0)
        p.workers[1].kill()
    finally:
        os.kill(rasa_pid, signal.SIGCONT)
    print("  delivery to worker2, SIGKILLed mid-turn ->", await first)
    answers = 0
    for wait in (1.0, 20.0):  # the provider's retries, on the other worker
        await asyncio.sleep(wait)
        got = await p.deliver(p.workers[0], sid, who, "necesito un médico")
        print(f"  retry on worker1 after {wait:.0f} s ->", got)
        answers += int(got.startswith("HTTP 200") and not got.endswith(" 0 message(s)"))
        if got.startswith("HTTP 200"):
            break  # a 200 is never retried
    await asyncio.sleep(5)
    answers += p.sent_to(who)
    return verdict(answers == 1, f"answered once while the killed worker stays down ({answers} answers)")


async def stale_redis(p: Parts) -> bool:
    await asyncio.gather(  # several connections in each worker's Redis pool
        *(p.deliver(p.workers[i % 2], f"SMWARM{i:028d}", f"+5068810{i:04d}", "hola") for i in range(16))
    )
    p.redis.kill()
    p.redis.start()
    p.proxy.cut()
    print("  Redis restarted empty, database cut")
    sid, who = "SMCASE0005" + "0" * 24, "+50688000005"
    both = await asyncio.gather(*(p.deliver(w, sid, who, "necesito un médico") for w in p.workers))
    p.proxy.restore()
    print("  the same MessageSid on both workers at once ->", both)
    answers = sum(1 for got in both if got.startswith("HTTP 200") and not got.endswith(" 0 message(s)"))
    return verdict(answers == 1, f"a concurrent duplicate answered once ({answers} answers)")


CASES: dict[str, tuple[int, Callable[[Parts], Awaitable[bool]]]] = {
    "opt-out": (1, opt_out),
    "killed-mid-turn": (2, killed_mid_turn),
    "stale-redis": (2, stale_redis),
}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", help=f"some of {', '.join(CASES)} (default: all)")
    parser.add_argument("--commit", help="run the workers from this commit (git archive)")
    args = parser.parse_args()
    unknown = [name for name in args.cases if name not in CASES]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}; choose from {', '.join(CASES)}")
    for name in args.cases or CASES:
        work = Path(tempfile.mkdtemp(prefix="infobot-case-"))
        try:
            code = export_commit(args.commit, work) if args.commit else ROOT
            workers, case = CASES[name]
            print(f"{name}:")
            async with parts(code, work, workers) as p:
                await case(p)
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
