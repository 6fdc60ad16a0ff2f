"""What the benchmarks share: the machine line they print, and the real bot as its own process
against a sandbox. (Not a benchmark itself: `make bench` skips files starting with "_".)"""

from __future__ import annotations

import asyncio
import os
import platform
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()},"
        f" SQLite {sqlite3.sqlite_version}"
    )


def start_bot(sandbox, db_path: Path, workdir: Path, *, stderr=asyncio.subprocess.DEVNULL, **env):
    """`python -m bot run` pointed at `sandbox`, with a clean THINKA_/TELEGRAM_ environment plus
    `env` (e.g. THINKA_BROADCAST_RATE="200")."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("THINKA_", "TELEGRAM_"))}
    clean.update(
        TELEGRAM_BOT_TOKEN=sandbox.token,
        TELEGRAM_API_BASE_URL=sandbox.base_url,
        TELEGRAM_API_FILE_URL=sandbox.base_file_url,
        THINKA_DB=str(db_path),
        THINKA_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
        **env,
    )
    return asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=workdir,
        env=clean,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=stderr,
    )
