"""Language detection answers as py3langid does, for texts in many scripts, batched or one by one."""

from __future__ import annotations

import math
import random
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py3langid.langid import _load_identifier, visit_counts

from site_builder.load.language import MIN_LETTERS, MIN_PROBABILITY, SAMPLE, classify, detect_language

SENTENCES = [
    "Artificial intelligence is changing the way we work, and more companies adopt it every month.",
    "Trí tuệ nhân tạo đang thay đổi cách chúng ta làm việc mỗi ngày, và nhiều công ty đang áp dụng nó.",
    "L'intelligence artificielle transforme notre façon de travailler et les entreprises l'adoptent.",
    "Künstliche Intelligenz verändert die Art, wie wir arbeiten, und immer mehr Firmen setzen sie ein.",
    "La inteligencia artificial está cambiando nuestra forma de trabajar y cada vez más empresas la usan.",
    "A inteligência artificial está mudando a forma como trabalhamos e mais empresas a adotam.",
    "人工智能正在改变我们的工作方式，越来越多的公司开始使用它。",
    "人工知能は私たちの働き方を変えています。多くの企業が導入しています。",
    "인공지능은 우리가 일하는 방식을 바꾸고 있으며 많은 기업이 도입하고 있습니다.",
    "Искусственный интеллект меняет то, как мы работаем, и всё больше компаний его внедряют.",
    "الذكاء الاصطناعي يغير الطريقة التي نعمل بها، وتعتمده المزيد من الشركات كل شهر.",
    "Sztuczna inteligencja zmienia sposób, w jaki pracujemy, a coraz więcej firm ją wdraża.",
    "Yapay zeka çalışma şeklimizi değiştiriyor ve her ay daha fazla şirket onu benimsiyor.",
    "Kunstmatige intelligentie verandert de manier waarop we werken en steeds meer bedrijven gebruiken het.",
    "OpenAI GPT-4 Qwen 3 LLM API SDK",  # names only: too unclear to trust
    "ok",  # too short: the default
]


@pytest.fixture(scope="module")
def identifier():
    return _load_identifier(norm_probs=True)


@pytest.fixture(scope="module")
def reference(identifier):
    def answer(text: str, default: str) -> str:
        sample = text[:SAMPLE]
        if sum(ch.isalpha() for ch in sample) < 12:
            return default
        lang, probability = identifier.classify(sample)
        return lang if probability >= MIN_PROBABILITY else default

    return answer


def test_batched_detection_answers_as_py3langid(reference) -> None:
    expected = [reference(text, "xx") for text in SENTENCES]
    assert classify([text[:SAMPLE] for text in SENTENCES], ["xx"] * len(SENTENCES)) == expected
    assert expected[:14] == ["en", "vi", "fr", "de", "es", "pt", "zh", "ja", "ko", "ru", "ar", "pl", "tr", "nl"]
    assert expected[-1] == "xx"


def test_one_text_answers_as_a_batch() -> None:
    batch = classify([text[:SAMPLE] for text in SENTENCES], ["en"] * len(SENTENCES))
    assert [detect_language(text, "en") for text in SENTENCES] == batch


def test_a_language_written_in_two_scripts_adds_both(reference) -> None:
    """Serbian and Uzbek have a class per script: in a text mixing both, neither reaches the bar alone."""
    texts = ["Вештачка интелигенција мења начин на Veštačka inteligencija menja način na koji radimo",
             "Сунъий интеллект Sun'iy intellekt bizning ishlash"]
    assert classify(texts, ["xx", "xx"]) == [reference(text, "xx") for text in texts] == ["sr", "uz"]


def mixtures(count: int, seed: int) -> list[str]:
    """Texts mixing the words of two of the sentences: many sit near the bar."""
    rng = random.Random(seed)
    words = [sentence.split() for sentence in SENTENCES[:14]]
    texts = []
    for _ in range(count):
        first, second = rng.sample(words, 2)
        mixed = rng.sample(first, min(len(first), rng.randint(2, 9))) + rng.sample(second, min(len(second), rng.randint(2, 9)))
        rng.shuffle(mixed)
        texts.append(" ".join(mixed)[:SAMPLE])
    return texts


def test_scores_are_py3langids_own_even_between_languages(identifier) -> None:
    """Texts mixing two languages sit near the bar: the same label and probability as py3langid's (float32 sums: to 1e-3)."""
    from site_builder.load.language import _classify_chunk, _encode, _tables

    labels = _tables()[5]
    texts = sorted(mixtures(300, seed=7), key=lambda text: len(_encode(text)))
    best, probability = _classify_chunk([_encode(text) for text in texts])
    near_bar = 0
    for text, label, p in zip(texts, best.tolist(), probability.tolist()):
        expected_label, expected_p = identifier.classify(text)
        assert labels[label] == expected_label and abs(p - expected_p) < 1e-3, (text, p, expected_p)
        near_bar += abs(expected_p - MIN_PROBABILITY) < 0.2
    assert near_bar >= 10  # the mixes do reach the uncertain middle


