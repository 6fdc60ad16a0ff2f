"""Broadcast benchmark (not a test): `python bench/broadcast.py [--subscribers N] [--rate R]`.

The real bot (`python -m bot run`, its own process) against the sandbox with a flood limit of R
messages a second and THINKA_BROADCAST_RATE=R. N subscribers get one notice. Printed: achieved
rate / R (goal >= 0.95), 429 answers (goal <= 1 % of sends), duplicates and lost messages (goal 0),
a resident's reply latency during the broadcast, and the bot process's CPU time per message sent
(steadier than the rate on a machine shared with other work); then the same with the bot killed
(SIGKILL) three times on the way and started again. Telegram answers after 20 ms here (half
before it carries a message out, half after), so a kill meets messages under way.

After kills, "uncertain" are the messages that were on their way at a kill: Telegram never
confirmed them, they may or may not have arrived; they are not sent again by themselves (goal:
at most what can be under way at once, 8, per kill) and each is shown: the staff member's
progress message counts them and offers to send them again. "Lost" are recipients without the
notice who are not counted uncertain (goal 0); "duplicates" are second copies (goal 0).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import contextlib  # noqa: E402
import re  # noqa: E402
import sqlite3  # noqa: E402

from bench._common import machine, start_bot  # noqa: E402
from bot.core.db import Database  # noqa: E402
from bot.events.repository import Audience, EventRepository  # noqa: E402
from bot.sandbox import BotApiSandbox  # noqa: E402
from bot.transport.courier import Limits  # noqa: E402

TEXT = "Die Kontaktstelle Rieth ist heute geschlossen."


ADMIN_ID = 900_001
IN_FLIGHT = Limits.in_flight_broadcast  # broadcast requests at once (bot/transport/courier.py)


async def seed(db_path: Path, users, probe, progress: tuple[int, int]) -> None:
    db = await Database.open(db_path)
    try:
        await db.migrate()
        now = datetime.now(UTC).isoformat()
        async with db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO residents (user_id, chat_id, language, consent_at, consent_version,"
                " announcements_asked) VALUES (?, ?, 'de', ?, 1, 1)",
                [(u.id, u.id, now) for u in [*users, probe]],
            )
            await tx.executemany(
                "INSERT INTO subscriptions (resident_id, district, created_at) VALUES (?, ?, ?)",
                [(u.id, "Rieth", now) for u in users],
            )
        broadcast_id, _ = await EventRepository(db).create_broadcast(
            kind="notice",
            event_id=None,
            started_by=ADMIN_ID,
            texts={"de": TEXT},
            audience=Audience("districts", districts=("Rieth",)),
            now=datetime.now(UTC),
        )
        # The staff member's progress message, as /broadcast leaves it (edited as it goes).
        await EventRepository(db).set_progress_message(broadcast_id, *progress)
    finally:
        await db.close()


def delivered(sandbox: BotApiSandbox, users) -> list[int]:
    """Copies of the notice per subscriber, in one pass over everything sent (the sandbox runs
    in this process: an O(n²) count would slow the server being measured)."""
    per_chat = Counter(m.chat_id for m in sandbox.sent if m.text == TEXT)
    return [per_chat[u.id] for u in users]


async def probe_latency(sandbox: BotApiSandbox, probe, stop: asyncio.Event) -> list[float]:
    """A resident asking for the menu every half second, while the broadcast runs."""
    latencies = []
    while not stop.is_set():
        before = len(sandbox.messages_to(probe.id))
        started = time.monotonic()
        await sandbox.send_message(probe, "/menu")
        try:
            await sandbox.wait_for_message(probe.id, after=before, timeout=10)
            latencies.append(time.monotonic() - started)
        except TimeoutError:
            latencies.append(float("inf"))
        await asyncio.sleep(0.5)
    return latencies


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a (still running) process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def outcome(db_path: Path) -> dict[int, str]:
    """Each recipient's row as the bot recorded it."""
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        return dict(
            conn.execute("SELECT resident_id, status FROM outgoing WHERE batch_id IS NOT NULL")
        )


