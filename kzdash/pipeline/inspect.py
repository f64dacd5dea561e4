"""Find the input behind `kzdash explain FILE_OR_ARTICLE_ID` and explain it.

A file is read exactly as a build reads it (its folder's metadata sidecar included); an article id
(or its first characters) is looked up in a build and re-read from the input the build was made
from, so the explanation sees the same metadata. If that input is gone, the stored text, language
and publication date stand in for it (said in the output).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from kzdash.extract.article import extract_article
from kzdash.extract.explain import ArticleTrail, explain
from kzdash.extract.gazetteer import load_gazetteer
from kzdash.extract.normalize import load_boilerplate
from kzdash.extract.records import RawArticle
from kzdash.pipeline.ingest import read_folder
from kzdash.pipeline.store import has_build, read_table
from kzdash.text.langdata import LANG_DIR


class NotFound(LookupError):
    """Neither a readable article file nor an article id of the build."""


def raws_for(target: str, build_dir: Path) -> tuple[list[RawArticle], str]:
    """The input articles `target` names, and a note on where they came from."""
    path = Path(target)
    if path.is_file():
        raws, skipped = read_folder(path.parent, only={path.name})
        if not raws:
            own = [q.reason for q in skipped if q.source.split("#")[0] == path.name]
            reason = own[0] if own else "not an article file (txt, md, html, jsonl, csv)"
            raise NotFound(f"{target}: {reason}")
        return raws, f"file {target}"
    return _from_build(target, Path(build_dir))


def _from_build(article_id: str, build_dir: Path) -> tuple[list[RawArticle], str]:
    if not has_build(build_dir):
        raise NotFound(f"{article_id}: no such file, and no build at {build_dir} to look the id up in")
    articles = read_table(build_dir, "articles")
    rows = articles[articles["article_id"].astype(str).str.startswith(article_id)]
    if len(rows) != 1:
        found = "no article" if rows.empty else f"{len(rows)} articles"
        raise NotFound(f"{article_id}: {found} of {build_dir} with this id")
    row = rows.iloc[0]
    source = str(row["source"])
    try:
        info = json.loads((build_dir / "build.json").read_text(encoding="utf-8"))
        folder = Path(str(info.get("input") or ""))
    except (OSError, ValueError):
        folder = Path()
    file_name = source.split("#", 1)[0]
    if folder.name and (folder / file_name).is_file():
        raws, _ = read_folder(folder, only={file_name})
        raws = [r for r in raws if r.source == source]
        if raws:
            return raws, f"article {row['article_id']} of {build_dir}, re-read from {folder / file_name}"
    gone = "input gone: stored text, language and date"
    return [stored_article(row.to_dict())], f"article {row['article_id']} of {build_dir} ({gone})"


def _text(value: object) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def explain_target(target: str, build_dir: Path, near: str | None = None) -> tuple[list[ArticleTrail], str]:
    """Trails of every article `target` names."""
    raws, origin = raws_for(target, build_dir)
    return [explain_raw(raw, near) for raw in raws], origin


def explain_raw(raw: RawArticle, near: str | None = None) -> ArticleTrail:
    """The trail of one input article, extracted as a build would."""
    return explain(extract_article(raw, load_boilerplate(LANG_DIR), load_gazetteer()), near)


def stored_article(row: dict) -> RawArticle:
    """An article of a build's table as input again: its stored text, language and date as metadata."""
    return RawArticle(str(row["source"]), str(row["text"]), title=_text(row.get("title")), url=_text(row.get("url")),
                      outlet=_text(row.get("outlet")), published=_text(row.get("published")),
                      language=_text(row.get("language")))
