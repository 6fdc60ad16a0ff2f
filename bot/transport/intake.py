"""The intake: from the inbox to python-telegram-bot's handlers, one update at a time, fairly,
in bounded memory.

The receivers (bot/transport/polling.py, bot/transport/webhook.py) hand what Telegram sent to
`Intake.stored`, which writes it to the inbox (bot/transport/inbox.py) before anything else. Only
then is each update read by python-telegram-bot, on its own: one it cannot read is quarantined
(kept, counted, logged by id and type without content, admins told once) and the others go on.

Memory is bounded whatever the backlog: at most MAX_IN_MEMORY updates are held as objects, at
most MAX_PER_CHAT of them from one chat, so one flooding chat cannot take the memory others
need. What does not fit stays in the inbox (the inbox *is* the buffer) and is read from there as
room frees, oldest first and chat by chat in order. Above HIGH_WATER pending updates the poller
stops fetching until the backlog is below LOW_WATER: Telegram keeps the rest meanwhile.

At start-up the pending rows are sorted by what became of them (the rule is in inbox.py): an
update that was being handled when the process died is replayed alone before anything else, so
if it kills the process again it is known to be the culprit and is quarantined at the next start.

A storage failure (disk full, read-only, locked database) pauses the intake (bot/transport/
outage.py says who is told): nothing confirmed to Telegram is lost, updates in memory are put
back (they are pending in the inbox), and one pending update is tried now and then until one
goes through; then everything continues by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass

from telegram import Bot, Update

from bot.core.failures import IntakeFailed, storage_problem
from bot.core.i18n import Translator
from bot.transport.alerts import AdminAlerts
from bot.transport.inbox import (
    CRASH_LIMIT,
    Inbox,
    Received,
    Stored,
    private_sender,
    replay_safe,
    update_chat,
    update_kind,
    update_topic,
)
from bot.transport.outage import StorageOutage

logger = logging.getLogger(__name__)

# Updates held in memory as python-telegram-bot objects (measured: up to 15 kB each, a button
# press carries its whole message), so about 10 MB at most; the inbox holds the rest.
MAX_IN_MEMORY = 500
# Of them, at most this many from one chat: a chat is handled one update at a time anyway.
MAX_PER_CHAT = 10
# Once updates wait in the inbox, they are read back when this many fit (each read goes through
# the ids of the whole backlog, so not one by one).
LOAD_BATCH = 25
# Pending updates in the inbox above which the poller stops fetching, and below which it starts
# again. Telegram keeps unfetched updates for 24 hours.
HIGH_WATER = 1000
LOW_WATER = 500
# At start-up, how long an update replayed alone may take before the others go on beside it.
REPLAY_ALONE = 60.0
# During a storage outage: the pauses between tries of one pending update.
PROBE_DELAYS = (1.0, 2.0, 5.0, 10.0)


def describe_failure(what: str, error: BaseException) -> IntakeFailed:
    """One line for the operator: the error's class and where it was raised, never its message
    (which may quote an update)."""
    frame = None
    trace = error.__traceback__
    while trace is not None:
        frame = trace
        trace = trace.tb_next
    where = ""
    if frame is not None:
        code = frame.tb_frame.f_code
        where = f" at {'/'.join(code.co_filename.rsplit('/', 3)[-3:])}:{frame.tb_lineno}"
    return IntakeFailed(f"{what} failed: {type(error).__name__}{where}")


@dataclass
class Entry:
    """An update in memory, with what the processor needs to know about it."""

    update_id: int
    chat: Hashable  # its chat (or user) id; an update of nobody is a chat of its own
    order: Hashable  # what it is handled in order with: its chat, or its topic of a forum
    kind: str | None
    replay_safe: bool
    sender: tuple[int, str | None] | None  # who to tell about a storage outage
    attempts: int  # handler starts before this run, from the inbox
    failures: int
    # Stored with its first start counted (it was to run at once): no start to write.
    prestarted: bool = False


def _chat_key(chat_id: int | None, update_id: int) -> Hashable:
    return chat_id if chat_id is not None else ("update", update_id)


class Intake:
    def __init__(
        self,
        bot: Bot,
        inbox: Inbox,
        queue: asyncio.Queue,
        *,
        outage: StorageOutage,
        alerts: AdminAlerts,
        staff_tr: Translator,
    ) -> None:
        self._bot = bot
        self._inbox = inbox
        self._queue = queue
        self._outage = outage
        self._alerts = alerts
        self._staff_tr = staff_tr
        # Set by the composition root: puts back what waits in the processor (storage outage).
        self.put_back: Callable[[], None] = lambda: None
        self._entries: dict[int, Entry] = {}
        self._per_chat: Counter[Hashable] = Counter()
        # Of those, handled and waiting only for their done mark: their chat is free again.
        self._finishing: Counter[Hashable] = Counter()
        # Pending updates wait in the inbox that are not in memory: then every new update goes
        # there too and is read back in order, or it would overtake them.
        self._behind = False
        self._spills = 0  # counts updates left in the inbox, so the feeder knows it saw them all
        self._direct = False  # new updates may go straight to memory (not at start-up, not paused)
        self._paused = False  # storage outage
        self._stopping = False
        self._backlog = 0  # pending rows in the inbox (in memory or not)
        # Updates that can run the moment they are stored (the processor's slots; set by the
        # composition root). 0: every start is written on its own.
        self.starts_at_once = 0
        self._wake = asyncio.Event()
        self._room = asyncio.Event()  # the backlog is below LOW_WATER: fetch again
        self._room.set()
        self._left = asyncio.Event()  # an update left memory
        self._handled: set[int] = set()  # handled, but "done" could not be written (storage)
        self._probe_id: int | None = None  # the update tried during a storage outage
        self._under_way: list[Stored] = []  # at start-up: under way when the last run died
        self._task: asyncio.Task[None] | None = None
        self.fatal: BaseException | None = None
        self.failed = asyncio.Event()

    # -- lifecycle --------------------------------------------------------------------------
    async def open(self) -> None:
        """At start-up: the backlog the previous run left, sorted, then fed like new updates."""
        pending = await self._inbox.repository.pending()
        self._backlog = len(pending)
        self._behind = bool(pending)
        self._under_way = await self._inbox.repository.under_way()
        # New updates may go straight in unless something must be replayed alone first.
        self._direct = not self._under_way
        self._update_room()
        if pending:
            logger.info("%d updates from the previous run are handled first", len(pending))
        self._task = asyncio.create_task(self._run(), name="intake")
        self._wake.set()

    async def stop(self) -> None:
        """Stop feeding; what is not in memory stays pending in the inbox for the next start."""
        self._stopping = True
        self._wake.set()
        self._left.set()
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task])

    async def _run(self) -> None:
        try:
            await self._recover()
            self._direct = True
            while not self._stopping:
                await self._wake.wait()
                self._wake.clear()
                try:
                    if self._paused:
                        await self._probe()
                    else:
                        await self._load()
                except Exception as error:
                    if storage_problem(error) is None:
                        raise
                    self._storage_failed(error, [])
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.fatal = describe_failure("feeding updates", error)
            self.failed.set()

    async def settled(self) -> None:
        """Return once nothing is in memory and nothing waits to be read (tests)."""
        while self._entries or (self._behind and not self._paused) or self._wake.is_set():  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    # -- the receivers' side ----------------------------------------------------------------
    @property
    def backlog(self) -> int:
        """Pending updates in the inbox (in memory or not)."""
        return self._backlog

    @property
    def in_memory(self) -> int:
        return len(self._entries)

    async def room(self) -> int:
        """How many updates the poller may fetch now; waits while the backlog is too long."""
        await self._room.wait()
        return max(1, HIGH_WATER - self._backlog)

    async def stored(self, updates: Sequence[Received]) -> bool:
        """Store what Telegram sent, then admit what is new. False when the database cannot be
        written: then nothing may be confirmed to Telegram (it sends the updates again)."""
        prestart = self._prestart(updates)
        try:
            fresh = await self._inbox.store(updates, prestart)
        except Exception as error:
            if storage_problem(error) is None:
                raise
            self._storage_failed(error, [private_sender(u.data) for u in updates])
            return False
        self._backlog += len(fresh)
        self._update_room()
        for update in updates:
            if update.update_id not in fresh:
                continue
            if update.update_id in self._entries:
                continue  # the feeder read it from the inbox meanwhile
            key = _chat_key(update_chat(update.data), update.update_id)
            if update.update_id in prestart:
                # Its start is on disk already: it goes in whatever happened meanwhile.
                await self._enter(update.update_id, update.data, 0, 0, prestarted=True)
            elif self._direct and not self._behind and self._fits(key):
                await self._enter(update.update_id, update.data, 0, 0)
            else:
                self._behind = True
                self._spills += 1
                self._wake.set()
        return True

    def _prestart(self, updates: Sequence[Received]) -> set[int]:
        """The updates that will run the moment they are stored: nothing of their chat in
        memory, nothing left behind in the inbox, a slot free. Their first start is written
        with them (one commit, not two, before the answer)."""
        if not (self._direct and not self._behind and not self._paused):
            return set()
        room = self.starts_at_once - (len(self._entries) - self._finishing.total())
        chosen: set[int] = set()
        chats: set[Hashable] = set()
        for update in updates:
            if len(chosen) >= room:
                break
            key = _chat_key(update_chat(update.data), update.update_id)
            busy = self._per_chat[key] - self._finishing[key]
            if key in chats or busy or update.update_id in self._entries:
                continue
            chats.add(key)
            chosen.add(update.update_id)
        return chosen

    # -- the processor's side ---------------------------------------------------------------
    def entry(self, update: object) -> Entry | None:
        if not isinstance(update, Update):
            return None
        return self._entries.get(update.update_id)

    async def started(self, entry: Entry) -> bool:
        """Write the start of a handler; False when it cannot be written (then it must not run)."""
        if entry.prestarted:
            entry.prestarted = False  # written with the update; a retry writes its own
            return True
        return await self._written(self._inbox.started(entry.update_id), entry)

    async def unstarted(self, entry: Entry) -> None:
        """Put back before its first turn: a start counted at storing is taken back, or the next
        run would take it for one under way at a crash."""
        if not entry.prestarted:
            return
        entry.prestarted = False
        try:
            await self._inbox.unstart(entry.update_id)
        except Exception as error:
            if storage_problem(error) is None:
                raise
            logger.warning(
                "update %s put back but its start could not be taken back: %s",
                entry.update_id,
                type(error).__name__,
            )

    async def retrying(self, entry: Entry, error: str) -> bool:
        """A transient failure, tried again later; False when the database cannot say so."""
        return await self._written(self._inbox.failed(entry.update_id, error), entry)

    async def _written(self, write: Awaitable[object], entry: Entry) -> bool:
        """Await an inbox write; a storage problem is reported (the sender told) and gives
        False, anything else is raised."""
        try:
            await write
        except Exception as error:
            if storage_problem(error) is None:
                raise
            self._storage_failed(error, [entry.sender])
            return False
        return True

    async def done(self, entry: Entry) -> None:
        # Handled: the chat's next update may run at once (see _prestart) while this is written.
        self._finishing[entry.chat] += 1
        try:
            await self._inbox.done(entry.update_id)
        except Exception as error:
            if storage_problem(error) is None:
                raise
            self._handled.add(entry.update_id)
            self._storage_failed(error, [])
            self._leave(entry, pending=True)
            return
        finally:
            self._finishing[entry.chat] -= 1
            if not self._finishing[entry.chat]:
                del self._finishing[entry.chat]
        self._leave(entry, pending=False)
        if self._paused and entry.update_id == self._probe_id:
            # An update read after the failure went all the way through: the database takes
            # writes again. (Not any update: one under way may have needed no new page.)
            self._probe_id = None
            self._outage.recovered(self._backlog)
            self._paused = False
            self._direct = True
            self._wake.set()

    async def park(self, entry: Entry, error: str) -> None:
        """Failed for good: kept with its error, no longer pending."""
        try:
            await self._inbox.hold(entry.update_id, "parked", error)
        except Exception as failure:
            if storage_problem(failure) is None:
                raise
            self._storage_failed(failure, [entry.sender])
            self._leave(entry, pending=True)
            return
        self._leave(entry, pending=False)

    def put_aside(self, entry: Entry, *, storage: BaseException | None = None) -> None:
        """Not handled now (shutdown, storage outage): it stays pending in the inbox."""
        if storage is not None:
            self._storage_failed(storage, [entry.sender])
        self._leave(entry, pending=True)

    # -- inside -----------------------------------------------------------------------------
    def _fits(self, key: Hashable) -> bool:
        return self._per_chat[key] < MAX_PER_CHAT and len(self._entries) < MAX_IN_MEMORY

    def _update_room(self) -> None:
        if self._backlog >= HIGH_WATER:
            self._room.clear()
        elif self._backlog < LOW_WATER:
            self._room.set()

    def _leave(self, entry: Entry, *, pending: bool) -> None:
        if self._entries.pop(entry.update_id, None) is None:
            return
        self._per_chat[entry.chat] -= 1
        if not self._per_chat[entry.chat]:
            del self._per_chat[entry.chat]
        if pending:
            if not self._stopping:
                self._behind = True
                self._spills += 1
        else:
            self._backlog -= 1
            self._update_room()
        self._left.set()
        self._wake.set()

    async def _enter(
        self, update_id: int, data: dict, attempts: int, failures: int, *, prestarted: bool = False
    ) -> None:
        """Read the update with python-telegram-bot and queue it; quarantine it if it cannot."""
        key = _chat_key(update_chat(data), update_id)
        thread = update_topic(data)
        entry = Entry(
            update_id,
            key,
            key if thread is None else (key, thread),
            update_kind(data),
            replay_safe(data),
            private_sender(data),
            attempts,
            failures,
            prestarted,
        )
        try:
            update = Update.de_json(data, self._bot)
        except Exception as error:
            await self.unstarted(entry)  # it never ran
            await self._quarantine(update_id, entry.kind, type(error).__name__)
            return
        self._entries[update_id] = entry
        self._per_chat[key] += 1
        self._queue.put_nowait(update)

    async def _quarantine(self, update_id: int, kind: str | None, error: str) -> None:
        try:
            await self._inbox.hold(update_id, "quarantined", error)
        except Exception as failure:
            if storage_problem(failure) is None:
                raise
            # Still pending: read again, and put aside, once the database takes writes.
            self._storage_failed(failure, [])
            self._behind = True
            return
        self._backlog -= 1
        self._update_room()
        logger.warning(
            "update %s (%s) quarantined: %s; the next updates go on", update_id, kind, error
        )
        held = await self._inbox.repository.count_held()
        tr = self._staff_tr
        self._alerts.alert(
            "quarantine",
            "⚠️ "
            + tr._(
                "Update %(update_id)s (%(kind)s) was put in quarantine (%(error)s); the bot "
                "goes on with the next ones. Quarantined or parked in all: %(held)s. "
                "`python -m bot inbox` lists them."
            )
            % {"update_id": update_id, "kind": kind or "?", "error": error, "held": held},
        )

    def _storage_failed(self, error: BaseException, senders) -> None:
        self._outage.failed(error, [s for s in senders if s is not None])
        if not self._paused:
            self._paused = True
            self._direct = False
            self.put_back()  # the waiting ones go back to the inbox, in order
            self._wake.set()

    async def _load(self) -> None:
        """Read pending updates into memory, oldest first, as room allows and in batches (each
        pass reads the ids of the whole backlog)."""
        while self._behind and not self._stopping and not self._paused:
            room = MAX_IN_MEMORY - len(self._entries)
            if room <= 0 or (room < LOAD_BATCH and len(self._entries) >= LOAD_BATCH):
                return  # woken again when one leaves
            spills = self._spills
            counts = Counter(self._per_chat)
            picks: list[int] = []
            left = False  # pending updates that stay in the inbox for now
            for update_id, chat in await self._inbox.repository.pending():
                if update_id in self._entries:
                    continue
                key = _chat_key(chat, update_id)
                if len(picks) < room and counts[key] < MAX_PER_CHAT:
                    picks.append(update_id)
                    counts[key] += 1
                else:
                    left = True
            complete = True
            for row in await self._inbox.repository.load(picks):
                if row.update_id in self._entries:
                    continue  # came in directly while the inbox was read
                if not self._fits(_chat_key(row.chat_id, row.update_id)):
                    complete = False
                    break
                await self._enter_stored(row)
                if self._paused:
                    return
            if complete and not left and spills == self._spills:
                self._behind = False  # all caught up: new updates may go straight in again
            if not picks:
                return  # every chat with updates waiting is at its share: woken when one leaves

    async def _enter_stored(self, row: Stored) -> None:
        if row.update_id in self._handled:
            # Handled in this run; only its "done" was lost to the storage outage.
            await self._inbox.done(row.update_id)
            self._handled.discard(row.update_id)
            self._backlog -= 1
            self._update_room()
            return
        try:
            data = json.loads(row.raw)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            await self._quarantine(row.update_id, None, "unreadable JSON")
            return
        await self._enter(row.update_id, data, row.attempts, row.failures)

    async def _recover(self) -> None:
        """Start-up: updates that were being handled when the previous run died."""
        for row in self._under_way:
            deaths = row.attempts - row.failures
            try:
                data = json.loads(row.raw)
            except ValueError:
                data = {}
            kind = update_kind(data) if isinstance(data, dict) else None
            if not isinstance(data, dict) or not replay_safe(data):
                # It may have been answered already: not handled again (see inbox.py).
                logger.info(
                    "update %s (%s) was under way at the last stop; not handled again",
                    row.update_id,
                    kind,
                )
                await self._inbox.done(row.update_id)
                self._backlog -= 1
                continue
            if deaths >= CRASH_LIMIT:
                await self._quarantine(row.update_id, kind, f"under way at {deaths} crashes")
                continue
            # Alone, so that if it takes the process down again, it is the one.
            logger.info(
                "update %s (%s) was under way at the last stop; handled again, alone",
                row.update_id,
                kind,
            )
            self._left.clear()
            await self._enter(row.update_id, data, row.attempts, row.failures)
            with contextlib.suppress(TimeoutError):
                # A replay that hangs (rather than crashes) must not hold up everybody else.
                async with asyncio.timeout(REPLAY_ALONE):
                    while row.update_id in self._entries and not self._stopping:
                        await self._left.wait()
                        self._left.clear()
        self._under_way = []
        self._update_room()

    async def _probe(self) -> None:
        """Storage outage: try the oldest pending update alone, now and then, until one goes
        through (`done` then ends the outage)."""
        for delay in itertools.chain(PROBE_DELAYS, itertools.repeat(PROBE_DELAYS[-1])):
            await asyncio.sleep(delay)
            if self._stopping or not self._paused:
                return
            if self._entries:
                continue  # still one in memory: wait for it
            try:
                pending = await self._inbox.repository.pending()
                rows = await self._inbox.repository.load([i for i, _ in pending[:1]])
            except Exception as error:
                if storage_problem(error) is None:
                    raise
                continue
            if not rows:
                await self._wake.wait()  # nothing to try: wait for what the receivers bring
                self._wake.clear()
                continue
            self._probe_id = rows[0].update_id
            await self._enter_stored(rows[0])
