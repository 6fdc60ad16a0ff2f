"""The self-help content as shipped: complete, consistent, and found by what residents write."""

from __future__ import annotations

import shutil
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from bot.cases.repository import TOPICS
from bot.core.i18n import LANGUAGES
from bot.selfhelp.content import CONTENT_DIR, ContentError, load_content
from bot.selfhelp.repository import ContentStore

PHRASINGS = Path(__file__).parent / "data" / "faq_phrasings.toml"


@pytest.fixture(scope="module")
def content():
    return load_content()


def test_the_shipped_content_is_complete(content):
    per_topic = Counter(answer.topic for answer in content.answers)
    assert set(per_topic) == set(TOPICS)
    assert min(per_topic.values()) >= 8  # at least eight first answers per topic
    for answer in content.answers:
        for language in LANGUAGES:
            assert answer.title[language] and answer.text[language] and answer.keywords[language]
        assert all(link in content.services for link in answer.links)


def test_no_answer_invents_a_phone_number_or_an_address(content):
    """Only the nationwide emergency numbers may appear; everything else is the Wegweiser's."""
    import re

    allowed = {"110", "112", "116117", "08001110111", "08001110222", "116016", "116111"}
    allowed.add("08004040020")
    for answer in content.answers:
        for language, text in answer.text.items():
            for number in re.findall(r"\d[\d /-]{5,}\d", text):
                digits = re.sub(r"\D", "", number)
                assert digits in allowed, f"{answer.id} ({language}): {number}"
            assert "http" not in text and "www." not in text, f"{answer.id} ({language})"


def test_wegweiser_placeholders_are_never_shown(content):
    for service in content.services.values():
        assert not any(v.upper().startswith("TODO") for v in service.details.values())
        for language in LANGUAGES:
            assert service.describe(language)


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_an_answer_missing_a_language_is_refused_with_where(tmp_path):
    folder = _copy(tmp_path)
    debt = folder / "faq" / "debt.toml"
    data = tomllib.loads(debt.read_text(encoding="utf-8"))
    first = data["answer"][0]
    # Remove the Ukrainian text of the first answer.
    uk_text = first["text"]["uk"]
    _edit(debt, uk_text, "")
    with pytest.raises(ContentError) as error:
        load_content(folder)
    assert "debt.toml" in str(error.value) and first["id"] in str(error.value)
    assert "uk" in str(error.value)


def test_a_broken_wegweiser_link_is_refused(tmp_path):
    folder = _copy(tmp_path)
    housing = folder / "faq" / "housing.toml"
    _edit(housing, "links = [", 'links = ["gibt-es-nicht", ')
    with pytest.raises(ContentError, match="gibt-es-nicht"):
        load_content(folder)


def test_a_duplicate_id_and_broken_toml_are_refused(tmp_path):
    folder = _copy(tmp_path)
    job = folder / "faq" / "job.toml"
    first_id = tomllib.loads(job.read_text(encoding="utf-8"))["answer"][0]["id"]
    second_id = tomllib.loads(job.read_text(encoding="utf-8"))["answer"][1]["id"]
    _edit(job, f'id = "{second_id}"', f'id = "{first_id}"')
    with pytest.raises(ContentError, match="also in"):
        load_content(folder)
    job.write_text('topic = "job"\n[[answer]\n', encoding="utf-8")
    with pytest.raises(ContentError, match="not valid TOML"):
        load_content(folder)


def test_reload_keeps_the_old_content_when_the_new_one_is_broken(tmp_path):
    folder = _copy(tmp_path)
    store = ContentStore(folder)
    before = store.current
    other = folder / "faq" / "other.toml"
    _edit(other, "[answer.title]", "[answer.titel]")
    with pytest.raises(ContentError):
        store.reload()
    assert store.current is before
    shutil.copy(CONTENT_DIR / "faq" / "other.toml", other)
    _edit(other, "[answer.title]\nde = ", '[answer.title]\nde = "Neu: " + ')  # invalid TOML
    with pytest.raises(ContentError):
        store.reload()
    shutil.copy(CONTENT_DIR / "faq" / "other.toml", other)
    assert store.reload() is store.current and store.current is not before


# -- matching ----------------------------------------------------------------------------------


def test_spelling_variants_find_the_same_answers(content):
    # Arabic: hamza, taa marbuta and alif maqsura written the plain way.
    proper = content.match("وصلتني رسالة من مركز العمل (Jobcenter) يطلبون أوراق", "ar")
    plain = content.match("وصلتني رساله من مركز العمل جوب سنتر يطلبون اوراق", "ar")
    assert proper and plain and proper[0].topic == plain[0].topic == "job"
    # Russian ё and е.
    with_yo = content.match("пришёл счёт за свет, а денег нет, отключат электричество", "ru")
    without = content.match("пришел счет за свет, а денег нет, отключат электричество", "ru")
    assert [a.id for a in with_yo] == [a.id for a in without] and with_yo
    # Case and umlauts.
    assert [a.id for a in content.match("MAHNUNG bekommen", "de")] == [
        a.id for a in content.match("mahnung bekommen", "de")
    ]


def test_nothing_matches_small_talk(content):
    for text, language in (
        ("Danke, bis morgen!", "de"),
        ("شكرا جزيلا", "ar"),
        ("спасибо, до свидания", "ru"),
        ("ok", "en"),
    ):
        assert content.match(text, language) == [], text


def _phrasings() -> list[dict]:
    with PHRASINGS.open("rb") as handle:
        return tomllib.load(handle)["phrasing"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_matching_finds_the_right_topic_in_the_top_three(content, language):
    """Realistic resident phrasings (written without looking at the keywords), at least 30 per
    language: the expected topic must be among the first three answers in >= 80 % of them."""
    phrasings = [p for p in _phrasings() if p["language"] == language]
    assert len(phrasings) >= 30
    hits = sum(
        any(a.topic == p["topic"] for a in content.match(p["text"], language)) for p in phrasings
    )
    rate = hits / len(phrasings)
    print(f"{language}: top-3 topic hit rate {rate:.0%} ({hits}/{len(phrasings)})")
    assert rate >= 0.8


def _scored_by_every_keyword(content, text, language, topic):
    """Matching as it was before the start index (issue 18): every keyword of every answer
    tried on every message. The index must give exactly this."""
    from bot.text.textnorm import normalise

    message = f" {normalise(text)} "
    scored = []
    for position, answer in enumerate(content.answers):
        words = dict.fromkeys(answer.keywords[language] + answer.keywords["de"])
        score = sum(len(word) for word in words if word in message)
        if score:
            bonus = 1.25 if answer.topic == topic else 1.0
            scored.append((-score * bonus, position, answer.id))
    return [answer_id for _, _, answer_id in sorted(scored)[:3]]


def test_the_keyword_index_finds_what_trying_every_keyword_finds(content):
    checks = [("", "de", None), ("hallo", "ar", None), ("Ich habe eine Mahnung", "ru", "debt")]
    for answer in content.answers:
        for language in LANGUAGES:
            keywords = answer.keywords[language]
            # Whole words, and a keyword inside another word ("xx…"): both count.
            text = " und ".join(keywords[:2]) + " xx" + keywords[-1] + " ok"
            checks.append((text, language, answer.topic))
    for text, language, topic in checks:
        got = [a.id for a in content.match(text, language, topic)]
        assert got == _scored_by_every_keyword(content, text, language, topic), text
