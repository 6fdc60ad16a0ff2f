"""What staff and the resident are told about a letter the bot read (HTML, from the catalogs).

Staff (German): in the case's topic, who wrote, the deadlines with the letter's own wording, the
reference and the amount, marked as machine-read, with the recognised text as a collapsed quote.
The resident (their language): that the letter was read and which deadline the request now
carries, or how to take a readable photo; with the quick answer that fits the sender.
"""

from __future__ import annotations

from datetime import date
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.cases.cards import days_left_text, deadline_line, deadline_text
from bot.cases.repository import Case, CaseDeadline
from bot.core import callbacks
from bot.core.i18n import N_, Translator
from bot.letters.extract import Deadline, Reference, SenderKind
from bot.letters.reading import LetterReading
from bot.selfhelp.content import Answer

# Bot API: at most 4096 characters of text per message (after entities are parsed).
MAX_MESSAGE = 4096

# How residents read the sender: the German name they find on the letter, and a translation.
SENDER_NAMES = {
    SenderKind.JOBCENTER: N_("job centre (Jobcenter)"),
    SenderKind.AUSLAENDERBEHOERDE: N_("immigration office (Ausländerbehörde)"),
    SenderKind.FAMILIENKASSE: N_("child benefit office (Familienkasse)"),
    SenderKind.KRANKENKASSE: N_("health insurance (Krankenkasse)"),
    SenderKind.RENTENVERSICHERUNG: N_("pension insurance (Rentenversicherung)"),
    SenderKind.GERICHT: N_("court (Gericht) or court payment order (Mahnbescheid)"),
    SenderKind.INKASSO: N_("debt collector (Inkasso) or a creditor"),
    SenderKind.VERMIETER: N_("landlord or property management (Vermieter / Hausverwaltung)"),
    SenderKind.STADTWERKE: N_("municipal utilities (Stadtwerke) or energy supplier"),
    SenderKind.FINANZAMT: N_("tax office (Finanzamt)"),
    SenderKind.SCHULE: N_("school (Schule)"),
}

LETTER = callbacks.LETTERS


def reference_text(reference: Reference | None) -> str | None:
    """'Az. 123/45', or the letter's own label for other numbers ('BG-Nummer 07301BG…')."""
    if reference is None:
        return None
    label = "Az." if reference.label.lower() == "aktenzeichen" else reference.label
    return f"{label} {reference.value}"


def nearest_deadline(reading: LetterReading) -> Deadline | None:
    """The deadline the case is marked with: the nearest dated one (certain or estimate)."""
    dated = [d for d in reading.deadlines if d.due is not None]
    return min(dated, key=lambda d: d.due) if dated else None


def as_case_deadline(reading: LetterReading, today: date) -> CaseDeadline:
    nearest = nearest_deadline(reading)
    return CaseDeadline(
        due=nearest.due if nearest else None,
        estimated=bool(nearest and not nearest.certain),
        by_staff=False,
        sender=reading.sender.label if reading.sender is not SenderKind.SONSTIGE else None,
        reference=reference_text(reading.reference),
        wording=nearest.wording if nearest else None,
        as_of=today,
    )


