"""kzdash.pipeline.ingest: every input file becomes article(s) or a quarantine row, never an exception."""

from __future__ import annotations

import json
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kzdash.extract.records import Quarantined, RawArticle
from kzdash.pipeline.ingest import _lines, _non_text_chars, count_articles, read_folder

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "articles"
MAX_BYTES = 3_000

HTML_PAGE = """<html><head><title>Astana opens a rail terminal</title>
<meta property="og:url" content="https://news.example.kz/rail">
<meta property="article:published_time" content="2023-05-04">
</head><body><nav>Home | World | Sport</nav><article>
<h1>Astana opens a rail terminal</h1>
<p>The new freight terminal outside Astana handled its first container train on Thursday,
officials of the national railway company said at a briefing.</p>
<p>The terminal is meant to shorten the route for goods travelling between China and
Europe by several days, according to the ministry of transport.</p>
</article><footer>Share on Facebook</footer></body></html>"""

JSONL_LINES = [
    {"text": "Almaty hosted a film festival.", "title": "Festival", "url": "https://a.kz/1",
     "outlet": "Almaty Daily", "published": "2021-09-01", "language": "en"},
    None,  # blank line
    '{"text": "broken" "title": "x"}',
    {"title": "a record without text"},
    {"text": "   "},
    [1, 2, 3],
    {"text": "Aktau port traffic grew."},
]

CSV_TEXT = (
    "text,title,published,language\n"
    "Shymkent built a new school.,School,2020-02-02,en\n"
    ",Empty row,2020-02-03,en\n"
    "\n"
    '"Karaganda miners\nwent on strike.",Strike,,\n'
)

RUSSIAN = "Казахстан не признаёт самопровозглашённые республики, заявил министр.\n"
GERMAN = "Herr Müller misst die Größe des Zimmers. Die Straße ist schön und ruhig.\n"


def _jsonl() -> bytes:
    rows = ["" if r is None else r if isinstance(r, str) else json.dumps(r) for r in JSONL_LINES]
    return "\n".join(rows).encode()


FILES: dict[str, bytes] = {
    "good.txt": b"Kazakhstan opened a new rail link to China on Monday.\n",
    "notes.md": b"# Note\n\nTokayev met the Chinese envoy in Astana.\n",
    "page.html": HTML_PAGE.encode(),
    "tiny.htm": b"<html><body><p>Short note about Atyrau.</p><script>x()</script></body></html>",
    "feed.jsonl": _jsonl(),
    "table.csv": CSV_TEXT.encode(),
    "metadata.csv": b"file,outlet,url,published,language,basis\n"
                    b"good.txt,Steppe Herald,,2022-03-02,en,dateline\n"
                    b"feed.jsonl,Feed Outlet,,1999-01-01,kk,\n",
    "sub/a.txt": b"Text of article a.\n",
    "sub/b.txt": b"Text of article b.\n",
    "sub/metadata.csv": b"file,outlet,published\na.txt,Sub Outlet,2021-01\n"
                        b"sub/b.txt,Path Outlet,\n",
    "empty.txt": b"",
    "blank.txt": b"  \n\t\n",
    "binary.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
    "controls.txt": bytes(range(1, 9)) * 20 + b"text",
    "cp1251.txt": RUSSIAN.encode("cp1251"),
    "latin1.txt": GERMAN.encode("latin-1"),
    "utf16le.txt": RUSSIAN.encode("utf-16"),  # Python writes a BOM for "utf-16"
    "utf16be.txt": b"\xfe\xff" + GERMAN.encode("utf-16-be"),
    "bom8.txt": b"\xef\xbb\xbf" + GERMAN.encode(),
    "undecodable.txt": bytes(range(0x80, 0x100)),
    "big.txt": b"word " * 1000,
    ".hidden.txt": b"hidden",
    ".git/config.txt": b"hidden folder",
    "picture.png": b"\x89PNG not an article",
    "doc.docx": b"ignored",
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("articles")
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "dangling.txt").symlink_to(root / "does-not-exist.txt")
    return root


@pytest.fixture(scope="module")
def result(folder: Path) -> tuple[dict[str, RawArticle], list[Quarantined]]:
    articles, quarantined = read_folder(folder, max_bytes=MAX_BYTES)
    by_source = {a.source: a for a in articles}
    assert len(by_source) == len(articles), "sources are unique"
    return by_source, quarantined


@pytest.mark.parametrize(
    ("source", "line", "reason"),
    [
        ("empty.txt", None, "empty file"),
        ("blank.txt", None, "empty file"),
        ("binary.txt", None, "binary file (NUL bytes)"),
        ("controls.txt", None, "binary file"),
        ("undecodable.txt", None, "not UTF-8 and no encoding detected"),
        ("big.txt", None, "too large: 5 kB > 3 kB limit"),
        ("dangling.txt", None, "unreadable: [Errno 2]"),
        ("feed.jsonl", 3, "malformed JSON at column 19: Expecting ',' delimiter"),
        ("feed.jsonl", 4, "missing text field"),
        ("feed.jsonl", 5, "missing text field"),
        ("feed.jsonl", 6, "not a JSON object"),
        ("table.csv", 3, "missing text field"),
    ],
)
def test_quarantined(result, source: str, line: int | None, reason: str) -> None:
    _, quarantined = result
    hits = [q for q in quarantined if q.source == source and q.line == line]
    assert len(hits) == 1, quarantined
    assert reason in hits[0].reason
    assert "\n" not in hits[0].reason


