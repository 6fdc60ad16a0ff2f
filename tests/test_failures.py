"""What kind of failure an exception is (bot/core/failures.py): the processor retries transient
ones, waits out storage problems and parks the rest. Real errors, raised by SQLite and by
python-telegram-bot's own error classes, not look-alikes."""

from __future__ import annotations

import sqlite3

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.core.failures import TemporarilyUnavailable, is_transient, storage_problem


def _sqlite_error(tmp_path, *steps: str) -> sqlite3.Error:
    conn = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
    conn.execute("CREATE TABLE t (x BLOB)")
    try:
        for step in steps:
            conn.execute(step)
    except sqlite3.Error as error:
        return error
    finally:
        conn.close()
    raise AssertionError("no error")


def test_storage_problems_are_told_apart_by_sqlite_s_own_codes(tmp_path):
    full = _sqlite_error(
        tmp_path, "PRAGMA max_page_count = 1", *["INSERT INTO t VALUES (zeroblob(5000))"] * 3
    )
    assert storage_problem(full) == "full"
    (tmp_path / "db.sqlite3").unlink()
    read_only = _sqlite_error(tmp_path, "PRAGMA query_only = ON", "INSERT INTO t VALUES (1)")
    assert storage_problem(read_only) == "read-only"
    (tmp_path / "db.sqlite3").unlink()
    bug = _sqlite_error(tmp_path, "SELECT nope FROM t")
    assert storage_problem(bug) is None  # our mistake, not the disk's


def test_a_storage_problem_hidden_behind_a_second_error_is_still_found(tmp_path):
    full = _sqlite_error(
        tmp_path, "PRAGMA max_page_count = 1", *["INSERT INTO t VALUES (zeroblob(5000))"] * 3
    )
    try:
        try:
            raise full
        except sqlite3.Error:
            raise sqlite3.OperationalError("cannot rollback - no transaction is active")  # noqa: B904
    except sqlite3.Error as masking:
        assert storage_problem(masking) == "full"


class StaffCheckUnavailable(TemporarilyUnavailable):
    """As a feature would define its own "ask me later"."""


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (NetworkError("Bad Gateway"), True),
        (TimedOut(), True),
        (RetryAfter(3), True),
        (StaffCheckUnavailable(), True),
        (BadRequest("Message is not modified"), False),
        (Forbidden("bot was blocked by the user"), False),
        (KeyError("text"), False),
    ],
)
def test_transient_failures(error, transient):
    assert is_transient(error) is transient


def test_an_error_raised_while_a_lookup_timed_out_is_transient():
    """A service that turns Telegram's timeout into its own error is tried again as well, with
    or without `from`: the timeout is what happened."""

    class LookupFailed(Exception):
        pass

    for explicit in (True, False):
        try:
            try:
                raise TimedOut()
            except TimedOut as cause:
                if explicit:
                    raise LookupFailed("staff lookup") from cause
                raise LookupFailed("staff lookup")  # noqa: B904
        except LookupFailed as error:
            assert is_transient(error) is True
    assert is_transient(LookupFailed("no timeout behind it")) is False
