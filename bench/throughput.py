"""Throughput and latency benchmark (not a test): `python bench/throughput.py [--residents N]`.

N simulated residents (default 500) start at the same moment and each goes through a realistic
first contact: /start, agree to the privacy notice, decline announcements, "ask a question",
pick a topic, pick a district, write the question, and, offered quick answers, "I still want
to ask". Each step waits for the bot's answer (the next button is on it), so every resident
has one update in flight and all N run side by side.

The same load, in the same run and on the same sandbox, goes to
- bare python-telegram-bot: an echo bot (every message echoed, every button press answered and
  echoed), with PTB's defaults (updates one after another) and with concurrent_updates=256;
- our bot (`build_application`, the production composition root, in its own process like the
  bare ones), and our bot with the durable inbox switched off, to show what the inbox costs.

Printed for each: updates/s over the whole load, and the latency from injecting an update to the
bot's answer reaching the sandbox (p50/p95/p99). Goals: ours/bare updates/s >= 0.8 and
ours p99 <= 2 x bare p99, against the faster bare variant.

Both sides run without a flood limit here. In production AIORateLimiter keeps our bot to
Telegram's 30 messages a second, which caps any bot's replies alike; this measures what the bot
itself costs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import machine  # noqa: E402
from bot.sandbox import BotApiSandbox, SandboxEvent, SandboxUser  # noqa: E402

LANGUAGES = ("ar", "ru", "de", "uk", "en")
# (kind, value, data of the button the answer must carry; None: any message)
OUR_FLOW = [
    ("text", "/start", "consent:agree"),
    ("press", "consent:agree", "ev:optin:none"),
    ("press", "ev:optin:none", "menu:ask"),
    ("press", "menu:ask", "req:topic:debt"),
    ("press", "req:topic:debt", "req:district:0"),
    ("press", "req:district:0", None),
    # A Mahnung matches quick answers; the resident still wants to ask a person.
    ("text", "Ich habe eine Mahnung bekommen und verstehe sie nicht.", "sh:a"),
    ("press", "sh:a", None),
]
VARIANTS = ("bare", "bare-concurrent", "ours", "ours-no-inbox")
IN_FLIGHT: int | None = None  # --in-flight


# -- the bots, each run as `python bench/throughput.py --serve VARIANT` --------------------------


def serve(variant: str) -> None:
    token, base_url, db = (os.environ[k] for k in ("TOKEN", "BASE_URL", "DB"))
    if variant.startswith("bare"):
        serve_bare(token, base_url, concurrent=variant == "bare-concurrent")
    else:
        serve_ours(token, base_url, db, inbox=variant == "ours")


def serve_bare(token: str, base_url: str, *, concurrent: bool) -> None:
    from telegram import Update
    from telegram.ext import ApplicationBuilder, CallbackQueryHandler, MessageHandler, filters

    async def echo(update: Update, context) -> None:
        await update.effective_message.reply_text(update.effective_message.text)

    async def pressed(update: Update, context) -> None:
        query = update.callback_query
        await query.answer()
        await context.bot.send_message(query.message.chat.id, query.data)

    builder = ApplicationBuilder().token(token).base_url(base_url)
    if concurrent:
        builder = builder.concurrent_updates(256)
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.add_handler(CallbackQueryHandler(pressed))
    application.run_polling(poll_interval=0.0, timeout=50, allowed_updates=Update.ALL_TYPES)


def serve_ours(token: str, base_url: str, db: str, *, inbox: bool) -> None:
    from telegram.ext import AIORateLimiter

    from bot import app
    from bot.core.config import load_settings
    from bot.transport.courier import Limits
    from bot.transport.inbox import Inbox

    settings = load_settings(
        environ={
            "TELEGRAM_BOT_TOKEN": token,
            "TELEGRAM_API_BASE_URL": base_url,
            "THINKA_DB": db,
            "THINKA_LOG_LEVEL": "WARNING",
        },
        env_file=None,
    )
    if not inbox:
        # Updates pass straight through: nothing stored, no start or end marked.
        async def store(self, updates):
            return {update.update_id for update in updates}

        async def mark(self, update_id):
            return None

        Inbox.store, Inbox.started, Inbox.done = store, mark, mark
        # Nothing can wait in an inbox that stores nothing: keep every update in memory.
        from bot.transport import intake

        intake.MAX_IN_MEMORY = intake.MAX_PER_CHAT = 10**9
    # The production limiter's algorithm with rates that never bind (see the module docstring);
    # the same for the courier, which sends the confirmation and the quick-answer offer.
    limiter = AIORateLimiter(overall_max_rate=100_000, group_max_rate=100_000, max_retries=3)
    limits = Limits(rate=100_000, group_per_minute=100_000)
    application = app.build_application(settings, rate_limiter=limiter, limits=limits)
    if os.environ.get("IN_FLIGHT"):
        # --in-flight N: the processor's cap, to size MAX_IN_FLIGHT by measurement.
        application.update_processor.max_in_flight = int(os.environ["IN_FLIGHT"])
    app.run(application, settings)


# -- the load -----------------------------------------------------------------------------------


@dataclass
class Waiter:
    """Resolves a resident's pending step when the bot's answer reaches the sandbox."""

    pending: dict[int, tuple[str | None, asyncio.Future]] = field(default_factory=dict)

    def expect(self, chat_id: int, button: str | None) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.pending[chat_id] = (button, future)
        return future

    def on_event(self, event: SandboxEvent) -> None:
        if event.kind not in ("sent", "edited") or event.message is None:
            return
        entry = self.pending.get(event.chat_id)
        if entry is None:
            return
        button, future = entry
        data = [b.get("callback_data") for row in event.message.buttons for b in row]
        if (button is None or button in data) and not future.done():
            del self.pending[event.chat_id]
            future.set_result(event.message)


async def resident(sandbox, waiter, user: SandboxUser, bare: bool, latencies: list[float]):
    last = None
    for kind, value, button in OUR_FLOW:
        future = waiter.expect(user.id, None if bare else button)
        started = time.perf_counter()
        if kind == "text":
            await sandbox.send_message(user, value)
        else:
            await sandbox.press_button(user, last, value, forge=bare)
        last = await asyncio.wait_for(future, 120)
        latencies.append(time.perf_counter() - started)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def run_variant(variant: str, n: int, workdir: Path) -> dict:
    async with BotApiSandbox() as sandbox:
        db = workdir / f"{variant}.sqlite3"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("THINKA_", "TELEGRAM_"))}
        env.update(TOKEN=sandbox.token, BASE_URL=sandbox.base_url, DB=str(db))
        if IN_FLIGHT:
            env["IN_FLIGHT"] = str(IN_FLIGHT)
        env["PYTHONPATH"] = str(ROOT)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--serve",
            variant,
            cwd=workdir,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            waiter = Waiter()
            unsubscribe = sandbox.subscribe(waiter.on_event)
            # Warm-up: one resident through the whole flow, so start-up is not measured.
            warm = sandbox.add_user(first_name="Warm", language_code="de")
            await asyncio.wait_for(
                resident(sandbox, waiter, warm, variant.startswith("bare"), []), 60
            )
            users = [
                sandbox.add_user(first_name=f"R{i}", language_code=LANGUAGES[i % 5])
                for i in range(n)
            ]
            latencies: list[float] = []
            calls_before = len(sandbox.calls)
            cpu_before = cpu_seconds(process.pid)
            started = time.perf_counter()
            await asyncio.gather(
                *(
                    resident(sandbox, waiter, u, variant.startswith("bare"), latencies)
                    for u in users
                )
            )
            elapsed = time.perf_counter() - started
            cpu = cpu_seconds(process.pid) - cpu_before
            calls = Counter(
                name for name, _ in sandbox.calls[calls_before:] if name != "getUpdates"
            )
            unsubscribe()
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()
    cases = None
    if variant.startswith("ours"):
        with sqlite3.connect(db) as conn:
            cases = conn.execute("SELECT COUNT(*) FROM cases WHERE status = 'new'").fetchone()[0]
        conn.close()
    return {
        "variant": variant,
        "updates": len(latencies),
        "seconds": elapsed,
        "rate": len(latencies) / elapsed,
        "p50": percentile(latencies, 50) * 1000,
        "p95": percentile(latencies, 95) * 1000,
        "p99": percentile(latencies, 99) * 1000,
        "cases": cases,
        "calls": calls,
        "cpu_ms": cpu / len(latencies) * 1000,
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def main(n: int, variants: tuple[str, ...] = VARIANTS) -> None:
    print(f"Machine: {machine()}")
    print(f"{n} residents x {len(OUR_FLOW)} updates each, all residents at once")
    if IN_FLIGHT:
        print(f"our bot with at most {IN_FLIGHT} updates in flight")
    print()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for variant in variants:
            results[variant] = result = await run_variant(variant, n, Path(folder))
            extra = f", {result['cases']} cases opened" if result["cases"] is not None else ""
            print(
                f"  {variant:16} {result['rate']:7.1f} updates/s   latency p50 {result['p50']:6.1f}"
                f"  p95 {result['p95']:6.1f}  p99 {result['p99']:6.1f} ms"
                f"   bot CPU {result['cpu_ms']:.2f} ms/update"
                f"   ({result['updates']} updates in {result['seconds']:.1f} s{extra})"
            )
    if set(variants) != set(VARIANTS):
        return  # a partial run (--only): the ratios need every variant
    ours = results["ours"]
    bare = max((results["bare"], results["bare-concurrent"]), key=lambda r: r["rate"])
    ratio = ours["rate"] / bare["rate"]
    p99 = ours["p99"] / bare["p99"]
    print()
    print(
        f"ours / bare ({bare['variant']}, the faster bare) updates/s: {ratio:.2f}"
        f"   (goal >= 0.8)   {'ok' if ratio >= 0.8 else 'MISSED'}"
    )
    print(f"ours p99 / bare p99: {p99:.2f}   (goal <= 2)   {'ok' if p99 <= 2 else 'MISSED'}")
    default = results["bare"]
    print(
        f"against PTB's defaults (bare, one update at a time): updates/s "
        f"{ours['rate'] / default['rate']:.2f}, p99 {ours['p99'] / default['p99']:.2f}"
    )
    plain = results["ours-no-inbox"]
    print(
        f"durable inbox: ours {ours['rate']:.1f} updates/s with it, {plain['rate']:.1f} without"
        f" (ratio {ours['rate'] / plain['rate']:.2f}); p99 {ours['p99']:.0f} vs"
        f" {plain['p99']:.0f} ms"
    )
    expected = n + 1  # + the warm-up resident
    if ours["cases"] != expected:
        print(f"WARNING: ours opened {ours['cases']} cases, expected {expected}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=500)
    parser.add_argument("--serve", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument(
        "--in-flight", type=int, help="our bot's cap on updates in flight (default: its own)"
    )
    parser.add_argument("--only", nargs="+", choices=VARIANTS, help="run only these variants")
    args = parser.parse_args()
    IN_FLIGHT = args.in_flight
    if args.serve and os.environ.get("BENCH_PROFILE"):
        # Where the bot process spends its time: BENCH_PROFILE=/tmp/x.prof python bench/...
        import cProfile

        cProfile.run(f"serve({args.serve!r})", os.environ["BENCH_PROFILE"])
    elif args.serve:
        serve(args.serve)
    else:
        asyncio.run(main(args.residents, tuple(args.only or VARIANTS)))
