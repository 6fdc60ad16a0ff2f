"""Command line: `python -m bot run|demo|migrate|inbox|backup|report|…` (installed as `thinka`).

Bad arguments or a bad environment end with one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from datetime import date
from pathlib import Path

from telegram.error import InvalidToken, NetworkError

from bot.core.config import ConfigError, Settings, load_settings
from bot.core.db import Database, DatabaseUnavailable, MigrationError, check_database_file
from bot.core.failures import IntakeFailed
from bot.core.i18n import CatalogError, I18n
from bot.core.keystore import KeysLocked
from bot.core.logs import configure_logging
from bot.org.orgdata import load_organisation
from bot.reporting.service import FORMATS, ReportService, file_stem
from bot.selfhelp.content import ContentError, load_content

PROG = "thinka"


class UsageError(Exception):
    """Wrong command-line arguments (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would print the whole usage block
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Th.INKA resident bot")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    commands.add_parser("run", help="start the bot (polling, or webhook with THINKA_WEBHOOK_URL)")
    commands.add_parser("demo", help="the bot against the local Bot API sandbox, in this terminal")
    commands.add_parser("migrate", help="apply pending database migrations and exit")
    commands.add_parser("poster", help="print-ready poster or flyer with a deep-link QR code")
    commands.add_parser("read-letter", help="read photos or PDFs of a letter: sender, deadlines")
    commands.add_parser(
        "rotate-key", help="re-encrypt stored content with the first THINKA_ENCRYPTION_KEY"
    )
    report = commands.add_parser("report", help="figures for the funder (no personal data)")
    report.add_argument("--from", dest="start", required=True, type=_day, metavar="YYYY-MM-DD")
    report.add_argument("--to", dest="end", required=True, type=_day, metavar="YYYY-MM-DD")
    report.add_argument("--format", choices=FORMATS, default="text")
    report.add_argument(
        "--lang", choices=("de", "en"), default="de", help="labels: German (default) or English"
    )
    report.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="file to write (text and csv: standard output without it; xlsx, pdf, png:"
        " thinka-bericht-FROM-TO.<format>)",
    )
    inbox = commands.add_parser(
        "inbox", help="updates put aside (quarantined, parked); --retry hands them back"
    )
    inbox.add_argument("--retry", nargs="+", type=int, metavar="UPDATE_ID")
    backup = commands.add_parser(
        "backup", help="dated copy of the database (and the key file) into a folder"
    )
    backup.add_argument("folder", type=Path, help="folder the backups are kept in")
    return parser


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-01-31") from None


async def rotate_key(settings: Settings) -> int:
    from bot.core.crypto import open_cipher
    from bot.privacy.repository import PersonalDataRepository

    if not settings.encryption_keys:
        raise ConfigError("THINKA_ENCRYPTION_KEY is not set: nothing to encrypt with")
    db = await Database.open(settings.db_path)
    try:
        await db.migrate()
        cipher = await open_cipher(db, settings.encryption_keys, settings.keys_path)
        return await PersonalDataRepository(db, cipher).rotate(cipher)
    finally:
        await db.close()


async def report(settings: Settings, start: date, end: date, fmt: str, lang: str) -> bytes:
    db = await Database.open(settings.db_path)
    try:
        await db.migrate()
        return await ReportService(db, settings.timezone).document(start, end, fmt, lang)
    finally:
        await db.close()


def write_report(content: bytes, fmt: str, out: Path | None, start: date, end: date, lang: str):
    """text and csv to standard output unless --out; the others to a file, named by the period
    when --out is not given. Says where a file went."""
    if out is None and fmt in ("text", "csv"):
        sys.stdout.buffer.write(content)  # bytes: the CSV's byte order mark and UTF-8 as they are
        sys.stdout.flush()
        return
    target = out or Path(f"{file_stem(start, end, lang)}.{'txt' if fmt == 'text' else fmt}")
    try:
        target.write_bytes(content)
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {exc.strerror}") from None
    print(f"report written to {target}")


async def inbox(settings: Settings, retry: list[int] | None) -> str:
    """The quarantined and parked updates (ids, types, errors; never content), or hand some
    back to be handled at the next start."""
    from bot.transport.inbox import InboxRepository

    db = await Database.open(settings.db_path)
    try:
        await db.migrate()
        repository = InboxRepository(db)
        if retry:
            count = await repository.retry(retry)
            return f"{count} update(s) back in the inbox; the bot handles them at its next start\n"
        held = await repository.held(limit=500)
    finally:
        await db.close()
    if not held:
        return "nothing quarantined or parked\n"
    lines = [f"{'update':>12}  {'state':<11}  {'type':<16}  {'attempts':>8}  received  error"]
    for h in held:
        lines.append(
            f"{h.update_id:>12}  {h.state:<11}  {h.kind or '?':<16}  {h.attempts:>8}"
            f"  {h.received_at[:19]}  {h.error or ''}"
        )
    return "\n".join(lines) + "\n"


