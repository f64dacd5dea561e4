"""Chart specs built from the sample's query results: what they encode, and that the map stays offline."""

from __future__ import annotations

import json
import re
from datetime import date

import pandas as pd
import pytest

from kzdash.dashboard import charts, queries
from kzdash.dashboard.dataset import Dataset
from kzdash.dashboard.filters import Filters


def _find(spec: object, pred) -> list[dict]:
    """Every dict anywhere inside a spec for which `pred` holds."""
    out = []
    if isinstance(spec, dict):
        if pred(spec):
            out.append(spec)
        for v in spec.values():
            out += _find(v, pred)
    elif isinstance(spec, list):
        for v in spec:
            out += _find(v, pred)
    return out


def _timeline(sample: Dataset, group: str = "type", pal: str = "screen") -> dict:
    return charts.timeline_chart(queries.timeline(sample, Filters(), group), queries.key_dates(), group,
                                 charts.palette(pal)).to_dict()


def test_timeline_has_a_brush_and_separate_event_and_publication_dates(sample: Dataset) -> None:
    spec = _timeline(sample)
    params = _find(spec, lambda d: d.get("name") == charts.BRUSH and "select" in d)
    assert params and params[0]["select"]["type"] == "interval" and params[0]["select"]["encodings"] == ["x"]
    titles = {d.get("title") for d in _find(spec, lambda d: d.get("field") == "bucket" and "title" in d)}
    assert any("event date" in str(t) for t in titles) and any("publication date" in str(t) for t in titles)
    opacity = _find(spec, lambda d: d.get("field") == "kind" and "scale" in d)
    assert opacity and "background mention" in opacity[0]["scale"]["domain"]
    rules = _find(spec, lambda d: d.get("mark") in ("rule", {"type": "rule"}) or
                  (isinstance(d.get("mark"), dict) and d["mark"].get("type") == "rule"))
    assert rules, "key dates are drawn as rules"
    labels = json.dumps(spec)
    assert "Invasion of Ukraine" in labels


def test_timeline_colours_follow_the_palette(sample: Dataset) -> None:
    for name in ("screen", "print"):
        spec = _timeline(sample, pal=name)
        colour = _find(spec, lambda d: d.get("field") == "group" and "scale" in d)[0]["scale"]
        pal = charts.palette(name)
        assert colour["range"] == charts.type_range(colour["domain"], pal)
        assert len(set(colour["range"])) == len(colour["domain"])  # distinct, also in greys
    by_outlet = _timeline(sample, "outlet")
    assert _find(by_outlet, lambda d: d.get("title") == "outlet")


def test_print_palette_steps_in_lightness() -> None:
    def lightness(h: str) -> int:
        return int(h[1:3], 16)
    pal = charts.palette("print")
    for n in (2, 5, 9):
        steps = [lightness(c) for c in charts.type_range(list(pal.types)[:n], pal)]
        gaps = [b - a for a, b in zip(steps, steps[1:], strict=False)]
        assert steps == sorted(steps) and len(set(steps)) == n and min(gaps) >= 20
    screen = charts.palette("screen")
    assert charts.type_range(["AID", "PROTEST"], screen) == [screen.types["AID"], screen.types["PROTEST"]]


def test_brush_range_reads_ms_and_iso() -> None:
    ms = {charts.BRUSH: {"bucket": [1641081600000, 1643673600000]}}
    assert charts.brush_range(ms) == (pd.Timestamp("2022-01-02"), pd.Timestamp("2022-02-01"))
    iso = {charts.BRUSH: {"bucket": ["2022-03-01T00:00:00", "2022-02-01T00:00:00"]}}
    assert charts.brush_range(iso) == (pd.Timestamp("2022-02-01"), pd.Timestamp("2022-03-01"))
    for junk in ({}, {charts.BRUSH: {}}, None, {charts.BRUSH: {"bucket": ["x", "y"]}}):
        assert charts.brush_range(junk) is None


