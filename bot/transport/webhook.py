"""The webhook receiver: an update is answered 200 only once it is in the inbox.

python-telegram-bot's own webhook server answers 200 as soon as the update is in memory, compares
the secret token with `!=`, answers malformed JSON with a 500 and accepts bodies of any size. This
one is a small aiohttp server instead, with each of those decided here:
- the X-Telegram-Bot-Api-Secret-Token header is required and compared in constant time (403);
- only application/json (415), at most MAX_BODY bytes (413), a JSON object with an integer
  update_id (400): Telegram never sends anything else, so anything else is refused unread;
- the body is stored as it came and answered 200 before python-telegram-bot reads it
  (bot/transport/intake.py): an update the library cannot read is quarantined there, never
  answered with an error that Telegram would retry for a day, holding up the ones behind it;
- a database that cannot be written answers 500, so Telegram delivers the update again later.
No handler runs for a refused request. An unexpected error while storing (a bug, not a bad
update) sets `failed`, like the poller's: the process exits non-zero and is restarted.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Sequence

from aiohttp import web
from telegram import Bot, Update

from bot.transport.inbox import Received
from bot.transport.intake import Intake, describe_failure

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# A Telegram update is a few kilobytes (4096 characters of text and their entities at most).
MAX_BODY = 1024 * 1024


class WebhookReceiver:
    def __init__(
        self,
        bot: Bot,
        intake: Intake,
        *,
        url: str,
        path: str,
        secret: str,
        listen: tuple[str, int],
        allowed_updates: Sequence[str] = Update.ALL_TYPES,
    ) -> None:
        if not secret:
            raise ValueError("a webhook needs a secret token")
        self._bot = bot
        self._intake = intake
        self._url = url
        self._path = "/" + path.lstrip("/")
        self._secret = secret.encode()
        self._listen = listen
        self._allowed = list(allowed_updates)
        self._runner: web.AppRunner | None = None
        # Like the poller's: set when receiving dies of an unexpected error.
        self.fatal: BaseException | None = None
        self.failed = asyncio.Event()
        self._receiving = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.port: int | None = None

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self._path, self._receive)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, *self._listen)
        await site.start()
        self.port = self._runner.addresses[0][1]
        await self._bot.set_webhook(
            self._url,
            secret_token=self._secret.decode(),
            allowed_updates=self._allowed,
            drop_pending_updates=False,
        )
        logger.info("webhook listening on %s:%s%s", self._listen[0], self.port, self._path)

    async def stop(self) -> None:
        """Stop accepting; the webhook stays registered, so Telegram keeps what arrives meanwhile
        and delivers it after the restart."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def settled(self) -> None:
        """Return once no request is between its arrival and the update queue (tests)."""
        await self._idle.wait()

    async def _receive(self, request: web.Request) -> web.Response:
        self._receiving += 1
        self._idle.clear()
        try:
            return await self._take(request)
        finally:
            self._receiving -= 1
            if not self._receiving:
                self._idle.set()

    async def _take(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, self._secret):
            return web.Response(status=403, text="wrong or missing secret token")
        if request.content_type != "application/json":
            return web.Response(status=415, text="application/json expected")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413, text="body too large")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="body too large")
        try:
            text = body.decode("utf-8")
            data = json.loads(text)
        except ValueError:
            return web.Response(status=400, text="malformed JSON")
        if not isinstance(data, dict) or type(data.get("update_id")) is not int:
            return web.Response(status=400, text="not an update")
        try:
            stored = await self._intake.stored([Received(data["update_id"], text, data)])
        except Exception as error:
            # A bug, not a bad update: the process exits (bot/app.py) and is restarted.
            self.fatal = describe_failure("receiving updates", error)
            self.failed.set()
            return web.Response(status=500, text="not stored")
        if not stored:
            return web.Response(status=500, text="not stored")
        return web.Response(status=200)
