"""What the bot does with a deep link: read it from /start, and hand onboarding a short reference
that travels on the buttons until the resident agrees.

Before consent nothing but the Telegram id, the chat and the language may be stored about a
person, so the district and the link are not written to the resident's row at /start. The link
itself is no personal data (it is printed on a poster): it is stored once, and its id rides in
the callback data of the privacy notice's buttons (`consent:agree:<id>`, a few bytes of the 64
Telegram allows). Only when the resident agrees are the district stored and the link counted,
once per person, in the consent's own transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.outreach.deeplinks import DeepLink, build_payload, parse_payload
from bot.outreach.repository import OutreachRepository, StoredLink


class OutreachService:
    def __init__(self, repository: OutreachRepository, districts: Mapping[str, str]) -> None:
        self._repo = repository
        self._districts = dict(districts)  # slug -> district name, from the organisation file

    def read(self, args: Sequence[str] | None) -> DeepLink | None:
        """The deep link in /start's arguments; None for a plain /start or a foreign payload."""
        if not args or len(args) != 1:
            return None
        return parse_payload(args[0], districts=self._districts)

    async def arrived(self, link: DeepLink) -> int:
        """The reference of this link for the buttons (the link stored the first time)."""
        payload = build_payload(
            link.district, link.language, link.source, districts=self._districts
        )
        return await self._repo.remember(payload, link.district, link.language, link.source)

    async def link(self, reference: int | None) -> StoredLink | None:
        """The link a button's reference names; None for none, or an unknown (forged) one."""
        return None if reference is None else await self._repo.get(reference)
