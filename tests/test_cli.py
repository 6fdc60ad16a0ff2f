"""The command line as an operator meets it: real processes, real exit codes, real signals."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.core.db import load_migrations
from bot.sandbox import BotApiSandbox

ROOT = Path(__file__).resolve().parent.parent


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("THINKA_", "TELEGRAM_"))}
    env["THINKA_DB"] = str(tmp_path / "thinka.sqlite3")
    env.update(extra)
    return env


async def cli(
    tmp_path: Path, *args: str, stdin: bytes | None = None, **env: str
) -> tuple[int, str, str]:
    # cwd is tmp_path so that a developer's own .env never leaks into the test.
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=tmp_path,
        env=clean_env(tmp_path, **env),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin), 60)
    return process.returncode, out.decode(), err.decode()


async def start_bot(tmp_path: Path, sandbox: BotApiSandbox, *, log: Path | None = None, **env: str):
    """`python -m bot run` as its own process, pointed at the sandbox. Its stderr is a pipe, or
    appended to `log` for long runs (a pipe nobody reads fills up and stalls the bot)."""
    sink = log.open("ab") if log is not None else None
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=tmp_path,
            env=clean_env(
                tmp_path,
                TELEGRAM_BOT_TOKEN=sandbox.token,
                TELEGRAM_API_BASE_URL=sandbox.base_url,
                **env,
            ),
            stdout=asyncio.subprocess.PIPE if sink is None else asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE if sink is None else sink,
        )
    finally:
        if sink is not None:
            sink.close()  # the child has its own copy of the descriptor


@pytest.fixture(autouse=True)
def importable(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ((), {}, "the following arguments are required: COMMAND"),
        (("fly",), {}, "invalid choice: 'fly'"),
        (("run",), {}, "TELEGRAM_BOT_TOKEN is not set"),
        (("run",), {"TELEGRAM_BOT_TOKEN": "nonsense"}, "does not look like a bot token"),
        (("migrate",), {"THINKA_TIMEZONE": "Erfurt/Rieth"}, "not a known time zone"),
        (("backup",), {}, "the following arguments are required: folder"),
        (("backup", "backups"), {}, "no database at"),
        (("migrate",), {"THINKA_TRANSLATE": "deepl"}, "needs THINKA_TRANSLATE_KEY"),
    ],
)
async def test_bad_arguments_and_environment_give_one_line_and_status_2(
    tmp_path, args, env, message
):
    code, _out, err = await cli(tmp_path, *args, **env)
    assert code == 2
    assert err.count("\n") == 1 and message in err and err.startswith("thinka: error: ")
    assert "Traceback" not in err


async def test_migrate_then_backup(tmp_path):
    code, out, _ = await cli(tmp_path, "migrate")
    assert code == 0 and "0001_residents.sql" in out
    code, out, _ = await cli(tmp_path, "migrate")
    assert code == 0 and "up to date" in out
    code, out, _ = await cli(tmp_path, "backup", "backups")
    assert code == 0
    (copy,) = (tmp_path / "backups").glob("thinka-2*.sqlite3")
    with sqlite3.connect(copy) as raw:
        assert raw.execute("SELECT MAX(version) FROM schema_version").fetchone() == (
            load_migrations()[-1].version,
        )
    (tmp_path / "file").write_text("x")
    code, _, err = await cli(tmp_path, "backup", "file")
    assert code == 2 and "is a file" in err


async def test_inbox_lists_what_was_put_aside_and_retry_hands_it_back(tmp_path):
    """An update parked by a bug: the operator sees it (id, type, error, no content) and, after
    the fix, hands it back; the next start handles it."""
    async with BotApiSandbox() as sandbox:
        olga = sandbox.add_user(first_name="Olga", language_code="ru")
        olga.started = True
        update = {
            "update_id": 4711,
            "message": {
                "message_id": 1,
                "date": 1_780_000_000,
                "chat": {"id": olga.id, "type": "private", "first_name": "Olga"},
                "from": {
                    "id": olga.id,
                    "is_bot": False,
                    "first_name": "Olga",
                    "language_code": "ru",
                },
                "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
        assert (await cli(tmp_path, "migrate"))[0] == 0
        with contextlib.closing(sqlite3.connect(tmp_path / "thinka.sqlite3")) as raw, raw:
            raw.execute(
                "INSERT INTO inbox (update_id, payload, received_at, state, kind, chat_id,"
                " attempts, failures, error, done_at) VALUES"
                " (4711, ?, '2026-12-01T09:00:00Z', 'parked', 'message', ?, 1, 1, 'KeyError',"
                " '2026-12-01T09:00:01Z')",
                (json.dumps(update), olga.id),
            )
        code, out, _ = await cli(tmp_path, "inbox")
        assert code == 0
        assert "4711" in out and "parked" in out and "message" in out and "KeyError" in out
        assert "/start" not in out and "Olga" not in out
        code, out, _ = await cli(tmp_path, "inbox", "--retry", "4711")
        assert code == 0 and out.startswith("1 update(s) back")
        assert (await cli(tmp_path, "inbox"))[1] == "nothing quarantined or parked\n"
        process = await start_bot(tmp_path, sandbox)
        try:
            reply = await sandbox.wait_for_message(olga.id, timeout=30)
            assert reply.buttons
        finally:
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 10) == 0


async def test_run_answers_in_the_users_language_and_stops_on_sigterm(tmp_path):
    async with BotApiSandbox() as sandbox:
        process = await start_bot(
            tmp_path,
            sandbox,
            TELEGRAM_API_FILE_URL=sandbox.base_file_url,
        )
        try:
            user = sandbox.add_user(language_code="ar")
            await sandbox.send_message(user, "/start")
            reply = await sandbox.wait_for_message(user.id, timeout=30)
            assert "حماية البيانات" in reply.text  # "data protection" in Arabic
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), 10)
            assert time.monotonic() - started < 5
            assert code == 0
            err = (await process.stderr.read()).decode()
            assert sandbox.token not in err  # the token never reaches the log
            assert "placeholders to fill in" in err
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def test_webhook_mode_checks_the_secret_and_answers(tmp_path, unused_tcp_port):
    async with BotApiSandbox() as sandbox:
        url = f"http://127.0.0.1:{unused_tcp_port}/thinka/hook"
        process = await start_bot(
            tmp_path,
            sandbox,
            THINKA_WEBHOOK_URL=url,
            THINKA_WEBHOOK_SECRET="s3cret",
            THINKA_WEBHOOK_LISTEN=f"127.0.0.1:{unused_tcp_port}",
        )
        try:
            deadline = time.monotonic() + 30
            while not any(name == "setWebhook" for name, _ in sandbox.calls):
                assert time.monotonic() < deadline, "the bot never called setWebhook"
                await asyncio.sleep(0.1)
            params = next(p for name, p in sandbox.calls if name == "setWebhook")
            assert params["url"] == url and params["secret_token"] == "s3cret"
            user = sandbox.add_user(language_code="ru")
            message = await sandbox.send_message(user, "/start")  # delivered as an update...
            update = {"update_id": 1, "message": message}  # ...which we post to the webhook
            async with httpx.AsyncClient() as client:
                wrong = await client.post(
                    url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}
                )
                assert wrong.status_code == 403
                right = await client.post(
                    url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
                )
                assert right.status_code == 200
            reply = await sandbox.wait_for_message(user.id, timeout=15)
            assert "Защита данных" in reply.text
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 10)


async def test_demo_runs_from_piped_input_without_a_token(tmp_path):
    script = (
        "\n".join(
            [
                "/start",
                "1",  # Einverstanden (I agree)
                "4",  # Nein, danke (no announcements)
                ":lang fr",  # a new resident whose Telegram is in French -> chooser
                "/start",
                "2",  # العربية
                ":staff",
                "/stats",
                ":quit",
            ]
        )
        + "\n"
    )
    code, out, err = await cli(tmp_path, "demo", stdin=script.encode())
    assert code == 0, err
    assert "Einverstanden" in out and "Wie können wir Ihnen helfen?" in out
    assert "[2] العربية" in out and "حماية البيانات" in out
    assert "Demo ended." in out
    assert not (tmp_path / "thinka.sqlite3").exists()  # the demo never touches THINKA_DB


def test_poster_and_read_letter_are_commands_of_the_cli(tmp_path, capsys):
    """`python -m bot poster` and `python -m bot read-letter` reach their tools."""
    from bot.__main__ import main

    out = tmp_path / "rieth.pdf"
    assert main(["poster", "--district", "rieth", "--bot", "thinka_bot", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    assert main(["read-letter", str(tmp_path / "missing.jpg")]) == 2
    assert "missing.jpg" in capsys.readouterr().err


def test_polling_does_not_import_the_webhook_server():
    """aiohttp's server takes a tenth of a second to import: a bot in polling mode (the usual
    case) must not pay it at every start (bench/coldstart.py)."""
    import subprocess

    probe = "import sys, bot.app; print('aiohttp.web' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
