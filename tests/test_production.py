"""INFOBOT_ENV=production: `infobot serve` refuses placeholder hubs and unsafe settings, and says why."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, ConfigError, Settings
from bot.production import problems, refusals
from bot.referrals import DEFAULT_HUBS_DIR, load_directory

INFOBOT = str(PROJECT_ROOT / ".venv" / "bin" / "infobot")
KEY = "test-secret-key-0123456789abcdefghij"


def settings(tmp_path: Path, **env: str) -> Settings:
    base = {"INFOBOT_SECRET_KEY": KEY, "INFOBOT_VAR_DIR": str(tmp_path / "var"), **env}
    return Settings.from_env({k: v for k, v in base.items() if v}, root=PROJECT_ROOT)


def confirmed_hubs(tmp_path: Path) -> Path:
    """A copy of the shipped hubs with every sample line replaced by a source, as after confirmation."""
    target = tmp_path / "referrals" / "hubs"
    shutil.copytree(DEFAULT_HUBS_DIR, target)
    for path in target.glob("*.yml"):
        text = path.read_text(encoding="utf-8")
        path.write_text(
            text.replace("sample: true", 'source: "IOM country office, confirmed by letter"'),
            encoding="utf-8",
        )
    return target


def test_shipped_samples_are_each_named_with_file_and_line(tmp_path: Path) -> None:
    found = problems(settings(tmp_path), load_directory())
    samples = [p for p in found if "is a sample" in p]
    assert len(samples) == len(load_directory().hubs) == 35
    assert any(re.match(r"hub 'cr-upala' \(referrals/hubs/CR\.yml:\d+\) is a sample", p) for p in samples)
    unsourced = {p.split("'")[1] for p in found if "has no source" in p}
    assert {"ht-port-au-prince", "gd-st-georges", "sr-paramaribo"} <= unsourced


def test_confirmed_hubs_with_safe_settings_have_no_problem(tmp_path: Path) -> None:
    directory = load_directory(confirmed_hubs(tmp_path))
    safe = settings(tmp_path, PUBLIC_BASE_URL="https://infobot.example.org")
    assert problems(safe, directory) == []


def test_http_public_address_and_a_key_from_the_var_file_are_refused(tmp_path: Path) -> None:
    directory = load_directory(confirmed_hubs(tmp_path))
    unsafe = settings(tmp_path, INFOBOT_SECRET_KEY="", PUBLIC_BASE_URL="http://infobot.example.org")
    found = problems(unsafe, directory)
    assert len(found) == 2
    assert "PUBLIC_BASE_URL is http://infobot.example.org" in found[0] and "https://" in found[0]
    assert found[1].startswith("INFOBOT_SECRET_KEY is not set") and "secret_key" in found[1]


def test_development_keeps_working_with_the_samples(tmp_path: Path) -> None:
    assert settings(tmp_path).env == "development"
    assert refusals(settings(tmp_path, PUBLIC_BASE_URL="http://localhost:8000")) == []
    assert refusals(settings(tmp_path, INFOBOT_ENV="production"))  # the same install, in production


def test_a_misspelt_environment_is_an_error_not_development(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="INFOBOT_ENV"):
        settings(tmp_path, INFOBOT_ENV="prod")


def run_serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "INFOBOT_SECRET_KEY": KEY, "INFOBOT_VAR_DIR": str(tmp_path / "var"), **env}
    full = {k: v for k, v in full.items() if v}
    return subprocess.run(
        [INFOBOT, "serve", "--port", "9"], capture_output=True, text=True, env=full, timeout=120
    )


def test_serve_in_production_with_the_shipped_samples_refuses_and_says_why(tmp_path: Path) -> None:
    result = run_serve(
        tmp_path, INFOBOT_ENV="production", INFOBOT_SECRET_KEY="", PUBLIC_BASE_URL="http://bot.example.org"
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith("infobot: refusing to serve in production: ") for line in lines)
    assert sum("is a sample" in line for line in lines) == 35
    assert any("hub 'gd-st-georges'" in line and "has no source" in line for line in lines)
    assert any("PUBLIC_BASE_URL is http://bot.example.org" in line for line in lines)
    assert any("INFOBOT_SECRET_KEY is not set" in line for line in lines)
    assert "Traceback" not in result.stderr and "ready" not in result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_in_development_starts_with_the_samples(rasa_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "INFOBOT_SECRET_KEY": KEY,
        "INFOBOT_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path}/dev.db",
        "RASA_URL": rasa_url,
    }
    env.pop("INFOBOT_ENV", None)
    process = subprocess.Popen(
        [INFOBOT, "serve", "--port", str(free_port())],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        deadline = time.monotonic() + 120
        line = ""
        while time.monotonic() < deadline and process.poll() is None:
            line = process.stdout.readline()
            if "ready" in line:
                break
        assert "infobot ready" in line, process.stderr.read() if process.poll() is not None else line
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
