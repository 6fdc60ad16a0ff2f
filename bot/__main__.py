"""Command line: `python -m bot run|demo|migrate|backup PATH` (installed as `thinka`).

Bad arguments or a bad environment end with one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from bot.db import Database, MigrationError
from bot.i18n import CatalogError, I18n
from bot.orgdata import load_organisation

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
    backup = commands.add_parser("backup", help="consistent online copy of the database")
    backup.add_argument("path", type=Path, help="file to write the copy to")
    return parser


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    # httpx logs every request URL at INFO, and the URL contains the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


async def migrate(settings: Settings) -> list[str]:
    db = await Database.open(settings.db_path)
    try:
        return [m.name for m in await db.migrate()]
    finally:
        await db.close()


async def backup(settings: Settings, target: Path) -> None:
    db = await Database.open(settings.db_path)
    try:
        await db.backup(target)
    finally:
        await db.close()


def check_installation(settings: Settings) -> None:
    """Fail at once on what would otherwise fail at the first resident."""
    load_organisation(settings.config_path)
    I18n(settings.timezone)


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        settings = load_settings()
        configure_logging(settings.log_level)
        if args.command == "migrate":
            applied = asyncio.run(migrate(settings))
            print(
                f"{len(applied)} migration(s) applied"
                + (": " + ", ".join(applied) if applied else ", database is up to date")
            )
            return 0
        if args.command == "backup":
            if not settings.db_path.is_file():
                raise ConfigError(f"no database at {settings.db_path} (THINKA_DB) to back up")
            if args.path.exists():
                raise ConfigError(f"{args.path} exists already; choose a new file for the backup")
            asyncio.run(backup(settings, args.path))
            print(f"backup written to {args.path}")
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
    except (UsageError, ConfigError, CatalogError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except MigrationError as exc:
        print(f"{PROG}: error: {exc}; the database was left unchanged", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
