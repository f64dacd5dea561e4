"""What a user takes away: the filtered rows in three formats, and the charts as SVG and PNG."""

from __future__ import annotations

import io
import json

import pandas as pd

from kzdash.dashboard import charts, exports, markup, queries
from kzdash.dashboard.dataset import Dataset, filtered
from kzdash.dashboard.filters import Filters


def test_tables_round_trip(sample: Dataset) -> None:
    f = Filters(languages=("ar",))
    rows = filtered(sample, "events", f)
    back = pd.read_csv(io.BytesIO(exports.csv_bytes(rows)))
    assert list(back["event_id"]) == list(rows["event_id"].astype(str)) and "art" not in back.columns
    assert list(pd.read_parquet(io.BytesIO(exports.parquet_bytes(rows)))["event_id"]) == list(rows["event_id"])
    arts = pd.read_parquet(io.BytesIO(exports.parquet_bytes(filtered(sample, "articles", f))))
    assert "text" not in arts.columns and len(arts) == int(sample.mask("articles", f).sum())


def test_geojson_has_a_point_per_located_row(sample: Dataset) -> None:
    rows = filtered(sample, "places", Filters())
    gj = json.loads(exports.geojson_bytes(rows))
    assert len(gj["features"]) == rows["lat"].notna().sum()
    first = gj["features"][0]
    assert first["geometry"]["type"] == "Point" and first["properties"]["place_id"]
    lon, lat = first["geometry"]["coordinates"]
    assert (-180 <= lon <= 180) and (-90 <= lat <= 90)
    events = json.loads(exports.geojson_bytes(filtered(sample, "events", Filters())))
    assert all(len(ft["properties"]["date"] or "") in (0, 10) for ft in events["features"])


def test_charts_render_to_svg_and_png(sample: Dataset) -> None:
    m = queries.stance_matrix(sample, Filters(), "KAZ")
    chart = charts.stance_heatmap(m, charts.palette("print"), select=False)
    svg = exports.chart_svg(chart)
    assert svg.lstrip().startswith("<svg") and "support / oppose / neutral" in svg
    png = exports.chart_png(chart)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    page = markup.handout("A <title>", "note", [("dates", "2022")], exports.png_base64(png),
                          queries.latest_events(sample, Filters(), 5), "overview?x=1", "now")
    assert "data:image/png;base64," in page and "A &lt;title&gt;" in page and page.count("<tr>") == 6


def test_map_selection_reads_a_clicked_point() -> None:
    sel = {"indices": {"events": [0]}, "objects": {"events": [{"place_id": "607610", "count": 1}]}}
    assert charts.picked_place(sel) == "607610"
    assert charts.picked_place({"indices": {}, "objects": {"places": [{"place_id": "site-upper-lars"}]}}) == \
        "site-upper-lars"
    for junk in (None, {}, {"objects": {}}, {"objects": {"events": [{"count": 3}]}}):
        assert charts.picked_place(junk) is None
