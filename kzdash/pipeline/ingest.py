"""Read a folder of articles (txt, md, html, jsonl, csv) into `RawArticle`s.

Input folders are collected by hand from many sites, so bad files are expected: each one
becomes a `Quarantined` row with an actionable reason (and a warning on stderr) and the
rest of the folder proceeds. Nothing here raises for bad content.
"""

from __future__ import annotations

import codecs
import csv
import html as html_lib
import io
import json
import os
import re
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import trafilatura

from kzdash.extract.records import Quarantined, RawArticle

TEXT_EXT = {".txt", ".md"}
HTML_EXT = {".html", ".htm"}
RECORD_EXT = {".jsonl", ".csv"}
SIDECAR = "metadata.csv"
FIELDS = ("title", "url", "outlet", "published", "language")
SIDECAR_FIELDS = ("outlet", "url", "published", "language")
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\f\x1b") + b"\x7f"
_MAX_NON_TEXT = 0.1  # share of control characters above which a file is taken as binary
_MAX_CHAOS = 0.1  # charset_normalizer "chaos" at or below which its guess is trusted
# allowed characters that str.isprintable() rejects: whitespace, no-break and zero-width spaces,
# direction marks and isolates, soft hyphen, BOM (none is Cc/Cs/Co/Cn but the allowed \t\n\r\f\x1b)
_INVISIBLE = re.compile("[\t\n\r\f\x1b\xa0\xad\u061c\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064"
                        "\u2066-\u206f\u3000\ufeff]+")


class Skip(Exception):
    """A whole file (or one record) that cannot be used; the message is the reason."""


@dataclass
class _Result:
    articles: list[RawArticle] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)

    def skip(self, path: Path, source: str, line: int | None, reason: str) -> None:
        """Quarantine and warn, so a person sees the problem without reading the tables."""
        self.quarantined.append(Quarantined(source, line, reason))
        where = f" line {line}" if line is not None else ""
        print(f"kzdash: skipped {path}{where}: {reason}", file=sys.stderr)

    def drain(self) -> list[RawArticle | Quarantined]:
        """What was read since the last drain: set-aside inputs first, then articles."""
        items: list[RawArticle | Quarantined] = [*self.quarantined, *self.articles]
        self.quarantined, self.articles = [], []
        return items


def read_folder(
    folder: Path, max_bytes: int = 5_000_000, *, only: set[str] | None = None
) -> tuple[list[RawArticle], list[Quarantined]]:
    """Every article under `folder` (sorted, recursive) and every input that was set aside; with
    `only`, just the files with those paths relative to `folder` (and the metadata sidecar)."""
    articles: list[RawArticle] = []
    quarantined: list[Quarantined] = []
    for item in iter_folder(folder, max_bytes, only=only):
        (quarantined if isinstance(item, Quarantined) else articles).append(item)
    return articles, quarantined


