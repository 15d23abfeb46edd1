"""The write-ahead journal: entries stay until done, compaction keeps exactly the pending ones, and
writers in other processes lose nothing while it runs."""

from __future__ import annotations

import datetime as dt
import multiprocessing
from pathlib import Path

from bot.journal import Entry, Journal


def test_entries_are_pending_until_marked_done_and_compaction_removes_the_rest(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    first, second = Entry("escalation", {"n": 1}), Entry("erasure", {"n": 2})
    journal.append(first, second)
    assert [e.key for e in journal.pending()] == [first.key, second.key]
    journal.mark_done(first.key)
    assert journal.pending() == [second]
    journal.compact()
    assert journal.path.read_text().count("\n") == 1 and '"n": 2' in journal.path.read_text()
    journal.mark_done(second.key)
    journal.compact()
    assert journal.path.read_text() == ""


def test_an_unreadable_line_is_kept_for_an_operator_and_blocks_nothing(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    journal.append(Entry("a", {}))
    with path.open("a") as fh:
        fh.write('{"half a line\n')
    journal.append(entry := Entry("b", {}))
    assert [e.kind for e in journal.pending()] == ["a", "b"]
    journal.mark_done(*(e.key for e in journal.pending()))
    journal.compact()
    assert path.read_text() == '{"half a line\n'
    assert entry.key not in path.read_text()


def test_retention_drops_entries_that_could_not_be_applied_for_too_long(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    old = Entry("escalation", {"address": "+50600000000"}, at="2020-01-01T00:00:00+00:00")
    journal.append(old, recent := Entry("escalation", {}))
    assert journal.compact(drop_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=90)) == 1
    assert journal.pending() == [recent] and "+50600000000" not in journal.path.read_text()


def test_replay_applies_in_order_stops_when_the_destination_is_down_and_skips_a_bad_entry(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    entries = [Entry("ok", {"n": n}) for n in range(3)]
    journal.append(entries[0], Entry("bad", {}), *entries[1:])
    applied: list[int] = []

    def apply(entry: Entry) -> bool:
        if entry.kind == "bad":
            raise ValueError("a malformed entry")
        if entry.data["n"] == 2 and len(applied) < 3:
            applied.append(-1)
            raise ConnectionError("down")
        applied.append(entry.data["n"])
        return True

    assert journal.replay(apply, (ConnectionError,)) == 2  # 0 and 1; stopped at 2
    assert [e.kind for e in journal.pending()] == ["bad", "ok"]
    assert journal.replay(apply, (ConnectionError,)) == 1
    assert applied == [0, 1, -1, 2] and [e.kind for e in journal.pending()] == ["bad"]


def test_legacy_lines_are_read_through_the_converter(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text('{"code": "ABC"}\n')
    journal = Journal(path, legacy=lambda raw: Entry("referral", raw, key=f"referral:{raw['code']}"))
    assert [(e.kind, e.key) for e in journal.pending()] == [("referral", "referral:ABC")]


def _append_many(path: str, worker: int, count: int) -> None:
    journal = Journal(Path(path))
    for n in range(count):
        journal.append(Entry("w", {"worker": worker, "n": n}))


def test_writers_in_other_processes_lose_nothing_while_the_journal_is_compacted(tmp_path: Path) -> None:
    path = tmp_path / "shared.jsonl"
    journal = Journal(path)
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_append_many, args=(str(path), w, 300)) for w in range(3)]
    for writer in writers:
        writer.start()
    compactions = 0
    while any(w.is_alive() for w in writers):
        done = [e.key for e in journal.pending() if e.data["n"] % 2]  # odd ones reach their destination
        journal.mark_done(*done)
        journal.compact()
        compactions += 1
    for writer in writers:
        writer.join(30)
        assert writer.exitcode == 0
    journal.mark_done(*(e.key for e in journal.pending() if e.data["n"] % 2))
    journal.compact()
    left = sorted((e.data["worker"], e.data["n"]) for e in journal.pending())
    assert left == sorted((w, n) for w in range(3) for n in range(0, 300, 2)), (
        f"after {compactions} compactions"
    )
