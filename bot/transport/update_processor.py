"""How updates are worked through: chats side by side and served in turn, each chat strictly in
order, every start and end written to the durable inbox, and a handler that fails tried again
or parked, never silently counted as done (the rule is in bot/transport/inbox.py).

"A chat" here is what must stay in order: a private chat, a group, or one forum topic of the
staff group (each case has its topic; what is said in one need not wait for another).

Fairness. A chat never holds a slot while it waits: updates wait in their chat's queue, and only
a chat whose next update may run (nothing of that chat under way) stands in the ring of ready
chats. A free slot goes to the chat at the head of the ring, which, if it has more, goes to the
back. So a resident who sends 100 messages has one of them under way at a time and a newcomer's
/start waits for at most one update of each other chat, not for the whole flood.

Failures. python-telegram-bot catches what a handler raises and gives it to the error handlers;
`handlers/gates/errors.py` hands it to `failed` here, and stops the update's other handlers. After
the update the processor decides: a transient failure is tried again after RETRY_DELAYS (the
chat's later updates wait, they must not overtake it; other chats go on), up to MAX_ATTEMPTS
starts; then, or at once for a bug, the update is parked and staff are told (bot/transport/
parked.py). A storage failure puts the update back in the inbox untouched (intake.py pauses).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from telegram import Update
from telegram.error import Forbidden, RetryAfter
from telegram.ext import Application, BaseUpdateProcessor

from bot.core.failures import is_transient, storage_problem
from bot.core.retry import retry_after_seconds
from bot.transport.inbox import MAX_ATTEMPTS
from bot.transport.intake import MAX_IN_MEMORY, Entry, Intake

logger = logging.getLogger(__name__)

# Updates handled at the same time. Sized with bench/throughput.py on this project's 2-core
# machine (docs/performance.md): 4 was clearly slower (107 against 168 updates/s), 8 to 32 within
# the noise of one another, 16 with the best median ratio to bare python-telegram-bot (0.47,
# p99 2.2x) over three runs each; more only opens more HTTP connections. Fairness does not
# depend on it: a waiting chat holds no slot, so a newcomer gets the next free one.
MAX_IN_FLIGHT = 16
# Pauses before the 2nd, 3rd and 4th start of an update whose handler failed transiently: long
# enough for Telegram's hiccups (a 502 for some seconds), short enough that a staff reply is late
# by half a minute at worst.
RETRY_DELAYS = (1.0, 5.0, 30.0)

ParkedCallback = Callable[[Update, Entry, str, int], Awaitable[None]]


class _Chat:
    __slots__ = ("busy", "waiting")

    def __init__(self) -> None:
        self.waiting: deque[asyncio.Future[bool]] = deque()  # True: go; False: put back
        self.busy = False  # one of its updates is under way (running, or pausing for a retry)


class ChatOrderedProcessor(BaseUpdateProcessor):
    def __init__(
        self,
        max_in_flight: int = MAX_IN_FLIGHT,
        *,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ) -> None:
        # python-telegram-bot's own semaphore must never bind (it would hold updates in arrival
        # order again): the intake keeps at most MAX_IN_MEMORY updates in flight.
        super().__init__(2 * MAX_IN_MEMORY)
        self.max_in_flight = max_in_flight
        self.retry_delays = retry_delays
        self._chats: dict[Hashable, _Chat] = {}
        self._ready: deque[Hashable] = deque()  # chats whose next update may run, in turn
        self._running = 0
        self._failures: dict[int, BaseException | None] = {}
        self._pausing: set[asyncio.Future[None]] = set()  # retries waiting out their delay
        self._tasks: set[asyncio.Task[Any]] = set()  # one per update in memory
        self._closed = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._application: Application | None = None
        self._intake: Intake | None = None
        self._on_parked: ParkedCallback | None = None

    def bind(self, application: Application, intake: Intake, on_parked: ParkedCallback) -> None:
        """At start-up, once the database is open."""
        self._application = application
        self._intake = intake
        self._on_parked = on_parked
        self._closed = False

    # -- python-telegram-bot's side ----------------------------------------------------------
    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        entry = self._intake.entry(update) if self._intake is not None else None
        if entry is None or not isinstance(update, Update):
            await coroutine  # not from the inbox (a test putting an update in by hand)
            return
        self._idle.clear()
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._work(update, entry, coroutine)
        finally:
            self._tasks.discard(task)
            if not self._tasks:
                self._idle.set()

    def failed(self, update: object, error: BaseException) -> bool:
        """The error handler reports a handler's failure; True when this processor decides what
        happens to the update (then the update's other handlers must not run)."""
        if not isinstance(update, Update) or update.update_id not in self._failures:
            return False
        if self._failures[update.update_id] is None:
            self._failures[update.update_id] = error
        return True

    # -- one update ---------------------------------------------------------------------------
    async def _work(self, update: Update, entry: Entry, coroutine: Awaitable[Any] | None) -> None:
        assert self._intake is not None and self._application is not None
        intake = self._intake
        starts, failures = entry.attempts, entry.failures
        turn = self._queue(entry.order, first=False)
        try:
            while True:
                if not await turn:
                    await intake.unstarted(entry)
                    intake.put_aside(entry)
                    return
                if not await intake.started(entry):
                    # The database cannot be written: back to the inbox (intake.py pauses).
                    self._release(entry.order)
                    intake.put_aside(entry)
                    return
                starts += 1
                if coroutine is None:
                    coroutine = self._application.process_update(update)
                error = await self._attempt(update.update_id, coroutine)
                coroutine = None
                verdict = self._verdict(error, starts)
                if verdict == "done":
                    self._release(entry.order)
                    await intake.done(entry)
                    return
                if verdict == "storage":
                    assert error is not None
                    # Put back first: that also puts back the chat's next updates, which must
                    # not run before this one.
                    intake.put_aside(entry, storage=error)
                    self._release(entry.order)
                    return
                assert error is not None
                failures += 1
                name = type(error).__name__
                if verdict == "park":
                    self._release(entry.order)
                    logger.error(
                        "update %s (%s) parked after %d attempts: %s",
                        update.update_id,
                        entry.kind,
                        starts,
                        name,
                    )
                    await intake.park(entry, name)
                    assert self._on_parked is not None
                    await self._on_parked(update, entry, name, starts)
                    return
                # Retry: free the slot, keep the chat (its later updates must not overtake).
                self._running -= 1
                self._dispatch()
                if not await intake.retrying(entry, name):
                    self._release(entry.order, running=False)
                    intake.put_aside(entry)
                    return
                delay = self.retry_delays[min(failures, len(self.retry_delays)) - 1]
                if isinstance(error, RetryAfter):
                    delay = max(delay, retry_after_seconds(error))  # Telegram said how long
                logger.warning(
                    "update %s (%s) failed (%s); attempt %d in %.0f s",
                    update.update_id,
                    entry.kind,
                    name,
                    starts + 1,
                    delay,
                )
                if not await self._pause(delay):
                    self._release(entry.order, running=False)
                    intake.put_aside(entry)
                    return
                turn = self._queue(entry.order, first=True)
        finally:
            if coroutine is not None:
                coroutine.close()  # never started (put back): no "never awaited" warning

    async def _attempt(self, update_id: int, coroutine: Awaitable[Any]) -> BaseException | None:
        """Run the handlers once; what failed, as the error handler reported it."""
        self._failures[update_id] = None
        try:
            await coroutine
        except asyncio.CancelledError:
            raise
        except Exception as error:  # outside any handler (python-telegram-bot itself)
            self._failures[update_id] = self._failures[update_id] or error
        finally:
            error = self._failures.pop(update_id, None)
        return error

    @staticmethod
    def _verdict(error: BaseException | None, starts: int) -> str:
        if error is None:
            return "done"
        if storage_problem(error) is not None:
            return "storage"
        if isinstance(error, Forbidden):
            return "done"  # the person blocked the bot: nobody to answer
        if is_transient(error) and starts < MAX_ATTEMPTS:
            return "retry"
        return "park"

    async def _pause(self, delay: float) -> bool:
        """Wait out a retry's delay; False when the updates are being put back meanwhile."""
        stop: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pausing.add(stop)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(stop), delay)
            return not stop.done()
        finally:
            self._pausing.discard(stop)

    # -- turns --------------------------------------------------------------------------------
    def _queue(self, key: Hashable, *, first: bool) -> asyncio.Future[bool]:
        """A place in the chat's queue (at its head for a retry); resolved True when it is this
        update's turn and a slot is free."""
        turn: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if self._closed:
            turn.set_result(False)
            return turn
        chat = self._chats.get(key)
        if chat is None:
            chat = self._chats[key] = _Chat()
        if first:
            # A retry: the chat was busy (so not among the ready ones) and is ready again.
            chat.waiting.appendleft(turn)
            chat.busy = False
            self._ready.append(key)
        else:
            chat.waiting.append(turn)
            if not chat.busy and len(chat.waiting) == 1:
                self._ready.append(key)
        self._dispatch()
        return turn

    def _dispatch(self) -> None:
        while self._running < self.max_in_flight and self._ready:
            key = self._ready.popleft()
            chat = self._chats[key]
            turn = chat.waiting.popleft()
            chat.busy = True
            self._running += 1
            turn.set_result(True)

    def _release(self, key: Hashable, *, running: bool = True) -> None:
        """The chat's update is finished: the slot to the next ready chat, the chat to the back."""
        if running:
            self._running -= 1
        chat = self._chats[key]
        chat.busy = False
        if chat.waiting:
            self._ready.append(key)
        else:
            del self._chats[key]
        self._dispatch()

    def put_back(self) -> None:
        """Every update waiting for its turn or its retry goes back to the inbox (a storage
        outage, or shutdown); those under way finish."""
        self._ready.clear()
        for key, chat in list(self._chats.items()):
            while chat.waiting:
                chat.waiting.popleft().set_result(False)
            if not chat.busy:
                del self._chats[key]
        for stop in self._pausing:
            if not stop.done():
                stop.set_result(None)

    async def drain(self, timeout: float) -> None:  # noqa: ASYNC109
        """Shutdown: nothing new starts; wait up to `timeout` for the updates under way. What
        is left stays pending in the inbox for the next start."""
        self._closed = True
        self.put_back()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)
        if self._tasks:
            # Stuck (a network call without end): cancelled, they stay pending in the inbox.
            logger.warning(
                "%d updates still under way at shutdown are left for the next start",
                len(self._tasks),
            )
            for task in list(self._tasks):
                task.cancel()
            await asyncio.wait(list(self._tasks), timeout=1.0)

    async def initialize(self) -> None:
        """Nothing to set up: queues are created on demand."""

    async def shutdown(self) -> None:
        """Nothing to free: the inbox is flushed with the database at shutdown."""