async def migrate(settings: Settings) -> list[str]:
    db = await Database.open(settings.db_path)
    try:
        return [m.name for m in await db.migrate()]
    finally:
        await db.close()


async def backup(settings: Settings, folder: Path, keys: Path | None) -> list[str]:
    """A dated copy of the database into `folder`, the newest copy of the key file beside it,
    and copies older than THINKA_BACKUP_DAYS deleted (bot/privacy/backups.py)."""
    from bot.privacy.backups import write_backup

    db = await Database.open(settings.db_path)
    try:
        if keys is not None:
            await db.attach(keys, "keys")
        return await write_backup(db, folder, settings.backup_days)
    finally:
        await db.close()


def check_installation(settings: Settings) -> None:
    """Fail at once on what would otherwise fail at the first resident."""
    load_organisation(settings.config_path)
    I18n(settings.timezone)
    load_content(settings.content_path)


# Commands that need no database and no bot: each has its own parser and its own help.
TOOLS = {
    "poster": "bot.outreach.poster:poster_main",
    "read-letter": "bot.letters.cli:main",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in TOOLS:
        module, function = TOOLS[argv[0]].split(":")
        return getattr(importlib.import_module(module), function)(argv[1:])
    try:
        args = build_parser().parse_args(argv)
        settings = load_settings()
        configure_logging(settings.log_level)
        if args.command != "demo":
            check_database_file(settings.db_path)
        if args.command == "migrate":
            applied = asyncio.run(migrate(settings))
            print(
                f"{len(applied)} migration(s) applied"
                + (": " + ", ".join(applied) if applied else ", database is up to date")
            )
            return 0
        if args.command == "rotate-key":
            changed = asyncio.run(rotate_key(settings))
            print(f"{changed} stored values encrypted with the first key")
            return 0
        if args.command == "report":
            if args.start > args.end:
                raise ConfigError("--from must not be after --to")
            if not settings.db_path.is_file():
                raise ConfigError(f"no database at {settings.db_path} (THINKA_DB)")
            content = asyncio.run(report(settings, args.start, args.end, args.format, args.lang))
            write_report(content, args.format, args.out, args.start, args.end, args.lang)
            return 0
        if args.command == "inbox":
            if not settings.db_path.is_file():
                raise ConfigError(f"no database at {settings.db_path} (THINKA_DB)")
            print(asyncio.run(inbox(settings, args.retry)), end="")
            return 0
        if args.command == "backup":
            if not settings.db_path.is_file():
                raise ConfigError(f"no database at {settings.db_path} (THINKA_DB) to back up")
            if args.folder.exists() and not args.folder.is_dir():
                raise ConfigError(f"{args.folder} is a file; backups go into a folder")
            keys = settings.keys_path if settings.keys_path.is_file() else None
            for line in asyncio.run(backup(settings, args.folder, keys)):
                print(line)
            return 0
        if args.command == "demo":
            from bot.demo import main as demo_main

            return demo_main(settings)
        # run
        settings.require_token()
        check_installation(settings)
        asyncio.run(migrate(settings))
        from bot.app import build_application, run

        run(build_application(settings), settings)
        return 0
    except (
        UsageError,
        ConfigError,
        CatalogError,
        ContentError,
        DatabaseUnavailable,
        KeysLocked,
    ) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except InvalidToken as exc:
        print(
            f"{PROG}: error: Telegram refuses TELEGRAM_BOT_TOKEN ({exc.message})", file=sys.stderr
        )
        return 2
    except NetworkError as exc:
        # Telegram unreachable at start-up: say so in one line; a supervisor restarts the bot.
        print(
            f"{PROG}: error: the Telegram Bot API cannot be reached: {exc.message}", file=sys.stderr
        )
        return 1
    except MigrationError as exc:
        print(f"{PROG}: error: {exc}; the database was left unchanged", file=sys.stderr)
        return 1
    except IntakeFailed as exc:
        # Nothing is lost (the inbox and Telegram keep every update): exit non-zero so that the
        # supervisor (docker --restart, systemd Restart=) starts the bot again.
        print(f"{PROG}: error: {exc}; exiting for a restart", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