async def scenario(n: int, rate: float, kills: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        async with BotApiSandbox(rate_limit=rate) as sandbox:
            users = [sandbox.add_user(first_name=f"S{i}", language_code="de") for i in range(n)]
            probe = sandbox.add_user(first_name="Probe", language_code="de")
            admin = sandbox.add_user(first_name="Admin", language_code="de", user_id=ADMIN_ID)
            for user in [*users, probe, admin]:
                user.started = True
            sandbox.set_latency(0.02)
            progress = sandbox._deliver(
                sandbox.chats[ADMIN_ID],
                {"text": "Sende …"},
                kind="text",
                method="sendMessage",
                p=None,
            )
            db_path = workdir / "bench.sqlite3"
            await seed(db_path, users, probe, (ADMIN_ID, progress.message_id))
            env = {"THINKA_BROADCAST_RATE": str(rate), "THINKA_ADMIN_IDS": str(ADMIN_ID)}
            process = await start_bot(sandbox, db_path, workdir, **env)
            stop = asyncio.Event()
            prober = asyncio.create_task(probe_latency(sandbox, probe, stop))
            first = last = None
            killed = 0
            cpu = 0.0
            # From each kill until the new process sends again: the cold start, inside the
            # measured time. (What was under way at the kill lands within 0.1 s: the count
            # then is where the new process starts from.)
            restarts: list[float] = []
            killed_at: float | None = None
            count_after_kill: int | None = None
            deadline = time.monotonic() + n / rate * 3 + 60
            previous, still_since = -1, time.monotonic()
            while time.monotonic() < deadline:
                count = sum(1 for c in delivered(sandbox, users) if c)
                if count and first is None:
                    first = time.monotonic()
                if killed_at is not None and time.monotonic() - killed_at > 0.1:
                    if count_after_kill is None:
                        count_after_kill = count
                    elif count > count_after_kill:
                        restarts.append(time.monotonic() - killed_at)
                        killed_at = count_after_kill = None
                if count != previous:
                    previous, still_since, last_change = count, time.monotonic(), time.monotonic()
                elif killed and time.monotonic() - still_since > 3:
                    last = last_change  # nothing more comes: the rest was lost in the kills
                    break
                if killed < kills and count >= n * (killed + 1) // (kills + 1):
                    cpu += cpu_seconds(process.pid)
                    process.send_signal(signal.SIGKILL)
                    killed_at = time.monotonic()
                    await process.wait()
                    killed += 1
                    process = await start_bot(sandbox, db_path, workdir, **env)
                if count >= n:
                    last = time.monotonic()
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(2)  # anything sent twice would show now
            stop.set()
            latencies = await prober
            cpu += cpu_seconds(process.pid)
            process.send_signal(signal.SIGTERM)
            await process.wait()
            counts = delivered(sandbox, users)
            rate_limited = sandbox.send_fault_counts["rate-429"]
            sends = sum(counts)
            finite = [x for x in latencies if x != float("inf")]
            status = outcome(db_path)
            uncertain = [u for u in users if status.get(u.id) == "uncertain"]
            shown = next(
                m for m in sandbox.messages_to(ADMIN_ID) if m.message_id == progress.message_id
            )
            match = re.search(r"(\d+) ungewiss", shown.text or "")
            return {
                "uncertain": len(uncertain),
                "uncertain_arrived": sum(counts[users.index(u)] for u in uncertain),
                "shown": int(match.group(1)) if match else None,
                "button": bool(shown.buttons),
                "kills": kills,
                "subscribers": n,
                "rate": rate,
                "achieved_ratio": (sends / (last - first)) / rate if first and last else 0.0,
                "restarts": restarts,
                "between_restarts_ratio": (sends / (last - first - sum(restarts))) / rate
                if first and last
                else 0.0,
                "seconds": (last - first) if first and last else None,
                "http_429": rate_limited,
                "http_429_share": rate_limited / max(1, sends),
                "duplicates": sum(c - 1 for c in counts if c > 1),
                "lost": sum(
                    1
                    for u, c in zip(users, counts, strict=True)
                    if c == 0 and status.get(u.id) != "uncertain"
                ),
                "probe_p50": statistics.median(finite) if finite else None,
                "probe_max": max(latencies) if latencies else None,
                "killed": killed,
                "cpu_ms_per_message": cpu * 1000 / max(1, sends),
            }


def report(title: str, r: dict) -> None:
    print(f"{title}: {r['subscribers']} subscribers at R = {r['rate']:.0f}/s")
    seconds = f"{r['seconds']:.1f} s" if r["seconds"] else "did not finish"
    print(f"  achieved rate / R      {r['achieved_ratio']:.3f}   (goal >= 0.95; {seconds})")
    if r["restarts"]:
        print(
            "  restarts               "
            + ", ".join(f"{s:.2f}" for s in r["restarts"])
            + f" s from the kill to sending again; rate / R without them"
            f" {r['between_restarts_ratio']:.3f}"
        )
    print(
        f"  429 answers            {r['http_429']} = {r['http_429_share']:.2%} of sends"
        "   (goal <= 1 %)"
    )
    print(f"  duplicates             {r['duplicates']}   (goal 0)")
    print(f"  lost                   {r['lost']}   (goal 0)")
    if r["kills"]:
        limit = IN_FLIGHT * r["kills"]
        print(
            f"  uncertain              {r['uncertain']} (of them arrived: {r['uncertain_arrived']})"
            f"   (goal <= {limit}, under way at {r['kills']} kills)"
            f"   {'ok' if r['uncertain'] <= limit else 'MISSED'}"
        )
        shown = r["shown"] == r["uncertain"] and r["button"] == bool(r["uncertain"])
        print(
            f"  shown to staff         progress says {r['shown']} uncertain,"
            f" 'send again' button {'there' if r['button'] else 'missing'}"
            f"   {'ok' if shown else 'MISSED'}"
        )
    print(
        f"  bot CPU per message   {r['cpu_ms_per_message']:.2f} ms"
        "   (the bot process, start-up and the resident's requests included)"
    )
    if r["probe_p50"] is not None:
        print(
            f"  resident reply during broadcast: p50 {r['probe_p50'] * 1000:.0f} ms,"
            f" max {r['probe_max'] * 1000:.0f} ms"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=200.0)
    args = parser.parse_args()
    print(f"Machine: {machine()}")
    report("Broadcast", await scenario(args.subscribers, args.rate, kills=0))
    report(
        "Broadcast, bot killed (SIGKILL) three times on the way and restarted",
        await scenario(args.subscribers, args.rate, kills=3),
    )


if __name__ == "__main__":
    asyncio.run(main())
