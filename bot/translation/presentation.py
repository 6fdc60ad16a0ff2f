"""What staff and residents see of a translation: pure functions from an Outcome to HTML.

Staff read German (STAFF_LANGUAGE) and residents their own language; every label comes from the
catalogs, every text from outside is escaped. An original is always one glance away: quoted
under the translation. Telegram allows 4096 characters in a message and 1024 in a caption
(counted without the HTML tags); what does not fit is split into several messages, never cut.
A result of None means "nothing to add: copy the message as it is".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape, unescape

from bot.core.i18n import N_, Translator
from bot.translation import languages
from bot.translation.port import Failure
from bot.translation.providers import ProviderInfo
from bot.translation.service import Outcome, Status

TEXT_LIMIT = 4096
# Beside each part of a split text: a label, its tags and the quote's (at most this many
# characters of HTML).
ROOM_FOR_LABELS = 300
CAPTION_LIMIT = 1024

FAILURE_REASONS = {
    Failure.TIMEOUT: N_("no answer in time"),
    Failure.UNAVAILABLE: N_("service not reachable"),
    Failure.RATE_LIMITED: N_("too many requests"),
    Failure.QUOTA: N_("quota used up"),
    Failure.REFUSED: N_("request refused"),
    Failure.GARBAGE: N_("unusable answer"),
}


@dataclass(frozen=True)
class Caption:
    """For a photo, document or voice message from staff: the caption of the copy, and
    where the translation does not fit beside it, messages to send after it."""

    caption: str
    follow_up: tuple[str, ...] = ()


# -- resident -> staff --------------------------------------------------------------------
def for_staff(tr: Translator, outcome: Outcome) -> list[str] | None:
    """A resident's text as the staff topic shows it: the German translation, labelled, with
    the original quoted below; a failure or the resident's opt-out said plainly."""
    if outcome.status is Status.TRANSLATED:
        head = [f"🌐 <i>{escape(source_label(tr, outcome))}</i>"]
        if not outcome.complete:
            head.append(f"<i>{escape(tr._('Some details are only in the original below.'))}</i>")
        return _fit("\n".join(head), outcome.text or "", outcome.original)
    if outcome.status is Status.FAILED:
        head = "⚠️ <i>{}</i>".format(
            escape(
                tr._("Translation failed (%(reason)s). The original:")
                % {"reason": failure_reason(tr, outcome.failure)}
            )
        )
        return _fit(head, None, outcome.original)
    if outcome.status is Status.OPTED_OUT:
        head = "🌐 <i>{}</i>".format(
            escape(tr._("Not translated: the resident has turned machine translation off."))
        )
        return _fit(head, None, outcome.original)
    return None


def staff_caption(tr: Translator, outcome: Outcome) -> str | None:
    """Beside the copy of a resident's photo, document or voice message (which keeps its own
    caption): the caption's translation, or that it failed."""
    if outcome.status is Status.TRANSLATED:
        head = "🌐 <i>{} ({})</i>".format(
            escape(source_label(tr, outcome)), escape(tr._("caption"))
        )
        return "\n\n".join(_fit(head, outcome.text or "", None))
    if outcome.status is Status.FAILED:
        return "⚠️ <i>{}</i>".format(
            escape(
                tr._("Caption: translation failed (%(reason)s).")
                % {"reason": failure_reason(tr, outcome.failure)}
            )
        )
    return None


def staff_receipt(tr: Translator, outcome: Outcome) -> str | None:
    """In the topic after a staff message went out: what the resident was sent."""
    if outcome.status is Status.TRANSLATED:
        label = tr._("Sent machine-translated into %(language)s:") % {
            "language": _into_name(tr, outcome.target)
        }
        body = outcome.text or ""
        if _cost(body) > TEXT_LIMIT - ROOM_FOR_LABELS:
            body = _chunks(body, TEXT_LIMIT - ROOM_FOR_LABELS)[0] + " …"
        return f"🌐 <i>{escape(label)}</i>\n<blockquote expandable>{escape(body)}</blockquote>"
    if outcome.status is Status.RAW:
        return "✉️ <i>{}</i>".format(escape(tr._("Sent untranslated, exactly as written.")))
    if outcome.status is Status.FAILED:
        return "⚠️ <i>{}</i>".format(
            escape(
                tr._("Translation failed (%(reason)s): sent in German, as written.")
                % {"reason": failure_reason(tr, outcome.failure)}
            )
        )
    return None


def source_label(tr: Translator, outcome: Outcome) -> str:
    """ "maschinell übersetzt aus dem Arabischen", and when the resident wrote in another
    language than they chose, that it was recognised."""
    label = tr._("machine-translated from %(language)s") % {
        "language": _from_name(tr, outcome.source or "und")
    }
    if outcome.detected and outcome.setting is not None:
        label += " " + tr._("(recognised; the resident's language setting is %(language)s)") % {
            "language": languages.name(outcome.setting, tr.language)
        }
    return label


def failure_reason(tr: Translator, failure: Failure | None) -> str:
    return tr._(FAILURE_REASONS.get(failure or Failure.GARBAGE, FAILURE_REASONS[Failure.GARBAGE]))


