"""Where a step's latency goes (not a test): `python bench/steps.py [--residents N]`.

N residents (default 30), one after another, each through bench/throughput.py's first contact
(/start … "I still want to ask"), against an idle bot: for each step the median time from the
update entering the sandbox to the answer the resident waits for, and, for the median run,
when each of the bot's visible calls reached the sandbox (ms after the update). Our bot and
bare python-telegram-bot (echo), each as its own process, as in bench/throughput.py. Nothing
else runs at the same time, so this is the path of one update, not the cost under load.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import machine  # noqa: E402
from bench.throughput import OUR_FLOW, Waiter, resident  # noqa: E402
from bot.sandbox import BotApiSandbox  # noqa: E402


async def run(variant: str, n: int) -> None:
    bare = variant == "bare"
    async with BotApiSandbox() as sandbox:
        workdir = Path(tempfile.mkdtemp())
        env = {k: v for k, v in os.environ.items() if not k.startswith(("THINKA_", "TELEGRAM_"))}
        env.update(
            TOKEN=sandbox.token,
            BASE_URL=sandbox.base_url,
            DB=str(workdir / "bot.sqlite3"),
            PYTHONPATH=str(ROOT),
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "bench" / "throughput.py"),
            "--serve",
            variant,
            env=env,
            cwd=workdir,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        waiter = Waiter()
        sandbox.subscribe(waiter.on_event)
        events: list[tuple[float, str]] = []
        sandbox.subscribe(lambda event: events.append((time.perf_counter(), event.kind)))
        try:
            warm = sandbox.add_user(first_name="Warm", language_code="de")
            await asyncio.wait_for(resident(sandbox, waiter, warm, bare, []), 60)
            await asyncio.sleep(1.0)
            times: list[list[float]] = [[] for _ in OUR_FLOW]
            seen: list[list[list[tuple[str, float]]]] = [[] for _ in OUR_FLOW]
            for i in range(n):
                user = sandbox.add_user(first_name=f"R{i}", language_code="de")
                marks: list[tuple[int, float]] = []  # (first event, start) of each step
                latencies: list[float] = []

                def step_begins(marks=marks) -> None:
                    marks.append((len(events), time.perf_counter()))

                # A pause after each answer: what follows it (the courier's rows) is over
                # before the next step, so each step meets an idle bot.
                await resident(
                    sandbox, waiter, user, bare, latencies, on_step=step_begins, pause=0.1
                )
                ends = [first for first, _ in marks[1:]] + [len(events)]
                for step, ((first, started), end) in enumerate(zip(marks, ends, strict=True)):
                    times[step].append(latencies[step] * 1000)
                    seen[step].append(
                        [(k, round((t - started) * 1000, 1)) for t, k in events[first:end]]
                    )
        finally:
            process.send_signal(signal.SIGTERM)
            await process.wait()
    print(f"  {variant}")
    for step, (_, value, _) in enumerate(OUR_FLOW):
        order = sorted(range(n), key=lambda i: times[step][i])
        median_run = seen[step][order[n // 2]]
        print(f"    {value[:24]:24} median {statistics.median(times[step]):5.1f} ms   {median_run}")
    everything = [t for step in times for t in step]
    print(f"    every step: median {statistics.median(everything):.1f} ms")


async def main(n: int) -> None:
    print(f"Machine: {machine()}")
    print(f"{n} residents one after another, {len(OUR_FLOW)} steps each, an idle bot")
    for variant in ("ours", "bare"):
        await run(variant, n)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(main(args.residents))
