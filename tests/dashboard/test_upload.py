"""Uploads: bad files are rejected with reasons, good ones land in the inbox, the rebuild keeps the last good build."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from kzdash.dashboard.upload import INBOX, Upload, _exclusive, check, rebuild, rejections, safe_name, save_uploads
from kzdash.pipeline import store
from kzdash.pipeline.build import build

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "articles"
GOOD = b"Kazakhstan and Russia met in Astana on 5 March 2022 to discuss the pipeline."
FEED = b'{"text": "Tokayev visited Moscow on 3 March 2022.", "outlet": "Feed"}\n'


@pytest.fixture()
def site(tmp_path: Path) -> tuple[Path, Path]:
    """An input folder (a copy of the sample) and its build."""
    src, out = tmp_path / "in", tmp_path / "build"
    shutil.copytree(SAMPLE, src)
    build(src, out, progress=False)
    return src, out


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("empty.txt", b"", "empty file"),
    ("blank.md", b"  \n\t ", "empty file"),
    ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20, "binary file"),
    ("noise.txt", bytes(range(1, 32)) * 40, "binary file"),
    ("report.pdf", b"%PDF-1.7 hello", "file type .pdf is not accepted"),
    ("script", b"echo hi", "file type (none) is not accepted"),
    ("metadata.csv", b"file,outlet\na.txt,X\n", "not accepted from the browser"),
    ("...", b"text", "no usable file name"),
    ("utf16-broken.txt", b"\xff\xfeA\x00\x00\xd8", "not valid UTF-16"),
])
def test_bad_files_get_a_reason(name: str, data: bytes, reason: str) -> None:
    assert reason in (check(Upload(name, data)) or "")


def test_size_limit() -> None:
    assert "too large: 2 kB > 1 kB limit" in check(Upload("big.txt", b"a" * 2000), max_bytes=1000)
    assert check(Upload("ok.txt", b"a" * 1000), max_bytes=1000) is None


def test_legacy_encoding_is_accepted_like_the_build_reads_it() -> None:
    text = "Казахстан и Россия провели переговоры в Астане о поставках нефти и зерна в марте. " * 4
    assert check(Upload("cp1251.txt", text.encode("cp1251"))) is None


@pytest.mark.parametrize(("given", "safe"), [
    ("../../etc/passwd.txt", "passwd.txt"), ("C:\\Users\\me\\notes.md", "notes.md"), (".hidden.txt", "hidden.txt"),
    ("Заметка <b>1.txt", "Заметка _b_1.txt"), ("   ", None),
])
def test_safe_name(given: str, safe: str | None) -> None:
    assert safe_name(given) == safe


def test_upload_and_incremental_rebuild(site: tuple[Path, Path]) -> None:
    src, out = site
    report = save_uploads([Upload("astana.txt", GOOD), Upload("feed.jsonl", FEED), Upload("x.exe", b"MZ\x00\x00"),
                           Upload("empty.txt", b"")], src)
    assert [Path(p).parent.name for p in report.accepted] == [INBOX, INBOX]
    assert {q.source: q.reason for q in report.rejected}.keys() == {"x.exe", "empty.txt"}
    assert [q.source for q in rejections(src)] == ["x.exe", "empty.txt"]
    seen = []
    result = rebuild(src, out, progress=lambda done, total: seen.append((done, total)))
    assert result.ok and "7 articles (5 unchanged)" in result.message
    assert seen[-1] == (7, 7)  # every input counted once, the 5 unchanged ones too
    arts = pd.read_parquet(out / "articles.parquet")
    assert set(report.accepted) <= {s.split("#")[0] for s in arts.source}
    again = save_uploads([Upload("astana-copy.txt", GOOD), Upload("astana.txt", GOOD)], src)
    assert again.already_there == [report.accepted[0]] and len(again.accepted) == 1  # new name, same content
    assert rebuild(src, out).ok
    q = pd.read_parquet(out / "quarantine.parquet")
    assert q.reason.str.startswith("duplicate of inbox/astana-").any()


def test_failed_rebuild_keeps_the_last_good_build(site: tuple[Path, Path], monkeypatch) -> None:
    src, out = site
    before = {f.name: f.read_bytes() for f in store.table_files(out, "articles")}
    save_uploads([Upload("astana.txt", GOOD)], src)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store, "_write_duckdb", broken)
    result = rebuild(src, out)
    assert not result.ok and "disk full" in result.message and "last good build is kept" in result.message
    assert {f.name: f.read_bytes() for f in store.table_files(out, "articles")} == before


def test_one_rebuild_at_a_time(site: tuple[Path, Path]) -> None:
    src, out = site
    with _exclusive(out) as held:
        assert held
        result = rebuild(src, out)
    assert not result.ok and "another build" in result.message
    assert rebuild(src, out).ok