def test_stance_heatmap_writes_counts_on_cells(sample: Dataset) -> None:
    m = queries.stance_matrix(sample, Filters(), "KAZ")
    spec = charts.stance_heatmap(m).to_dict()
    data = next(iter(spec["datasets"].values()))
    assert {r["counts"] for r in data} == {f"{s} / {o} / {n}" for s, o, n in
                                           zip(m["support"], m["oppose"], m["neutral"], strict=True)}
    assert _find(spec, lambda d: d.get("name") == charts.CELL and "select" in d)
    scale = _find(spec, lambda d: d.get("field") == "net" and "scale" in d)[0]["scale"]
    assert scale["domain"] == [-1, 0, 1]
    assert charts.cell_choice({charts.CELL: [{"row": "Asharq", "issue": "x"}]}) == ("Asharq", "x")
    assert charts.cell_choice({charts.CELL: []}) is None


def test_map_deck_is_offline_and_carries_tooltips(sample: Dataset) -> None:
    ev, pl = queries.map_events(sample, Filters()), queries.map_places(sample, Filters())
    deck = charts.map_deck(ev, pl, charts.countries_geojson())
    text = deck.to_json()
    for host in ("mapbox", "carto", "http://", "https://"):
        assert host not in text.lower()
    spec = json.loads(text)
    assert spec["mapStyle"] == "__MAP_STYLE__"  # Streamlit drops it and adds no basemap of its own
    assert all(layer.get("radiusUnits") == "pixels" for layer in spec["layers"] if "getRadius" in layer)
    layers = {layer["id"]: layer for layer in spec["layers"]}
    assert set(layers) == {charts.COUNTRIES_LAYER, charts.PLACES_LAYER, charts.EVENTS_LAYER, charts.LABELS_LAYER}
    labels = {p["name"] for p in layers[charts.LABELS_LAYER]["data"]}
    assert {"Zhanaozen", "Almaty", "Astana"} <= labels and not labels & set(pl.loc[pl["kind"] == "country", "name"])
    assert len(layers[charts.COUNTRIES_LAYER]["data"]["features"]) > 200
    events = layers[charts.EVENTS_LAYER]["data"]
    assert sum(p["count"] for p in events) == ev["count"].sum()
    for p in events:
        assert p["color"][:3] == [int(charts.type_colour(p["event_type"], charts.palette("screen"))[i:i + 2], 16)
                                  for i in (1, 3, 5)]
    big, small = max(events, key=lambda p: p["count"]), min(events, key=lambda p: p["count"])
    assert big["radius"] >= small["radius"]
    assert {p["name"] for p in layers[charts.PLACES_LAYER]["data"]} == set(pl["name"])
    for field in ("tip_date", "tip_type", "tip_summary", "tip_outlet"):
        assert "{" + field + "}" in deck._tooltip["text"]
        assert all(field in p for p in events)
    assert "carto" in charts.map_deck(ev, pl, None, basemap=True).to_json()
    by_url = json.loads(charts.map_deck(ev, pl, "app/static/countries.geojson").to_json())
    assert by_url["layers"][0]["data"] == "app/static/countries.geojson"


def test_countries_file_is_written_once_and_read_back(tmp_path) -> None:
    path = tmp_path / "static" / "countries.geojson"
    data = charts.write_countries(path)
    assert path.is_file() and json.loads(path.read_text(encoding="utf-8")) == data
    assert len(path.read_text(encoding="utf-8")) < 1_500_000 and "\n" not in path.read_text(encoding="utf-8")
    path.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    assert charts.write_countries(path)["features"] == []  # an existing file is what is served


def test_the_sent_spec_is_the_validated_one_with_dates_as_days(sample: Dataset) -> None:
    """The page sends `vega_spec` (not validated at run time); it must be what validation accepts,
    without altair's default 300-pixel view, and carry dates as days (UTC in Vega, like Arrow)."""
    for chart in (charts.timeline_chart(queries.timeline(sample, Filters(), "type"), queries.key_dates()),
                  charts.stance_heatmap(queries.stance_matrix(sample, Filters(), "KAZ"))):
        validated, sent = chart.to_dict(), charts.vega_spec(chart)  # to_dict() raises on an invalid spec
        validated.get("config", {}).pop("view", None)
        if not validated.get("config", True):
            del validated["config"]
        assert sent == validated
        assert "view" not in sent.get("config", {})
    rows = [r for data in sent_timeline_datasets(sample) for r in data if "bucket" in r]
    assert rows and all(len(r["bucket"]) == 10 and r["bucket"][4] == "-" for r in rows)


