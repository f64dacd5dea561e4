"""Builds of the bundled sample that several test modules need, and the facts of its edited copy.

Imported by conftest.py (which makes them session fixtures) and by the tests that check reviews
against an edited article; pytest puts this folder on the import path with conftest.py."""

from __future__ import annotations

import shutil
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "articles"
EDITED = "004_de54c4e2e6cf4704.txt"  # the sample article the edited copy changes (one word, late in the text)
REMOVED = "003_2f2ea773e45e3e65.txt"  # the sample article the edited copy leaves out
WORD, NEW_WORD = "الحديث", "المتطور"


def build_folder(source: Path, out: Path) -> Path:
    from kzdash.pipeline.build import build

    build(source, out, progress=False)
    return out


def build_edited(root: Path) -> Path:
    """The sample with WORD of EDITED replaced by NEW_WORD and REMOVED left out, built into root/build."""
    shutil.copytree(SAMPLE, root / "articles")
    path = root / "articles" / EDITED
    text = path.read_text(encoding="utf-8")
    assert text.count(WORD) == 1
    path.write_text(text.replace(WORD, NEW_WORD), encoding="utf-8")
    (root / "articles" / REMOVED).unlink()
    return build_folder(root / "articles", root / "build")
