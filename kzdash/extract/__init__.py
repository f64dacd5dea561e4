"""Per-article extraction, pure: one article's text and metadata in, its rows out
(`article.process_article`). The stages: `normalize` (boilerplate, header lines), `language`,
`published`, `gazetteer` + `geoparse` (places), `actors`, `temporal` (dates), `events`,
`stances`; `records` holds the plain records passed between them and to the pipeline;
`confidence` turns each row's rule into a calibrated confidence, `explain` prints the rule trail.

May import: `kzdash.text`. Never reads files beyond the language data, never imports
`kzdash.pipeline`, `kzdash.dashboard` or streamlit.
"""
