"""Language detection answers as py3langid does, for texts in many scripts, batched or one by one."""

from __future__ import annotations

import pytest
from py3langid.langid import _load_identifier

from site_builder.load.language import MIN_PROBABILITY, SAMPLE, classify, detect_language

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
def reference():
    identifier = _load_identifier(norm_probs=True)

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


def test_scores_are_py3langids_own_even_between_languages() -> None:
    """Texts mixing two languages sit near the bar: the same label and probability as py3langid's (float32 sums: to 1e-3)."""
    import random

    from site_builder.load.language import _classify_block, _encode, _tables

    identifier = _load_identifier(norm_probs=True)
    labels = _tables()[5]
    rng = random.Random(7)
    words = [sentence.split() for sentence in SENTENCES[:14]]
    texts = []
    for _ in range(300):
        first, second = rng.sample(words, 2)
        mixed = rng.sample(first, min(len(first), rng.randint(2, 9))) + rng.sample(second, min(len(second), rng.randint(2, 9)))
        rng.shuffle(mixed)
        texts.append(" ".join(mixed)[:SAMPLE])
    best, probability = _classify_block([_encode(text) for text in texts])
    near_bar = 0
    for text, label, p in zip(texts, best.tolist(), probability.tolist()):
        expected_label, expected_p = identifier.classify(text)
        assert labels[label] == expected_label and abs(p - expected_p) < 1e-3, (text, p, expected_p)
        near_bar += abs(expected_p - MIN_PROBABILITY) < 0.2
    assert near_bar >= 10  # the mixes do reach the uncertain middle
