"""Deep links for posters and flyers: `https://t.me/<bot>?start=<payload>`.

The payload says where a resident found the link: district, optionally a language and a source,
e.g. `rieth-ar-treppenhaus-2027` (district slug, language, source). Telegram hands the payload to
the bot as `/start <payload>`; it allows only A-Z, a-z, 0-9, `_` and `-`, at most 64 characters.
Both directions check that: `build_payload` refuses what Telegram would not carry, and
`parse_payload` returns None for anything that is not one of our payloads (a foreign or mangled
link), so the bot can greet that resident like any other.

Layout: `<district>[-<language>][-<source>]`. The district slug uses a-z, 0-9 and `_` (the
location keys of the organisation file), so `-` separates the parts. Without a language but with a
source whose first word looks like a language code, the language part is left empty
(`rieth--de-flyer`), so that every payload reads back to what it was built from.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from bot.core.i18n import LANGUAGES

MAX_PAYLOAD = 64  # Telegram's limit for the start parameter
PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
SLUG = re.compile(r"[a-z0-9_]{1,32}")
SOURCE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Bot usernames: 5-32 characters of a-z, 0-9 and _, ending in "bot" (BotFather's rule).
BOT_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{1,28}[Bb][Oo][Tt]")
# German letters a resident-facing source name may contain, written out the German way, so that
# "Treppenhaus Straße" becomes "treppenhaus-strasse" rather than "treppenhaus-stra-e".
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


@dataclass(frozen=True)
class DeepLink:
    district: str  # the district's name, as residents and cases store it ("Rieth")
    language: str | None
    source: str | None


class _Location(Protocol):
    key: str
    district: str


def district_slugs(locations: Iterable[_Location]) -> dict[str, str]:
    """slug -> district name from the organisation's locations (their keys are the slugs)."""
    return {location.key: location.district for location in locations}


def normalise_source(name: str) -> str:
    """A source name as it goes into a payload: lowercase a-z and 0-9, words joined by `-`."""
    text = name.lower().translate(_GERMAN)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "-".join(re.findall(r"[a-z0-9]+", text))


def build_payload(
    district: str,
    language: str | None = None,
    source: str | None = None,
    *,
    districts: Mapping[str, str],
) -> str:
    """The start parameter for a district (its slug or its name), a language and a source.

    Raises ValueError for an unknown district or language, a source with nothing usable in it,
    or a payload longer than Telegram allows."""
    slug = _slug_for(district, districts)
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}: use one of {', '.join(LANGUAGES)}")
    parts = [slug]
    normalised = None
    if source is not None:
        normalised = normalise_source(source)
        if not normalised:
            raise ValueError(f"the source {source!r} has no letters or digits to keep")
    if language is not None:
        parts.append(language)
    elif normalised is not None and normalised.split("-")[0] in LANGUAGES:
        parts.append("")  # keeps "rieth--de-flyer" from reading as language "de"
    if normalised is not None:
        parts.append(normalised)
    payload = "-".join(parts)
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(
            f"the payload {payload!r} has {len(payload)} characters; Telegram allows"
            f" {MAX_PAYLOAD}: choose a shorter source"
        )
    return payload


def parse_payload(text: str | None, *, districts: Mapping[str, str]) -> DeepLink | None:
    """The deep link in a start parameter, or in a whole `/start <payload>` message; None when it
    is not one of ours."""
    if not text:
        return None
    payload = text.strip()
    if payload.startswith("/start"):
        command, _, payload = payload.partition(" ")
        if command != "/start" and not command.startswith("/start@"):
            return None
        payload = payload.strip()
    if not PAYLOAD.fullmatch(payload):
        return None
    # Posters print lowercase; a link typed by hand with capitals still counts.
    slug, *rest = payload.lower().split("-")
    district = districts.get(slug)
    if district is None or not SLUG.fullmatch(slug):
        return None
    language = None
    if rest and (rest[0] in LANGUAGES or rest[0] == ""):
        language = rest.pop(0) or None
    source = "-".join(rest) or None
    if source is not None and not SOURCE.fullmatch(source):
        return None
    return DeepLink(district=district, language=language, source=source)


def deep_link_url(bot_username: str, payload: str) -> str:
    """`https://t.me/<bot>?start=<payload>`; the username with or without its @."""
    username = bot_username.removeprefix("@")
    if not BOT_USERNAME.fullmatch(username):
        raise ValueError(
            f"{bot_username!r} is not a bot username (5-32 of a-z, 0-9, _; ends in bot)"
        )
    if not PAYLOAD.fullmatch(payload):
        raise ValueError(f"{payload!r} is not a valid start parameter")
    return f"https://t.me/{username}?start={payload}"


def _slug_for(district: str, districts: Mapping[str, str]) -> str:
    wanted = district.strip()
    if wanted.lower() in districts:
        slug = wanted.lower()
    else:
        slug = next((s for s, name in districts.items() if name.lower() == wanted.lower()), "")
    if not slug:
        known = ", ".join(sorted(districts))
        raise ValueError(f"unknown district {district!r}: known are {known}")
    if not SLUG.fullmatch(slug):
        raise ValueError(f"the district slug {slug!r} may only use a-z, 0-9 and _")
    return slug
