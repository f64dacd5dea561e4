"""Adding articles from the browser: check the uploaded files, keep the good ones, rebuild.

An uploaded file is accepted exactly when a build would read it (`kzdash.pipeline.ingest.text_of`: size,
emptiness, encoding, binary content) and its name has an article extension. Accepted files are
written into the inbox folder (inside the build's input folder) under a name carrying a hash of
their content, so uploading the same file twice adds it once. Rejected files are never written
there; each gets a one-line reason, shown to the person and appended to the inbox's hidden
rejection log. The rebuild is incremental and atomic: if it fails, the last good build stays.
Streamlit is not imported here; app.py passes `UploadedFile.name` and `.getvalue()`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kzdash.extract.records import Quarantined
from kzdash.pipeline.ingest import HTML_EXT, RECORD_EXT, SIDECAR, TEXT_EXT, Skip, text_of
from kzdash.pipeline.store import file_lock

ACCEPTED_EXT = TEXT_EXT | HTML_EXT | RECORD_EXT
MAX_FILE_BYTES = 5_000_000  # the build's own per-file limit (kzdash.pipeline.ingest.read_folder)
MAX_FILES = 100  # per upload
INBOX = "inbox"
REJECTED_LOG = ".rejected.jsonl"  # hidden: the build skips it
_UNSAFE = re.compile(r"[^\w.\- ]+")


@dataclass(frozen=True)
class Upload:
    """One uploaded file as the browser sent it."""

    name: str
    data: bytes = field(repr=False)


@dataclass
class UploadReport:
    accepted: list[str] = field(default_factory=list)  # paths relative to the input folder
    already_there: list[str] = field(default_factory=list)
    rejected: list[Quarantined] = field(default_factory=list)


@dataclass(frozen=True)
class RebuildResult:
    ok: bool
    message: str


def safe_name(name: str) -> str | None:
    """The file's base name made safe for the inbox (no folders, no hidden files), or None if nothing is left."""
    base = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    base = _UNSAFE.sub("_", base).strip(" .")
    return base[:120] or None


def check(upload: Upload, max_bytes: int = MAX_FILE_BYTES) -> str | None:
    """Why an uploaded file cannot be used, or None when a build would read it."""
    name = safe_name(upload.name)
    if name is None:
        return "no usable file name"
    if name.lower() == SIDECAR:
        return f"{SIDECAR} is not accepted from the browser; metadata comes with the input folder"
    ext = Path(name).suffix.lower()
    if ext not in ACCEPTED_EXT:
        allowed = ", ".join(sorted(ACCEPTED_EXT))
        return f"file type {ext or '(none)'} is not accepted (accepted: {allowed})"
    try:
        text_of(upload.data, max_bytes)
    except Skip as exc:
        return str(exc)
    return None


def save_uploads(uploads: Iterable[Upload], input_dir: Path, max_bytes: int = MAX_FILE_BYTES,
                 max_files: int = MAX_FILES) -> UploadReport:
    """Write the acceptable files into `input_dir/inbox`; report the others with their reasons."""
    inbox = Path(input_dir) / INBOX
    report = UploadReport()
    for n, upload in enumerate(uploads):
        reason = f"more than {max_files} files in one upload" if n >= max_files else check(upload, max_bytes)
        if reason:
            report.rejected.append(Quarantined(upload.name, None, reason))
            continue
        stored = _stored_name(safe_name(upload.name) or "upload", upload.data)
        target = inbox / stored
        if target.exists():
            report.already_there.append(f"{INBOX}/{stored}")
            continue
        _write_atomic(target, upload.data)
        report.accepted.append(f"{INBOX}/{stored}")
    if report.rejected:
        _log_rejections(inbox, report.rejected)
    return report


def _stored_name(name: str, data: bytes) -> str:
    """`report.txt` -> `report-1a2b3c4d5e.txt`: the same content always gets the same name."""
    path = Path(name)
    return f"{path.stem}-{hashlib.sha256(data).hexdigest()[:10]}{path.suffix.lower()}"


def _write_atomic(target: Path, data: bytes) -> None:
    """Write beside the target, then rename: a build running meanwhile never reads half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{os.getpid()}.{threading.get_ident()}.part"
    tmp.write_bytes(data)
    tmp.replace(target)


def _log_rejections(inbox: Path, rejected: list[Quarantined]) -> None:
    inbox.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    with (inbox / REJECTED_LOG).open("a", encoding="utf-8") as fh:
        for q in rejected:
            fh.write(json.dumps({"at": stamp, "source": q.source, "reason": q.reason}, ensure_ascii=False) + "\n")


def rejections(input_dir: Path) -> list[Quarantined]:
    """Every upload rejected so far (oldest first), from the inbox's log."""
    path = Path(input_dir) / INBOX / REJECTED_LOG
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Quarantined(r["source"], None, r["reason"]) for r in rows]


def rebuild(input_dir: Path, build_dir: Path, *,
            progress: Callable[[int, int], None] | None = None) -> RebuildResult:
    """Rebuild incrementally after an upload; on any failure the last good build is left in place.

    Only one rebuild of a build folder runs at a time (a second one is refused, not queued).
    """
    from kzdash.pipeline.build import build

    with _exclusive(Path(build_dir)) as acquired:
        if not acquired:
            return RebuildResult(False, "another build of these tables is running; try again when it is done")
        try:
            # workers=1: no fork pool inside the (multi-threaded) Streamlit server; an upload is small
            summary = build(Path(input_dir), Path(build_dir), progress=progress or False, reuse=True, workers=1)
        except Exception as exc:  # noqa: BLE001 - shown to the person; the previous build stays
            return RebuildResult(False, f"the build failed ({type(exc).__name__}: {exc}); the last good build is kept")
    return RebuildResult(True, summary.line())


def _exclusive(build_dir: Path):
    """A non-blocking lock on a build folder for the rebuild, shared by every process on this machine.
    Its own file: the build it guards takes the folder's swap lock (`store.build_lock`) inside it."""
    return file_lock(build_dir.parent / f".{build_dir.name}.lock", blocking=False)
