"""Word search over a text column, fast enough for a filter change at a million rows.

A plain substring scan over a million evidence sentences takes 150-500 ms (pyarrow, pandas,
bytes.find and DuckDB ILIKE all measured), and DuckDB's full-text extension would need a
download. So each column's distinct values are split into lower-cased words once (by the build, into files
the dashboard memory-maps; or here, for tables in memory), and a query
word is matched against the vocabulary (tens of thousands of words) instead of the rows: a word
matches a value when it occurs in one of its words (so a part of a word matches too). Templated
columns (summaries, place names) have few distinct values and cost nearly nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kzdash.pipeline.serving import word_index_arrays


@dataclass(frozen=True)
class TextIndex:
    vocab: pa.Array  # distinct lower-cased words
    postings: np.ndarray  # value numbers, grouped by word
    starts: np.ndarray  # postings[starts[w]:starts[w + 1]] hold the values that contain word w
    value_of_row: np.ndarray  # row -> value number (-1: empty)
    n_values: int

    @classmethod
    def build(cls, texts: pa.Array | pa.ChunkedArray) -> TextIndex:
        """The index of a column in memory (the build writes the same for every searched column)."""
        return cls(*word_index_arrays(texts))

    @classmethod
    def open(cls, files: dict[str, Path]) -> TextIndex:
        """An index the build wrote (`kzdash.pipeline.serving.write_word_indexes`), memory-mapped: only the
        vocabulary is read; the postings of a word are read from disk when a search needs them."""
        meta = json.loads(files["meta"].read_text(encoding="utf-8"))
        with pa.memory_map(str(files["vocab"])) as source:
            vocab = pa.ipc.open_file(source).read_all().column(0).combine_chunks()
        return cls(vocab, _mapped(files["postings"], np.int32), _mapped(files["starts"], np.int64),
                   _mapped(files["rows"], np.int32), int(meta["values"]))

    def word_mask(self, word: str) -> np.ndarray:
        """Boolean mask of the rows whose text holds `word` (lower case) inside one of its words."""
        hits = np.flatnonzero(pc.match_substring(self.vocab, word).to_numpy(zero_copy_only=False))
        found = np.zeros(self.n_values + 1, dtype=bool)  # the extra last slot stands for empty rows (-1)
        if len(hits):
            found[np.concatenate([self.postings[self.starts[h]:self.starts[h + 1]] for h in hits])] = True
        return found[self.value_of_row]


def _mapped(path: Path, dtype: type) -> np.ndarray:
    """A file of one number after another, memory-mapped read-only (an empty file is an empty array)."""
    if path.stat().st_size == 0:
        return np.zeros(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r")


def search(indexes: list[TextIndex], query: str, n_rows: int) -> np.ndarray:
    """Rows where every word of `query` occurs (case-insensitively, inside words too) in any of the columns."""
    mask = np.ones(n_rows, dtype=bool)
    for word in query.lower().split():
        found = np.zeros(n_rows, dtype=bool)
        for index in indexes:
            found |= index.word_mask(word)
        mask &= found
    return mask