def sent_timeline_datasets(sample: Dataset) -> list[list[dict]]:
    spec = charts.vega_spec(charts.timeline_chart(queries.timeline(sample, Filters(), "type"), queries.key_dates()))
    return list(spec["datasets"].values())


def test_positions_chart_one_mark_per_statement_with_outlet_and_changes(sample: Dataset) -> None:
    from kzdash.dashboard import analysis

    p = analysis.positions(sample, Filters(), "KAZ")
    for name in ("screen", "print"):
        pal = charts.palette(name)
        spec = charts.positions_chart(p, pal).to_dict()  # validated against the Vega-Lite schema
        colour = _find(spec, lambda d: d.get("field") == "polarity" and "scale" in d and "range" in d["scale"]
                       and d["scale"]["range"][0].startswith("#"))[0]["scale"]
        assert colour["domain"] == ["support", "oppose", "neutral"]
        assert colour["range"] == [pal.diverging[2], pal.diverging[0], pal.diverging[1]]
    assert _find(spec, lambda d: d.get("field") == "polarity" and d.get("sort") == ["support", "oppose", "neutral"])
    tips = {t.get("field") for t in _find(spec, lambda d: "field" in d and "title" in d)}
    assert {"outlet", "article_id", "stated", "note"} <= tips
    rows = [r for data in spec["datasets"].values() for r in data if "stated" in r]
    assert len(rows) == len(p.marks) and all(len(r["stated"]) == 10 for r in rows)
    assert any(r.get("note", "").startswith("oppose → support") for data in spec["datasets"].values() for r in data)


def test_coverage_chart_marks_who_reported_and_who_usually_would_have(sample: Dataset) -> None:
    from kzdash.dashboard import analysis

    cov = analysis.coverage(sample, Filters())
    spec = charts.coverage_chart(cov).to_dict()
    filters = [d["filter"] for d in _find(spec, lambda d: "filter" in d)]
    assert len(filters) == 2 and any("!=" in str(f) for f in filters)
    lag = _find(spec, lambda d: d.get("field") == "lag_days" and "scale" in d)[0]["scale"]
    assert lag["domain"] == [0, charts.LAG_CAP] and lag["clamp"] is True
    y = _find(spec, lambda d: d.get("field") == "happening" and "sort" in d)[0]
    assert y["sort"] == {"field": "rank", "op": "min", "order": "ascending"}
    rows = [r for data in spec["datasets"].values() for r in data]
    by_rank = [r["happening"] for r in sorted(rows, key=lambda r: r["rank"])]
    assert list(dict.fromkeys(by_rank)) == list(dict.fromkeys(cov.pairs["happening"]))  # newest first, as the table
    assert len(rows) == len(cov.pairs) and {r["status"] for r in rows} == {analysis.REPORTED, analysis.SILENT}
    for chart in (charts.positions_chart(analysis.positions(sample, Filters(), "KAZ")), charts.coverage_chart(cov)):
        validated, sent = chart.to_dict(), charts.vega_spec(chart)
        validated.get("config", {}).pop("view", None)
        assert sent == validated


def _resolved(spec: dict) -> dict:
    """A spec with every named dataset put in place of its name, and view names without their hash
    (both names are hashes of the data; a spec only needs them to agree with themselves)."""
    datasets = spec.get("datasets", {})

    def walk(node: object) -> object:
        if isinstance(node, dict):
            if set(node) == {"name"} and node["name"] in datasets:
                return {"values": datasets[node["name"]]}
            return {k: walk(v) for k, v in node.items() if k != "datasets"}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, str) and re.fullmatch(r"view_[0-9a-f]+_\d+", node):
            return "view_" + node.rsplit("_", 1)[1]
        return node
    return walk(spec)


