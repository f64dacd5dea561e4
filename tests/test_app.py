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


def test_runs_beyond_the_slots_wait_their_turn(monkeypatch) -> None:
    """Five sessions' runs at once on two slots: never more than two inside, every one finishes."""
    import threading
    import time

    from kzdash import ui

    monkeypatch.setattr(ui, "_RUN_SLOTS", ui.run_slots("2"))
    inside, most, lock = 0, 0, threading.Lock()

    def one_run() -> None:
        nonlocal inside, most
        with ui.run_slot():
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(0.05)
            with lock:
                inside -= 1

    runs = [threading.Thread(target=one_run) for _ in range(5)]
    for t in runs:
        t.start()
    for t in runs:
        t.join(5)
    assert most == 2 and inside == 0 and not any(t.is_alive() for t in runs)


def test_run_slots_setting() -> None:
    from kzdash import ui

    assert ui.run_slots("0") is None  # no limit
    for setting, slots in ((None, 2), ("", 2), ("3", 3), ("many", 2)):
        sem = ui.run_slots(setting)
        assert sem is not None
        taken = sum(sem.acquire(blocking=False) for _ in range(5))
        assert taken == slots, setting
