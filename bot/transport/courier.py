"""The courier: the one worker that sends what bot/core/outgoing.py stored.

Everything the bot sends that carries state goes this way (docs/architecture.md, "The one path
out"). The courier takes due rows most urgent first (`Lane`), keeps each chat (and each case
topic) in order, and spends Telegram's budgets on what matters first: about 30 messages a
second in all (THINKA_BROADCAST_RATE, a little left for direct answers), 20 a minute per group
(18 here, two left for direct answers), and per resident a burst of copies into the staff topic,
then one every few seconds, the rest merged into one digest.

Each row is marked 'sending' before its request leaves, and settled with Telegram's answer,
together with its consequence (the row's `on_sent` hook, in the same transaction). At most
`in_flight` requests (of broadcasts: `in_flight_broadcast`) are 'sending' at once, so a kill
leaves at most that many uncertain; one transaction per pass of the loop records the answers
that came in and hands the places they free to the next rows, marking those (`_write`). What
Telegram answered decides the row's state:
- delivered: 'sent';
- not carried out (5xx, no connection, 429): pending again after a back-off or the wait Telegram
  names; across restarts, since the time is stored;
- refused (403 blocked, 400 chat not found, message to copy deleted): 'blocked' / 'failed', and
  staff are told where they act (the case topic, or the chat they wrote in);
- answer lost (read timeout, connection dropped after the request left), or found 'sending' at
  start-up after a kill: 'uncertain'. Never sent again by itself (that could be a second copy),
  never dropped: staff get a line with a "send again" button. Rows marked idempotent (a
  reaction, a new topic) are simply tried again.

Telegram calls go through a Bot of their own without python-telegram-bot's AIORateLimiter: a 429
must hold up only that chat (or the pacing), never the handlers' direct answers, and never make
this worker sleep inside a call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    ReactionTypeEmoji,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import RetryAfter, TelegramError

from bot.core.callbacks import OUTGOING
from bot.core.clock import Clock
from bot.core.db import Database, Transaction
from bot.core.i18n import STAFF_LANGUAGE, I18n
from bot.core.outgoing import (
    Buttons,
    Content,
    Copy,
    Document,
    Envelope,
    Lane,
    NewTopic,
    Outgoing,
    Photo,
    Reaction,
    Render,
    Row,
    Text,
    buttons,
    to_chat,
    to_staff,
    to_topic,
)
from bot.core.retry import Outcome, backoff, classify, retry_after_seconds

logger = logging.getLogger(__name__)

# A staff group that refuses topics (not a forum, no rights, bot removed) is being fixed by a
# person: try again after this pause, not in a tight loop. A 5xx or a timeout is retried at once.
TOPIC_PAUSE = timedelta(seconds=30)
TEXT_LIMIT = 4096
# The lanes from BROADCAST on (announcements, then reactions) can hold thousands of rows: they
# are read ahead, this many at a time, rather than at every pass (`_tail`).
CONVERSATIONS = (min(Lane), Lane.BROADCAST)
TAIL = (Lane.BROADCAST, max(Lane) + 1)
READ_AHEAD = 128


@dataclass(frozen=True)
class Limits:
    """Telegram's budgets as the courier spends them (tests relax them)."""

    rate: float = 25.0  # messages a second in all (THINKA_BROADCAST_RATE)
    group_per_minute: int = 18  # Telegram allows 20 a minute per group: two for direct answers
    sender_burst: int = 10  # copies of one resident's messages sent one by one …
    sender_interval: float = 5.0  # … then one every this many seconds, the rest as one digest
    # Requests at once: for everything but broadcasts as many as updates are handled at once
    # (bot/transport/update_processor.py), so that answers never queue behind each other more
    # than the handlers did; for broadcasts few: a kill finds at most this many requests
    # 'sending', and more did not go faster (bench/broadcast.py at 200/s, 20 ms round trips:
    # 16 gave 0.67-0.80 R against 0.95 with 8: more rows wait for their pacing slot, and when
    # the loop stalls they leave in a bunch that the per-second limit answers with 429s).
    in_flight: int = 32
    in_flight_broadcast: int = 8


@dataclass(frozen=True)
class Delivered:
    """Telegram has it: the message made (for a new topic, its thread id)."""

    chat_id: int
    message_id: int | None
    thread_id: int | None = None


@dataclass(frozen=True)
class Failure:
    """Refused (BLOCKED, REFUSED) or UNCERTAIN, with Telegram's reason."""

    outcome: Outcome
    reason: str


HookFn = Callable[
    [Transaction, Mapping, "Delivered | Failure"], Awaitable[Sequence[Envelope] | None]
]
RenderFn = Callable[[Mapping], Awaitable[Content | None]]
MergeFn = Callable[[list[Row]], Awaitable[Text]]


@dataclass
class _Job:
    rows: list[Row]
    key: tuple
    paced: bool  # a message (counts against the pace); a reaction does not
    group: bool  # spends the staff group's budget
    bulk: bool  # a broadcast row: its places are separate from the conversations'
    holding: bool = False  # holds one of the `in_flight` places until its result is recorded


