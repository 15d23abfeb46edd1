"""`infobot`: serve, chat, train, nlu parse/eval, content check. Bad input: one line, non-zero exit."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from bot import COUNTRIES, LANGUAGES
from bot.config import ConfigError, Settings

if TYPE_CHECKING:
    from bot.content.loader import Problem


class UsageError(Exception):
    """Bad input from the person at the terminal: printed as one line."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="infobot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    chat = sub.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument("--lang")
    chat.add_argument("--country")
    train = sub.add_parser("train", help="train the Rasa NLU model from intents/")
    train.add_argument("--force", action="store_true")
    train.add_argument(
        "--with-labelled",
        action="store_true",
        help="add the accepted labelled examples; swap only if not worse",
    )
    train.add_argument(
        "--heldout", default=None, help="JSON lines to compare on (default tests/nlu/heldout.jsonl)"
    )
    nlu = sub.add_parser("nlu", help="NLU tools").add_subparsers(dest="nlu_command", required=True)
    nlu.add_parser("parse", help="JSON lines {text} on stdin -> intent and language per line")
    evaluate = nlu.add_parser("eval", help="score the NLU on JSON lines {text, intent, lang?}")
    evaluate.add_argument("file")
    export_labelled = nlu.add_parser("export-labelled", help="accepted labelled examples as Rasa YAML")
    export_labelled.add_argument("dir")
    referrals = sub.add_parser("referrals", help="referral log").add_subparsers(
        dest="referrals_command", required=True
    )
    export = referrals.add_parser("export", help="the referral log, pseudonymised")
    export.add_argument("--since", type=_date, default=None)
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    report = sub.add_parser("report", help="the month's figures as CSV and PNG charts")
    report.add_argument("--month", required=True)
    report.add_argument("--out", default="var/reports")
    scam = sub.add_parser("scam", help="scam check").add_subparsers(dest="scam_command", required=True)
    scam.add_parser("check", help='JSON lines {"text"} on stdin -> verdict and signals per line')
    content = sub.add_parser("content", help="content tools").add_subparsers(
        dest="content_command", required=True
    )
    check = content.add_parser("check", help="validate content/, the UI catalogs and the hub directory")
    check.add_argument("--quiet", action="store_true", help="print errors only, not warnings")
    export_content = content.add_parser("export", help="the live content as YAML in the layout of content/")
    export_content.add_argument("dir")
    import_content = content.add_parser("import", help="check DIR and store it as a new content version")
    import_content.add_argument("dir")
    import_content.add_argument("--publish", action="store_true", help="live at once (else a draft)")
    staff = sub.add_parser("staff", help="console accounts").add_subparsers(
        dest="staff_command", required=True
    )
    add = staff.add_parser("add", help="create a console account; the password is read from stdin")
    add.add_argument("email")
    add.add_argument("--role", required=True, help="agent, editor or admin")
    remove = staff.add_parser("remove", help="delete a console account; its sessions end at once")
    remove.add_argument("email")
    reset = staff.add_parser("reset", help="set a new password (read from stdin); the account's sessions end")
    reset.add_argument("email")
    subscribers = sub.add_parser("subscribers", help="campaign subscribers").add_subparsers(
        dest="subscribers_command", required=True
    )
    subscribers.add_parser("import", help="add opt-in subscribers from a CSV file").add_argument("file")
    campaign = sub.add_parser("campaign", help="C4D campaigns").add_subparsers(
        dest="campaign_command", required=True
    )
    send = campaign.add_parser("send", help="send a campaign file once per matching subscriber")
    send.add_argument("file")
    send.add_argument("--dry-run", action="store_true", help="print the audience per channel and language")
    campaign.add_parser("worker", help="an arq worker that sends queued campaigns (needs REDIS_URL)")
    return parser


