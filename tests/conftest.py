"""Shared fixtures: the bundled sample, built once per test session into a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "articles"


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    from kzdash.pipeline.build import build

    out = tmp_path_factory.mktemp("sample") / "build"
    build(SAMPLE, out, progress=False)
    return out


@pytest.fixture(scope="session")
def sample(sample_dir: Path):
    from kzdash.dashboard.appdata import load_tables
    from kzdash.dashboard.dataset import Dataset

    return Dataset.from_tables(load_tables(str(sample_dir)))
