"""A user builds a site: the pages, their links and metadata, drafts, static files, overrides."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO, news


def test_sample_site_builds_every_page_kind(tmp_path: Path) -> None:
    output = tmp_path / "public"
    run = subprocess.run(
        [sys.executable, "-m", "site_builder", "build", "--project", str(REPO), "--output", str(output)],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert re.search(r"\d+ items → \d+ stories, \d+ pages in [\d.]+ s \(0 errors", run.stdout)
    for page in ["index.html", "topics/index.html", "sources/index.html", "archive/index.html", "404.html", ".nojekyll",
                 "assets/style.css", "topics/large-language-models/index.html", "sources/example-technews.com/index.html",
                 "archive/2026/11/20/index.html"]:
        assert (output / page).is_file(), page
    stories = list((output / "stories").iterdir())
    assert stories and all((s / "index.html").is_file() for s in stories)


def test_story_page_shows_lead_outlet_original_link_coverage_and_topics(site) -> None:
    site.item("a.md", news(title="Atlas-7 released", url="https://a.example.com/atlas?utm_source=x", outlet="Outlet A", domain="a.example.com",
                           excerpt="A lab shows a robot folding shirts."))
    site.item("b.md", news(title="Atlas-7 is out", url="https://www.a.example.com/atlas/amp/", outlet="Outlet B", domain="b.example.com", heat=90,
                           when="2026-11-20T12:00:00Z"))  # later: the earlier item leads
    result = site.build()
    assert result.code == 0
    html = result.page("stories/atlas-7-released/")
    assert "<h1>Atlas-7 released</h1>" in html
    assert 'href="https://a.example.com/atlas?utm_source=x"' in html and "Read at Outlet A" in html
    assert "More coverage" in html and "Outlet B" in html
    assert 'href="/topics/robotics/"' in html
    assert '<html lang="en"' in html
    assert "<title>Atlas-7 released · AI News Digest</title>" in html
    assert '<meta name="description" content="A lab shows a robot folding shirts.">' in html
    # one story, not two: the AMP form with www. and tracking is the same article
    assert len(list((result.output / "stories").iterdir())) == 1


def test_front_page_lists_top_stories_then_river_by_day(site) -> None:
    site.config('top_stories = 1\n')
    site.item("hot.md", news(title="Hot story", heat=99, url="https://x.example.com/1", when="2026-11-19T10:00:00Z"))
    site.item("new.md", news(title="Newer story", heat=10, url="https://x.example.com/2", when="2026-11-21T09:00:00Z"))
    site.item("old.md", news(title="Older story", heat=5, url="https://x.example.com/3", when="2026-11-18T09:00:00Z"))
    html = site.build().page("")
    top, river = html.split("Top stories", 1)[1].split("river-day", 1)
    assert "Hot story" in top and "Newer story" not in top
    assert river.index("Newer story") < river.index("Older story")
    assert 'href="/archive/2026/11/21/"' in html


def test_vietnamese_item_gets_its_language(site) -> None:
    site.item("vi.md", news(title="Công ty khởi nghiệp phát hành mô hình ngôn ngữ mới",
                            excerpt="Mô hình có bảy tỷ tham số và chạy được trên máy tính xách tay của sinh viên.",
                            body="Theo công ty, mô hình đạt kết quả tốt trên các bộ đánh giá lập trình."))
    html = site.build().page("stories/cong-ty-khoi-nghiep-phat-hanh-mo-hinh-ngon-ngu-moi/")
    assert '<html lang="vi"' in html


def test_drafts_are_left_out_unless_asked_for(site) -> None:
    site.item("draft.md", news(title="Secret draft").replace("heat: 50", "heat: 50\npublished: false"))
    site.item("live.md", news(title="Live story", url="https://x.example.com/live"))
    assert not (site.build().output / "stories/secret-draft").exists()
    assert (site.build("--drafts").output / "stories/secret-draft/index.html").is_file()


def test_topic_pages_are_paginated(site) -> None:
    site.config("page_size = 2\n")
    for n in range(5):
        site.item(f"{n}.md", news(title=f"Story number {n}", url=f"https://x.example.com/{n}", topic="Robotics"))
    result = site.build()
    assert (result.output / "topics/robotics/page/3/index.html").is_file()
    assert not (result.output / "topics/robotics/page/4").exists()
    assert 'rel="next" href="/topics/robotics/page/2/"' in result.page("topics/robotics/")


def test_subpath_base_url_prefixes_every_internal_link(site) -> None:
    site.config('base_url = "https://user.github.io/digest/"\n')
    site.item("a.md", news())
    html = site.build().page("")
    internal = re.findall(r'(?:href|src)="(/[^"]*)"', html)
    assert internal and all(link.startswith("/digest/") for link in internal), internal


def test_static_files_are_copied_and_templates_overridden(site) -> None:
    site.item("a.md", news())
    site.write("static/robots-extra.txt", "hello\n")
    site.write("templates/404.html", "{% extends 'base.html' %}{% block main %}<h1>Lost in the news</h1>{% endblock %}")
    result = site.build()
    assert (result.output / "robots-extra.txt").read_text() == "hello\n"
    assert "Lost in the news" in result.page("404.html")
    assert "<h1>Robots learn to fold laundry</h1>" in result.page("stories/robots-learn-to-fold-laundry/")


def test_content_and_output_can_be_any_folders(tmp_path: Path, site) -> None:
    elsewhere = tmp_path / "news"
    elsewhere.mkdir()
    (elsewhere / "one.txt").write_text("Robots learn new tricks in a day\n\nA lab in Rotterdam taught robots to pick items after one demonstration.\n")
    out = tmp_path / "out"
    result = site.run("build", "--content", str(elsewhere), "--output", str(out))
    assert result.code == 0
    assert (out / "stories/robots-learn-new-tricks-in-a-day/index.html").is_file()


def test_unchanged_content_builds_byte_identical_output(site) -> None:
    # Pagefind's own output differs from run to run on identical input, so the index is left out here.
    site.item("a.md", news())
    site.item("b.txt", "A plain headline for a plain story\n\nSome text that is long enough to be an excerpt of the plain story.\n")
    first = {p.relative_to(site.root / "public"): p.read_bytes() for p in (site.root / "public").rglob("*") if p.is_file()} if site.build("--no-search").code == 0 else {}
    site.build("--no-search", "--clean")
    second = {p.relative_to(site.root / "public"): p.read_bytes() for p in (site.root / "public").rglob("*") if p.is_file()}
    assert first == second


def test_every_topic_chip_links_to_its_own_topic_page(site) -> None:
    site.item("a.md", news(title="Hospital reads X-rays with vision AI", topic="Computer Vision").replace(
        "  - Computer Vision", "  - Computer Vision\n  - AI in Healthcare"))
    site.item("b.md", news(title="Clinic schedules with AI", url="https://x.example.com/b", topic="ai in healthcare"))
    result = site.build()
    html = result.page("stories/hospital-reads-x-rays-with-vision-ai/")
    chips = dict((name, href) for href, name in re.findall(r'<a class="chip[^"]*" href="([^"]+)"[^>]*>([^<]+)</a>', html))
    assert chips == {"Computer Vision": "/topics/computer-vision/", "AI in Healthcare": "/topics/ai-in-healthcare/"}, chips
    assert "Clinic schedules with AI" in result.page("topics/ai-in-healthcare/")


def test_parallel_build_writes_the_same_site_as_one_process(site, monkeypatch) -> None:
    monkeypatch.setattr("site_builder.parallel.MINIMUM", 2)  # fork even for this small site
    for n in range(30):
        site.item(f"n{n}.md", news(title=f"Separate story {n} about item {n * 7}", url=f"https://x.example.com/{n}",
                                    topic=["Robotics", "Chips", "Policy"][n % 3], when=f"2026-11-{10 + n % 9}T10:00:00Z"))
    one = site.run("build", "--no-search", "--clean", "-j", "1", "--output", str(site.root / "one"))
    two = site.run("build", "--no-search", "--clean", "-j", "2", "--output", str(site.root / "two"))
    assert one.code == two.code == 0
    files = lambda root: {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert files(site.root / "one") == files(site.root / "two")
