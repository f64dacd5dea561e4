"""Word search over a text column, fast enough for a filter change at ten million rows.

A plain substring scan over a million evidence sentences takes 150-500 ms (pyarrow, pandas,
bytes.find and DuckDB ILIKE all measured), and DuckDB's full-text extension would need a
download. So each column's distinct values are split into lower-cased words once (by the build, into files
the dashboard memory-maps; or here, for tables in memory), and a query
word is matched against the vocabulary instead of the rows: a word matches a value when it occurs
in one of its words (so a part of a word matches too). Templated columns (summaries, place names)
have few distinct values and cost nearly nothing.

The vocabulary is one run of bytes, each word followed by a newline (`serving.VOCAB_SEPARATOR`),
memory-mapped: a query word (which holds no whitespace) is found with `mmap.find`, a memchr-speed
scan that cannot match across two words, and each hit's word number is a binary search in the
words' start offsets. Ten million distinct words (160 MB) are scanned in tens of milliseconds
without being read into the server's memory; pyarrow's per-string `match_substring` took a second.
"""

from __future__ import annotations

import json
import mmap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kzdash.pipeline.serving import vocab_bytes, word_index_arrays

MOST_FOUND = 50_000  # hits collected one by one; past this (a one-letter word) the vocabulary is scanned as strings


@dataclass(frozen=True)
class TextIndex:
    words: bytes | mmap.mmap  # the distinct lower-cased words, each followed by a newline
    word_starts: np.ndarray  # word w is words[word_starts[w]:word_starts[w + 1] - 1]
    postings: np.ndarray  # value numbers, grouped by word
    starts: np.ndarray  # postings[starts[w]:starts[w + 1]] hold the values that contain word w
    value_of_row: np.ndarray  # row -> value number (-1: empty)
    n_values: int

    @classmethod
    def build(cls, texts: pa.Array | pa.ChunkedArray) -> TextIndex:
        """The index of a column in memory (the build writes the same for every searched column)."""
        vocab, postings, starts, value_of_row, n_values = word_index_arrays(texts)
        words, word_starts = vocab_bytes(vocab)
        return cls(words, word_starts, postings, starts, value_of_row, n_values)

    @classmethod
    def open(cls, files: dict[str, Path]) -> TextIndex:
        """An index the build wrote (`kzdash.pipeline.serving.write_word_indexes`), memory-mapped: nothing is
        read until a search needs it, and then only the pages it touches."""
        meta = json.loads(files["meta"].read_text(encoding="utf-8"))
        return cls(_mapped_bytes(files["vocab"]), mapped(files["offsets"], np.int64),
                   mapped(files["postings"], np.int32), mapped(files["starts"], np.int64),
                   mapped(files["rows"], np.int32), int(meta["values"]))

    def matching_words(self, word: str) -> np.ndarray:
        """The numbers of the vocabulary's words that hold `word` (lower case, no whitespace), ascending."""
        key = word.encode("utf-8")
        if not key or len(self.word_starts) < 2:
            return np.zeros(0, dtype=np.int64)
        found, at = [], self.words.find(key)
        while at >= 0 and len(found) < MOST_FOUND:
            found.append(at)
            at = self.words.find(key, at + 1)
        if at >= 0:  # too many to collect one by one: every word, tested as a string
            n = len(self.word_starts) - 1
            strings = pa.LargeStringArray.from_buffers(n, pa.py_buffer(np.asarray(self.word_starts)),
                                                       pa.py_buffer(self.words))
            return np.flatnonzero(pc.match_substring(strings, word).to_numpy(zero_copy_only=False))
        return np.unique(np.searchsorted(self.word_starts, np.asarray(found, dtype=np.int64), side="right") - 1)

    def word_mask(self, word: str) -> np.ndarray | None:
        """Boolean mask of the rows whose text holds `word` (lower case) inside one of its words; None when
        no row does (the caller skips a pass over the rows)."""
        hits = self.matching_words(word)
        if not len(hits):
            return None
        found = np.zeros(self.n_values + 1, dtype=bool)  # the extra last slot stands for empty rows (-1)
        found[np.concatenate([self.postings[self.starts[h]:self.starts[h + 1]] for h in hits])] = True
        return found[self.value_of_row]


def mapped(path: Path, dtype: type) -> np.ndarray:
    """A file of one number after another, memory-mapped read-only (an empty file is an empty array)."""
    if path.stat().st_size == 0:
        return np.zeros(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r")


def _mapped_bytes(path: Path) -> bytes | mmap.mmap:
    """A file's bytes, memory-mapped read-only (an empty file is b"")."""
    if path.stat().st_size == 0:
        return b""
    with open(path, "rb") as source:
        return mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ)


def search(indexes: list[TextIndex], query: str, n_rows: int) -> np.ndarray:
    """Rows where every word of `query` occurs (case-insensitively, inside words too) in any of the columns."""
    mask = np.ones(n_rows, dtype=bool)
    for word in query.lower().split():
        found = None
        for index in indexes:
            hit = index.word_mask(word)
            if hit is not None:
                found = hit if found is None else found | hit
        if found is None:
            return np.zeros(n_rows, dtype=bool)
        mask &= found
    return mask
