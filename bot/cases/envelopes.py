"""What a case sends, as envelopes for the one durable path (bot/core/outgoing.py).

Pure data, written by CaseRepository in the transaction of the change that causes it: a message
stored is its copy queued; a case submitted is its topic, card, copies and the resident's
confirmation queued. The content is decided when sent (`Render`): bot/transport/relay.py renders
the copies, the topic and the card; handlers/resident renders what the resident reads. The
names below are the contract between them (registered with the courier in bot/app.py).
"""

from __future__ import annotations

from bot.core.i18n import N_
from bot.core.outgoing import (
    Envelope,
    Hook,
    Lane,
    Reaction,
    Render,
    Report,
    to_chat,
    to_group,
    to_topic,
)

# Renderers
MESSAGE = "case.message"  # a stored case message: a copy, or a canned reply's text
TOPIC = "case.topic"  # a new forum topic for the case
CARD = "case.card"  # the case card at the top of the topic
CONFIRMATION = "case.confirmation"  # "your request #4 arrived"
OFFER = "case.offer"  # quick answers offered before a draft goes to staff
CLOSED = "case.closed"  # "your request #4 has been closed"
# Hooks
DELIVERED = "case.delivered"  # a copy or an answer arrived: mark it, 👍 the staff message
UNDELIVERED = "case.undelivered"  # refused or uncertain: the message shows it
TOPIC_OPENED = "case.topic_opened"  # remember the thread
CARD_SENT = "case.card_sent"  # remember the card to edit it later
OFFERED = "case.offered"  # count the quick answers as offered

COPY_LABEL = N_("a message of the resident")
ANSWER_LABEL = N_("this answer")
CONFIRMATION_LABEL = N_("the confirmation of the request")
OFFER_LABEL = N_("the quick answers offered before the request")
CLOSED_LABEL = N_("the notice that the request is closed")


def copy_to_topic(message_id: int, case_id: int, resident_id: int, urgent: bool) -> Envelope:
    """A resident's message into the case's topic (held back with the resident's other copies
    when they write faster than the group's budget allows; then one digest)."""
    return Envelope(
        to_topic(case_id),
        Render(MESSAGE, {"message": message_id}),
        Lane.URGENT if urgent else Lane.COPY,
        key=f"copy:{message_id}",
        case_id=case_id,
        resident_id=resident_id,
        sender_id=resident_id,
        on_sent=Hook(DELIVERED, {"message": message_id}),
        on_failed=Hook(UNDELIVERED, {"message": message_id}),
        label=COPY_LABEL,
        replace=True,  # a topic opened anew gets every copy again
    )


def answer_to_resident(
    message_id: int,
    case_id: int,
    resident_id: int,
    resident_chat_id: int,
    report: Report,
) -> Envelope:
    """A staff answer to the resident; a failure is told where the staff member wrote."""
    return Envelope(
        to_chat(resident_chat_id),
        Render(MESSAGE, {"message": message_id}),
        Lane.ANSWER,
        key=f"answer:{message_id}",
        case_id=case_id,
        resident_id=resident_id,
        on_sent=Hook(DELIVERED, {"message": message_id}),
        on_failed=Hook(UNDELIVERED, {"message": message_id}),
        report=report,
        label=ANSWER_LABEL,
    )


def acknowledgement(chat_id: int, message_id: int, key: str) -> Envelope:
    """👍 on the staff member's message: it reached the resident."""
    return Envelope(
        to_chat(chat_id), Reaction(message_id), Lane.ACK, key=f"ack:{key}", idempotent=True
    )


def new_topic(case_id: int, resident_id: int | None) -> list[Envelope]:
    """A new case's forum topic, then its card: before anything else goes into the group."""
    return [
        Envelope(
            to_group(),
            Render(TOPIC, {"case": case_id}),
            Lane.NEW_CASE,
            key=f"topic:{case_id}",
            case_id=case_id,
            resident_id=resident_id,
            # A second empty topic is less harm than a case staff never see.
            idempotent=True,
            on_sent=Hook(TOPIC_OPENED, {"case": case_id}),
            replace=True,
        ),
        Envelope(
            to_topic(case_id),
            Render(CARD, {"case": case_id}),
            Lane.NEW_CASE,
            key=f"card:{case_id}",
            case_id=case_id,
            resident_id=resident_id,
            on_sent=Hook(CARD_SENT, {"case": case_id}),
            replace=True,
        ),
    ]


def to_resident(
    name: str, label: str, case_id: int, resident_id: int, chat_id: int, key: str, **hook
) -> Envelope:
    """A message for the resident about their case, rendered in their language when sent."""
    return Envelope(
        to_chat(chat_id),
        Render(name, {"case": case_id}),
        Lane.ANSWER,
        key=key,
        case_id=case_id,
        resident_id=resident_id,
        on_sent=Hook(hook["on_sent"], {"case": case_id}) if "on_sent" in hook else None,
        label=label,
    )


def confirmation(case_id: int, resident_id: int, chat_id: int) -> Envelope:
    return to_resident(
        CONFIRMATION, CONFIRMATION_LABEL, case_id, resident_id, chat_id, f"confirm:{case_id}"
    )


def offer(case_id: int, resident_id: int, chat_id: int) -> Envelope:
    return to_resident(
        OFFER, OFFER_LABEL, case_id, resident_id, chat_id, f"offer:{case_id}", on_sent=OFFERED
    )


def closed(case_id: int, resident_id: int, chat_id: int, closing: int) -> Envelope:
    """`closing` tells one closing of a case from the next (a case can be reopened)."""
    return to_resident(
        CLOSED, CLOSED_LABEL, case_id, resident_id, chat_id, f"closed:{case_id}:{closing}"
    )
