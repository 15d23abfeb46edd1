"""The fault benchmark's verdict: replies lost and duplicated, escalations and opt-outs in SQL against those
sent, latency per phase as ratios to the pre-fault phase, the workers' errors, and a PASS/FAIL line."""

from __future__ import annotations

import collections
import contextlib
import json
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

from fault_traffic import LANGUAGES, Delivery, Message, Sender, attribute_rest
from webhooks import percentile

from bot.i18n import translate

APOLOGY = {translate(lang, "Sorry, something went wrong. Please try again.") for lang in LANGUAGES}
LOST_DEFINITION = (
    "lost: a unique MessageSid that expects a reply (every message except those a person sends after "
    "opting out; no conversation is held by staff here) and got none, neither a <Message> in any of its "
    "deliveries' TwiML nor a message through the REST API to its sender before that sender's next message"
)
DUPLICATED_DEFINITION = (
    "duplicated: a unique MessageSid answered more than once: TwiML responses with a <Message> plus REST "
    "answers (one turn's REST messages count once; a repeated text or a gap > 2 s starts another)"
)


@dataclass
class Phase:
    name: str
    start: float
    end: float = float("inf")


@dataclass
class RunRecord:
    """Everything one run saw, for the report."""

    t0: float
    senders: list[Sender]
    messages: list[Message]
    deliveries: list[Delivery]
    phases: list[Phase]
    sent: list[tuple[float, str, str]]
    """Messages through the fake Twilio REST API: (when, To, Body)."""
    escalations: list[tuple[str, str, int, str]] | None
    """(conversation_id, reason, priority, status) rows; None when the database could not be read."""
    opted_out: set[str] | None
    """Pseudonyms opted out in contact_preferences; None when there is no such table."""
    pseudonyms: dict[str, str]
    logs: list[tuple[str, Path]]
    settled: float


def report(run: RunRecord) -> None:
    messages = run.messages
    unmatched = attribute_rest(run.senders, run.sent)
    duplicates = len(run.deliveries) - len(messages)
    concurrent = sum(1 for m in messages if m.duplicate == "concurrent")
    print()
    print(
        f"deliveries sent: {len(run.deliveries)} ({len(messages)} unique MessageSids, {duplicates} "
        f"duplicates: {concurrent} at the same moment on both workers, {duplicates - concurrent} 0.3-4 s "
        f"later), {len(run.senders)} people"
    )
    attempts = collections.Counter(a.outcome for d in run.deliveries for a in d.attempts)
    finals = collections.Counter(d.final for d in run.deliveries)
    print(f"HTTP attempts: {sum(attempts.values())} ({_counts(attempts)})")
    print(f"final outcome per delivery: {_counts(finals)}")
    print(f"REST API messages: {len(run.sent)} ({unmatched} matched no message of this run)")
    print(f"waited {run.settled:.0f} s after the last delivery for late replies and replays")

    expecting = [m for m in messages if m.expects_reply]
    lost = [m for m in expecting if not m.answers]
    doubled = [m for m in messages if len(m.answers) > 1]
    after_stop = [m for m in messages if not m.expects_reply and m.answers]
    apologies = sum(1 for m in messages if any(b in APOLOGY for a in m.answers for b in a.bodies))
    late = sum(1 for m in messages if m.answers and all(a.via == "rest" for a in m.answers))
    print()
    print(f"  {LOST_DEFINITION}")
    print(f"  {DUPLICATED_DEFINITION}")
    print(f"replies lost: {len(lost)} of {len(expecting)} expecting one")
    print(f"replies duplicated: {len(doubled)}")
    print(f"replies to people after they opted out: {len(after_stop)} of {len(messages) - len(expecting)}")
    print(
        f"answered only late (REST API): {late}; "
        f"answered with the 'something went wrong' apology: {apologies}"
    )
    for what, found in (("lost", lost), ("duplicated", doubled), ("answered after opting out", after_stop)):
        _examples(what, found, run)

    print()
    escalations_ok = _escalations(run)
    opt_outs_ok = _opt_outs(run)
    print()
    _latency(run, {m.sid for m in lost}, {m.sid for m in doubled})
    print()
    _log_errors(run.logs)
    targets = {
        "0 lost": not lost,
        "0 duplicated": not doubled,
        "every escalation recorded": escalations_ok,
        "every opt-out recorded": opt_outs_ok,
        "0 replies after opt-out": not after_stop,
    }
    verdict = "PASS" if all(targets.values()) else "FAIL"
    print(f"{verdict}: " + ", ".join(f"{k} {'ok' if v else 'FAILED'}" for k, v in targets.items()))


