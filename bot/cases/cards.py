"""How a case looks to staff: the forum topic name and the case card (texts from the catalogs,
in the staff group's language, German)."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.cases.repository import Case, CaseDeadline
from bot.core import callbacks
from bot.core.i18n import LANGUAGE_NAMES, N_, Translator

TOPIC_LABELS = {
    "debt": N_("Debt"),
    "housing": N_("Housing search"),
    "letter": N_("Official letter"),
    "job": N_("Job application"),
    "family": N_("Family"),
    "other": N_("Other question"),
}
STATUS_LABELS = {
    "draft": N_("draft"),
    "new": N_("new"),
    "open": N_("in progress"),
    "waiting": N_("answered, waiting for the resident"),
    "closed": N_("closed"),
}
# One glance in the topic list tells what needs doing.
STATUS_PREFIX = {"draft": "", "new": "🆕", "open": "🟡", "waiting": "⏳", "closed": "✅"}

# Callback data of the staff buttons: "case:<action>:<id>[:<template key>]".
CASE_PREFIX = callbacks.CASE.prefix


def topic_label(tr: Translator, case: Case) -> str:
    return tr._(TOPIC_LABELS[case.topic or "other"])


def topic_name(tr: Translator, case: Case) -> str:
    """Forum topic name, e.g. "🆕 #12 Schulden · ar · Rieth" (Telegram allows 128 characters)."""
    parts = [f"#{case.id} {topic_label(tr, case)}", case.language]
    if case.district:
        parts.append(case.district)
    name = " · ".join(parts)
    prefix = ("🆘" if case.urgent and case.status != "closed" else "") + STATUS_PREFIX[case.status]
    return f"{prefix} {name}".strip()[:128]


def card_text(tr: Translator, case: Case) -> str:
    lines = [
        f"<b>{escape(topic_name(tr, case))}</b>",
        tr._("Name: %(name)s") % {"name": escape(case.first_name or "–")},
        tr._("Language: %(language)s")
        % {"language": f"{LANGUAGE_NAMES.get(case.language, case.language)} ({case.language})"},
        tr._("District: %(district)s") % {"district": escape(case.district or "–")},
        tr._("Status: %(status)s") % {"status": tr._(STATUS_LABELS[case.status])},
        tr._("Opened: %(time)s")
        % {"time": tr.datetime(case.submitted_at or case.created_at, "short")},
    ]
    if case.assignee_id and case.assignee_id < 0:
        # Taken by an anonymous administrator, who acts as the staff group itself.
        lines.append(tr._("Taken by: %(staff)s") % {"staff": tr._("an anonymous administrator")})
    elif case.assignee_id:
        lines.append(
            tr._("Taken by: %(staff)s")
            % {"staff": f'<a href="tg://user?id={case.assignee_id}">{case.assignee_id}</a>'}
        )
    if case.deadline is not None:
        lines.append(deadline_line(tr, case.deadline))
    if case.suggested:
        lines.append(
            "💡 "
            + tr._("Quick answers offered before asking (not enough): %(answers)s")
            % {"answers": escape(", ".join(case.suggested))}
        )
    if case.resident_blocked:
        lines.append("⚠️ " + tr._("The resident has blocked the bot: replies cannot be delivered."))
    if case.resident_id is None:
        lines.append("⚠️ " + tr._("The resident has deleted their data."))
    return "\n".join(lines)


def deadline_line(tr: Translator, deadline: CaseDeadline) -> str:
    """'📄 Jobcenter · Frist 15.12.2026 (in 13 Tagen) · Az. 123/45 (maschinell gelesen)', HTML.
    An estimate says so with the letter's wording; a date staff set says so."""
    parts = ["📄 " + escape(deadline.sender or tr._("Letter")), deadline_text(tr, deadline)]
    if deadline.reference:
        parts.append(escape(deadline.reference))
    source = tr._("corrected by staff") if deadline.by_staff else tr._("machine-read")
    return " · ".join(parts) + f" ({source})"


def deadline_text(tr: Translator, deadline: CaseDeadline, *, wording: bool = True) -> str:
    """'Frist 15.12.2026 (in 13 Tagen)' or 'Frist ca. 18.12.2026 — innerhalb von 14 Tagen nach
    Zugang (in 17 Tagen)' (without the wording where room is short), HTML."""
    if deadline.due is None:
        return tr._("deadline removed") if deadline.by_staff else tr._("no deadline found")
    day = deadline.due.strftime("%d.%m.%Y")
    if deadline.estimated and not deadline.by_staff:
        text = tr._("Deadline approx. %(date)s") % {"date": day}
        if wording and deadline.wording:
            text += " — " + escape(deadline.wording)
    else:
        text = tr._("Deadline %(date)s") % {"date": day}
    if deadline.days_left is not None:
        text += f" ({days_left_text(tr, deadline.days_left)})"
    return text


def days_left_text(tr: Translator, days: int) -> str:
    if days == 0:
        return tr._("today")
    if days == 1:
        return tr._("tomorrow")
    if days < 0:
        return tr.ngettext("%(count)d day overdue", "%(count)d days overdue", -days) % {
            "count": -days
        }
    return tr.ngettext("in %(count)d day", "in %(count)d days", days) % {"count": days}


def card_buttons(tr: Translator, case: Case) -> InlineKeyboardMarkup:
    if case.status == "closed":
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        tr._("↩️ Reopen"), callback_data=callbacks.CASE("reopen", case.id)
                    )
                ]
            ]
        )
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    tr._("✋ Take"), callback_data=callbacks.CASE("take", case.id)
                ),
                InlineKeyboardButton(
                    tr._("✅ Close"), callback_data=callbacks.CASE("close", case.id)
                ),
            ],
            [
                InlineKeyboardButton(
                    tr._("💬 Canned replies"), callback_data=callbacks.CASE("templates", case.id)
                )
            ],
        ]
    )
