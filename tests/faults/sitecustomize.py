"""Fault injection for a bot process started by the tests (tests/test_process_faults.py puts this
folder on its PYTHONPATH; Python imports `sitecustomize` at start-up). TEST_FAULT names the
fault; without it nothing changes. Production code has no hook for this: the fault is put into
the real process from outside, as a bug would be."""

import os

if os.environ.get("TEST_FAULT") == "poller-bug":
    from bot.transport import polling

    async def _broken_hand_over(self, items):
        raise RuntimeError("a bug in the poller")

    polling.Poller._hand_over = _broken_hand_over

if os.environ.get("TEST_FAULT") == "intake-bug":
    from bot.transport import intake

    async def _broken_stored(self, updates):
        raise RuntimeError("a bug in the intake")

    intake.Intake.stored = _broken_stored
