"""Text utilities every later layer stands on: folding (`textnorm`), sentence spans
(`sentences`), phrase matching against word lists (`lexicon`) and loading the per-language data
in `data/lang/<code>/` (`langdata`).

May import: the standard library and third-party packages only; nothing else of kzdash.
"""
