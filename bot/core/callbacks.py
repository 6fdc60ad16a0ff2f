"""Callback data, in one registry: one prefix per feature, built and parsed here.

Telegram gives a button at most 64 bytes of callback data and hands it back verbatim, from
anyone who can press (or forge) it. So every feature has one prefix, no prefix is the start of
another (a handler's pattern can never catch a neighbour's buttons), and the length is checked
when the data is built, not when Telegram refuses the message. What comes back is still only a
claim: handlers check ids against the person pressing.
"""

from __future__ import annotations

MAX_BYTES = 64  # Bot API: callback_data is 1-64 bytes


class CallbackData:
    """The buttons of one feature: `CASE("take", 12)` is "case:take:12"."""

    def __init__(self, name: str, purpose: str) -> None:
        self.prefix = f"{name}:"
        self.purpose = purpose
        # Buttons of staff tools ("staff: …"): staff press them without a resident's consent.
        self.staff = purpose.startswith("staff:")

    def __call__(self, *parts: object) -> str:
        data = self.prefix + ":".join(str(part) for part in parts)
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data[:20]}…")
        return data

    def parts(self, data: str | None) -> list[str] | None:
        """The parts after the prefix, or None when the data is not this feature's."""
        if data is None or not data.startswith(self.prefix):
            return None
        rest = data.removeprefix(self.prefix)
        return rest.split(":") if rest else []

    @property
    def pattern(self) -> str:
        """For CallbackQueryHandler(pattern=…)."""
        return "^" + self.prefix

    def __repr__(self) -> str:
        return f"CallbackData({self.prefix!r})"


LANGUAGE = CallbackData("lang", "the language chooser")
CONSENT = CallbackData("consent", "agreeing to the privacy notice")
MENU = CallbackData("menu", "the main menu")
REQUEST = CallbackData("req", "asking a question: topic, district, language switch")
PRIVACY = CallbackData("privacy", "deleting one's data")
QUICK_ANSWERS = CallbackData("sh", "quick answers and the Wegweiser")
APPOINTMENT = CallbackData("ap", "a resident booking, moving or cancelling an appointment")
EVENTS = CallbackData("ev", "a resident's announcements, events and RSVPs")
CASE = CallbackData("case", "staff: the case card in the staff group")
QUEUE = CallbackData("q", "staff: /queue and the case view in a private chat")
STAFF_APPOINTMENT = CallbackData("sa", "staff: confirming, proposing, declining appointments")
EVENT_DRAFT = CallbackData("ne", "staff: the event or notice being written")
EVENT_MANAGE = CallbackData("se", "staff: published and scheduled events")
LETTERS = CallbackData("lt", "staff: the deadline of a letter the bot read")
OUTGOING = CallbackData("out", "staff: send an uncertain delivery again, show a digest's files")

REGISTRY = (
    LANGUAGE,
    CONSENT,
    MENU,
    REQUEST,
    PRIVACY,
    QUICK_ANSWERS,
    APPOINTMENT,
    EVENTS,
    CASE,
    QUEUE,
    STAFF_APPOINTMENT,
    EVENT_DRAFT,
    EVENT_MANAGE,
    LETTERS,
    OUTGOING,
)
