"""`infobot content export` / `import`: the unchanged export imports as a no-op version, a broken import is
refused as a whole and the live answers do not change, and translations left behind show in the check."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from sqlalchemy import select

from bot.config import PROJECT_ROOT
from bot.content import live
from bot.content.library import ContentSource
from bot.db import make_engine, session_factory
from bot.db.models import AuditEntry, ContentVersion

INFOBOT = str(PROJECT_ROOT / ".venv" / "bin" / "infobot")


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "INFOBOT_SECRET_KEY": "test-secret-key-0123456789abcdefghij",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite",
        "INFOBOT_VAR_DIR": str(tmp_path / "var"),
    }
    return subprocess.run([INFOBOT, *args], capture_output=True, text=True, env=env, timeout=300)


def versions(tmp_path: Path) -> list[ContentVersion]:
    engine = make_engine(f"sqlite:///{tmp_path}/db.sqlite")
    with session_factory(engine)() as session:
        return list(session.scalars(select(ContentVersion).order_by(ContentVersion.id)))


def live_ht_fraud(tmp_path: Path) -> str:
    """What a worker would answer: the files with the live versions from SQL."""
    source = ContentSource(PROJECT_ROOT / "content")
    live.LivePoller(source, session_factory(make_engine(f"sqlite:///{tmp_path}/db.sqlite"))).poll()
    entry = source.current().lookup("ask_fraud", "ht", None)
    assert entry is not None
    return entry.text


def test_export_then_import_publish_is_a_no_op_version(tmp_path: Path) -> None:
    out = tmp_path / "export"
    assert run(tmp_path, "content", "export", str(out)).returncode == 0
    assert (out / "ht" / "ask_fraud.yml").read_bytes() == (
        PROJECT_ROOT / "content/ht/ask_fraud.yml"
    ).read_bytes()
    result = run(tmp_path, "content", "import", str(out), "--publish")
    assert result.returncode == 0, result.stderr
    assert "no entry changed" in result.stdout
    [version] = versions(tmp_path)
    assert (version.status, version.entries, version.published_seq) == ("live", "", 1)


def test_a_broken_import_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "export"
    run(tmp_path, "content", "export", str(out))
    before = live_ht_fraud(tmp_path)
    path = out / "ht" / "ask_fraud.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("reviewed: 20", "reviewed: 30", 1), "utf-8")
    (out / "es" / "ask_work.yml").write_text("general: [broken", encoding="utf-8")
    result = run(tmp_path, "content", "import", str(out), "--publish")
    assert result.returncode == 1
    assert "ht/ask_fraud.yml" in result.stdout and "in the future" in result.stdout
    assert "es/ask_work.yml:" in result.stdout and "error: cannot read this YAML" in result.stdout
    assert "nothing changed" in result.stderr and "Traceback" not in result.stderr
    assert versions(tmp_path) == [] and live_ht_fraud(tmp_path) == before
    engine = make_engine(f"sqlite:///{tmp_path}/db.sqlite")
    with session_factory(engine)() as session:
        assert "content_import_refused" in {a.action for a in session.scalars(select(AuditEntry))}


def test_an_import_is_a_draft_unless_published_and_other_languages_need_an_update(tmp_path: Path) -> None:
    out = tmp_path / "export"
    run(tmp_path, "content", "export", str(out))
    path = out / "ht" / "ask_fraud.yml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("  text: |\n", "  text: |\n    Tès.\n", 1), "utf-8"
    )
    draft = run(tmp_path, "content", "import", str(out))
    assert "(draft): ask_fraud" in draft.stdout
    assert not live_ht_fraud(tmp_path).startswith("Tès.")
    published = run(tmp_path, "content", "import", str(out), "--publish")
    assert "(live): ask_fraud" in published.stdout, published.stdout + published.stderr
    assert live_ht_fraud(tmp_path).startswith("Tès.")
    check = run(tmp_path, "content", "check").stdout
    for lang in ("es", "en", "fr"):
        assert f"content/{lang}/ask_fraud.yml:0: warning: 'ask_fraud' needs update in {lang}" in check
    assert "needs update in ht" not in check
    assert run(tmp_path, "content", "import", str(tmp_path / "missing")).returncode == 2