def test_nothing_else_quarantined(result) -> None:
    _, quarantined = result
    assert len(quarantined) == 12


@pytest.mark.parametrize(
    ("source", "field", "expected"),
    [
        ("good.txt", "raw_text", "Kazakhstan opened a new rail link to China on Monday.\n"),
        ("good.txt", "outlet", "Steppe Herald"),
        ("good.txt", "published", "2022-03-02"),
        ("good.txt", "published_basis", "dateline"),
        ("good.txt", "language", "en"),
        ("good.txt", "line", None),
        ("notes.md", "outlet", None),
        ("page.html", "title", "Astana opens a rail terminal"),
        ("page.html", "url", "https://news.example.kz/rail"),
        ("page.html", "published", "2023-05-04"),
        ("feed.jsonl#1", "title", "Festival"),
        ("feed.jsonl#1", "outlet", "Almaty Daily"),  # the record's own value wins
        ("feed.jsonl#1", "published", "2021-09-01"),
        ("feed.jsonl#1", "language", "en"),
        ("feed.jsonl#1", "line", 1),
        ("feed.jsonl#7", "raw_text", "Aktau port traffic grew."),
        ("feed.jsonl#7", "outlet", "Feed Outlet"),  # ... the sidecar fills the gaps
        ("feed.jsonl#7", "published", "1999-01-01"),
        ("feed.jsonl#7", "published_basis", "metadata.csv"),
        ("feed.jsonl#7", "language", "kk"),
        ("table.csv#2", "raw_text", "Shymkent built a new school."),
        ("table.csv#2", "published", "2020-02-02"),
        ("table.csv#5", "raw_text", "Karaganda miners\nwent on strike."),
        ("table.csv#5", "title", "Strike"),
        ("table.csv#5", "published", None),
        ("table.csv#5", "line", 5),
        ("sub/a.txt", "outlet", "Sub Outlet"),  # bare name in its folder's metadata.csv
        ("sub/a.txt", "published", "2021-01"),
        ("sub/b.txt", "outlet", "Path Outlet"),  # relative path
        ("cp1251.txt", "raw_text", RUSSIAN),
        ("utf16le.txt", "raw_text", RUSSIAN),
        ("utf16be.txt", "raw_text", GERMAN),
        ("bom8.txt", "raw_text", GERMAN),
    ],
)
def test_article_fields(result, source: str, field: str, expected: object) -> None:
    articles, _ = result
    assert getattr(articles[source], field) == expected


def test_html_main_text(result) -> None:
    articles, _ = result
    page = articles["page.html"].raw_text
    assert "first container train" in page
    assert "Home | World" not in page
    tiny = articles["tiny.htm"].raw_text
    assert "Short note about Atyrau." in tiny
    assert "x()" not in tiny


def test_legacy_single_byte_text_is_decoded(result) -> None:
    articles, _ = result
    text = articles["latin1.txt"].raw_text
    assert "Müller" in text
    assert "Größe" in text


def test_ignored_files(result) -> None:
    articles, quarantined = result
    seen = set(articles) | {q.source for q in quarantined}
    for name in (".hidden.txt", ".git/config.txt", "picture.png", "doc.docx", "metadata.csv"):
        assert name not in seen