# -- the privacy notice -------------------------------------------------------------------
def privacy_paragraph(tr: Translator, info: ProviderInfo) -> str:
    """What the notice says when translation is on: who gets which text."""
    host, model = tr.isolate(info.host), tr.isolate(info.model or "")
    if info.kind == "deepl":
        provider = tr._("DeepL SE in Cologne, Germany (%(host)s)") % {"host": host}
    elif info.kind == "openai":
        provider = tr._("the language model %(model)s at %(host)s") % {
            "model": model,
            "host": host,
        }
    else:
        provider = tr._("the translation service LibreTranslate at %(host)s") % {"host": host}
    return escape(
        tr._(
            "Machine translation: so that you and the social workers can each read your own "
            "language, the text of your messages and captions and the answers of the social "
            "workers are sent to %(provider)s and translated there. Photos, voice messages and "
            "files are not sent. The translations are stored and deleted like your messages. "
            "You can turn off the translation of your messages under /privacy."
        )
        % {"provider": provider}
    )


# -- staff -> resident --------------------------------------------------------------------
def for_resident(tr: Translator, outcome: Outcome) -> list[str] | None:
    """A staff member's text as the resident gets it: the translation in their language, the
    German original beneath, labelled as machine-translated."""
    if outcome.status is Status.TRANSLATED:
        return _fit(None, outcome.text or "", outcome.original, footer=_resident_label(tr, outcome))
    if outcome.status is Status.FAILED:
        note = tr._("A translation is not available right now; this is the original in German.")
        return _fit(f"🌐 <i>{escape(note)}</i>", outcome.original, None)
    if outcome.status is Status.RAW:
        return _fit(None, outcome.original, None)
    return None


def resident_caption(tr: Translator, outcome: Outcome) -> Caption | None:
    """The caption for the copy of a staff member's photo or document."""
    if outcome.status is Status.TRANSLATED:
        whole = _fit(
            None, outcome.text or "", outcome.original, footer=_resident_label(tr, outcome)
        )
        if len(whole) == 1 and _length(whole[0]) <= CAPTION_LIMIT:
            return Caption(whole[0])
        # Too long beside a photo: the original as the caption, the translation after it.
        return Caption(escape(outcome.original), tuple(whole))
    if outcome.status in (Status.RAW, Status.FAILED):
        return Caption(escape(outcome.original))
    return None


def _resident_label(tr: Translator, outcome: Outcome) -> str:
    label = "🌐 <i>{}</i>".format(
        escape(tr._("Machine translation. What the social worker wrote in German:"))
    )
    if not outcome.complete:
        label = "<i>{}</i>\n{}".format(
            escape(tr._("Some details are only in the original below.")), label
        )
    return label


# -- language names -----------------------------------------------------------------------
def _from_name(tr: Translator, language: str) -> str:
    return (
        languages.german_dative(language)
        if tr.language == "de"
        else languages.name(language, tr.language)
    )


def _into_name(tr: Translator, language: str) -> str:
    return (
        languages.german_accusative(language)
        if tr.language == "de"
        else languages.name(language, tr.language)
    )


# -- fitting into Telegram's limits -------------------------------------------------------
def _length(html: str) -> int:
    """What Telegram counts: the text without tags, in UTF-16 code units."""
    return len(unescape(re.sub(r"<[^>]+>", "", html)).encode("utf-16-le")) // 2


def _fit(
    head: str | None, body: str | None, quoted: str | None, *, footer: str | None = None
) -> list[str]:
    """head, body, footer and the quoted original in one message when they fit, else split
    into several, each within TEXT_LIMIT (what Telegram counts, and the HTML itself);
    texts are cut only between lines or words."""
    blocks = [b for b in (head, escape(body) if body else None, footer) if b]
    if quoted:
        blocks.append(f"<blockquote>{escape(quoted)}</blockquote>")
    whole = "\n\n".join(blocks)
    if _length(whole) <= TEXT_LIMIT and len(whole) <= TEXT_LIMIT:
        return [whole]
    messages: list[str] = []
    room = TEXT_LIMIT - ROOM_FOR_LABELS
    if body:
        chunks = _chunks(body, room)
        messages.append("\n\n".join(b for b in (head, escape(chunks[0])) if b))
        messages.extend(escape(chunk) for chunk in chunks[1:])
    elif head:
        messages.append(head)
    if quoted:
        chunks = _chunks(quoted, room)
        first = [footer] if footer else []
        messages.append("\n".join([*first, f"<blockquote>{escape(chunks[0])}</blockquote>"]))
        messages.extend(f"<blockquote>{escape(chunk)}</blockquote>" for chunk in chunks[1:])
    elif footer:
        messages.append(footer)
    return messages


def _cost(text: str) -> int:
    """The room a plain text takes in a message: what Telegram counts (UTF-16 code units), or
    the characters of its escaped HTML, whichever is more — the courier sends at most
    TEXT_LIMIT characters of a message's HTML, so "&" and "<" (five and four there) count too."""
    return max(len(text.encode("utf-16-le")) // 2, len(escape(text)))


def _chunks(text: str, size: int) -> list[str]:
    """A plain text in pieces of at most `size` (`_cost`), cut between lines or words."""
    chunks = []
    while _cost(text) > size:
        end = size
        while _cost(text[:end]) > size:  # emoji count twice, "&" five times
            end -= max(1, (_cost(text[:end]) - size) // 5)
        cut = text.rfind("\n", 0, end)
        if cut < end // 2:
            cut = text.rfind(" ", 0, end)
        if cut < end // 2:
            cut = end
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    chunks.append(text)
    return chunks
