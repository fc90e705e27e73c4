"""Tests of the reference renderer (maas_dyn/health/reference.py)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from maas_dyn._shipped import load_shipped
from maas_dyn.health.reference import maas_reference, write_reference
from maas_dyn.maas import Description


def test_maas_reference_covers_every_action(tmp_path: Path) -> None:
    description = Description(load_shipped("maas", "3.7"))
    pages = maas_reference(description)
    total = sum(len(h.actions) for h in description.handlers.values())
    assert len(pages) == len(description.handlers)
    assert sum(len(p.operations) for p in pages) == total
    files = write_reference(pages, tmp_path, "MAAS 3.7")
    assert len(files) == 2 * (len(pages) + 1)
    machine = (tmp_path / "machine.md").read_text()
    assert "## deploy" in machine
    assert "maas PROFILE machine deploy SYSTEM_ID [key=value ...]" in machine
    assert "client.machine.deploy(SYSTEM_ID)" in machine
    assert "| `distro_series` | String | optional |" in machine
    assert "POST /MAAS/api/2.0/machines/{system_id}/?op=deploy" in machine
    index = (tmp_path / "index.md").read_text()
    assert f"{len(pages)} namespaces, {total} operations." in index
    assert "| [boot-resources](boot-resources.md) |" in index

    class Links(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.links: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.links += [v for k, v in attrs if k == "href" and v]

    parser = Links()
    parser.feed((tmp_path / "index.html").read_text())
    assert len(parser.links) == len(pages)
    assert all((tmp_path / link).exists() for link in parser.links)


def test_html_is_escaped(tmp_path: Path) -> None:
    document = {"resources": [{"name": "XssHandler", "anon": None, "auth": {
        "name": "XssHandler", "path": "/MAAS/api/2.0/x/", "params": [],
        "doc": "<script>alert(1)</script>",
        "actions": [{"name": "read", "method": "GET", "op": None, "restful": True,
                     "doc": "Read <b>it</b>"}]}}]}
    write_reference(maas_reference(Description(document)), tmp_path, "<T>", formats=("html",))
    page = (tmp_path / "xss.html").read_text()
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "Read &lt;b&gt;it&lt;/b&gt;" in page
    assert "<title>xss - &lt;T&gt;</title>" in page


def test_only_markdown(tmp_path: Path) -> None:
    pages = maas_reference(Description(load_shipped("maas", "1.9")))
    files = write_reference(pages, tmp_path / "out", "MAAS 1.9", formats=("md",))
    assert all(f.suffix == ".md" for f in files)


def test_truenas_reference_covers_every_method(tmp_path: Path) -> None:
    from maas_dyn.health.reference import truenas_reference
    from maas_dyn.truenas import Methods

    document = load_shipped("truenas", "25.10")
    pages = truenas_reference(Methods(document))
    assert sum(len(p.operations) for p in pages) == len(document)
    assert len(pages) == len({name.rpartition(".")[0] for name in document})
    assert [p.name for p in pages] == sorted(p.name for p in pages)
    files = write_reference(pages, tmp_path, "TrueNAS 25.10")
    assert len(files) == 2 * (len(pages) + 1)
    dataset = (tmp_path / "pool.dataset.md").read_text()
    assert "## query" in dataset
    assert "truenas-dyn PROFILE pool dataset query [JSON-ARG ...]" in dataset
    assert "client.pool.dataset.query(" in dataset
    pool = (tmp_path / "pool.md").read_text()
    assert "## scrub" in pool and "Runs as a job" in pool


def test_truenas_reference_root_and_keyword_names() -> None:
    from maas_dyn.health.reference import truenas_reference
    from maas_dyn.truenas import Methods

    pages = truenas_reference(Methods({"ping": {"description": "Ping."},
                                       "sys.global.get": {"accepts": []}}))
    assert [p.name for p in pages] == ["(root)", "sys.global"]
    assert pages[1].operations[0].python == "client.sys.global_.get()"


def test_the_html_pages_are_styled_and_match_the_site(tmp_path: Path) -> None:
    from maas_dyn.health.reference import namespace_markdown

    pages = maas_reference(Description(load_shipped("maas", "3.7")))
    write_reference(pages, tmp_path, "MAAS 3.7", formats=("html",))
    index = (tmp_path / "index.html").read_text()
    assert "<style>" in index and "prefers-color-scheme:dark" in index
    assert "oninput='filterRows(this.value)'" in index  # the filter box
    tags = (tmp_path / "tags.html").read_text()
    assert "<code>kernel_opts</code>" in tags and "``" not in tags.split("<details>")[0]
    for form in ("client.tags.create(name=...)", "maas-dyn PROFILE tags create",
                 "POST /MAAS/api/2.0/tags/"):
        assert form in tags
        # the site's page of the same handler shows the same forms
        assert form in namespace_markdown(next(p for p in pages if p.name == "tags"),
                                          "MAAS 3.7")


def test_each_page_says_what_changed_in_its_release() -> None:
    from maas_dyn.health.reference import release_pages

    pages = release_pages("maas", "3.6", "3.5")
    assert "`deploy`: parameter `enable_kernel_crash_dump` added" in pages["machine.md"]
    assert "new in this release" in pages["reserved-ip.md"]
    assert "(changes.md)" in pages["machine.md"] and "# What changed in MAAS 3.6" in \
        pages["changes.md"]
    assert "Changed in" not in release_pages("maas", "1.9")["nodes.md"]  # the oldest
    nas = release_pages("truenas", "26.0", "25.10")
    assert "`destroy_snapshots` removed" in nas["pool.dataset.md"]
