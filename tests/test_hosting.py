"""Hosting files: the Streamlit config names real options with safe values; the container mirrors CI."""

from __future__ import annotations

import tomllib
from pathlib import Path

import streamlit.config

ROOT = Path(__file__).resolve().parent.parent


def _config() -> dict[str, object]:
    data = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    return {f"{section}.{key}": value for section, options in data.items() for key, value in options.items()}


def test_every_option_exists_in_this_streamlit() -> None:
    known = streamlit.config.get_config_options()
    unknown = sorted(set(_config()) - set(known))
    assert not unknown, f"not Streamlit options: {unknown}"


def test_safe_values() -> None:
    config = _config()
    assert config["server.enableXsrfProtection"] is True
    assert config["server.enableCORS"] is True
    assert config["browser.gatherUsageStats"] is False
    assert config["client.showErrorDetails"] in ("type", "none")
    assert 0 < config["server.maxUploadSize"] <= 5  # MB; kzdash.dashboard.upload's own limit is 5 MB per file
    assert config["runner.postScriptGC"] is False  # a full collection per rerun stalls every session


def test_container_installs_like_ci_and_serves_the_health_endpoint() -> None:
    docker = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 -m venv .venv" in ci and "python3 -m venv .venv" in docker
    assert ".venv/bin/pip install -q -r requirements.txt" in docker
    assert "/_stcore/health" in docker
    assert "chromium" not in (ROOT / "packages.txt").read_text(encoding="utf-8")