@pytest.fixture(scope="module")
def exact(identifier):
    """py3langid's model evaluated in float64 from its own walk: (label, probability) of a sample.

    py3langid sums in float32, in an order of its own; so does classify, in another, which depends on
    the other texts of its block.  Only this is the same for every order."""
    ptc = np.asarray(identifier.nb_ptc, dtype=np.float64)
    pc = np.asarray(identifier.nb_pc, dtype=np.float64)

    def answer(sample: str) -> tuple[str, float]:
        text = identifier._encode(sample)
        visits = visit_counts(identifier.tk_nextmove, identifier._rowbase, identifier.tk_output, text)
        if not visits:
            return "", 0.0
        weights = np.log1p(np.fromiter(visits.values(), dtype=np.float32, count=len(visits))).astype(np.float64)
        scores = (weights @ ptc[list(visits)] + pc) / math.sqrt(len(text))
        scores = np.exp(scores - scores.max())
        scores /= scores.sum()
        for first, dupe in identifier._alias_pairs:
            scores[first] += scores[dupe]
            scores[dupe] = 0.0
        return identifier.nb_classes[int(scores.argmax())], float(scores.max())

    return answer


def enough_letters(sample: str) -> bool:
    return len(re.findall(r"[^\W\d_]", sample)) >= MIN_LETTERS


#: Two samples (from the 100k benchmark corpus, and a mixture) whose exact probability is within 1e-5
#: of the bar: float32 sums land on either side of it, depending on the texts summed with them (all in
#: float32, the former code answered them wrongly in 8 and 30 of 60 random batches).
ON_THE_BAR = [
    ("Rapohu Labs buys Tihu wikeko ruanna 11\nRusakari lazedevi kebe their from neerbe xaseto Rariti Sile gadadeno "
     "riorjo into porequ wiunwi naananen kopala which bepovior were. Taunonsi untilo wipaorwi orwiti unnore veragaru "
     "Rariti Sile lazedevi have rusakari vilatiwi while also hunove firana erande was maripo.\nwho"),
    ("τρόπο\n人工智能正在改变我们的工作方式，越来越多的公司开始使用它。, νοημοσύνη - रही को\n人工智能正在改变我们的工作方式，越来越多的公司开始使用它。"
     "\tतरीके करने sve को इसे 人工智能正在改变我们的工作方式，越来越多的公司开始使用它。 人工智能正在改变我们的工作方式，越来越多的公司开始使用它。, τον तरीके"
     "\nहमारे, 人工智能正在改变我们的工作方式，越来越多的公司开始使用它。 - και, εταιρείες है\n人工智能正在改变我们的工作方式，越来越多的公司开始使用它。"
     ". υιοθετούν. τον\tεταιρείες\t人工智能正在改变我们的工作方式，越来越多的公司开始使用它"),
]


def test_a_sample_on_the_bar_gets_the_exact_answer_in_every_batch(exact) -> None:
    rng = random.Random(11)
    others = mixtures(400, seed=3) + SENTENCES
    for sample in ON_THE_BAR:
        label, probability = exact(sample)
        assert abs(probability - MIN_PROBABILITY) < 1e-5  # still on the bar: the test tests something
        expected = label if probability >= MIN_PROBABILITY else "xx"
        assert detect_language(sample, "xx") == expected
        for _ in range(40):
            batch = rng.sample(others, rng.choice([3, 15, 40, 120])) + [sample]
            rng.shuffle(batch)
            assert classify(batch, ["xx"] * len(batch))[batch.index(sample)] == expected


words = st.sampled_from(sorted({word for sentence in SENTENCES for word in sentence.split()}))
samples = st.one_of(
    st.text(max_size=SAMPLE),
    st.lists(words, min_size=1, max_size=40).map(" ".join).map(lambda text: text[:SAMPLE]),
    st.lists(st.one_of(words, st.text(max_size=6)), max_size=40).map(" ".join).map(lambda text: text[:SAMPLE]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(samples, min_size=1, max_size=12))
def test_answers_are_py3langids_model_exactly(identifier, exact, texts) -> None:
    """Each answer is that of py3langid's model in exact arithmetic, and py3langid's own wherever its
    float32 probability is clear of the bar (it can be off by 4e-5)."""
    answers = classify(texts, ["xx"] * len(texts))
    for text, answer in zip(texts, answers):
        if not enough_letters(text):
            assert answer == "xx"
            continue
        label, probability = exact(text)
        assert answer == (label if probability >= MIN_PROBABILITY else "xx"), (text, probability)
        theirs, their_probability = identifier.classify(text)
        if abs(their_probability - MIN_PROBABILITY) > 1e-4:
            assert answer == (theirs if their_probability >= MIN_PROBABILITY else "xx"), (text, their_probability)
