"""From a folder of articles to the tables on disk: `ingest` (reading, quarantine of bad
input), `build` (reuse of unchanged articles, the atomic swap), the per-article map by engine
(`engines`: this machine's processes; `engine_dask`: a Dask cluster), `store` (the contract's
columns, Parquet and DuckDB files), `happenings` (reports of one happening across articles),
`fsurl` (input and output as fsspec URLs), `inspect` (the input behind `kzdash explain`) and
`benchdata` (generated benchmark corpora).

May import: `kzdash.extract`, `kzdash.text`. Never `kzdash.dashboard` or streamlit.
"""
