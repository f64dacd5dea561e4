"""Files a user takes away: filtered tables (CSV, Parquet, GeoJSON) and charts (SVG, PNG).

Charts are rendered by vl-convert (Vega-Lite's own renderer, bundled in a wheel: no browser, no
network), from the same altair spec the page shows.
"""

from __future__ import annotations

import base64
import io

import altair as alt
import pandas as pd

TEXT_HEAVY = ["text", "stripped"]  # article bodies stay out of the per-row exports


def _exportable(df: pd.DataFrame) -> pd.DataFrame:
    out = df.drop(columns=[c for c in (*TEXT_HEAVY, "art") if c in df.columns])
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype("string")
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    return _exportable(df).to_csv(index=False).encode("utf-8")


def parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    _exportable(df).to_parquet(buf, index=False)
    return buf.getvalue()


def geojson_bytes(df: pd.DataFrame) -> bytes:
    """Rows with coordinates as GeoJSON points (WGS84); dates as ISO strings."""
    import geopandas as gpd

    rows = _exportable(df)
    rows = rows[rows["lat"].notna() & rows["lon"].notna()]
    for col in rows.columns:
        if pd.api.types.is_datetime64_any_dtype(rows[col]):
            rows[col] = rows[col].dt.strftime("%Y-%m-%d")
    gdf = gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy(rows["lon"], rows["lat"]), crs="EPSG:4326")
    return gdf.to_json(na="null", show_bbox=False, drop_id=True).encode("utf-8")


def chart_svg(chart: alt.TopLevelMixin) -> str:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.to_json())


def chart_png(chart: alt.TopLevelMixin, scale: float = 2.0) -> bytes:
    import vl_convert as vlc

    return vlc.vegalite_to_png(chart.to_json(), scale=scale)


def png_base64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")