def dump(run: RunRecord, path: Path) -> None:
    """Every message with its deliveries and answers (times from the start), one JSON line each."""
    with path.open("w") as out:
        for m in run.messages:
            line = {
                "sid": m.sid,
                "conversation": m.sender.conversation_id,
                "kind": m.kind,
                "text": m.text,
                "duplicate": m.duplicate,
                "sent": round((m.first_sent or run.t0) - run.t0, 3),
                "attempts": [
                    [a.worker, round(a.started - run.t0, 3), a.outcome, round(a.seconds, 3)]
                    for d in run.deliveries
                    if d.message is m
                    for a in d.attempts
                ],
                "answers": [[a.via, round(a.at - run.t0, 3), a.bodies] for a in m.answers],
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")


def _counts(counter: collections.Counter[str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counter.most_common())


def _escalations(run: RunRecord) -> bool:
    """One open escalation per person is the rule: people are compared, not messages."""
    if run.escalations is None:
        print("escalations: the database could not be read")
        return False
    asked = {s.conversation_id for s in run.senders if "human" in s.kinds()}
    emergency = {s.conversation_id for s in run.senders if "emergency" in s.kinds()}
    wanted = asked | emergency
    recorded = {r[0] for r in run.escalations}
    open_per_person = collections.Counter(r[0] for r in run.escalations if r[3] != "closed")
    urgent = {r[0] for r in run.escalations if r[2] == 0}
    missing = wanted - recorded
    cries = sum(1 for m in run.messages if m.kind == "emergency")
    asks = sum(1 for m in run.messages if m.kind == "human")
    print(
        f"escalations: {cries} emergency messages and {asks} requests for a person from {len(wanted)} "
        f"people ({len(emergency)} with an emergency); {len(wanted & recorded)} of them have an escalation "
        f"in SQL, {len(missing)} missing; {len(emergency & urgent)} of {len(emergency)} emergencies at "
        f"priority 0; {sum(1 for n in open_per_person.values() if n > 1)} people with more than one open "
        f"escalation; {len(recorded - wanted)} other people escalated (e.g. repeated fallback); "
        f"{len(run.escalations)} rows"
    )
    by_id = {s.conversation_id: s for s in run.senders}
    for cid in sorted(missing)[:5]:
        cries_of = [m for m in by_id[cid].messages if m.kind in ("emergency", "human")]
        print(
            "    missing: "
            + "; ".join(
                f"{m.kind} {m.text!r} sent @{(m.first_sent or 0.0) - run.t0:.1f}s answered by "
                f"{_answered_by(m)}"
                for m in cries_of
            )
        )
    return bool(wanted) and not missing


def _answered_by(message: Message) -> str:
    """Who answered: the workers whose TwiML carried a reply, 'REST' for a late reply."""
    return "+".join(a.worker or "REST" for a in message.answers) or "nobody"


def _opt_outs(run: RunRecord) -> bool:
    stopped = {run.pseudonyms[s.conversation_id] for s in run.senders if "optout" in s.kinds()}
    if run.opted_out is None:
        print(f"opt-outs: {len(stopped)} people opted out; no contact_preferences table in SQL")
        return False
    print(
        f"opt-outs: {len(stopped)} people opted out (STOP, BAJA, KANPE, ARRÊT...); "
        f"{len(stopped & run.opted_out)} recorded in SQL (contact_preferences), "
        f"{len(stopped - run.opted_out)} missing, "
        f"{len(run.opted_out - stopped)} recorded for people who did not opt out"
    )
    return stopped <= run.opted_out


def _latency(run: RunRecord, lost: set[str], doubled: set[str]) -> None:
    print("latency by phase (deliveries by their first attempt; 'webhook' = first attempt to final HTTP")
    print("answer, retries included; 'reply' = first attempt to the first reply seen, TwiML or REST);")
    print("in brackets p50 and p99 as ratios to the same figure before the faults:")
    base_webhook: list[float] = []
    base_reply: list[float] = []
    for n, phase in enumerate(run.phases):
        ds = [d for d in run.deliveries if phase.start <= d.started < phase.end]
        ms = [m for m in run.messages if m.first_sent and phase.start <= m.first_sent < phase.end]
        webhook = [d.finished - d.started for d in ds if d.final == "200"]
        reply = [min(a.at for a in m.answers) - (m.first_sent or 0.0) for m in ms if m.answers]
        if n == 0:
            base_webhook, base_reply = webhook, reply
        end = "end" if phase.end == float("inf") else f"{phase.end - run.t0:.0f} s"
        failed = sum(1 for d in ds for a in d.attempts if a.outcome != "200")
        print(
            f"  {phase.name:<15} {phase.start - run.t0:5.0f} s - {end:<6} {len(ds):5d} deliveries, "
            f"{failed} failed attempts, {sum(1 for m in ms if m.sid in lost)} replies lost, "
            f"{sum(1 for m in ms if m.sid in doubled)} duplicated"
        )
        print(_latency_line("webhook", webhook, base_webhook if n else []))
        print(_latency_line("reply", reply, base_reply if n else []))


def _latency_line(name: str, values: list[float], base: list[float]) -> str:
    if not values:
        return f"    {name:<8} -"
    p50, p99 = statistics.median(values), percentile(values, 0.99)
    ratios = ""
    if base:
        ratios = f"  ({p50 / statistics.median(base):5.2f}x, {p99 / percentile(base, 0.99):5.2f}x)"
    return f"    {name:<8} p50 {p50 * 1000:8.0f} ms  p99 {p99 * 1000:8.0f} ms{ratios}"


def _examples(what: str, found: list[Message], run: RunRecord, limit: int = 5) -> None:
    """A few cases in full: each delivery attempt and each answer, times from the start of the run."""
    for m in found[:limit]:
        tries = "; ".join(
            f"{a.worker} @{a.started - run.t0:.1f}s {a.outcome} {a.seconds * 1000:.0f}ms"
            for d in run.deliveries
            if d.message is m
            for a in d.attempts
        )
        answers = "; ".join(f"{a.via} @{a.at - run.t0:.1f}s {a.bodies[0][:40]!r}" for a in m.answers)
        before = ", ".join(
            f"{p.kind} {p.text!r} @{(p.first_sent or 0.0) - run.t0:.1f}s"
            for p in m.sender.messages[: m.index]
        )
        print(
            f"    {what}: {m.sid[:10]} {m.sender.channel} {m.kind} {m.text!r} dup={m.duplicate} "
            f"sent @{(m.first_sent or 0.0) - run.t0:.1f}s [{tries}] answers [{answers}]"
            + (f" after [{before}]" if before else "")
        )


def _log_errors(logs: list[tuple[str, Path]], limit: int = 12) -> None:
    """The workers' ERROR lines grouped by message (numbers blanked), to point at the cause of a failure."""
    counts: collections.Counter[str] = collections.Counter()
    for name, path in logs:
        with contextlib.suppress(OSError):
            for line in path.read_text(errors="replace").splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    if "Traceback" in line or "Error" in line:
                        counts[f"{name} (raw) {re.sub(r'[0-9]+', 'N', line)[:110]}"] += 1
                    continue
                if isinstance(entry, dict) and entry.get("level") in ("ERROR", "CRITICAL"):
                    text = f"{entry.get('logger')}: {entry.get('message')} {entry.get('error', '')}"
                    counts[f"{name} {re.sub(r'[0-9]+', 'N', text)[:110]}"] += 1
    print(f"worker log errors ({sum(counts.values())} lines):")
    for text, n in counts.most_common(limit):
        print(f"  {n:6d}  {text}")
