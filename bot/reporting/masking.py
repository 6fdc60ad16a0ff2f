"""k-anonymity for the funder report: a group smaller than 3 could point to a person in a small
district, so it is never shown as a number.

Masking one cell is not enough when the breakdown's total is shown too: with requests by district
"Rieth 10, Berliner Platz <3" and 11 requests in all, 11 − 10 gives the masked 1 away. So when
the masked cells of a breakdown could be worked out from its total (one masked cell, or several
that are all 1 or all 2), a second cell is hidden as well (complementary masking): the smallest
that leaves each masked cell uncertain, shown as "x".

What a reader learns then: each "<3" is 1 or 2, the "x" is at least 3, and together they make
total − visible. Several "<3" that are partly 1 and partly 2 stay uncertain without help (any of
them could be the 1). Otherwise the hidden cell is the smallest that keeps them uncertain: beside
1s it must be 4 or more (a 1 could then be 2, the "x" one smaller), beside 2s any count of 3 or
more (a 2 could be 1, the "x" one larger). When every other cell is 0 or exactly 3, the smallest
is hidden all the same: that stops the subtraction, but someone who knows this rule could still
work the 1 out (docs/outreach.md says so); only hiding the total would prevent that.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import TypeVar

SMALL = 3  # a group under 3 could be recognised
FEWER = "<3"  # a group of 1 or 2
HIDDEN = "x"  # hidden so that a "<3" beside it cannot be worked out from the total

Shown = int | str  # a count, FEWER or HIDDEN
K = TypeVar("K", bound=Hashable)


def masked(count: int) -> Shown:
    """One figure on its own: 0, "<3" for 1 and 2, else the number."""
    return FEWER if 0 < count < SMALL else count


def protect(counts: Mapping[K, int]) -> dict[K, Shown]:
    """The cells of one breakdown as shown: "<3" for 1 and 2, "x" for the cell hidden beside
    them, every other count as it is. Keys and their order are kept."""
    small = {key: count for key, count in counts.items() if 0 < count < SMALL}
    hidden = None
    if small and not _uncertain(small.values()):
        candidates = sorted(
            (key for key, count in counts.items() if count >= SMALL), key=lambda k: counts[k]
        )
        # Only 1s masked: a 1 could be 2 only beside an "x" that could be 1 smaller, so ≥ 4.
        only_ones = all(count == 1 for count in small.values())
        hidden = next((k for k in candidates if not only_ones or counts[k] > SMALL), None)
        if hidden is None and candidates:
            hidden = candidates[0]  # the others are all 3: see the module's note
    return {
        key: FEWER if key in small else HIDDEN if key == hidden else count
        for key, count in counts.items()
    }


def _uncertain(small: Iterable[int]) -> bool:
    """Whether the small cells stay uncertain from their sum alone: some are 1 and some 2."""
    values = set(small)
    return values == {1, 2}
