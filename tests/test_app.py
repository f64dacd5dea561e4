"""The app renders the bundled sample's tables (building them on first run)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def test_app_builds_and_shows_the_sample(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KZDASH_BUILD", str(tmp_path / "b"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Articles"] == "5"
    assert int(metrics["Places"]) > 0
    assert (tmp_path / "b" / "events.parquet").is_dir()  # a folder of month files
