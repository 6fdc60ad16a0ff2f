"""A small, bounded memory of what happened lately (e.g. which messages already got an answer).

Kept in memory on purpose: it holds nothing worth a disk write, and nothing about a person
outlives `keep` or the process.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from datetime import datetime, timedelta

from bot.core.clock import Clock


class Recent:
    def __init__(self, clock: Clock, keep: timedelta, limit: int = 10_000) -> None:
        self._clock = clock
        self._keep = keep
        self._limit = limit
        self._seen: OrderedDict[Hashable, datetime] = OrderedDict()

    def add(self, key: Hashable) -> None:
        self._forget_old()
        self._seen[key] = self._clock.now()
        self._seen.move_to_end(key)
        while len(self._seen) > self._limit:
            self._seen.popitem(last=False)

    def __contains__(self, key: Hashable) -> bool:
        self._forget_old()
        return key in self._seen

    def _forget_old(self) -> None:
        horizon = self._clock.now() - self._keep
        while self._seen:
            key, at = next(iter(self._seen.items()))
            if at >= horizon:
                return
            del self._seen[key]