@pytest.mark.parametrize("group", ["type", "outlet"])
@pytest.mark.parametrize("f", [Filters(), Filters(languages=("ar",)), Filters(start=date(2022, 1, 1),
                                                                             end=date(2022, 1, 31)),
                               Filters(text="zzzq-nothing")])
def test_the_templated_timeline_spec_equals_altairs(sample: Dataset, group: str, f: Filters) -> None:
    t, keys = queries.timeline(sample, f, group), queries.key_dates(f.start, f.end)
    for pal, brush in ((charts.palette("screen"), True), (charts.palette("print"), False)):
        expected = charts.vega_spec(charts.timeline_chart(t, keys, group, pal, brush=brush))
        assert _resolved(charts.timeline_spec(t, keys, group, pal, brush=brush)) == _resolved(expected)


def _rounded(node: object) -> object:
    """A spec with its floats to 9 places: datasets go out through pandas' JSON writer (10 significant digits)."""
    if isinstance(node, dict):
        return {k: _rounded(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_rounded(v) for v in node]
    return round(node, 9) if isinstance(node, float) else node


@pytest.mark.parametrize("f", [Filters(), Filters(languages=("ar",)), Filters(languages=("sq",)),
                               Filters(start=date(2022, 3, 1), end=date(2022, 3, 31)), Filters(text="zzzq-nothing")])
def test_the_templated_specs_equal_altairs(sample: Dataset, f: Filters) -> None:
    """Stance matrix, positions and coverage: the spec made from a remembered template equals altair's, for
    both palettes, with and without rows (a template must not carry one filter's values into another's)."""
    from kzdash.dashboard import analysis

    cov, p = analysis.coverage(sample, f), analysis.positions(sample, f, "KAZ")
    made = 0
    for pal in (charts.palette("screen"), charts.palette("print")):
        for rows in ("outlet", "language"):
            m = queries.stance_matrix(sample, f, "KAZ", rows)
            for select in (True, False):
                if len(m):
                    expected = charts.vega_spec(charts.stance_heatmap(m, pal, select=select))
                    assert _rounded(_resolved(charts.stance_heatmap_spec(m, pal, select=select))) == \
                        _rounded(_resolved(expected))
                    made += 1
        if len(p.marks):
            for width in ("container", 900):
                expected = charts.vega_spec(charts.positions_chart(p, pal, width=width))
                assert _resolved(charts.positions_spec(p, pal, width=width)) == _resolved(expected)
                made += 1
        if cov.happenings:
            expected = charts.vega_spec(charts.coverage_chart(cov, pal))
            assert _resolved(charts.coverage_spec(cov, pal)) == _resolved(expected)
            made += 1
    assert made == (0 if f.text else 14)  # the sample has all three under every filter here but the search


def test_map_points_tooltips_are_missing_where_a_part_is() -> None:
    """A point whose place name is unknown has no type tooltip line (as pandas' string addition gave), and
    text from articles stays text: the JSON escapes it."""
    events = pd.DataFrame({"place_id": ["p1", "p2"], "place_name": ["Aktau", None], "event_type": ["PROTEST", "AID"],
                           "lat": [43.6, None], "lon": [51.2, None], "count": [3, 1], "date": ["2022-01-05", None],
                           "summary": ['<b>"quoted"</b>', None], "outlet": ["A", "B"]})
    places = pd.DataFrame({"place_id": ["p1"], "name": ["Aktau"], "kind": ["city"], "country": ["KAZ"],
                           "lat": [43.6], "lon": [51.2], "mentions": [4], "articles": [2]})
    spec = json.loads(charts.map_deck(events, places, None).to_json())
    layers = {layer["id"]: layer for layer in spec["layers"]}
    first, second = layers[charts.EVENTS_LAYER]["data"]
    assert first["tip_type"] == "PROTEST × 3 at Aktau" and second["tip_type"] is None
    assert first["tip_summary"] == '<b>"quoted"</b>' and second["tip_date"] == "date unknown"
    assert second["lat"] is None
    (ring,) = layers[charts.PLACES_LAYER]["data"]
    assert ring["tip_type"] == "place (city, KAZ)" and ring["tip_summary"] == "4 mentions in 2 articles"
