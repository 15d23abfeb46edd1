"""The installation's secret key: never empty or short, one key for workers that start together, and
separate derived keys per purpose."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

import pytest

from bot.config import MIN_SECRET_LENGTH, PROJECT_ROOT, ConfigError, Settings, _publish_new_secret
from bot.privacy import derive_key

GOOD_KEY = "k" * 7 + "0123456789abcdefghijklmnopqrstuvwxyz"


def settings_for(var_dir: Path, **env: str) -> Settings:
    return Settings.from_env({"INFOBOT_VAR_DIR": str(var_dir), **env}, root=PROJECT_ROOT)


@pytest.mark.parametrize("value", ["", "   ", "short-key", "x" * (MIN_SECRET_LENGTH - 1)])
def test_an_empty_or_short_environment_key_is_refused_with_what_to_do(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        settings_for(tmp_path, INFOBOT_SECRET_KEY=value)
    message = str(refused.value)
    assert "INFOBOT_SECRET_KEY" in message and f"at least {MIN_SECRET_LENGTH}" in message
    assert "secrets.token_hex(32)" in message
    assert not (tmp_path / "secret_key").exists()  # a refused key never falls back to a file silently


def test_a_key_of_the_minimum_length_is_accepted_as_given(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, INFOBOT_SECRET_KEY="y" * MIN_SECRET_LENGTH)
    assert settings.secret_key == b"y" * MIN_SECRET_LENGTH


@pytest.mark.parametrize("content", [b"", b"\n", b"abc123\n"])
def test_an_empty_or_short_key_file_is_refused_not_used(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "secret_key").write_bytes(content)
    with pytest.raises(ConfigError) as refused:
        settings_for(tmp_path)
    message = str(refused.value)
    assert str(tmp_path / "secret_key") in message and "delete the file" in message
    assert (tmp_path / "secret_key").read_bytes() == content  # the operator decides; nothing overwritten


def test_a_generated_key_is_private_long_and_stable_across_restarts(tmp_path: Path) -> None:
    first = settings_for(tmp_path / "var")
    path = tmp_path / "var" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.secret_key) >= MIN_SECRET_LENGTH
    assert settings_for(tmp_path / "var").secret_key == first.secret_key
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret_key"]  # no temporary file left


def test_an_unwritable_var_dir_asks_for_the_environment_key(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where var/ should be")
    with pytest.raises(ConfigError, match="set INFOBOT_SECRET_KEY"):
        settings_for(blocker / "var")


def test_a_worker_that_loses_the_race_keeps_the_winners_key(tmp_path: Path) -> None:
    """The loser's link fails because the name exists: the winner's key stays, the loser's is discarded."""
    winner = tmp_path / "secret_key"
    winner.write_bytes(GOOD_KEY.encode())
    _publish_new_secret(winner)
    assert winner.read_bytes() == GOOD_KEY.encode()
    assert settings_for(tmp_path).secret_key == GOOD_KEY.encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]


def _start_worker(
    var_dir: str, barrier: multiprocessing.synchronize.Barrier, keys: multiprocessing.Queue
) -> None:
    barrier.wait()
    try:
        keys.put(settings_for(Path(var_dir)).secret_key)
    except Exception as exc:  # the parent asserts on what each worker saw
        keys.put(repr(exc).encode())


def test_workers_starting_together_share_one_key(tmp_path: Path) -> None:
    """Eight processes released at once by a barrier, 30 times over: every round ends with one key (the
    former exists-then-write code gave several keys in 1 to 8 rounds of 30)."""
    context = multiprocessing.get_context("fork")
    for round_number in range(30):
        var_dir = tmp_path / f"round-{round_number}" / "var"
        barrier, keys = context.Barrier(8), context.Queue()
        workers = [
            context.Process(target=_start_worker, args=(str(var_dir), barrier, keys)) for _ in range(8)
        ]
        for worker in workers:
            worker.start()
        seen = [keys.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join(timeout=60)
        assert set(seen) == {(var_dir / "secret_key").read_bytes()}, seen
        assert sorted(p.name for p in var_dir.iterdir()) == ["secret_key"]


def test_each_purpose_has_its_own_key_derived_from_the_master(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, INFOBOT_SECRET_KEY=GOOD_KEY)
    derived = {settings.pseudonym_key, settings.session_key, settings.webchat_key}
    assert len(derived) == 3 and settings.secret_key not in derived
    assert settings.pseudonym_key == derive_key(GOOD_KEY.encode(), "pseudonym")
    assert settings.session_key == derive_key(GOOD_KEY.encode(), "session")
    assert settings.webchat_key == derive_key(GOOD_KEY.encode(), "webchat")
    other = settings_for(tmp_path, INFOBOT_SECRET_KEY=GOOD_KEY[::-1])
    assert other.pseudonym_key != settings.pseudonym_key