def test_warning_names_file_and_line(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    read_folder(folder, max_bytes=MAX_BYTES)
    err = capsys.readouterr().err.splitlines()
    assert any(
        line.startswith("kzdash: skipped ")
        and line.endswith("feed.jsonl line 3: malformed JSON at column 19: Expecting ',' delimiter")
        for line in err
    ), err
    assert any(line.endswith("empty.txt: empty file") for line in err)


@pytest.mark.parametrize(
    ("metadata", "reason"),
    [
        (b"name,outlet\ngood.txt,X\n", "no 'file' column"),
        (b"", "empty file"),
        (b"\x00\x01binary", "binary file"),
    ],
)
def test_bad_metadata_is_quarantined_and_ignored(
    tmp_path: Path, metadata: bytes, reason: str
) -> None:
    (tmp_path / "good.txt").write_text("Some text.", encoding="utf-8")
    (tmp_path / "metadata.csv").write_bytes(metadata)
    articles, quarantined = read_folder(tmp_path)
    assert [a.source for a in articles] == ["good.txt"]
    assert articles[0].outlet is None
    assert [q.source for q in quarantined] == ["metadata.csv"]
    assert reason in quarantined[0].reason


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        (b"title,url\nA,https://x\n", 1, "no 'text' column"),
        (b"text,title\n", None, "header but no rows"),
        (b'text,title\n"ok",A\n"bad"x,B\n', 3, "malformed CSV"),
    ],
)
def test_bad_csv(tmp_path: Path, content: bytes, line: int | None, reason: str) -> None:
    (tmp_path / "t.csv").write_bytes(content)
    _, quarantined = read_folder(tmp_path)
    assert [(q.source, q.line) for q in quarantined] == [("t.csv", line)]
    assert reason in quarantined[0].reason


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_metadata_larger_than_an_article_file_still_applies(tmp_path: Path, ending: str) -> None:
    """A folder of many articles has a metadata.csv larger than one article may be: it is read all the
    same (with any line ending, quoted fields over two lines included)."""
    rows = ["file,outlet,url,published,language,basis", 'a.txt,"Steppe\nHerald",,2022-03-02,en,dateline']
    rows += [f"other{i}.txt,Outlet {i},https://example.org/{i},2021-01-01,ru," for i in range(200)]
    (tmp_path / "metadata.csv").write_text(ending.join(rows) + ending, encoding="utf-8", newline="")
    (tmp_path / "a.txt").write_text("Some text.", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Another text.", encoding="utf-8")
    assert (tmp_path / "metadata.csv").stat().st_size > MAX_BYTES
    articles, quarantined = read_folder(tmp_path, max_bytes=MAX_BYTES)
    assert quarantined == []
    a, b = articles
    assert (a.outlet, a.published, a.published_basis, a.language) == ("Steppe\nHerald", "2022-03-02", "dateline", "en")
    assert (b.outlet, b.published, b.language) == (None, None, None)  # no row of its own


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(["a", ",", '"', "\r", "\n", "\u2028", "\x0c", "é"]), max_size=40))
def test_metadata_lines_are_the_csv_modules_lines(text: str) -> None:
    import io

    assert list(_lines(text)) == list(io.StringIO(text, newline=""))


def test_count_articles_stops_at_a_bound(tmp_path: Path) -> None:
    for i in range(10):
        (tmp_path / f"{i}.txt").write_text("text", encoding="utf-8")
    (tmp_path / "feed.jsonl").write_text("\n".join('{"text": "t"}' for _ in range(50)), encoding="utf-8")
    (tmp_path / "metadata.csv").write_text("file,outlet\n0.txt,X\n", encoding="utf-8")
    assert count_articles(tmp_path) == 60
    assert count_articles(tmp_path, at_most=100) == 60
    assert count_articles(tmp_path, at_most=5) == 5
    assert count_articles(tmp_path, at_most=30) == 30


def test_sorted_recursive_order(tmp_path: Path) -> None:
    for name in ("b.txt", "a/z.txt", "a.txt", "c/d/e.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(f"text of {name}", encoding="utf-8")
    articles, _ = read_folder(tmp_path)
    assert [a.source for a in articles] == ["a.txt", "b.txt", "a/z.txt", "c/d/e.md"]


def test_sample_articles() -> None:
    articles, quarantined = read_folder(SAMPLE)
    assert quarantined == []
    assert len(articles) == 5
    by_source = {a.source: a for a in articles}
    assert by_source["000_e9735ef7ac42a119.txt"].language == "sq"
    assert by_source["000_e9735ef7ac42a119.txt"].published == "2022-03-02"
    assert by_source["002_5cc3437ac6d61a29.txt"].outlet == "The Najaf Post"
    assert by_source["002_5cc3437ac6d61a29.txt"].url.startswith("https://thenajafpost.com/")
    for art in articles:
        assert art.language in {"sq", "ar"}
        assert art.published and art.published[:4] == "2022"
        assert art.published_basis
        assert art.raw_text.strip()


_json_lines = st.lists(
    st.one_of(
        st.text(max_size=30),
        st.dictionaries(st.sampled_from(["text", "title", "url", "published"]),
                        st.one_of(st.text(max_size=20), st.integers(), st.none()))
        .map(json.dumps),
    ),
    max_size=6,
).map(lambda lines: "\n".join(lines).encode())
_contents = st.one_of(st.binary(max_size=400), st.text(max_size=200).map(str.encode), _json_lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=_contents, ext=st.sampled_from([".txt", ".jsonl", ".csv"]))
def test_any_bytes_end_up_somewhere(content: bytes, ext: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / f"input{ext}").write_bytes(content)
        articles, quarantined = read_folder(Path(tmp), max_bytes=300)
    name = f"input{ext}"
    assert {a.source.split("#")[0] for a in articles} | {q.source for q in quarantined} == {name}
    assert all(a.raw_text.strip() for a in articles)
    if ext != ".txt":  # each record is used or set aside exactly once
        lines = [a.line for a in articles] + [q.line for q in quarantined if q.line]
        assert len(lines) == len(set(lines))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=80))
def test_non_text_count_fast_path_agrees_with_the_definition(text: str) -> None:
    expected = sum(1 for ch in text if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn")
                   and ch not in "\t\n\r\f\x1b")
    assert _non_text_chars(text) == expected
