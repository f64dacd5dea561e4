"""What the app needs from disk: where the sample is, building it on first run, reading tables.

Kept apart from Streamlit so that it can be tested and reused by every page.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd

from kzdash.pipeline.store import TABLES, has_build, read_table

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_INPUT = ROOT / "data" / "articles"
SAMPLE_BUILD = ROOT / "build" / "sample"
WORKSPACE = ROOT / "build" / "workspace"  # articles added from the browser to the bundled sample


def build_dir_from_env() -> Path:
    """The build the app shows: $KZDASH_BUILD, else the bundled sample's build."""
    return Path(os.environ.get("KZDASH_BUILD") or SAMPLE_BUILD)


def reviews_path(build_dir: Path) -> Path:
    """The review store: $KZDASH_REVIEWS, else beside the build folder (kzdash.dashboard.reviews.default_path)."""
    from kzdash.dashboard.reviews import default_path

    given = os.environ.get("KZDASH_REVIEWS")
    return Path(given).expanduser() if given else default_path(build_dir)


def ensure_build(input_dir: Path = SAMPLE_INPUT, build_dir: Path = SAMPLE_BUILD) -> Path:
    """Build `input_dir` into `build_dir` unless a build is already there.

    Sessions that arrive while the first build runs wait for it, then find it done."""
    build_dir = Path(build_dir)
    if has_build(build_dir):
        return build_dir
    from kzdash.pipeline.build import build
    from kzdash.pipeline.store import build_lock

    # its own lock: the build takes the folder's swap lock inside it
    with build_lock(build_dir.with_name(build_dir.name + ".first-run")):
        if not has_build(build_dir):
            build(Path(input_dir), build_dir, progress=False)
    return build_dir


def load_tables(build_dir: str) -> dict[str, pd.DataFrame]:
    return {name: read_table(Path(build_dir), name) for name in TABLES}


def upload_input(info: dict, workspace: Path = WORKSPACE) -> Path | None:
    """Where articles added from the browser go: the input folder the shown build was made from.

    The bundled sample is never written to (it ships unchanged): a build of the sample grows in a
    workspace that starts as a copy of it (`seed_workspace`). A build whose input is not a local
    folder (an object store, another machine) takes no uploads: None."""
    source = str(info.get("input") or "")
    if not source:
        return None
    path = Path(source)
    if path.resolve() == SAMPLE_INPUT.resolve():
        return workspace
    return path if path.is_dir() else None


def seed_workspace(target: Path, workspace: Path = WORKSPACE) -> None:
    """Before the first upload to the workspace: put a copy of the bundled sample in it."""
    if Path(target) == workspace and not (workspace / "sample").is_dir():
        workspace.mkdir(parents=True, exist_ok=True)
        shutil.copytree(SAMPLE_INPUT, workspace / "sample")
