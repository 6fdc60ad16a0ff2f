"""Crisis detection: how people in distress really write must be caught, everyday letters must not.

The phrasings are written the way residents write to the bot: short, lower case, no punctuation,
typos, dialect, German office words inside Arabic or Russian. A missed German, Arabic or Russian
message is the failure that matters; a false alarm only costs a list of emergency numbers.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from bot.core.i18n import LANGUAGES, I18n
from bot.text.crisis import CATEGORIES, CrisisDetector, normalise

SUICIDE = [
    # German
    ("de", "ich will nicht mehr leben"),
    ("de", "ich kann nicht mehr ich will sterben"),
    ("de", "hab alle meine tabletten gesammelt heute abend nehm ich die"),
    ("de", "ich bring mich um"),
    ("de", "denke jeden tag an selbstmord"),
    ("de", "alles ist sinnlos ich mach schluss"),
    ("de", "ich ritze mich wieder"),
    ("de", "ich spring heute von der brücke"),
    ("de", "es hat alles keinen sinn mehr"),
    ("de", "hab keine kraft mehr zu leben"),
    ("de", "ich möchte einfach nur noch tot sein"),
    ("de", "suizidgedanken seit wochen"),
    ("de", "ich bin lebensmüde"),
    ("de", "will einfach nicht mehr aufwachen"),
    ("de", "ich häng mich auf"),
    ("de", "ich wil nich mehr leben"),
    ("de", "denke an selbstmort"),
    ("de", "heute werde ich mein leben beenden"),
    ("de", "ich will mich umbringen"),
    # Arabic
    ("ar", "بدي انتحر خلص ما عاد فيني"),
    ("ar", "والله تعبت بدي موت"),
    ("ar", "ما بدي عيش بعد اليوم"),
    ("ar", "رح اقتل حالي اذا ما حدا ساعدني"),
    ("ar", "افكر بالانتحار كل يوم"),
    ("ar", "أريد أن أموت"),
    ("ar", "اخذت كل الحبوب اللي عندي"),
    ("ar", "بجرح نفسي كل ليلة"),
    ("ar", "الحياة ما الها معنى"),
    ("ar", "نفسي اموت وارتاح"),
    ("ar", "مش عايزة اعيش خلاص"),
    ("ar", "سأنتحر الليلة"),
    ("ar", "انا ح ارمي حالي من الشباك"),
    ("ar", "الموت ارحم من هيك عيشة"),
    ("ar", "bitte hilfe انا بفكر بالانتحار"),
    ("ar", "تعبت من حياتي ومن كل شي"),
    # Russian
    ("ru", "не хочу больше жить"),
    ("ru", "я хочу умереть"),
    ("ru", "думаю о суициде"),
    ("ru", "всё бессмысленно я покончу с собой"),
    ("ru", "выпью все таблетки сегодня"),
    ("ru", "опять режу себя"),
    ("ru", "хочу сдохнуть уже"),
    ("ru", "прыгну с крыши"),
    ("ru", "мне незачем жить"),
    ("ru", "лучше бы я умерла"),
    ("ru", "устала жить"),
    ("ru", "хочу уйти из жизни"),
    ("ru", "думаю о самоубийстве"),
    ("ru", "нехочу жить"),
    ("ru", "повешусь если jobcenter опять откажет"),
    ("ru", "хочу умиреть"),
    # Ukrainian
    ("uk", "не хочу більше жити"),
    ("uk", "хочу померти"),
    ("uk", "думаю про самогубство"),
    ("uk", "я вб'ю себе"),
    ("uk", "я вбʼю себе сьогодні"),
    ("uk", "я вб’ю себе"),
    ("uk", "все безглуздо"),
    # English
    ("en", "i want to kill myself"),
    ("en", "i dont want to live anymore"),
    ("en", "thinking about suicide"),
    ("en", "i took all my pills"),
    ("en", "i don't want to live like this"),
]

VIOLENCE = [
    # German
    ("de", "mein mann schlägt mich"),
    ("de", "er hat mich gestern wieder geschlagen"),
    ("de", "mein ex droht mich umzubringen"),
    ("de", "er hat gesagt er bringt mich um"),
    ("de", "mein bruder hat ein messer"),
    ("de", "ich wurde vergewaltigt"),
    ("de", "er sperrt mich ein und nimmt mein handy weg"),
    ("de", "meine familie will mich zwangsverheiraten"),
    ("de", "wegen der ehre wollen sie mich töten"),
    ("de", "er würgt mich jeden abend"),
    ("de", "häusliche gewalt bitte hilfe"),
    ("de", "mein vater schlägt meine mutter"),
    ("de", "ich habe angst um mein leben"),
    ("de", "er hat eine waffe zu hause"),
    ("de", "mein mann hat mich verprügelt polizei"),
    ("de", "er lässt mich nicht aus der wohnung"),
    ("de", "nachbar hat mich angegriffen"),
    ("de", "er hat mich geschlägt"),
    ("de", "mein schwager bedroht mich"),
    ("de", "sie zwingen mich zu heiraten"),
    # Arabic
    ("ar", "زوجي يضربني كل يوم"),
    ("ar", "جوزي بيضربني وبيهددني"),
    ("ar", "هددني بالقتل"),
    ("ar", "اخي قال رح يقتلني اذا طلعت من البيت"),
    ("ar", "زوجي حابسني بالبيت واخذ تلفوني"),
    ("ar", "انا تعرضت للاغتصاب"),
    ("ar", "اهلي بدهم يزوجوني غصب عني"),
    ("ar", "معه سكين"),
    ("ar", "ضربني وصار الدم من راسي بدي Polizei"),
    ("ar", "بدهم يقتلوني بسبب الشرف"),
    ("ar", "عمي يتحرش فيني"),
    ("ar", "أنا خايفة من زوجي كتير"),
    ("ar", "اهلي بدهم زواج قسري"),
    ("ar", "في عنف اسري عنا بالبيت"),
    ("ar", "زوجي بيضرب وبيكسر كل شي"),
    # Russian
    ("ru", "муж бьёт меня"),
    ("ru", "муж меня избил"),
    ("ru", "он угрожает меня убить"),
    ("ru", "он сказал что убьёт меня"),
    ("ru", "меня изнасиловали"),
    ("ru", "муж запер меня в квартире"),
    ("ru", "у него нож"),
    ("ru", "родственники хотят выдать меня замуж насильно"),
    ("ru", "он душит меня"),
    ("ru", "домашнее насилие"),
    ("ru", "бывший муж мне угрожает"),
    ("ru", "боюсь мужа он пьет"),
    ("ru", "он ударил меня по лицу"),
    ("ru", "свекровь не выпускает меня из дома"),
    ("ru", "муж бьет меня что делать polizei"),
    # Ukrainian
    ("uk", "чоловік б'є мене"),
    ("uk", "він погрожує мене вбити"),
    ("uk", "мене зґвалтували"),
    ("uk", "чоловік замкнув мене вдома"),
    ("uk", "він бʼє мене щодня"),
    # English
    ("en", "my husband beats me"),
    ("en", "he threatened to kill me"),
    ("en", "i was raped"),
    ("en", "he locked me in the flat"),
    ("en", "my family forced marriage"),
]

CHILD = [
    # German
    ("de", "mein kind wird geschlagen"),
    ("de", "der vater schlägt meinen sohn"),
    ("de", "meine tochter 15 ist weggelaufen"),
    ("de", "die kinder von nebenan sind seit 2 tagen allein zu hause"),
    ("de", "meine kinder haben hunger und ich hab kein geld"),
    ("de", "ich glaube mein kind wird missbraucht"),
    ("de", "mein papa schlägt mich ich bin 13"),
    ("de", "ich bin 14 und zuhause nicht sicher"),
    ("de", "nachbarskind hat immer blaue flecken"),
    ("de", "mein sohn ist weg seit gestern abend"),
    ("de", "die mutter lässt das baby den ganzen tag allein"),
    ("de", "verdacht auf kindeswohlgefährdung bei den nachbarn"),
    ("de", "mein stiefvater fasst mich an"),
    ("de", "mein kind ist alleine zu hause und ich komm nicht hin"),
    ("de", "er hat mein kind geschlagen jugendamt?"),
    # Arabic
    ("ar", "زوجي يضرب الاولاد"),
    ("ar", "جوزي بيضرب ولادي كل يوم"),
    ("ar", "ابني هرب من البيت من امبارح"),
    ("ar", "الاولاد لوحدهم بالبيت من يومين"),
    ("ar", "ولادي جوعانين وما عندي اكل"),
    ("ar", "الجيران تاركين اطفالهم لحالهم"),
    ("ar", "بنتي انضربت بالمدرسة"),
    ("ar", "في رجل بيتحرش بالاطفال بالحديقة"),
    ("ar", "ابني عليه كدمات بعد ما رجع من عند ابوه"),
    ("ar", "ابوي بيضربني وانا عمري ١٣"),
    ("ar", "ابني مش بامان بالبيت"),
    ("ar", "زوجي ضرب ابني على وجهه"),
    ("ar", "بنتي اختفت من امبارح"),
    ("ar", "ولادي جايعين Jugendamt"),
    # Russian
    ("ru", "муж бьёт ребёнка"),
    ("ru", "отчим бьет моего сына"),
    ("ru", "меня бьют родители мне 14"),
    ("ru", "дети одни дома уже два дня"),
    ("ru", "соседи оставили ребенка одного"),
    ("ru", "дети голодные нечем кормить"),
    ("ru", "сын убежал из дома"),
    ("ru", "дочка пропала вчера не пришла домой"),
    ("ru", "ребенок весь в синяках"),
    ("ru", "моего ребенка бьют в школе что делать jugendamt"),
    ("ru", "отчим трогает мою дочь"),
    ("ru", "ребенок не в безопасности дома"),
    ("ru", "папа бьет меня"),
    # Ukrainian
    ("uk", "чоловік б'є дитину"),
    ("uk", "діти самі вдома"),
    ("uk", "син втік з дому"),
    ("uk", "діти голодні"),
    # English
    ("en", "my husband hits my son"),
    ("en", "the kids are home alone"),
    ("en", "my daughter ran away"),
    ("en", "the child next door is starving"),
]

HARMLESS = [
    # German
    ("de", "ich habe eine mahnung bekommen was soll ich tun"),
    ("de", "das jobcenter hat meinen antrag abgelehnt"),
    ("de", "wie beantrage ich wohngeld"),
    ("de", "mein vermieter hat die kündigung der wohnung geschickt"),
    ("de", "ich brauche hilfe bei der bewerbung"),
    ("de", "kann ich einen termin am dienstag bekommen"),
    ("de", "brief von der schule wegen elternabend"),
    ("de", "mein kind braucht einen kitaplatz"),
    ("de", "termin beim jugendamt wegen unterhalt"),
    ("de", "die frist für die nebenkostenabrechnung läuft ab"),
    ("de", "inkasso schreibt mir wegen schulden"),
    ("de", "ich muss die miete nachzahlen"),
    ("de", "der vorschlag vom jobcenter passt nicht ich schlage was anderes vor"),
    ("de", "ich bin von wohnungslosigkeit bedroht"),
    ("de", "der vermieter droht mit räumungsklage"),
    ("de", "mein sohn spielt schlagzeug die nachbarn beschweren sich"),
    ("de", "ich möchte ein ehrenamt bei der tafel machen"),
    ("de", "brauche eine übersetzung der sterbeurkunde"),
    ("de", "kindergeld wurde nicht gezahlt"),
    ("de", "wann ist das büro geöffnet"),
    ("de", "die sachbearbeiterin schlägt mir einen kurs vor"),
    ("de", "das jobcenter schlägt ihnen eine maßnahme vor"),
    # Arabic
    ("ar", "وصلتني رسالة من الجوب سنتر"),
    ("ar", "بدي موعد الاسبوع الجاي"),
    ("ar", "عندي مشكلة بالايجار"),
    ("ar", "كيف اقدم على Wohngeld"),
    ("ar", "ابني بحاجة لروضة"),
    ("ar", "المدرسة بعتت رسالة لابني"),
    ("ar", "ما عندي اموال للايجار وعندي ديون"),
    ("ar", "هربت من سوريا قبل خمس سنين وبدي اتعلم الماني"),
    ("ar", "اعيش في ارفورت مع زوجي واولادي"),
    ("ar", "تأخرت عالموعد غصب عني"),
    # Russian
    ("ru", "пришло письмо из jobcenter"),
    ("ru", "как подать на wohngeld"),
    ("ru", "хочу записаться на прием"),
    ("ru", "нам пришла mahnung за долги"),
    ("ru", "помогите с заявлением на работу"),
    ("ru", "ребенку нужно место в детском саду"),
    ("ru", "письмо из школы про родительское собрание"),
    ("ru", "мы бежали от войны и живем в эрфурте"),
    ("ru", "нужен билет на автобус"),
    ("ru", "мы сбежали от войны из украины"),
    ("ru", "хозяин выселяет нам больше жить негде"),
    # Ukrainian
    ("uk", "отримала лист від jobcenter"),
    ("uk", "потрібна допомога з kündigung квартири"),
    ("uk", "коли можна прийти на консультацію"),
    ("uk", "борг більше ніж 200 євро"),
    ("uk", "ми втекли від війни"),
    ("uk", "тато був у лікарні"),
    # English
    ("en", "when is the office open"),
    ("en", "i need help with my job application"),
    ("en", "got a letter about my rent"),
    ("en", "can i book an appointment"),
    ("en", "my child needs a kita place"),
    ("en", "the landlord threatened us with eviction"),
]


@pytest.fixture(scope="module")
def detector() -> CrisisDetector:
    return CrisisDetector(I18n(ZoneInfo("Europe/Berlin")))


def _ids(cases: list[tuple[str, str]]) -> list[str]:
    return [f"{language}-{text[:30]}" for language, text in cases]


@pytest.mark.parametrize(("language", "text"), SUICIDE, ids=_ids(SUICIDE))
def test_suicide_and_self_harm_are_recognised(detector, language, text):
    assert "suicide" in detector.categories(text)


@pytest.mark.parametrize(("language", "text"), VIOLENCE, ids=_ids(VIOLENCE))
def test_violence_and_threats_are_recognised(detector, language, text):
    assert "violence" in detector.categories(text)


@pytest.mark.parametrize(("language", "text"), CHILD, ids=_ids(CHILD))
def test_a_child_in_danger_is_recognised(detector, language, text):
    assert "child" in detector.categories(text)


@pytest.mark.parametrize(("language", "text"), HARMLESS, ids=_ids(HARMLESS))
def test_everyday_messages_raise_no_alarm(detector, language, text):
    assert detector.categories(text) == set()


@pytest.mark.parametrize(
    ("cases", "minimum"),
    [
        (SUICIDE, {"de": 12, "ar": 12, "ru": 12, "uk": 4, "en": 4}),
        (VIOLENCE, {"de": 12, "ar": 12, "ru": 12, "uk": 4, "en": 4}),
        (CHILD, {"de": 12, "ar": 12, "ru": 12, "uk": 4, "en": 4}),
        (HARMLESS, dict.fromkeys(LANGUAGES, 5)),
    ],
    ids=["suicide", "violence", "child", "harmless"],
)
def test_every_language_keeps_enough_phrasings(cases, minimum):
    """Guards this file itself: trimming the lists must not leave a language untested."""
    for language in LANGUAGES:
        assert sum(1 for lang, _ in cases if lang == language) >= minimum[language], language


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("category", sorted(CATEGORIES))
def test_every_language_has_its_own_phrase_list(language, category):
    """A language without its own list would silently fall back to German (or match nothing)."""
    i18n = I18n(ZoneInfo("Europe/Berlin"))
    msgid = CATEGORIES[category]
    phrases = i18n.translator(language)._(msgid)
    assert phrases != msgid
    if language != "de":
        assert phrases != i18n.translator("de")._(msgid)
    assert all(normalise(p) for p in phrases.split("|")), "empty phrase (a stray '|'?)"


def test_empty_and_punctuation_only_messages_raise_no_alarm(detector):
    assert detector.categories("") == set()
    assert detector.categories("?!... 👍") == set()


def test_a_message_can_show_several_dangers(detector):
    found = detector.categories("mein mann schlägt mich und die kinder ich will nicht mehr leben")
    assert {"violence", "suicide"} <= found


def test_matching_is_at_word_start_only(detector):
    # "ritze" is a phrase; "Fritzens" contains it in the middle of a word.
    assert detector.categories("fritzens geburtstag ist am montag") == set()


# normalise


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("أنا إسمي آمنة", "انا اسمي امنه"),
        ("سأنتحر", "سانتحر"),
        ("مستشفى", "مستشفي"),
        ("مَدْرَسَةٌ", "مدرسه"),
        ("مـــدرســـة", "مدرسه"),
        ("بدي اموت", normalise("بدي أموت")),
    ],
)
def test_normalise_folds_arabic_variants_harakat_and_tatweel(raw, clean):
    assert normalise(raw) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Всё ПЛОХО", "все плохо"),
        ("ёлка", "елка"),
        ("Он убьёт меня", "он убьет меня"),
    ],
)
def test_normalise_folds_yo_and_case(raw, clean):
    assert normalise(raw) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Mein Mann SCHLÄGT mich!!!", "mein mann schlagt mich"),
        ("Überdosis, Lebensmüde…", "uberdosis lebensmude"),
        ("Café  crème", "cafe creme"),
        ("  viele   Leerzeichen\n\tund Zeilen ", "viele leerzeichen und zeilen"),
        ("don't", "don t"),
    ],
)
def test_normalise_removes_diacritics_punctuation_and_extra_space(raw, clean):
    assert normalise(raw) == clean


def test_normalise_treats_phrase_and_message_alike():
    # Phrases and messages go through the same function, so ß (casefolded to "ss") still matches.
    assert normalise("erschießen") == normalise("ERSCHIESSEN") == "erschiessen"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # Words between the words of a listed phrase (not found by exact phrases).
        ("ich will nicht wirklich mehr leben", "suicide"),
        ("хочу реально умереть", "suicide"),
        ("я хочу свести наконец счеты с жизнью", "suicide"),
        # Arabic particles written onto the word (و and, ب with).
        ("وضربني زوجي امس", "violence"),
        ("والسكين في يده وهددني بالقتل", "violence"),
    ],
)
def test_gaps_and_arabic_prefixes_are_tolerated(detector, text, category):
    assert category in detector.categories(text)


def test_the_word_prefilter_never_hides_a_phrase_the_patterns_find(detector):
    """Issue 18: the prefilter skips the regexes for most messages; it must never skip one they
    would match. Every phrase of every language, as written, with an Arabic prefix, with words
    around and inside it, and with an ending on every word, against the patterns alone."""
    i18n = I18n(ZoneInfo("Europe/Berlin"))
    texts = []
    for msgid in CATEGORIES.values():
        for language in LANGUAGES:
            for phrase in i18n.translator(language)._(msgid).split("|"):
                words = normalise(phrase).split()
                if not words:
                    continue
                texts += [
                    " ".join(words),
                    "و" + " ".join(words),
                    "بال" + " ".join(words),
                    "heute " + " ".join(w + "en" for w in words) + " wirklich",
                    " ".join([*words[:1], "gestern", *words[1:]]),
                ]
    assert len(texts) > 500
    # Every form the patterns accept passes the prefilter (cheap: no regex) …
    assert [t for t in texts if not detector._may_match(normalise(t))] == []
    # … and, on a sample (the patterns are slow, which is the point), the answers are the same.
    for text in texts[::15]:
        by_patterns = {c for c, p in detector._patterns.items() if p.search(normalise(text))}
        assert detector.categories(text) == by_patterns, text


def test_an_everyday_message_skips_the_patterns(detector):
    assert not detector._may_match(
        normalise("Ich habe eine Mahnung bekommen und verstehe sie nicht")
    )
    assert not detector._may_match(normalise("مرحبا، عندي سؤال عن الإيجار"))
    assert detector._may_match(normalise("ich will nicht mehr leben"))