def _cmd_subscribers(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.campaigns.runner import import_subscribers

    try:
        result = import_subscribers(settings, Path(args.file), sys.stdout)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    return 1 if result.bad else 0


def _cmd_campaign(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from redis.exceptions import RedisError

    from bot.campaigns.runner import dry_run, run_worker, send
    from bot.campaigns.spec import load_spec

    try:
        lease = float(os.environ.get("INFOBOT_CAMPAIGN_LEASE") or 15)
    except ValueError as exc:
        raise UsageError("INFOBOT_CAMPAIGN_LEASE must be a number of seconds") from exc
    try:
        if args.campaign_command == "worker":
            asyncio.run(run_worker(settings, lease))
        elif args.dry_run:
            dry_run(settings, load_spec(Path(args.file)), sys.stdout)
        else:
            asyncio.run(send(settings, Path(args.file), sys.stdout, lease))
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    except (RedisError, ConnectionError) as exc:
        raise UsageError(
            f"Redis at REDIS_URL is not reachable ({exc.__class__.__name__}): nothing was sent"
        ) from exc
    return 0


def _cmd_train(settings: Settings, args: argparse.Namespace) -> int:
    from bot.nlu.training import TrainingError, train

    if args.with_labelled:
        return _train_with_labelled(settings, args)
    started = time.monotonic()
    try:
        model, trained = train(settings.root, settings.intents_dir, settings.models_dir, force=args.force)
    except TrainingError as exc:
        raise UsageError(str(exc)) from exc
    verb = f"trained in {time.monotonic() - started:.1f} s" if trained else "up to date (intents/ unchanged)"
    print(f"{model.relative_to(settings.root)}: {verb}")
    return 0


def _train_with_labelled(settings: Settings, args: argparse.Namespace) -> int:
    """Retrain with the accepted examples; the comparison is printed and kept; swapped only if not worse."""
    from pathlib import Path

    from bot.content.files import operator
    from bot.db import session_factory
    from bot.nlu.retrain import RetrainError, retrain
    from bot.nlu.training import TrainingError

    heldout = Path(args.heldout) if args.heldout else None
    if heldout is not None and not heldout.is_file():
        raise UsageError(f"no such file: {args.heldout}")
    sessions = session_factory(_database(settings))
    try:
        outcome = asyncio.run(retrain(settings, sessions, operator(), heldout))
    except (RetrainError, TrainingError) as exc:
        raise UsageError(str(exc)) from exc
    print(f"{'lang':<8}{'n':>6}{'accuracy before/after':>24}{'wrong before/after':>22}")
    for lang, row in outcome.comparison["languages"].items():
        acc, wrong = row["accuracy"], row["wrong_answers"]
        print(f"{lang:<8}{row['n']:>6}{acc[0]:>12.3f}{acc[1]:>12.3f}{wrong[0]:>11.3f}{wrong[1]:>11.3f}")
    if not outcome.swapped:
        print(f"refused (retrain {outcome.retrain_id}): worse on " + "; ".join(outcome.reasons))
        return 1
    print(f"swapped in (retrain {outcome.retrain_id}): {outcome.model.name}; workers load it within seconds")
    return 0


def _cmd_content_check(settings: Settings, args: argparse.Namespace) -> int:
    """Answers, UI catalogs and the hub directory: every problem with its file and line."""
    from bot.content.catalogs import check_catalogs
    from bot.content.check import check_content
    from bot.referrals import validate_directory

    problems = check_content(settings.content_dir, dt.date.today()) + check_catalogs()
    problems += validate_directory(settings.root / "referrals" / "hubs", settings.root)
    problems += _needs_update(settings)
    for problem in problems:
        if problem.severity == "error" or not args.quiet:
            print(problem)
    errors = sum(1 for p in problems if p.severity == "error")
    print(f"{errors} error(s), {len(problems) - errors} warning(s)")
    return 1 if errors else 0


def _needs_update(settings: Settings) -> list[Problem]:
    """Translations marked "needs update" in the database; none when there is no database yet."""
    from sqlalchemy.engine import make_url

    from bot.content.files import needs_update
    from bot.content.loader import Problem
    from bot.db import make_engine, normalise_url

    url = make_url(normalise_url(settings.database_url))
    if url.get_backend_name() == "sqlite" and not (url.database and os.path.exists(url.database)):
        return []  # nothing was ever published from this machine
    engine = make_engine(settings.database_url)
    try:
        return needs_update(engine)
    except SQLAlchemyError as exc:
        note = f"translations needing an update not checked ({exc.__class__.__name__})"
        return [Problem("DATABASE_URL", 0, note, "warning")]
    finally:
        engine.dispose()


def _cmd_content(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.content.files import ImportRefused, export_live, import_dir

    if args.content_command == "check":
        return _cmd_content_check(settings, args)
    if args.content_command == "export":
        version = export_live(_database(settings), settings.content_dir, Path(args.dir))
        print(f"live content (version {version}) written to {args.dir}")
        return 0
    try:
        done = import_dir(
            _database(settings), settings.content_dir, Path(args.dir), args.publish, dt.date.today()
        )
    except ImportRefused as exc:
        for problem in exc.problems:
            print(problem)
        print(f"infobot: error: {exc}", file=sys.stderr)
        return 1
    changed = ", ".join(done.entries) or "no entry changed"
    print(f"version {done.version} ({done.status}): {changed}")
    return 0


def _cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from bot.production import refusals
    from bot.serve import serve

    if refused := refusals(settings):
        for reason in refused:
            print(f"infobot: refusing to serve in production: {reason}", file=sys.stderr)
        return 1
    return asyncio.run(serve(settings, args.host, args.port))


def _cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.terminal import chat

    if args.lang is not None and args.lang not in LANGUAGES:
        raise UsageError(f"unknown language '{args.lang}': use one of {', '.join(LANGUAGES)}")
    country = args.country.upper() if args.country else None
    if country is not None and (len(country) != 2 or not country.isalpha()):
        raise UsageError(
            f"'{args.country}' is not a country code: use two letters, e.g. {', '.join(COUNTRIES)}"
        )
    return asyncio.run(chat(settings, args.lang, country))


def _cmd_nlu(settings: Settings, args: argparse.Namespace) -> int:
    from bot.nlu.batch import evaluate_file, parse_stream

    if args.nlu_command == "parse":
        return asyncio.run(parse_stream(settings, sys.stdin, sys.stdout, sys.stderr))
    if args.nlu_command == "export-labelled":
        return _export_labelled(settings, args.dir)
    return asyncio.run(evaluate_file(settings, args.file, sys.stdout, sys.stderr))


def _export_labelled(settings: Settings, out: str) -> int:
    from pathlib import Path

    from bot.db import session_factory
    from bot.nlu.labelled import accepted, export_labelled

    with session_factory(_database(settings))() as session:
        examples = accepted(session)
    written = export_labelled(examples, Path(out))
    print(f"{len(examples)} accepted example(s) written to {len(written)} file(s) in {out}")
    return 0


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date: use YYYY-MM-DD") from exc


def _database(settings: Settings):  # type: ignore[no-untyped-def]
    from bot.db import make_engine, migrate

    engine = make_engine(settings.database_url)
    migrate(engine)
    return engine


def _cmd_referrals(settings: Settings, args: argparse.Namespace) -> int:
    from bot.reports.export import referral_rows, write_export

    write_export(referral_rows(_database(settings), args.since), args.format, sys.stdout)
    return 0


def _cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.reports.monthly import build_report, month_bounds, write_report

    try:
        month_bounds(args.month)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    report = build_report(_database(settings), args.month, settings.content_dir)
    files = write_report(report, Path(args.out)) + _campaign_reach(settings, args.month, Path(args.out))
    for name, value in report.tables["summary"]:
        print(f"{name}: {value}")
    print(f"{len(files)} files written to {args.out}")
    return 0


def _campaign_reach(settings: Settings, month: str, out: Path) -> list[Path]:
    """Campaigns created in the month: reach by country, language and channel (issue 16)."""
    from bot.campaigns.reach import reach, write_reach
    from bot.db import session_factory
    from bot.reports.monthly import month_bounds

    rows, failures = reach(session_factory(_database(settings)), *month_bounds(month))
    for row in rows:
        print(
            f"campaign {row['campaign']} {row['country']} {row['language']} {row['channel']}: "
            f"{row['targeted']} targeted, {row['sent']} sent, {row['delivered']} delivered"
        )
    return write_reach(rows, failures, out, month) if rows else []


def _cmd_scam(settings: Settings, args: argparse.Namespace) -> int:
    from bot.scam.batch import run_scam_check

    return run_scam_check(sys.stdin, sys.stdout, sys.stderr)


def _cmd_staff(settings: Settings, args: argparse.Namespace) -> int:
    from getpass import getpass

    from sqlalchemy.exc import SQLAlchemyError

    from bot.console.accounts import AccountError, add_staff, remove_staff, reset_password
    from bot.db import make_engine, migrate

    email, password = args.email.strip().lower(), ""
    if args.staff_command in ("add", "reset"):
        password = getpass("Password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\r\n")
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        if args.staff_command == "add":
            add_staff(engine, email, args.role, password)
            done = f"{email}: {args.role} account created; log in at /console/"
        elif args.staff_command == "remove":
            ended, released = remove_staff(engine, email)
            done = f"{email}: account removed; {ended} session(s) ended"
            done += f", {released} conversation(s) it held back in the queue"
        else:
            done = f"{email}: password reset; {reset_password(engine, email, password)} session(s) ended"
    except AccountError as exc:
        raise UsageError(str(exc)) from exc
    except SQLAlchemyError as exc:
        raise UsageError(f"the database at DATABASE_URL is not usable ({exc.__class__.__name__})") from exc
    finally:
        engine.dispose()
    print(done)
    return 0


COMMANDS = {
    "referrals": _cmd_referrals,
    "report": _cmd_report,
    "scam": _cmd_scam,
    "serve": _cmd_serve,
    "chat": _cmd_chat,
    "train": _cmd_train,
    "nlu": _cmd_nlu,
    "staff": _cmd_staff,
    "subscribers": _cmd_subscribers,
    "campaign": _cmd_campaign,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
        if args.command == "content":
            return _cmd_content(settings, args)
        return COMMANDS[args.command](settings, args)
    except (UsageError, ConfigError, OSError) as exc:
        print(f"infobot: error: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(
            f"infobot: error: the database at DATABASE_URL is not usable ({exc.__class__.__name__})",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
