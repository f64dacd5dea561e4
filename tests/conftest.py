"""Shared fixtures: the bundled sample, built once per test session into a temporary folder."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sample_builds import SAMPLE, build_edited, build_folder

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    return build_folder(SAMPLE, tmp_path_factory.mktemp("sample") / "build")


@pytest.fixture(scope="session")
def sample(sample_dir: Path):
    from kzdash.dashboard.dataset import Dataset

    return Dataset.open(sample_dir)  # the build wrote the dashboard's files: served as the app serves it


@pytest.fixture(scope="session")
def rebuilt_dir(tmp_path_factory) -> Path:
    """The same sample articles built again into another folder (reviews must find their rows there)."""
    return build_folder(SAMPLE, tmp_path_factory.mktemp("rebuilt") / "build")


@pytest.fixture(scope="session")
def edited_dir(tmp_path_factory) -> Path:
    """The sample with one word of one article changed and another article removed, built
    (`sample_builds.build_edited`)."""
    return build_edited(tmp_path_factory.mktemp("edited"))


@contextlib.contextmanager
def running_app(env: dict[str, str]) -> Iterator[str]:
    """`streamlit run app.py` on a free local port with `env` added to the environment; yields its URL
    once its health check answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless=true",
         f"--server.port={port}", "--server.address=127.0.0.1", "--browser.gatherUsageStats=false"],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).status == 200:
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("streamlit did not start within 60 s")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def start_app():
    """`running_app` for the browser tests' server fixtures."""
    return running_app
