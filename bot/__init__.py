"""Th.INKA resident bot."""

import os

# python-telegram-bot 22 reports durations such as RetryAfter.retry_after as timedelta when this
# is set and warns otherwise; opt in to the behaviour that will be the default.
os.environ.setdefault("PTB_TIMEDELTA", "1")