@dataclass
class _Mark:
    """A job waiting for a place: the loop marks its rows 'sending' when one is free."""

    job: _Job
    marked: asyncio.Future[list[int]]  # the rows that were still pending


@dataclass
class _Result:
    job: _Job
    delivered: Delivered | None = None
    outcome: Outcome | None = None
    reason: str = ""
    retry_after: float = 0.0
    gone: str | None = None  # nothing to send any more (why)
    unmarked: bool = False  # never marked 'sending': nothing to settle


@dataclass
class _Bucket:
    """Copies of one resident's messages: a burst, then one per interval."""

    tokens: float
    stamp: float
    flooding: bool = False


@dataclass
class CourierStats:
    sent: int = 0
    rate_limited: int = 0
    retried: int = 0
    uncertain: int = 0
    failed: int = 0
    digests: int = 0
    by_lane: dict[int, int] = field(default_factory=dict)


class Courier:
    def __init__(
        self,
        bot: Bot,
        outgoing: Outgoing,
        db: Database,
        clock: Clock,
        i18n: I18n,
        *,
        staff_chat_id: int | None,
        admin_ids: frozenset[int] = frozenset(),
        limits: Limits | None = None,
        idle_interval: float = 5.0,
    ) -> None:
        self._bot = bot
        self._outgoing = outgoing
        self._db = db
        self._clock = clock
        self._tr = i18n.translator(STAFF_LANGUAGE)  # reports are for staff
        self._staff_chat_id = staff_chat_id
        self._admin_ids = admin_ids
        self.limits = limits or Limits()
        self._idle_interval = idle_interval
        rate = self.limits.rate
        # A little of Telegram's ~30/s stays free for the handlers' direct answers.
        self._base_interval = self._interval = 1.0 / max(rate - max(1.0, rate * 0.03), rate / 2)
        self._renderers: dict[str, RenderFn] = {}
        self._mergers: dict[str, MergeFn] = {}
        self._hooks: dict[str, HookFn] = {}
        self._topic_gone: Callable[[Transaction, int], Awaitable[None]] | None = None
        self._watchers: list[Callable[[set[int]], Awaitable[None]]] = []
        self._moved: set[int] = set()  # broadcasts the watchers have yet to be told about
        self._watching: asyncio.Task | None = None
        self._settled_cases: list[Callable[[int], None]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._stopping = False
        self._busy = False
        self._jobs: dict[asyncio.Task, _Job] = {}
        self._keys: set[tuple] = set()  # chats and topics with a request under way
        self._ids: set[int] = set()  # rows taken by a job
        self._results: list[_Result] = []
        self._next_slot = 0.0
        self._paused_until = 0.0  # all pacing (a 429 for a private chat: the global limit)
        self._chat_paused: dict[int, float] = {}
        self._group_sends: deque[float] = deque()
        self._group_paused_until = 0.0
        # A staff group that refuses new topics (no rights, not a forum) is being fixed by a
        # person: topics wait this long; copies into topics that exist go on. In memory, so a
        # restart (what one does after fixing it) tries at once.
        self._topics_paused_until = 0.0
        self._buckets: dict[int, _Bucket] = {}
        # Places: requests whose rows are 'sending' on disk, at most `in_flight` of each kind
        # (broadcasts have places of their own: an answer never queues behind announcements).
        # A job waits for one in `_waiting`, then for its pacing slot, then goes.
        self._places = {False: 0, True: 0}
        self._waiting: deque[_Mark] = deque()
        self._last_sweep = 0.0
        # Whether a pass may find something the last one did not: new rows (kick), places or
        # chats freed while rows were left behind, rows back to pending, a timer. Without it a
        # pass would query the database for every answer recorded.
        self._look = True
        self._behind = False  # the last pass left due rows behind
        self._next_due: datetime | None = None
        self._next_due_checked = 0.0
        self._tail: deque[Row] = deque()  # rows of the TAIL lanes read ahead, not started yet
        self.stats = CourierStats()

    @property
    def bot(self) -> Bot:
        """The courier's own Bot (no AIORateLimiter): also for the relay's edits in place."""
        return self._bot

    # -- registry (the composition root wires the features in) ------------------------------
    def renderer(self, name: str, render: RenderFn, *, merge: MergeFn | None = None) -> None:
        """Content of `Render(name, args)` rows, decided when sent; `merge` makes one digest
        message of several such rows (copies held back by the per-resident limit)."""
        self._renderers[name] = render
        if merge is not None:
            self._mergers[name] = merge

    def hook(self, name: str, function: HookFn) -> None:
        """`Hook(name, args)`: run with (transaction, args, Delivered | Failure) when a row is
        settled; it may return envelopes, stored in the same transaction."""
        self._hooks[name] = function

    def on_topic_gone(self, function: Callable[[Transaction, int], Awaitable[None]]) -> None:
        """A case's forum topic was deleted in the group (the row waits for a new one)."""
        self._topic_gone = function

    def watch_batches(self, function: Callable[[set[int]], Awaitable[None]]) -> None:
        """Told which broadcasts moved on, after their rows were recorded (for progress)."""
        self._watchers.append(function)

    def on_case_settled(self, function: Callable[[int], None]) -> None:
        """Told about a case whose delivery failed or became uncertain (its card shows it)."""
        self._settled_cases.append(function)

    # -- sending ------------------------------------------------------------------------------
    async def send(self, *envelopes: Envelope) -> int:
        """Store and wake: for envelopes not tied to another state change. (Inside one, add
        them with Outgoing.add(tx, …) and call kick() after the commit.)"""
        added = await self._outgoing.put(envelopes, self._clock.now())
        self.kick()
        return added

    def kick(self) -> None:
        """Something was stored: look now rather than at the next interval."""
        self._look = True
        self._next_due_checked = 0.0
        self._wake.set()

    async def send_again(self, row_ids: Sequence[int]) -> int:
        """Staff decided: uncertain rows go out again (a second copy is their choice)."""
        ids = await self._outgoing.send_again(row_ids, self._clock.now())
        if ids:
            logger.info("%d uncertain messages sent again by staff", len(ids))
            self.kick()
        return len(ids)

    async def prune(self, keep: timedelta = timedelta(days=7)) -> int:
        """Forget rows settled longer than `keep` ago (not a broadcast's: they are its record)."""
        return await self._outgoing.prune(self._clock.now() - keep)

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        await self._bot.initialize()
        await self._recover()
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="courier")

    async def stop(self, grace: float = 5.0) -> None:
        """Finish the requests under way and record them; what is still under way after
        `grace` stays 'sending' and is found uncertain at the next start."""
        if self._task is not None:
            self._stopping = True
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), grace)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        for task in list(self._jobs):
            task.cancel()
        if self._watching is not None:
            # The last progress a broadcast made is shown before the bot goes.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._watching, grace)
        await self._bot.shutdown()

    async def settled(self) -> None:
        """Return once nothing is under way or due (tests, shutdown)."""
        while (  # noqa: ASYNC110 - several conditions, no one event to wait on
            self._wake.is_set()
            or self._busy
            or self._jobs
            or self._results
            or (self._watching is not None and not self._watching.done())
        ):
            await asyncio.sleep(0.005)

    async def _loop(self) -> None:
        while not self._stopping or self._jobs or self._results:
            self._wake.clear()
            self._busy = True
            try:
                await self._write()
                if not self._stopping and self._look:
                    self._look = False
                    await self._dispatch()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The database refused (disk full, locked …): nothing is lost, rows stay as
                # they are; try again shortly.
                logger.exception("courier pass failed; trying again in a second")
                self._busy = False
                await asyncio.sleep(1.0)
                continue
            finally:
                self._busy = False
            if self._stopping and not self._jobs and not self._results:
                break  # the last answer is recorded: stop() need not wait out a pause
            try:
                await asyncio.wait_for(self._wake.wait(), await self._pause())
            except TimeoutError:
                self._look = True  # a pause, a budget or a retry time may be over

    async def _pause(self) -> float:
        """How long the loop may sleep: until pacing, a budget or a retry time lets a row go."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        waits = [self._idle_interval]
        for moment in (
            self._paused_until,
            self._group_paused_until,
            self._topics_paused_until,
            *self._chat_paused.values(),
        ):
            if moment > now:
                waits.append(moment - now)
        if self._group_sends and len(self._group_sends) >= self.limits.group_per_minute:
            waits.append(self._group_sends[0] + 60.0 - now)
        for bucket in self._buckets.values():
            if bucket.tokens < 1:
                waits.append((1 - bucket.tokens) * self.limits.sender_interval)
        if not self._jobs and not self._results:
            if now - self._next_due_checked > self._idle_interval:
                self._next_due = await self._outgoing.next_due()
                self._next_due_checked = now
            if self._next_due is not None:
                waits.append((self._next_due - self._clock.now()).total_seconds())
        return max(0.001, min(waits))

    # -- start-up -----------------------------------------------------------------------------
    async def _recover(self) -> None:
        """Rows a killed run left 'sending': nobody knows whether they arrived."""
        now = self._clock.now()
        if self._staff_chat_id is None:
            await self._outgoing.cancel_staff_group_rows(now)
        await self._outgoing.cancel_blocked_broadcasts(now)
        uncertain = 0
        cases: set[int] = set()
        async with self._db.transaction() as tx:
            for row in await self._outgoing.unsettled(tx):
                if row.idempotent:
                    await self._outgoing.settle(tx, row.id, "pending", now, error="restart")
                    continue
                uncertain += 1
                await self._fail(tx, row, Failure(Outcome.UNCERTAIN, "stopped while sending"))
                if row.case_id is not None:
                    cases.add(row.case_id)
        if uncertain:
            logger.warning(
                "%d messages were on their way when the bot stopped: marked uncertain, not sent"
                " again; staff are shown each",
                uncertain,
            )
        for case_id in cases:
            for notify in self._settled_cases:
                notify(case_id)

    # -- choosing what goes now ---------------------------------------------------------------
    def _bucket(self, sender_id: int, now: float) -> _Bucket:
        bucket = self._buckets.get(sender_id)
        if bucket is None:
            bucket = self._buckets[sender_id] = _Bucket(float(self.limits.sender_burst), now)
        bucket.tokens = min(
            float(self.limits.sender_burst),
            bucket.tokens + (now - bucket.stamp) / self.limits.sender_interval,
        )
        bucket.stamp = now
        if bucket.tokens >= self.limits.sender_burst:
            bucket.flooding = False  # quiet long enough: the next ones go one by one again
        return bucket

    def _group_free(self, now: float, taken: int) -> bool:
        while self._group_sends and now - self._group_sends[0] >= 60.0:
            self._group_sends.popleft()
        if now < self._group_paused_until:
            return False
        return len(self._group_sends) + taken < self.limits.group_per_minute

    def _to_group(self, row: Row) -> bool:
        if self._staff_chat_id is None:
            return False
        if row.target in ("group", "topic", "staff"):
            return True
        return row.chat_id == self._staff_chat_id and not isinstance(row.content, Reaction)

    def _order_key(self, row: Row) -> tuple:
        if isinstance(row.content, Reaction):
            return ("row", row.id)  # a reaction needs no order
        if row.target in ("topic", "staff"):
            return ("topic", row.case_id)
        if row.target == "group":
            return ("group", row.case_id, row.id)
        return ("chat", row.chat_id)

    async def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        if now - self._last_sweep > 30.0:
            self._last_sweep = now
            await self._outgoing.cancel_blocked_broadcasts(self._clock.now())
        # Jobs taken ahead wait for a free request and their pacing slot: up to twice as many
        # as may be under way (so the pace never waits for the database), per kind of places.
        free = {
            bulk: 2 * places - sum(j.bulk == bulk for j in self._jobs.values())
            for bulk, places in (
                (False, self.limits.in_flight),
                (True, self.limits.in_flight_broadcast),
            )
        }
        if max(free.values()) <= 0:
            return
        skip_chats = [chat for chat, until in self._chat_paused.items() if until > now]
        for chat in [chat for chat, until in self._chat_paused.items() if until <= now]:
            del self._chat_paused[chat]
        for sender in list(self._buckets):
            bucket = self._bucket(sender, now)
            if not bucket.flooding and bucket.tokens >= self.limits.sender_burst:
                del self._buckets[sender]  # a full bucket is the same as none
        skip_senders = [s for s, bucket in self._buckets.items() if bucket.tokens < 1]
        held_back = {
            "skip_chats": skip_chats,
            "skip_senders": skip_senders,
            "skip_targets": self._skipped_targets(now),
            "staff_group": self._staff_chat_id is not None,
        }
        # The conversations' lanes are read at every pass: few rows, and a new one goes first.
        limit = free[False] * 2 + len(self._ids) + 8
        rows = []
        asked = free[False] > 0
        if asked:
            rows = await self._outgoing.due(
                self._clock.now(), limit=limit, lanes=CONVERSATIONS, **held_back
            )
        # Behind them, thousands of broadcast rows may wait: read ahead, READ_AHEAD at a time,
        # not once per pass (decoding them was most of the courier's time). A row read ahead
        # and erased or cancelled meanwhile is not sent: marking it 'sending' does not find it.
        if len(self._tail) <= free[True]:
            self._tail = deque(
                row
                for row in await self._outgoing.due(
                    self._clock.now(),
                    limit=READ_AHEAD + len(self._ids),
                    lanes=TAIL,
                    **held_back,
                )
                if row.id not in self._ids
            )
        paused = set(skip_chats)  # (for rows read ahead before the pause)
        group_taken = 0
        started = 0
        for row in [*rows, *self._tail]:
            bulk = row.lane == Lane.BROADCAST
            if free[bulk] <= 0:
                continue
            if row.id in self._ids:
                started += 1  # under way already: not left behind
                continue
            if row.chat_id in paused:
                continue
            key = self._order_key(row)
            if key in self._keys:
                continue
            group = self._to_group(row)
            if group and not self._group_free(now, group_taken):
                continue
            paced = not isinstance(row.content, Reaction)
            job_rows = [row]
            if row.sender_id is not None:
                bucket = self._bucket(row.sender_id, now)
                if bucket.tokens < 1:
                    continue
                if bucket.flooding and self._merger(row) is not None:
                    # Held back while they wrote: everything waiting goes as one digest.
                    waiting = [
                        r
                        for r in await self._outgoing.due_from_sender(
                            row.sender_id, row.case_id or 0, self._clock.now()
                        )
                        if r.id not in self._ids and self._merger(r) is self._merger(row)
                    ]
                    if len(waiting) > 1:
                        job_rows = waiting
                bucket.tokens -= 1
                if bucket.tokens < 1:
                    bucket.flooding = True
            if group:
                group_taken += 1
                self._group_sends.append(now)
            self._start(_Job(job_rows, key, paced, group, bulk))
            free[bulk] -= 1
            started += 1
        self._tail = deque(row for row in self._tail if row.id not in self._ids)
        self._behind = not asked or started < len(rows) or len(rows) >= limit or bool(self._tail)

    def _skipped_targets(self, now: float) -> list[str]:
        if self._staff_chat_id is None:
            return []
        if not self._group_free(now, 0):
            return ["group", "topic", "staff"]  # the group's budget is spent for now
        if now < self._topics_paused_until:
            return ["group"]
        return []

    def _merger(self, row: Row) -> MergeFn | None:
        if isinstance(row.content, Render):
            return self._mergers.get(row.content.name)
        return None

    def _start(self, job: _Job) -> None:
        self._keys.add(job.key)
        self._ids.update(r.id for r in job.rows)
        task = asyncio.get_running_loop().create_task(self._run(job))
        self._jobs[task] = job
        task.add_done_callback(self._job_done)

    def _job_done(self, task: asyncio.Task) -> None:
        job = self._jobs.pop(task, None)
        # The loop may be asleep waiting for this (stop() ends once no job is left): without
        # the wake it slept out its whole pause and stop() its whole grace.
        self._wake.set()
        if job is not None and task.cancelled():
            self._keys.discard(job.key)
            self._ids.difference_update(r.id for r in job.rows)
            self._release(job)

    def _release(self, job: _Job) -> None:
        if job.holding:
            job.holding = False
            self._places[job.bulk] -= 1

    # -- one request ----------------------------------------------------------------------------
    async def _run(self, job: _Job) -> None:
        result = _Result(job)
        try:
            content = await self._content(job)
            targets = self._targets(job.rows[0])
            if content is None:
                result.gone = "nothing to send any more"
            elif not targets:
                result.gone = "no staff group"
            if result.gone is None:
                if job.paced:
                    await self._unpaused()  # a flood wait is spent 'pending', not 'sending'
                # One of the `in_flight` places, held until Telegram's answer is recorded: a
                # kill finds at most that many rows 'sending'.
                marked = await self._mark(job)
                if not marked:
                    result.unmarked = True  # cancelled or erased meanwhile
                else:
                    job.rows = [r for r in job.rows if r.id in marked]
                    assert content is not None
                    if job.paced:
                        # Paced at the moment it leaves: evenly spaced requests, even when a
                        # mark had to wait for the database.
                        await self._pace()
                    result.delivered = await self._call_all(targets, content, job.rows[0])
        except TelegramError as error:
            result.outcome = classify(error)
            result.reason = error.message if hasattr(error, "message") else str(error)
            if isinstance(error, RetryAfter):
                result.retry_after = retry_after_seconds(error)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # A renderer or the database failed: not sent; try again after a back-off.
            logger.exception("outgoing %s could not be prepared", job.rows[0].id)
            result.outcome = Outcome.RETRY
            result.reason = type(error).__name__
        self._results.append(result)
        self._wake.set()

    async def _unpaused(self) -> None:
        loop = asyncio.get_running_loop()
        while self._paused_until > loop.time():  # noqa: ASYNC110 - a deadline, not an event
            await asyncio.sleep(self._paused_until - loop.time())

    async def _pace(self) -> None:
        """One message every `interval` seconds, at the moment it leaves; nothing while
        Telegram asked the bot to wait."""
        loop = asyncio.get_running_loop()
        slot = max(self._next_slot, loop.time(), self._paused_until)
        self._next_slot = slot + self._interval
        await asyncio.sleep(max(0.0, slot - loop.time()))
        # A 429 from a parallel request may have moved the pause on while this one slept.
        await self._unpaused()

    async def _content(self, job: _Job) -> Content | None:
        first = job.rows[0]
        if len(job.rows) > 1:
            merge = self._merger(first)
            assert merge is not None
            return await merge(job.rows)
        content = first.content
        if isinstance(content, Render):
            render = self._renderers.get(content.name)
            if render is None:
                raise LookupError(f"no renderer {content.name!r}")
            content = await render(content.args)
        return content

    def _targets(self, row: Row) -> list[tuple[int, int | None]]:
        staff = self._staff_chat_id
        if row.target == "chat":
            return [(row.chat_id, None)] if row.chat_id is not None else []
        if row.target == "group":
            return [(staff, None)] if staff is not None else []
        if row.target == "topic":
            return [(staff, row.thread_id)] if staff is not None and row.thread_id else []
        # "staff": the case's topic, or every admin without a staff group
        if staff is not None:
            return [(staff, row.thread_id)] if row.thread_id else []
        return [(admin, None) for admin in sorted(self._admin_ids)]

    async def _call_all(
        self, targets: list[tuple[int, int | None]], content: Content, row: Row
    ) -> Delivered:
        """One request per target; several only for notices to every admin (delivered when
        one of them has it; the others' failures are logged)."""
        if len(targets) == 1:
            chat_id, thread_id = targets[0]
            return await self._call(chat_id, thread_id, content)
        delivered: Delivered | None = None
        last: TelegramError | None = None
        for chat_id, thread_id in targets:
            try:
                sent = await self._call(chat_id, thread_id, content)
                delivered = delivered or sent
            except TelegramError as error:
                logger.warning("outgoing %s not delivered to admin %s: %s", row.id, chat_id, error)
                last = error
        if delivered is None:
            assert last is not None
            raise last
        return delivered

    async def _call(self, chat_id: int, thread_id: int | None, content: Content) -> Delivered:
        bot = self._bot
        if isinstance(content, Text):
            sent = await bot.send_message(
                chat_id,
                content.text[:TEXT_LIMIT],
                parse_mode=ParseMode.HTML if content.html else None,
                reply_markup=_markup(content.buttons),
                message_thread_id=thread_id,
                reply_parameters=_reply(content.reply_to),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        elif isinstance(content, Copy):
            sent = await bot.copy_message(
                chat_id,
                content.from_chat_id,
                content.message_id,
                message_thread_id=thread_id,
                reply_parameters=_reply(content.reply_to),
                caption=content.caption,
                parse_mode=ParseMode.HTML if content.caption is not None else None,
            )
            return Delivered(chat_id, sent.message_id, thread_id)
        elif isinstance(content, Document):
            sent = await bot.send_document(
                chat_id,
                InputFile(content.data, filename=content.filename),
                caption=content.caption,
                message_thread_id=thread_id,
            )
        elif isinstance(content, Photo):
            sent = await bot.send_photo(
                chat_id,
                content.file_id or InputFile(content.data, filename=content.filename),
                caption=content.caption,
                parse_mode=ParseMode.HTML,
                reply_markup=_markup(content.buttons),
                message_thread_id=thread_id,
            )
        elif isinstance(content, Reaction):
            await bot.set_message_reaction(
                chat_id, content.message_id, ReactionTypeEmoji(content.emoji)
            )
            return Delivered(chat_id, content.message_id, thread_id)
        elif isinstance(content, NewTopic):
            topic = await bot.create_forum_topic(chat_id, content.title)
            return Delivered(chat_id, topic.message_thread_id, topic.message_thread_id)
        else:
            raise TypeError(f"cannot send {content!r}")
        return Delivered(chat_id, sent.message_id, thread_id)

    async def _mark(self, job: _Job) -> list[int]:
        """Wait for a place; the loop's next transaction marks the rows 'sending' (`_write`).
        Returns those that were still pending (a row cancelled or erased meanwhile is not
        sent); none when the courier stops before a place is free."""
        waiter: asyncio.Future[list[int]] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Mark(job, waiter))
        self._wake.set()
        return await waiter

    # -- recording what Telegram said, marking what goes next ---------------------------------
    async def _write(self) -> None:
        """One transaction a pass: Telegram's answers are settled, and the places they free go
        to the jobs waiting for one, whose rows are marked 'sending' in the same commit. One
        disk sync for both; no moment when a freed place stands idle waiting for a second
        commit; and never more than `in_flight` requests of a kind 'sending' on disk."""
        results, self._results = self._results, []
        marks = self._admit(results)
        if not results and not marks:
            return
        batches: set[int] = set()
        cases: set[int] = set()
        now = self._clock.now()
        pending: set[int] = set()
        try:
            async with self._db.transaction() as tx:
                for result in results:
                    await self._settle(tx, result, now, batches, cases)
                if marks:
                    ids = [row.id for mark in marks for row in mark.job.rows]
                    pending = set(await self._outgoing.mark_sending(ids, now))
        except Exception:
            self._results = results + self._results  # not lost: written at the next pass
            self._waiting.extendleft(reversed(marks))  # still waiting
            raise
        for result in results:
            self._keys.discard(result.job.key)
            self._ids.difference_update(r.id for r in result.job.rows)
            self._release(result.job)
        for mark in marks:
            marked = [row.id for row in mark.job.rows if row.id in pending]
            if mark.marked.done():
                continue  # cancelled (stop() ran out of time): found 'sending' at the next start
            if marked:
                mark.job.holding = True
                self._places[mark.job.bulk] += 1
            mark.marked.set_result(marked)
        if self._behind:
            self._look = True  # places and chats were freed for what was left behind
        if batches:
            self._tell_watchers(batches)
        for case_id in cases:
            for notify in self._settled_cases:
                notify(case_id)

    def _tell_watchers(self, batches: set[int]) -> None:
        """Progress is shown beside the loop, not in it: editing a progress message is a
        request to Telegram, and the answers meanwhile must be recorded (their places go to
        the next rows only then). Broadcasts that move on meanwhile are shown in one go."""
        self._moved |= batches
        if self._watching is None or self._watching.done():
            self._watching = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        while self._moved:
            batches, self._moved = self._moved, set()
            for watch in self._watchers:
                try:
                    await watch(batches)
                except Exception:
                    logger.exception("broadcast progress could not be shown")

    def _admit(self, results: list[_Result]) -> list[_Mark]:
        """The waiting jobs that get a place now, first come first served per kind: the places
        free, and those the `results` free in the same transaction."""
        if self._stopping:
            # What has not left stays pending for the next start.
            while self._waiting:
                mark = self._waiting.popleft()
                if not mark.marked.done():
                    mark.marked.set_result([])
            return []
        free = {
            False: self.limits.in_flight - self._places[False],
            True: self.limits.in_flight_broadcast - self._places[True],
        }
        for result in results:
            if result.job.holding:
                free[result.job.bulk] += 1
        admitted: list[_Mark] = []
        still: deque[_Mark] = deque()
        for mark in self._waiting:
            if mark.marked.done():
                continue  # its job was cancelled
            if free[mark.job.bulk] > 0:
                free[mark.job.bulk] -= 1
                admitted.append(mark)
            else:
                still.append(mark)
        self._waiting = still
        return admitted

    async def _settle(
        self, tx: Transaction, result: _Result, now, batches: set[int], cases: set[int]
    ) -> None:
        rows = result.job.rows
        if result.unmarked:
            return
        if result.delivered is None:
            self._look = True  # back to pending, or a report line queued
        for row in rows:
            if row.batch_id is not None:
                batches.add(row.batch_id)
        if result.delivered is not None:
            digest = rows[0].id if len(rows) > 1 else None
            if digest is not None:
                self.stats.digests += 1
            for row in rows:
                self.stats.sent += 1
                self.stats.by_lane[row.lane] = self.stats.by_lane.get(row.lane, 0) + 1
                await self._outgoing.settle(
                    tx,
                    row.id,
                    "sent",
                    now,
                    message_id=result.delivered.message_id,
                    digest_id=digest,
                )
                await self._run_hook(tx, row, row.on_sent, result.delivered, now)
            if not self._stopping:
                self._interval = max(self._base_interval, self._interval * 0.999)
            return
        if result.gone is not None:
            for row in rows:
                await self._outgoing.settle(tx, row.id, "cancelled", now, error=result.gone)
            return
        loop_now = asyncio.get_running_loop().time()
        outcome = result.outcome
        first = rows[0]
        if outcome is Outcome.FLOOD:
            # Telegram names the wait: the chat (or, for a private chat, the pacing) pauses
            # that long, in memory; the rows stay due and go first when it is over.
            self.stats.rate_limited += 1
            self._pause_for(first, result.retry_after, loop_now)
            for row in rows:
                await self._outgoing.settle(tx, row.id, "pending", now, error="429")
            return
        group = self._to_group(first)
        if outcome is Outcome.REFUSED and "thread not found" in result.reason.lower():
            if first.case_id is not None and self._topic_gone is not None:
                logger.warning("topic of case %s is gone; opening a new one", first.case_id)
                await self._topic_gone(tx, first.case_id)
            for row in rows:
                await self._outgoing.settle(tx, row.id, "pending", now, error="topic gone")
            return
        if group and (
            outcome is Outcome.BLOCKED or (outcome is Outcome.REFUSED and first.target == "group")
        ):
            # Not a forum, no right to manage topics, the bot removed: a person fixes the
            # group. The rows wait (pending) while it is paused; a 5xx or a timeout on the same
            # request is retried at once instead (below).
            logger.error(
                "the staff group refuses outgoing %s (%s); trying again in %ss",
                first.id,
                result.reason,
                TOPIC_PAUSE.total_seconds(),
            )
            until = loop_now + TOPIC_PAUSE.total_seconds()
            if outcome is Outcome.BLOCKED:
                self._group_paused_until = max(self._group_paused_until, until)
            else:
                self._topics_paused_until = max(self._topics_paused_until, until)
            for row in rows:
                await self._outgoing.settle(tx, row.id, "pending", now, error=result.reason)
            return
        if outcome is Outcome.RETRY or (outcome is Outcome.UNCERTAIN and first.idempotent):
            self.stats.retried += 1
            for row in rows:
                await self._retry(tx, row, now, backoff(row.attempts), result.reason)
            logger.warning(
                "outgoing %s not sent (%s); trying again in %ss",
                first.id,
                result.reason,
                backoff(first.attempts),
            )
            return
        failure = Failure(outcome or Outcome.REFUSED, result.reason)
        # A digest is one message for several rows: they share its fate, one line tells staff
        # (its "send again" sends them all again).
        digest = rows[0].id if len(rows) > 1 else None
        for row in rows:
            if row.case_id is not None:
                cases.add(row.case_id)
            await self._fail(tx, row, failure, digest=digest, report=row is rows[0])

    def _pause_for(self, row: Row, seconds: float, now: float) -> None:
        if self._to_group(row):
            self._group_paused_until = max(self._group_paused_until, now + seconds)
        elif row.chat_id is not None and row.chat_id < 0:
            self._chat_paused[row.chat_id] = now + seconds
        else:
            # A private chat is sent to one message at a time: a 429 there is the bot's
            # overall limit. Pause everything, and slow down a little (others share it).
            self._paused_until = max(self._paused_until, now + seconds)
            self._interval = min(self._interval * 1.05, self._base_interval * 2)
        logger.warning("flood wait of %ss from Telegram", seconds)

    async def _retry(self, tx: Transaction, row: Row, now, seconds: float, error: str) -> None:
        self._next_due_checked = 0.0  # a new retry time to wait for
        await self._outgoing.settle(
            tx, row.id, "pending", now, error=error, not_before=now + timedelta(seconds=seconds)
        )

    async def _fail(
        self,
        tx: Transaction,
        row: Row,
        failure: Failure,
        *,
        digest: int | None = None,
        report: bool = True,
    ) -> None:
        """Blocked, refused, or uncertain: record it, run its hook, and show staff."""
        now = self._clock.now()
        status = {
            Outcome.BLOCKED: "blocked",
            Outcome.UNCERTAIN: "uncertain",
        }.get(failure.outcome, "failed")
        if status == "uncertain":
            self.stats.uncertain += 1
        else:
            self.stats.failed += 1
        await self._outgoing.settle(
            tx, row.id, status, now, error=failure.reason[:200], digest_id=digest
        )
        logger.warning("outgoing %s %s: %s", row.id, status, failure.reason)
        if status == "blocked" and row.target == "chat" and row.chat_id and row.chat_id > 0:
            await self._run_hook(tx, row, _BLOCKED, failure, now)
        await self._run_hook(tx, row, row.on_failed, failure, now)
        line = self._report(row, status, failure) if report else None
        if line is not None:
            await self._outgoing.add(tx, [line], now)

    async def _run_hook(self, tx: Transaction, row: Row, hook, outcome, now) -> None:
        if hook is None:
            return
        if hook is _BLOCKED:
            function = self._hooks.get(BLOCKED_HOOK)
            args: Mapping = {"chat": row.chat_id}
            if function is None:
                return
        else:
            function = self._hooks.get(hook.name)
            args = hook.args
            if function is None:
                logger.error("outgoing %s: no hook %r registered", row.id, hook.name)
                return
        # What a hook records can make rows due (a new topic's thread: its card and copies).
        self._look = True
        # A failing hook must not undo the record of what Telegram did.
        await tx.execute("SAVEPOINT hook")
        try:
            follow = await function(tx, args, outcome)
            if follow:
                await self._outgoing.add(tx, follow, now)
                self._look = True
        except Exception:
            await tx.execute("ROLLBACK TO hook")
            logger.exception("hook %s failed for outgoing %s", getattr(hook, "name", hook), row.id)
        await tx.execute("RELEASE hook")

    def _report(self, row: Row, status: str, failure: Failure) -> Envelope | None:
        """Where staff act: the chat they wrote in, else the case's topic (or the admins).
        Broadcast rows are counted in their progress message instead; notices to staff that
        fail are only logged (there is nobody else to tell)."""
        to_person = row.target == "chat" and (row.chat_id or 0) > 0
        copy = row.sender_id is not None  # a resident's message into their topic
        if row.label is None or row.batch_id is not None or not (to_person or copy):
            return None
        tr = self._tr
        if status == "uncertain" and copy:
            text = "⚠️ " + tr._(
                "A message of the resident may be missing here: Telegram did not confirm the "
                "copy (the connection broke off before its answer). Send it again to be sure."
            )
            markup = buttons([[(tr._("🔁 Send again"), OUTGOING("again", row.id))]])
        elif status == "uncertain":
            text = "⚠️ " + tr._(
                "Telegram did not confirm this delivery (the connection broke off before its "
                "answer): it may or may not have arrived. Check with the resident, or send it "
                "again."
            )
            markup = buttons([[(tr._("🔁 Send again"), OUTGOING("again", row.id))]])
        elif status == "blocked":
            text = "⚠️ " + tr._("Not delivered: the resident has blocked the bot.")
            markup = ()
        else:
            text = "⚠️ " + tr._("Not delivered: Telegram refused the message (%(reason)s).") % {
                "reason": _escape(failure.reason)
            }
            markup = ()
        text += "\n<i>" + _escape(tr._(row.label)) + "</i>"
        if row.report is not None:
            to = to_chat(row.report.chat_id)
            thread, reply_to = row.report.thread_id, row.report.reply_to
            if thread is not None and row.report.chat_id == self._staff_chat_id:
                to = to_topic(row.case_id) if row.case_id is not None else to
            return Envelope(
                to,
                Text(text, markup, reply_to=reply_to),
                Lane.COPY,
                key=f"report:{row.id}:{status}:{row.attempts}",
                case_id=row.case_id,
                idempotent=True,  # a report line twice is better than none
            )
        if row.case_id is None:
            logger.warning("outgoing %s %s and nobody to tell", row.id, status)
            return None
        return Envelope(
            to_staff(row.case_id),
            Text(text, markup),
            Lane.COPY,
            key=f"report:{row.id}:{status}:{row.attempts}",
            case_id=row.case_id,
            idempotent=True,  # a report line twice is better than none
        )


# The hook run for any 403 from a private chat (the resident blocked the bot).
BLOCKED_HOOK = "chat.blocked"
_BLOCKED = object()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _markup(rows: Buttons) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def _reply(message_id: int | None) -> ReplyParameters | None:
    if message_id is None:
        return None
    return ReplyParameters(message_id, allow_sending_without_reply=True)
