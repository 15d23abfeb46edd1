"""`infobot campaign send` and its bad input: one line naming the problem, a non-zero exit, nothing sent."""

from __future__ import annotations

from pathlib import Path

from tests.campaigns.conftest import provider_env
from tests.helpers.campaign_fakes import CampaignFake
from tests.test_cli import run

GOOD = """
id: work-permits
audience: {countries: [MX], languages: [es], topics: [work]}
messages: {es: "Nuevo permiso de trabajo"}
"""
BAD = {
    "not yaml": "id: [unclosed",
    "unknown key": GOOD + "extra: 1\n",
    "bad id": GOOD.replace("work-permits", "Work Permits!"),
    "unknown country": GOOD.replace("[MX]", "[ZZ]"),
    "no text for a language": GOOD.replace("[es]", "[es, fr]"),
    "bad template": GOOD + 'whatsapp_template: {es: {content_sid: "nope"}}\n',
}


def test_bad_campaign_files_are_one_line_errors_and_send_nothing(tmp_path: Path, fake: CampaignFake) -> None:
    env = provider_env(fake, f"sqlite:///{tmp_path}/c.db", tmp_path)
    for name, body in BAD.items():
        path = tmp_path / "c.yml"
        path.write_text(body)
        result = run(["campaign", "send", str(path)], **env)
        assert result.returncode == 2, name
        assert result.stderr.startswith("infobot: error: ") and len(result.stderr.splitlines()) == 1, name
    missing = run(["campaign", "send", str(tmp_path / "nope.yml")], **env)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert not fake.sent and not fake.refused


def test_dry_run_and_dead_redis(tmp_path: Path, fake: CampaignFake) -> None:
    env = provider_env(fake, f"sqlite:///{tmp_path}/c.db", tmp_path)
    (tmp_path / "c.yml").write_text(GOOD)
    dry = run(["campaign", "send", "--dry-run", str(tmp_path / "c.yml")], **env)
    assert dry.returncode == 0 and "campaign work-permits: 0 recipient(s)" in dry.stdout
    (tmp_path / "list.csv").write_text(
        "channel,address,language,country,topics,consent_version,consented_at\n"
        "sms,+5215512345678,es,MX,work,v1,2026-01-01T00:00:00Z\n"
    )
    assert run(["subscribers", "import", str(tmp_path / "list.csv")], **env).returncode == 0
    dead = run(["campaign", "send", str(tmp_path / "c.yml")], **{**env, "REDIS_URL": "redis://127.0.0.1:1/0"})
    assert dead.returncode == 2 and "Redis at REDIS_URL is not reachable" in dead.stderr
    assert not fake.sent
    sent = run(["campaign", "send", str(tmp_path / "c.yml")], **env)
    assert sent.returncode == 0 and "1 targeted, 1 sent" in sent.stdout
    assert [s.params["Body"] for s in fake.sent] == ["Nuevo permiso de trabajo"]