def iter_folder(
    folder: Path, max_bytes: int = 5_000_000, *, only: set[str] | None = None
) -> Iterator[RawArticle | Quarantined]:
    """`read_folder`, one file at a time: the build reads a folder of any size in bounded memory
    (the metadata sidecar is read first; a JSONL or CSV file's records come together)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"not a folder: {folder}")
    out = _Result()
    if only is None:
        files = _walk(folder, out)
    else:  # no walk: just these files and the sidecar beside them
        files = [str(p) for p in (folder / SIDECAR, *(folder / name for name in sorted(only))) if p.is_file()]
    sidecar = _Sidecar()
    for name in files:
        if os.path.basename(name) == SIDECAR:
            _read_sidecar(folder, Path(name), max(max_bytes, SIDECAR_MAX_BYTES), sidecar, out)
    yield from out.drain()
    for name in files:
        path = Path(name)
        ext = path.suffix.lower()
        if path.name == SIDECAR or ext not in TEXT_EXT | HTML_EXT | RECORD_EXT:
            continue
        _read_file(folder, path, max_bytes, sidecar, out)
        yield from out.drain()


def count_articles(folder: Path, at_most: int | None = None) -> int:
    """About how many articles `iter_folder` will yield (a progress bar's total): one per text or
    HTML file, one per line of a JSONL file, one per line after the header of a CSV file. With
    `at_most`, counting stops there (whether a folder has that many costs a bounded look)."""
    total = 0
    for name in _walked(Path(folder), _Result()):
        if at_most is not None and total >= at_most:
            return at_most
        path = Path(name)
        ext = path.suffix.lower()
        if path.name == SIDECAR or ext not in TEXT_EXT | HTML_EXT | RECORD_EXT:
            continue
        if ext in RECORD_EXT:
            try:
                with path.open("rb") as fh:
                    lines = 0
                    for line in fh:
                        lines += bool(line.strip())
                        if at_most is not None and total + lines > at_most:
                            break
            except OSError:
                lines = 1
            total += max(1, lines - (ext == ".csv"))
        else:
            total += 1
    return total if at_most is None else min(total, at_most)


def _read_file(folder: Path, path: Path, max_bytes: int, sidecar: _Sidecar, out: _Result) -> None:
    ext = path.suffix.lower()
    source = path.relative_to(folder).as_posix()
    try:
        text = read_text(path, max_bytes)
    except Skip as exc:
        out.skip(path, source, None, str(exc))
        return
    meta = sidecar.lookup(source)
    if ext in RECORD_EXT:
        before = len(out.articles)
        reader = _jsonl_records if ext == ".jsonl" else _csv_records
        reader(path, source, text, out)
        for art in out.articles[before:]:
            _apply_sidecar(art, meta, override=False)  # a record's own fields win
        return
    art = _html_article(source, text) if ext in HTML_EXT else RawArticle(source, text)
    if not art.raw_text.strip():
        out.skip(path, source, None, "no text found in HTML")
        return
    _apply_sidecar(art, meta, override=True)  # curated metadata beats page metadata
    out.articles.append(art)


def _walk(folder: Path, out: _Result) -> list[str]:
    """Files in sorted order, skipping hidden files and folders: their paths as strings (a folder of a
    hundred thousand files held as `Path`s took 28 MB, as strings a third of it)."""
    return list(_walked(folder, out))


def _walked(folder: Path, out: _Result) -> Iterator[str]:
    """`_walk`, a folder at a time."""

    def unreadable(err: OSError) -> None:
        path = Path(err.filename or folder)
        source = path.relative_to(folder).as_posix() if path != folder else "."
        out.skip(path, source, None, f"unreadable: {_os_error(err)}")

    for root, dirs, names in os.walk(folder, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        yield from (os.path.join(root, n) for n in sorted(names) if not n.startswith("."))


def read_text(path: Path, max_bytes: int) -> str:
    """The decoded text of a file, or `Skip` with the reason it cannot be used."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise Skip(f"too large: {_size(size)} > {_size(max_bytes)} limit")
        data = path.read_bytes()
    except OSError as exc:
        raise Skip(f"unreadable: {_os_error(exc)}") from None
    return text_of(data, max_bytes)  # checks the size again: the file may have grown since stat


def text_of(data: bytes, max_bytes: int) -> str:
    """The decoded text of a file's bytes, or `Skip` with the reason it cannot be used.

    Shared by the build and the browser upload, so an upload is accepted exactly when a build would read it.
    """
    if len(data) > max_bytes:
        raise Skip(f"too large: {_size(len(data))} > {_size(max_bytes)} limit")
    if not data.strip():
        raise Skip("empty file")
    text = decode(data)
    if not text.strip():
        raise Skip("empty file")
    sample = text[:200_000]
    if _non_text_chars(sample) + sample.count("\ufffd") > _MAX_NON_TEXT * len(sample):
        raise Skip("binary file (mostly non-text characters)")
    return text


def _non_text_chars(sample: str) -> int:
    """Control, surrogate, private-use and unassigned characters, other than ordinary whitespace.

    Fast path: once ordinary whitespace and common invisible format characters are removed,
    text that `isprintable()` (a C loop) has none of them; only other text is counted per character.
    """
    if sample.replace("\n", "").isprintable() or _INVISIBLE.sub("", sample).isprintable():
        return 0  # most texts: printable but for their line breaks, seen without the regex's pass
    return sum(1 for ch in sample if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn")
               and ch not in "\t\n\r\f\x1b")


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else a confident charset_normalizer guess."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise Skip("UTF-16 BOM but the bytes are not valid UTF-16") from None
    if b"\x00" in data:
        raise Skip("binary file (NUL bytes)")
    if len(data) - len(data.translate(None, _CONTROL_BYTES)) > _MAX_NON_TEXT * len(data):  # one pass, not 28
        raise Skip("binary file (mostly non-text bytes)")
    try:
        return data.decode("utf-8-sig")  # also plain UTF-8
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # optional: without it only UTF-8/UTF-16 are read
        raise Skip("not UTF-8 and no encoding detected") from None
    best = from_bytes(data).best()
    if best is None or best.chaos > _MAX_CHAOS:
        raise Skip("not UTF-8 and no encoding detected")
    return str(best)


def _os_error(exc: OSError) -> str:
    """'[Errno 13] Permission denied' without the path, which the warning already names."""
    return f"[Errno {exc.errno}] {exc.strerror}" if exc.errno else str(exc)


def _size(n: int) -> str:
    """Human size for messages: 12.3 MB, 4.5 kB, 100 B."""
    for unit, scale in (("MB", 1_000_000), ("kB", 1_000)):
        if n >= scale:
            return f"{n / scale:.1f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{n} B"


def _html_article(source: str, html: str) -> RawArticle:
    """Main text via trafilatura (crude tag strip when it finds none), plus page metadata."""
    try:
        text = trafilatura.extract(html, include_comments=False, favor_recall=True)
    except Exception:  # noqa: BLE001 - lxml/trafilatura errors on odd markup; fall back
        text = None
    art = RawArticle(source, text if text and text.strip() else _strip_tags(html))
    try:
        meta = trafilatura.extract_metadata(html)
    except Exception:  # noqa: BLE001 - metadata is optional; bad markup must not stop the run
        meta = None
    if meta is not None:
        art.title = _clean(meta.title)
        art.url = _clean(meta.url)
        art.published = _clean(meta.date)
        if art.published:
            art.published_basis = "HTML page metadata (trafilatura)"
    return art


def _strip_tags(html: str) -> str:
    """Last-resort text of an HTML page: drop scripts/styles and tags, keep block breaks."""
    html = re.sub(r"(?is)<(script|style|noscript|template)\b.*?</\1\s*>|<!--.*?-->", " ", html)
    html = re.sub(r"(?i)<br\s*/?>|</(p|div|h[1-6]|li|tr|section|article)\s*>", "\n", html)
    text = html_lib.unescape(re.sub(r"(?s)<[^>]*>", " ", html))
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _jsonl_records(path: Path, source: str, text: str, out: _Result) -> None:
    """One article per non-blank line; a bad line is quarantined and the file proceeds."""
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            out.skip(path, source, n, f"malformed JSON at column {exc.colno}: {exc.msg}")
            continue
        except (ValueError, RecursionError) as exc:  # e.g. a 5000-digit number, deep nesting
            out.skip(path, source, n, f"malformed JSON: {exc or type(exc).__name__}")
            continue
        if not isinstance(rec, dict):
            out.skip(path, source, n, f"not a JSON object (got {type(rec).__name__})")
            continue
        _record(path, source, n, rec, out)


def _csv_records(path: Path, source: str, text: str, out: _Result) -> None:
    """One article per row under a header with a `text` column; blank rows are skipped."""
    csv.field_size_limit(max(csv.field_size_limit(), len(text)))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start, rows = 1, 0
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        if "text" not in header:
            out.skip(path, source, 1, "CSV header has no 'text' column")
            return
        start = reader.line_num + 1
        for row in reader:
            if any(cell.strip() for cell in row):  # a short row lacks its last fields
                rows += 1
                _record(path, source, start, dict(zip(header, row, strict=False)), out)
            start = reader.line_num + 1
    except csv.Error as exc:
        out.skip(path, source, start, f"malformed CSV: {exc}; rest of file skipped")
        return
    if not rows:
        out.skip(path, source, None, "CSV has a header but no rows")


def _record(path: Path, source: str, n: int, rec: dict, out: _Result) -> None:
    """A JSONL/CSV record as an article, or quarantined when it has no text."""
    text = rec.get("text")
    if not isinstance(text, str) or not text.strip():
        out.skip(path, source, n, "missing text field")
        return
    art = RawArticle(f"{source}#{n}", text, line=n, **{k: _clean(rec.get(k)) for k in FIELDS})
    if art.published:
        art.published_basis = "record field 'published'"
    out.articles.append(art)


def _clean(value: object) -> str | None:
    """A metadata value as a stripped string; empty, lists and objects count as missing."""
    if value is None or isinstance(value, (dict, list)):
        return None
    value = str(value).strip()
    return value or None


# what a metadata.csv row gives an article (`_apply_sidecar`), kept as a tuple in this order
META_FIELDS = (*SIDECAR_FIELDS, "basis")
SIDECAR_MAX_BYTES = 200_000_000  # a metadata.csv may be this large (a row per article: a hundred thousand
# articles' rows take 7 MB and more, past an article file's limit)


@dataclass
class _Sidecar:
    """metadata.csv rows: by path relative to the input folder, and by folder and bare name (key
    "folder\x1fname"). A row is a tuple of META_FIELDS, values repeated across rows held once: a hundred
    thousand rows as dicts of every column took 51 MB."""

    by_path: dict[str, tuple[str | None, ...]] = field(default_factory=dict)
    by_name: dict[str, tuple[str | None, ...]] = field(default_factory=dict)

    def lookup(self, source: str) -> dict[str, str]:
        """The row for a file: by relative path, else by bare name in its folder or above."""
        row = self.by_path.get(source)
        if row is None:
            path = Path(source)
            for folder in path.parents:  # "sub/a.txt" -> "sub", "."
                row = self.by_name.get(f"{folder.as_posix()}\x1f{path.name}")
                if row is not None:
                    break
        return {} if row is None else {k: v for k, v in zip(META_FIELDS, row, strict=True) if v}


def _read_sidecar(
    folder: Path, path: Path, max_bytes: int, side: _Sidecar, out: _Result
) -> None:
    """Rows of a metadata.csv, keyed by relative path, or by bare name within its folder (a malformed
    file adds none)."""
    source = path.relative_to(folder).as_posix()
    paths: list[tuple[bool, str, tuple[str | None, ...]]] = []  # (set, else set only if absent; key; row)
    by_name: dict[str, tuple[str | None, ...]] = {}
    values_seen: dict[str, str] = {}
    base = path.parent.relative_to(folder)
    try:
        text = read_text(path, max_bytes)
        reader = csv.DictReader(_lines(text), strict=True)
        reader.fieldnames = [(h or "").strip().lower() for h in reader.fieldnames or []]
        if "file" not in reader.fieldnames:
            raise Skip("metadata.csv has no 'file' column")
        for row in reader:
            name = _clean(row.get("file"))
            if not name:
                continue
            values = tuple(values_seen.setdefault(v, v) if v else None
                           for v in (_clean(row.get(k)) for k in META_FIELDS))
            key = Path(name.replace("\\", "/")).as_posix()
            if "/" in key:
                paths += [(True, (base / key).as_posix(), values), (False, key, values)]
            else:
                by_name[f"{base.as_posix()}\x1f{key}"] = values
    except Skip as exc:
        out.skip(path, source, None, str(exc))
        return
    except csv.Error as exc:
        out.skip(path, source, None, f"malformed metadata CSV: {exc}")
        return
    for replace, key, values in paths:
        if replace:
            side.by_path[key] = values
        else:
            side.by_path.setdefault(key, values)
    side.by_name.update(by_name)


_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+\Z")


def _lines(text: str) -> Iterator[str]:
    """A text's lines with their ends, as `io.StringIO(text, newline="")` gives them (for the csv module),
    without its copy of the text at four bytes a character."""
    for m in _LINE.finditer(text):
        if m.group():
            yield m.group()


def _apply_sidecar(art: RawArticle, meta: dict[str, str], override: bool) -> None:
    """Fill an article's fields from its metadata.csv row."""
    for key in SIDECAR_FIELDS:
        value = meta.get(key)
        if value and (override or not getattr(art, key)):
            setattr(art, key, value)
            if key == "published":
                art.published_basis = meta.get("basis") or "metadata.csv"
