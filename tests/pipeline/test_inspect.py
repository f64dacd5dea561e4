"""`kzdash explain FILE_OR_ARTICLE_ID` finds its input as a build would, and says so when it can't."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kzdash.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "articles"


def test_explain_a_file(capsys) -> None:
    name = sorted(SAMPLE.glob("*.txt"))[0].name
    assert main(["explain", str(SAMPLE / name)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"# file {SAMPLE / name}\n{name}: language ")
    assert "(metadata)" in out.splitlines()[1]  # the sidecar's date was read, as in a build
    assert "=> stance: " in out or "=> event: " in out


def test_explain_an_article_id_of_a_build(sample_dir: Path, capsys) -> None:
    arts = pd.read_parquet(sample_dir / "articles.parquet")
    stances = pd.read_parquet(sample_dir / "stances.parquet")
    aid = stances["article_id"].value_counts().index[0]
    assert main(["explain", aid[:8], "--build", str(sample_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"# article {aid} of {sample_dir}, re-read from ")
    assert out.count("=> stance: ") == (stances["article_id"] == aid).sum()
    source = arts.loc[arts["article_id"] == aid, "source"].iloc[0]
    assert f"\n{source}: language " in out


def test_explain_near_lists_only_matching_sentences(capsys) -> None:
    path = sorted(SAMPLE.glob("*.txt"))[0]
    assert main(["explain", str(path), "--near", "zzqqzz"]) == 0
    assert "no sentence matches" in capsys.readouterr().out


def test_an_unknown_id_is_one_clear_line(sample_dir: Path, capsys) -> None:
    assert main(["explain", "nosuchid", "--build", str(sample_dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"kzdash explain: nosuchid: no article of {sample_dir} with this id"]


def test_a_file_that_is_no_article_is_one_clear_line(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "x.txt"
    bad.write_bytes(b"")
    assert main(["explain", str(bad)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1] == f"kzdash explain: {bad}: empty file"  # after the reader's own warning
