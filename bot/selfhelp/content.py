"""Self-help answers and the Wegweiser: content as data, in content/ (TOML), not in code.

content/faq/<topic>.toml holds short first answers for residents, each with a title, a text and
keywords in every shipped language and links to Wegweiser entries; content/wegweiser.toml holds
the local services. Staff who are not programmers edit these files; `load_content` checks them
(every language present, every link known, ids unique) and refuses a broken set with a message
that names the file and the entry, so /reload can keep the old content and say what is wrong.

Matching is deliberately simple and explainable: both the resident's words and the keywords are
normalised (bot/text/textnorm.py), a keyword counts when it occurs in the message, longer keywords
weigh more, and the topic the resident chose breaks ties. Content writers see exactly why an
answer was offered.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.cases.repository import TOPICS
from bot.core.i18n import LANGUAGES
from bot.core.paths import CONTENT_DIR
from bot.text.textnorm import normalise

PLACEHOLDER = "TODO"
MAX_TITLE = 48  # characters: the title is a button label on a phone
MAX_TEXT = 1500  # characters: a first answer, not a brochure
MAX_SUGGESTIONS = 3
GRAM = 3  # letters a keyword is filed under (Content._by_start)


class ContentError(Exception):
    """The content files are incomplete or inconsistent; the message says where."""


@dataclass(frozen=True)
class Service:
    """A Wegweiser entry: a local service residents may need."""

    id: str
    name: str
    helps_with: dict[str, str]
    details: dict[str, str]  # address, phone, hours, languages, website: only filled-in values
    placeholders: tuple[str, ...]  # fields still marked TODO for the office

    def describe(self, language: str) -> str:
        return self.helps_with.get(language) or self.helps_with["de"]


@dataclass(frozen=True)
class Answer:
    id: str
    topic: str
    title: dict[str, str]
    text: dict[str, str]
    keywords: dict[str, tuple[str, ...]]  # normalised
    links: tuple[str, ...]

    def title_in(self, language: str) -> str:
        return self.title.get(language) or self.title["de"]

    def text_in(self, language: str) -> str:
        return self.text.get(language) or self.text["de"]


@dataclass(frozen=True)
class Content:
    answers: tuple[Answer, ...]
    services: dict[str, Service]
    _by_id: dict[str, Answer] = field(default_factory=dict, repr=False)
    # Per resident language, each answer with the keywords that count for it (its own and the
    # German ones): worked out once here, not for every message.
    _words: dict[str, list[tuple[Answer, tuple[str, ...]]]] = field(
        default_factory=dict, repr=False
    )
    # The same keywords filed by their first GRAM letters: a message is checked only for the
    # keywords whose start occurs in it, not for all of them (hundreds) every time.
    _by_start: dict[str, dict[str, list[tuple[int, str]]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_id.update({answer.id: answer for answer in self.answers})
        for language in LANGUAGES:
            self._words[language] = words = [
                (a, tuple(dict.fromkeys(a.keywords[language] + a.keywords["de"])))
                for a in self.answers
            ]
            index: dict[str, list[tuple[int, str]]] = {}
            for position, (_, keywords) in enumerate(words):
                for word in keywords:
                    index.setdefault(word[:GRAM], []).append((position, word))
            self._by_start[language] = index

    def answer(self, answer_id: str) -> Answer | None:
        return self._by_id.get(answer_id)

    def for_topic(self, topic: str) -> list[Answer]:
        return [answer for answer in self.answers if answer.topic == topic]

    def match(
        self,
        text: str,
        language: str,
        topic: str | None = None,
        limit: int = MAX_SUGGESTIONS,
    ) -> list[Answer]:
        """Answers whose keywords occur in `text`, best first; [] when nothing matches.

        Keywords of the resident's language count, and German ones too: residents copy the
        German words from their letters ("Mahnung", "Jobcenter") into any language.
        """
        message = f" {normalise(text)} "
        if not message.strip():
            return []
        language = language if language in self._words else "de"
        candidates, index = self._words[language], self._by_start[language]
        # Every start a keyword could have in the message (keywords shorter than GRAM too).
        starts = {message[i : i + n] for n in range(1, GRAM + 1) for i in range(len(message))}
        scores: dict[int, int] = {}
        for start in starts.intersection(index):
            for position, word in index[start]:
                if word in message:
                    scores[position] = scores.get(position, 0) + len(word)
        scored = []
        for position, score in scores.items():
            answer = candidates[position][0]
            # The topic they chose decides between answers that match about equally.
            bonus = 1.25 if topic is not None and answer.topic == topic else 1.0
            scored.append((-score * bonus, position, answer))
        scored.sort(key=lambda item: (item[0], item[1]))
        return [answer for _, _, answer in scored[:limit]]


# -- loading and checking ------------------------------------------------------------------------


def load_content(folder: Path = CONTENT_DIR) -> Content:
    services = _load_services(folder / "wegweiser.toml")
    faq = folder / "faq"
    if not faq.is_dir():
        raise ContentError(f"{faq}: folder with the self-help answers not found")
    answers: list[Answer] = []
    seen: dict[str, str] = {}
    for path in sorted(faq.glob("*.toml")):
        data = _read(path)
        topic = data.get("topic")
        if topic not in TOPICS:
            raise ContentError(f"{path.name}: topic must be one of {', '.join(TOPICS)}")
        entries = data.get("answer")
        if not isinstance(entries, list) or not entries:
            raise ContentError(f"{path.name}: no [[answer]] entries")
        for number, entry in enumerate(entries, 1):
            answer = _answer(entry, topic, services, f"{path.name}, answer {number}")
            if answer.id in seen:
                first = seen[answer.id]
                raise ContentError(f"{path.name}: answer id {answer.id!r} is also in {first}")
            seen[answer.id] = path.name
            answers.append(answer)
    if not answers:
        raise ContentError(f"{faq}: no answers")
    return Content(tuple(answers), services)


def _read(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ContentError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as error:
        raise ContentError(f"{path.name}: not valid TOML ({error})") from None


def _per_language(entry: dict, key: str, where: str) -> dict:
    values = entry.get(key)
    if not isinstance(values, dict):
        raise ContentError(f"{where}: [{key}] is missing")
    missing = [language for language in LANGUAGES if not values.get(language)]
    if missing:
        raise ContentError(f"{where}: {key} lacks {', '.join(missing)}")
    unknown = sorted(set(values) - set(LANGUAGES))
    if unknown:
        raise ContentError(f"{where}: {key} has unknown languages {', '.join(unknown)}")
    return values


def _answer(entry: dict, topic: str, services: dict[str, Service], where: str) -> Answer:
    answer_id = entry.get("id")
    if not isinstance(answer_id, str) or not answer_id:
        raise ContentError(f"{where}: id is missing")
    where = f"{where} ({answer_id})"
    # Answer ids travel in callback data (64 bytes at most) and in the statistics.
    if len(answer_id.encode()) > 40 or not all(c.isalnum() or c in "-_" for c in answer_id):
        raise ContentError(f"{where}: id must be ≤ 40 letters, digits, '-' or '_'")
    titles = _per_language(entry, "title", where)
    texts = _per_language(entry, "text", where)
    keywords = _per_language(entry, "keywords", where)
    for language in LANGUAGES:
        if len(titles[language]) > MAX_TITLE:
            raise ContentError(f"{where}: {language} title longer than {MAX_TITLE} characters")
        if len(texts[language]) > MAX_TEXT:
            raise ContentError(f"{where}: {language} text longer than {MAX_TEXT} characters")
        if not isinstance(keywords[language], list) or not all(
            isinstance(word, str) and normalise(word) for word in keywords[language]
        ):
            raise ContentError(f"{where}: {language} keywords must be a list of words")
    links = entry.get("links", [])
    if not isinstance(links, list):
        raise ContentError(f"{where}: links must be a list of Wegweiser ids")
    broken = [link for link in links if link not in services]
    if broken:
        raise ContentError(f"{where}: links to unknown Wegweiser entries {', '.join(broken)}")
    return Answer(
        id=answer_id,
        topic=topic,
        title={language: titles[language].strip() for language in LANGUAGES},
        text={language: texts[language].strip() for language in LANGUAGES},
        keywords={
            language: tuple(dict.fromkeys(normalise(word) for word in keywords[language]))
            for language in LANGUAGES
        },
        links=tuple(links),
    )


DETAILS = ("address", "phone", "hours", "languages", "website")


def _load_services(path: Path) -> dict[str, Service]:
    data = _read(path)
    entries = data.get("service")
    if not isinstance(entries, list) or not entries:
        raise ContentError(f"{path.name}: no [[service]] entries")
    services: dict[str, Service] = {}
    for number, entry in enumerate(entries, 1):
        service_id = entry.get("id")
        where = f"{path.name}, service {number} ({service_id})"
        if not isinstance(service_id, str) or not service_id:
            raise ContentError(f"{where}: id is missing")
        if service_id in services:
            raise ContentError(f"{where}: id {service_id!r} is used twice")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip() or _is_placeholder(name):
            raise ContentError(f"{where}: name is missing")
        helps_with = _per_language(entry, "helps_with", where)
        details = {}
        placeholders = []
        for key in DETAILS:
            value = entry.get(key)
            if value is None:
                continue
            if not isinstance(value, str):
                raise ContentError(f"{where}: {key} must be text")
            if _is_placeholder(value):
                placeholders.append(key)
            elif value.strip():
                details[key] = value.strip()
        services[service_id] = Service(
            id=service_id,
            name=name.strip(),
            helps_with={language: helps_with[language].strip() for language in LANGUAGES},
            details=details,
            placeholders=tuple(placeholders),
        )
    return services


def _is_placeholder(value: str) -> bool:
    return value.strip().upper().startswith(PLACEHOLDER)


def placeholders(content: Content) -> Iterable[str]:
    """ "wegweiser.<id>.<field>" for every value the office has yet to fill in (logged at start)."""
    for service in content.services.values():
        for key in service.placeholders:
            yield f"wegweiser.{service.id}.{key}"
