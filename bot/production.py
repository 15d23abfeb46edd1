"""What stops `infobot serve` in production: placeholder hubs and settings that are only safe on a laptop.

A sample hub would hand real people referral codes for an invented address and invented hours; an http
public address leaks console cookies and webhook signatures; a secret key kept in a file beside the
database is copied with every backup of it. Development keeps working with all of these.
"""

from __future__ import annotations

from bot.config import Settings
from bot.referrals import Directory, DirectoryError, load_directory


def problems(settings: Settings, directory: Directory) -> list[str]:
    """Every reason this installation is not fit to serve people, one line each (empty when fit)."""
    found: list[str] = []
    for hub in directory.hubs:
        where = f"{hub.file}:{hub.line}" if hub.file else hub.country
        if hub.sample:
            found.append(
                f"hub '{hub.id}' ({where}) is a sample (sample: true): write the hub's confirmed address, "
                "phone and hours, then delete the sample line"
            )
        if not hub.source:
            found.append(
                f"hub '{hub.id}' ({where}) has no source: write where its details were confirmed "
                "(source: the office or page that confirmed them)"
            )
    if not directory.hubs:
        found.append("the hub directory has no hubs: people could not be referred anywhere")
    base = settings.public_base_url or ""
    if base.lower().startswith("http://"):
        found.append(
            f"PUBLIC_BASE_URL is {base}: use https:// so console sessions and webhooks are not sent in clear"
        )
    if settings.twilio_auth_token and not base:
        found.append(
            "TWILIO_AUTH_TOKEN is set without PUBLIC_BASE_URL: Twilio signatures would be checked against "
            "the host each request names; set PUBLIC_BASE_URL to the https:// address Twilio calls"
        )
    if not settings.secret_key_from_env:
        found.append(
            f"INFOBOT_SECRET_KEY is not set: the key is read from {settings.var_dir / 'secret_key'}, beside "
            "the database and copied with its backups; set INFOBOT_SECRET_KEY from the host's secret store"
        )
    return found


def refusals(settings: Settings) -> list[str]:
    """`problems` for the installation's own hub directory when INFOBOT_ENV=production; [] otherwise."""
    if settings.env != "production":
        return []
    try:
        directory = load_directory(settings.root / "referrals" / "hubs", settings.root)
    except DirectoryError as exc:
        return [f"hub directory: {problem}" for problem in exc.problems]
    return problems(settings, directory)
