"""k-anonymity with complementary masking: a "<3" must not be recoverable as the breakdown's
total minus the cells shown beside it."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from bot.reporting.masking import FEWER, HIDDEN, masked, protect


def test_a_single_count_is_masked_on_its_own():
    assert [masked(n) for n in (0, 1, 2, 3, 40)] == [0, "<3", "<3", 3, 40]


def test_a_lone_small_group_gets_a_hidden_neighbour():
    # Requests by district, 11 in all: without the "x", 11 − 10 would give Berliner Platz away.
    assert protect({"Rieth": 10, "Berliner Platz": 1}) == {"Rieth": "x", "Berliner Platz": "<3"}


def test_beside_a_1_the_hidden_cell_is_4_or_more_beside_a_2_any():
    # With 1 and a hidden 3 the total would still tell: 3 is the least an "x" can be.
    assert protect({"a": 1, "b": 3, "c": 5, "d": 9}) == {"a": "<3", "b": 3, "c": "x", "d": 9}
    assert protect({"a": 2, "b": 3, "c": 5}) == {"a": "<3", "b": "x", "c": 5}


def test_small_groups_of_1_and_2_keep_each_other_uncertain():
    assert protect({"a": 1, "b": 2, "c": 7}) == {"a": "<3", "b": "<3", "c": 7}


def test_several_small_groups_all_alike_get_a_hidden_neighbour():
    assert protect({"a": 1, "b": 1, "c": 4}) == {"a": "<3", "b": "<3", "c": "x"}
    assert protect({"a": 2, "b": 2, "c": 3}) == {"a": "<3", "b": "<3", "c": "x"}


def test_nothing_to_hide_and_zeros_stay():
    assert protect({"a": 0, "b": 3, "c": 8}) == {"a": 0, "b": 3, "c": 8}
    assert protect({"a": 1, "b": 0}) == {"a": "<3", "b": 0}  # the total is "<3" itself
    assert protect({}) == {}


def test_order_and_keys_are_kept():
    counts = {"z": 5, "a": 1, "m": 7}
    assert list(protect(counts)) == ["z", "a", "m"]


def _feasible(shown: dict, total: int) -> dict[str, set[int]]:
    """Every value each "<3" could have, knowing the rule: "<3" is 1 or 2, "x" at least 3, and
    the masked cells add up to the total minus the visible ones."""
    rest = total - sum(v for v in shown.values() if isinstance(v, int))
    small = [k for k, v in shown.items() if v == FEWER]
    hidden = [k for k, v in shown.items() if v == HIDDEN]
    possible: dict[str, set[int]] = {k: set() for k in small}
    for values in itertools.product((1, 2), repeat=len(small)):
        left = rest - sum(values)
        if (hidden and left >= 3 * len(hidden)) or (not hidden and left == 0):
            for key, value in zip(small, values, strict=True):
                possible[key].add(value)
    return possible


@given(st.dictionaries(st.sampled_from("abcdefg"), st.integers(0, 12), max_size=7))
def test_no_small_group_can_be_worked_out_from_the_total(counts):
    shown = protect(counts)
    total = sum(counts.values())
    assert all(shown[k] == FEWER for k, v in counts.items() if 0 < v < 3)
    assert all(shown[k] == v for k, v in counts.items() if v == 0)
    assert list(shown.values()).count(HIDDEN) <= 1
    small = [v for v in counts.values() if 0 < v < 3]
    others = [v for v in counts.values() if v >= 3]
    # Where it cannot be done without hiding the total (docs/outreach.md): the total itself is
    # under 3 and masked; or only 1s and 2s that are all alike; or 1s beside nothing over 3.
    if total < 3 or not others or (set(small) == {1} and max(others) == 3):
        return
    for key, values in _feasible(shown, total).items():
        assert values == {1, 2}, (counts, shown, key, values)
