"""Loading: the plain-text heuristics on real items, the content contract, and parser properties."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import shared_dir
from site_builder.load import load_items


def load_one(tmp_path: Path, name: str, data: bytes | str):
    folder = tmp_path / "content"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    (folder / name).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    items, errors = load_items(folder)
    return (items[0] if items else None), errors


def test_seeds_plain_text_heuristics() -> None:
    items = {item.source[:3]: item for item in load_items(shared_dir("seeds"))[0]}
    assert items["000"].published_at == datetime(2024, 2, 27, tzinfo=timezone.utc)
    assert items["000"].title.startswith("Chinese tech companies are making significant strides")
    assert items["001"].title == "The Race for AI Supremacy: A Peek into the Lives of Alibaba and OpenAI Researchers"
    assert items["002"].title == "Alibaba staffer offers a glimpse into building LLMs in China"
    assert items["002"].provider.name == "TechCrunch" and items["002"].heat == 84
    assert items["002"].extra["secured"]  # kept on the item, never rendered
    assert items["003"].lang == "vi"
    assert {items[k].lang for k in ("000", "001", "002", "004")} == {"en"}
    assert items["004"].category == "Technology"
    assert items["004"].title == "Former Tencent AI lead says Chinese firms are trailing US on core LLM innovation"
    assert "Leave a Comment" not in items["004"].body and "email address" not in items["004"].body


def test_section_word_and_date_in_either_order(tmp_path: Path) -> None:
    for text in ("Robotics\n\ndate 2026-03-01\n\nRobots learn fast\n\nBody text.\n",
                 "date 2026-03-01\nRobotics\nRobots learn fast\nBody text.\n"):
        item, errors = load_one(tmp_path, "a.txt", text)
        assert (item.title, item.category, item.published_at.day, errors) == ("Robots learn fast", "Robotics", 1, [])


def test_corpus_front_matter_maps_onto_items() -> None:
    items, errors = load_items(shared_dir("corpus/everyday-ai"))
    assert not [e for e in errors if not e.warning]
    md = [item for item in items if item.source.endswith(".md")]
    assert len(md) == 166 and sum(item.draft for item in md) == 54
    assert all(item.published_at and item.published_at.tzinfo for item in md)
    assert all(item.provider and item.web_url for item in md)
    assert any(item.related for item in md) and any(item.cdn_amp_url for item in md)


def test_hidden_and_swap_files_are_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "content"
    (folder / "sub").mkdir(parents=True)
    for name in (".hidden.md", "a.md.swp", "a.md~", "#a.md#", "sub/.DS_Store", "4913"):
        (folder / name).write_text("---\ntitle: nope\n---\n")
    (folder / "sub" / "real.md").write_text("---\ntitle: Real one\n---\n")
    items, errors = load_items(folder)
    assert [item.source for item in items] == ["sub/real.md"] and errors == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400) | st.text(max_size=400).map(lambda t: t.encode("utf-8")))
def test_any_bytes_give_an_item_or_located_errors(tmp_path: Path, data: bytes) -> None:
    item, errors = load_one(tmp_path, "x.md", data)
    assert item is not None or errors
    for error in errors:
        assert error.path == "x.md" and error.line >= 1 and str(error).startswith("x.md:")


titles = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=80).filter(lambda t: t.strip())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=titles, heat=st.integers(-1, 100), quality=st.integers(0, 100), topics=st.lists(titles, max_size=4))
def test_front_matter_fields_round_trip(tmp_path: Path, title: str, heat: int, quality: int, topics: list[str]) -> None:
    front = yaml.safe_dump({"title": title, "heat": heat, "quality": quality, "topics": topics,
                            "publishedDateTime": "2026-11-20T10:00:00+02:00"}, allow_unicode=True)
    item, errors = load_one(tmp_path, "x.md", f"---\n{front}---\nBody.\n")
    assert errors == []
    assert item.title == " ".join(title.split()) or item.title == title.strip()
    assert (item.heat, item.quality) == (heat, quality)
    assert item.published_at == datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
