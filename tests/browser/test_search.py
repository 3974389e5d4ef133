"""A reader searches the digest in a real browser, with the site served under a subpath as on GitHub Pages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, news

BASE = "https://example.github.io/digest/"


def build(project: Path, output: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "site_builder", "build", "--project", str(project), "--output", str(output), "--base-url", BASE],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr


@pytest.fixture(scope="module")
def sample_site(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("sample") / "public"
    build(REPO, output)
    return output


def own_errors(page) -> list[str]:
    # The sample's lead images live on made-up remote hosts; only our own files must load.
    return [error for error in page.console_errors if "ERR_NAME_NOT_RESOLVED" not in error]


def search(page, server, query: str) -> list[str]:
    """Type into the masthead box on the front page, submit, and read the result titles."""
    page.goto(server.url)
    page.fill("form.search-box input[name=q]", query)
    page.press("form.search-box input[name=q]", "Enter")
    page.wait_for_url("**/digest/search/?q=*")
    page.wait_for_selector(".pagefind-ui__result-link", timeout=15_000)
    return page.locator(".pagefind-ui__result-link").all_inner_texts()


def test_search_box_finds_a_story_and_links_under_the_subpath(page, serve_static, sample_site) -> None:
    server = serve_static(sample_site, "/digest/")
    titles = search(page, server, "export rules")
    assert titles and "export rules" in titles[0].lower()
    page.locator(".pagefind-ui__result-link").first.click()
    page.wait_for_load_state()
    assert page.url.startswith(server.url + "stories/new-export-rules")
    assert "export rules" in page.locator("h1").inner_text().lower()
    assert own_errors(page) == []


def test_a_vietnamese_query_finds_the_vietnamese_coverage(page, serve_static, sample_site) -> None:
    server = serve_static(sample_site, "/digest/")
    titles = search(page, server, "mô hình")
    assert any("Atlas-7" in title for title in titles), titles  # the Vietnamese item is more coverage of Atlas-7
    assert own_errors(page) == []


def test_a_vietnamese_story_has_its_own_index_and_is_found_from_the_english_search_page(page, serve_static, site, tmp_path) -> None:
    site.item("en.md", news(title="Robots learn to fold laundry"))
    site.item("vi.md", news(title="Nông dân dùng máy bay không người lái để đếm đàn bò",
                            excerpt="Một hợp tác xã ở Lâm Đồng dùng máy bay không người lái và mô hình thị giác để đếm gia súc mỗi sáng.",
                            body="Hợp tác xã cho biết mô hình đếm đúng chín mươi tám phần trăm số bò trên đồng cỏ.",
                            url="https://tintuc.example.vn/dem-bo", outlet="Tin Tức", domain="tintuc.example.vn", topic="Nông nghiệp"))
    output = tmp_path / "public"
    build(site.root, output)
    assert any('<html lang="vi"' in p.read_text(encoding="utf-8") for p in (output / "stories").glob("*/index.html"))
    languages = json.loads((output / "pagefind/pagefind-entry.json").read_text())["languages"]
    assert {"en", "vi"} <= set(languages)  # one index per language
    server = serve_static(output, "/digest/")
    titles = search(page, server, "đàn bò")
    assert titles == ["Nông dân dùng máy bay không người lái để đếm đàn bò"]
    assert search(page, server, "laundry") == ["Robots learn to fold laundry"]
    assert own_errors(page) == []


def test_the_search_page_works_without_a_query_and_filters_by_topic(page, serve_static, sample_site) -> None:
    server = serve_static(sample_site, "/digest/")
    page.goto(server.url + "search/")
    page.wait_for_selector(".pagefind-ui__search-input")
    page.fill(".pagefind-ui__search-input", "model")
    page.wait_for_selector(".pagefind-ui__result-link", timeout=15_000)
    assert page.locator(".pagefind-ui__filter-panel").count() == 1
    assert own_errors(page) == []