def _day(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def _amount(value) -> str:
    return f"{value:,.2f} €".replace(",", "X").replace(".", ",").replace("X", ".")


# -- staff --------------------------------------------------------------------------------------


def staff_reading(
    tr: Translator, case_id: int, reading: LetterReading, received: date, today: date
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The topic message after the photo: the summary line, every deadline with its wording,
    and the recognised text, collapsed (<blockquote expandable>), cut to fit one message."""
    summary = as_case_deadline(reading, today)
    head = [
        "📄 <b>{}</b>".format(
            " · ".join(
                part
                for part in (
                    escape(summary.sender or tr._("Letter")),
                    deadline_text(tr, summary),
                    escape(summary.reference or ""),
                )
                if part
            )
        ),
        "🤖 "
        + tr.ngettext(
            "Machine-read (%(count)d page): please check against the photo.",
            "Machine-read (%(count)d pages): please check against the photo.",
            reading.pages_read,
        )
        % {"count": reading.pages_read},
    ]
    facts = []
    if reading.letter_date:
        facts.append(tr._("Letter dated %(date)s") % {"date": _day(reading.letter_date)})
    if reading.amount is not None:
        facts.append(tr._("Amount %(amount)s") % {"amount": _amount(reading.amount)})
    if facts:
        head.append(" · ".join(facts))
    if reading.deadlines:
        head.append(tr._("Deadlines in the letter:"))
        head += [f"• {_deadline_detail(tr, d, received)}" for d in reading.deadlines]
    foot = [tr._("Wrong deadline? /frist DD.MM.YYYY corrects it, /frist - removes it.")]
    markup = None
    if summary.due is not None:
        remove = InlineKeyboardButton(
            tr._("🗑 Deadline is wrong: remove"), callback_data=LETTER("clear", case_id)
        )
        markup = InlineKeyboardMarkup([[remove]])
    head_html, foot_html = "\n".join(head), "\n".join(foot)
    # HTML tags and entities take no room in the delivered text, so the HTML length is an upper
    # bound for what the head and foot cost; the quoted text counts as written.
    room = MAX_MESSAGE - len(head_html) - len(foot_html) - 8
    text = reading.text.strip()
    if len(text) > room:
        cut = tr._("[cut: the letter is longer than one message]")
        text = text[: max(0, room - len(cut) - 2)].rstrip() + "…\n" + cut
    quote = f"<blockquote expandable>{escape(text)}</blockquote>"
    return f"{head_html}\n{quote}\n{foot_html}", markup


def _deadline_detail(tr: Translator, deadline: Deadline, received: date) -> str:
    wording = f"„{escape(deadline.wording)}“"
    if deadline.certain and deadline.due:
        return f"{_day(deadline.due)} — {wording}"
    if deadline.due is None:
        return tr._("start unknown") + f" — {wording}"
    if deadline.basis == "letter_date":
        basis = tr._("estimated from the letter date")
    else:
        basis = tr._("estimated from receipt on %(date)s") % {"date": _day(received)}
    return tr._("approx. %(date)s") % {"date": _day(deadline.due)} + f" — {wording} ({basis})"


def staff_unreadable(tr: Translator) -> str:
    return "📄 " + tr._(
        "Photo not readable: no text found. The resident got a hint how to take a better photo."
    )


def staff_reminder(tr: Translator, case: Case) -> str:
    """A deadline is near and nobody has answered the resident yet."""
    assert case.deadline is not None and case.deadline.days_left is not None
    return "\n".join(
        [
            "⏰ <b>{}</b>".format(
                tr._("Case %(case)s: deadline %(when)s, and nobody has answered yet.")
                % {"case": f"#{case.id}", "when": days_left_text(tr, case.deadline.days_left)}
            ),
            deadline_line(tr, case.deadline),
        ]
    )


def staff_deadline_set(tr: Translator, case: Case) -> str:
    """After /frist: what the case's deadline is now."""
    assert case.deadline is not None
    if case.deadline.due is None:
        return "🗑 " + tr._("Case %(case)s has no deadline now.") % {"case": f"#{case.id}"}
    return "📅 " + tr._("Case %(case)s: %(deadline)s") % {
        "case": f"#{case.id}",
        "deadline": deadline_text(tr, case.deadline),
    }


# -- resident -----------------------------------------------------------------------------------


def resident_reading(
    tr: Translator, reading: LetterReading, answer: Answer | None, *, photo_hint: bool = False
) -> tuple[str, InlineKeyboardMarkup | None]:
    """'We could read your letter (sender: …). Deadline: 15.12.2026. Your request is marked …',
    with the quick answer that fits as a button; with `photo_hint`, how to take a better photo
    (little was read: a deadline may have been missed)."""
    sender = SENDER_NAMES.get(reading.sender)
    lines = [
        "📄 "
        + (
            tr._("We could read your letter (sender: %(sender)s).") % {"sender": tr._(sender)}
            if sender
            else tr._("We could read your letter.")
        )
    ]
    nearest = nearest_deadline(reading)
    if nearest is None:
        lines.append(tr._("We found no deadline in it. A social worker will look at it."))
    elif nearest.certain:
        lines.append(
            tr._(
                "Deadline: %(date)s. Your request is marked with this deadline, so that a social "
                "worker sees it in time."
            )
            % {"date": tr.isolate(_day(nearest.due))}
        )
    else:
        lines.append(
            tr._(
                "Deadline: about %(date)s. The letter says “%(wording)s”: we counted from the "
                "day you sent us the photo. If the letter reached you earlier, the deadline ends "
                "earlier. Your request is marked with this deadline."
            )
            % {
                "date": tr.isolate(_day(nearest.due)),
                "wording": tr.isolate(escape(nearest.wording)),
            }
        )
    lines.append(
        tr._("The bot reads letters automatically and can be wrong: please check on the letter.")
    )
    if photo_hint:
        lines.append(resident_photo_hint(tr))
    markup = None
    if answer is not None:
        lines.append(tr._("This short answer may help you already:"))
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        "💡 " + answer.title_in(tr.language),
                        callback_data=callbacks.QUICK_ANSWERS("o", answer.id),
                    )
                ]
            ]
        )
    return "\n\n".join(lines), markup


def resident_photo_hint(tr: Translator) -> str:
    """The photo held no readable text."""
    return "📷 " + tr._(
        "We could not read your photo well. A social worker will look at it anyway. If it is a "
        "letter, a new photo helps: lay the letter flat, use bright light without shadows, and "
        "take the whole page."
    )
