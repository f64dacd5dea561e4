"""Build input and output as local paths or fsspec URLs (`s3://…`, `gs://…`, `memory://…`).

The ingest and the store work on local folders (walk, stat, rename for the atomic swap), so a
remote folder is staged: the input is copied into a temporary folder before the build, and the
output is built locally and then uploaded aside and moved into place. Plain paths and `file://`
URLs are used directly, with no copy.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import fsspec
from fsspec.core import split_protocol, url_to_fs

# what a later incremental build reuses from the previous one (see kzdash.pipeline.store.PreviousBuild): the
# tables are folders of month files (or, from older builds, single files), the quarantine table holds its notes
PREVIOUS_FILES = ("build.json", "articles.parquet", "places.parquet", "events.parquet", "stances.parquet",
                  "quarantine.parquet")


def local_path(location: str | os.PathLike) -> Path | None:
    """The local path a location names (a plain path or `file://` URL), or None for a remote URL."""
    if isinstance(location, os.PathLike):
        return Path(location)
    protocol, path = split_protocol(location)
    if protocol is None:
        return Path(location)
    if protocol in ("file", "local"):
        return Path(path)
    return None


def is_folder(location: str | os.PathLike) -> bool:
    """Whether the location is an existing folder (local or remote)."""
    path = local_path(location)
    if path is not None:
        return path.is_dir()
    fs, root = url_to_fs(str(location))
    return fs.isdir(root)


@contextmanager
def staged_input(location: str | os.PathLike) -> Iterator[Path]:
    """A local folder holding the input: the folder itself, or a temporary copy of a remote one."""
    path = local_path(location)
    if path is not None:
        yield path
        return
    fs, root = url_to_fs(str(location))
    if not fs.isdir(root):
        raise NotADirectoryError(f"not a folder: {location}")
    with tempfile.TemporaryDirectory(prefix="kzdash-input-") as tmp:
        for remote in fs.find(root):
            local = Path(tmp, *posixpath.relpath(remote, root).split("/"))
            local.parent.mkdir(parents=True, exist_ok=True)
            fs.get_file(remote, str(local))
        yield Path(tmp)


@contextmanager
def staged_output(location: str | os.PathLike, *, fetch_previous: bool = True) -> Iterator[Path]:
    """A local folder to build into; for a remote URL it is published there when the block succeeds.

    The previous remote build is fetched first (when `fetch_previous`) so that unchanged articles
    are reused as in a local build. If the block raises, nothing is uploaded.
    """
    path = local_path(location)
    if path is not None:
        yield path
        return
    fs, root = url_to_fs(str(location))
    with tempfile.TemporaryDirectory(prefix="kzdash-output-") as tmp:
        staging = Path(tmp) / "build"
        if fetch_previous and fs.isfile(posixpath.join(root, "build.json")):
            staging.mkdir()
            for name in PREVIOUS_FILES:
                remote = posixpath.join(root, name)
                if fs.isdir(remote):
                    (staging / name).mkdir()
                    for file in fs.find(remote):
                        fs.get_file(file, str(staging / name / posixpath.relpath(file, remote)))
                elif fs.isfile(remote):
                    fs.get_file(remote, str(staging / name))
        yield staging
        publish(fs, staging, root)


def publish(fs: fsspec.AbstractFileSystem, folder: Path, root: str) -> None:
    """Upload a finished build beside `root`, then move it into place.

    Object stores have no atomic folder rename: readers may briefly see no build between the two
    moves, but never a half-written one.
    """
    parent, name = posixpath.split(root.rstrip("/"))
    unique = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"  # two builds of one process may overlap
    building = posixpath.join(parent, f".{name}.building-{unique}")
    previous = posixpath.join(parent, f".{name}.previous-{unique}")
    try:
        for file in sorted(folder.rglob("*")):  # the tables' month files and the index folder too
            if file.is_file():
                fs.put_file(str(file), posixpath.join(building, *file.relative_to(folder).parts))
    except BaseException:
        if fs.exists(building):
            fs.rm(building, recursive=True)
        raise
    if fs.exists(root):
        fs.mv(root, previous, recursive=True)
    fs.mv(building, root, recursive=True)
    if fs.exists(previous):
        fs.rm(previous, recursive=True)
