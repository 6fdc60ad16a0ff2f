"""`python -m bot demo`: the Bot API sandbox, the real bot against it, and a chat in this terminal.

No token and no network: the sandbox is a real HTTP server on 127.0.0.1, so the bot takes the same
path as in production. Buttons are shown as numbers; typing the number presses the button. Lines
starting with ":" steer the demo (see HELP). Piped input works the same, for scripted walkthroughs.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import sys
import tempfile
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TextIO

from bot.app import SERVICES_KEY, build_application, running, settled
from bot.core.config import Settings
from bot.core.i18n import LANGUAGES
from bot.core.paths import DATA_DIR
from bot.sandbox import BotApiSandbox, SandboxUser, SentMessage

DEMO_STAFF_ID = 500_000_001
DEMO_CONFIG = DATA_DIR / "demo.toml"
HELP = (
    "Type as a resident. Buttons are numbered: type the number to press one.\n"
    "  :lang CODE   a new resident whose Telegram is set to CODE (de, ar, ru, uk, en, fr …)\n"
    "  :staff       act as a staff member      :resident   back to the resident\n"
    "  :help        this text                  :quit       end the demo"
)
TAG = re.compile(r"<[^>]+>")


@dataclass
class Person:
    user: SandboxUser
    label: str
    shown: dict[int, int] = field(default_factory=dict)  # message_id -> edits already printed
    buttons: list[tuple[SentMessage, str, str]] = field(default_factory=list)


class Demo:
    def __init__(self, sandbox: BotApiSandbox, out: TextIO) -> None:
        self.sandbox = sandbox
        self.out = out
        self.resident = self._resident("de")
        self.staff = Person(
            sandbox.add_user(
                first_name="Sozialarbeiterin", language_code="de", user_id=DEMO_STAFF_ID
            ),
            "staff",
        )
        self.current = self.resident

    def _resident(self, language_code: str | None) -> Person:
        user = self.sandbox.add_user(first_name="Bewohnerin", language_code=language_code)
        return Person(user, f"resident, Telegram language {language_code or 'none'}")

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    async def handle(self, line: str) -> bool:
        """One line of input; False when the demo should end."""
        line = line.strip()
        if not line:
            return True
        if line.startswith(":"):
            return self.command(line)
        person = self.current
        if line.isdigit() and person.buttons and 1 <= int(line) <= len(person.buttons):
            message, text, data = person.buttons[int(line) - 1]
            self.say(f"  (pressed «{text}»)")
            await self.sandbox.press_button(person.user, message, data)
        else:
            await self.sandbox.send_message(person.user, line)
        await self.sandbox.wait_for_idle(timeout=10)
        self.show_new_messages()
        return True

    def command(self, line: str) -> bool:
        name, _, argument = line[1:].partition(" ")
        if name in ("quit", "q", "exit"):
            return False
        if name == "staff":
            self.current = self.staff
        elif name == "resident":
            self.current = self.resident
        elif name == "lang":
            code = argument.strip() or None
            if code is not None and not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?", code):
                self.say("  :lang needs a language code such as ar, ru, uk, en, de or fr")
                return True
            self.resident = self._resident(code)
            self.current = self.resident
        elif name == "help":
            self.say(HELP)
            return True
        else:
            self.say(f"  unknown command :{name} — :help lists them")
            return True
        self.say(f"  — you are now the {self.current.label} (user {self.current.user.id}) —")
        self.show_new_messages()  # what reached this person while you were the other one
        return True

    def show_new_messages(self) -> None:
        person = self.current
        for message in self.sandbox.messages_to(person.user.id):
            printed = person.shown.get(message.message_id)
            if printed is not None and printed >= message.edits:
                continue
            person.shown[message.message_id] = message.edits
            self.print_message(person, message, edited=printed is not None)

    def print_message(self, person: Person, message: SentMessage, *, edited: bool) -> None:
        text = html.unescape(TAG.sub("", message.text or f"[{message.kind}]"))
        self.say("bot (edited) ›" if edited else "bot ›")
        for row in text.splitlines() or [""]:
            self.say(f"  {row}")
        person.buttons = [
            (message, button["text"], button["callback_data"])
            for row in message.buttons
            for button in row
            if "callback_data" in button
        ]
        for number, (_, label, _) in enumerate(person.buttons, start=1):
            self.say(f"  [{number}] {label}")


async def run_demo(settings: Settings, stdin: TextIO, out: TextIO) -> int:
    interactive = stdin.isatty()
    with tempfile.TemporaryDirectory(prefix="thinka-demo-") as folder:
        async with BotApiSandbox() as sandbox:
            demo_settings = replace(
                settings,
                token=sandbox.token,
                api_base_url=sandbox.base_url,
                api_file_url=sandbox.base_file_url,
                # A fresh database each time: the demo never touches THINKA_DB.
                db_path=Path(folder) / "demo.sqlite3",
                # Example office hours, so that booking an appointment can be tried.
                config_path=DEMO_CONFIG,
                admin_ids=frozenset({DEMO_STAFF_ID}),
                staff_chat_id=None,
                webhook_url=None,
            )
            application = build_application(demo_settings)

            sandbox.idle_checks.append(partial(settled, application))
            async with running(application):
                demo = Demo(sandbox, out)
                # Like a real colleague, the demo's staff member has written to the bot once,
                # so that Telegram lets the bot send them appointment requests.
                await sandbox.send_message(demo.staff.user, "/start")
                await sandbox.wait_for_idle(timeout=10)
                demo.staff.shown.update(
                    {m.message_id: m.edits for m in sandbox.messages_to(demo.staff.user.id)}
                )
                demo.say("Th.INKA demo — the bot runs against a local Telegram sandbox.")
                demo.say(HELP)
                demo.say(translation_line(application.bot_data[SERVICES_KEY].translation.info))
                demo.say(f"Languages: {', '.join(LANGUAGES)}. Start with /start.")
                while True:
                    if interactive:
                        out.write(f"you ({demo.current.label.split(',')[0]}) › ")
                        out.flush()
                    line = await asyncio.to_thread(stdin.readline)
                    if not line:
                        break
                    if not interactive:
                        demo.say(f"› {line.rstrip()}")
                    if not await demo.handle(line):
                        break
                demo.say("Demo ended.")
    return 0


def translation_line(info) -> str:
    """Said plainly at the start: the demo never pretends to translate."""
    if info is None:
        return (
            "Machine translation is off: messages between residents and staff are passed on"
            " as written (set THINKA_TRANSLATE to use one; see docs/translation.md)."
        )
    return f"Machine translation: {info.name} at {info.host} (real translations, not the demo's)."


def main(settings: Settings) -> int:
    # The bot's own log lines would interleave with the chat; warnings still show.
    logging.getLogger().setLevel(max(logging.WARNING, logging.getLogger().level))
    try:
        return asyncio.run(run_demo(settings, sys.stdin, sys.stdout))
    except KeyboardInterrupt:
        return 0
