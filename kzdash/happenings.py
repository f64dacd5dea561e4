"""One happening, many reports: group events across articles and outlets under a happening id.

Event databases are criticised for counting reports rather than events. Two events are reports of
the same happening when they have the same type, compatible actors (equal, or one unknown), dates
that agree at the coarser of their precisions (a day-precise date may differ by one day: "yesterday"
in one outlet is "on Tuesday" in another), and the same or a nearby place (one unknown, the same
place, within NEARBY_KM, or a country and a place inside it). Pure: a DataFrame in, ids out.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date

import pandas as pd

NEARBY_KM = 60.0
DAY_SLACK = 1  # days apart that two day-precise reports of one happening may be


@dataclass
class _Report:
    row: int
    day: date | None  # the date at day precision, else None
    prefix: str  # the date at its own precision: "2022-01-05", "2022-01", "2022"
    actor: str | None
    place_id: str | None
    country: str | None
    lat: float | None
    lon: float | None
    is_country: bool


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


def _dates_agree(a: _Report, b: _Report) -> bool:
    if a.day and b.day:
        return abs((a.day - b.day).days) <= DAY_SLACK
    n = min(len(a.prefix), len(b.prefix))
    return a.prefix[:n] == b.prefix[:n]


def _places_agree(a: _Report, b: _Report) -> bool:
    if a.place_id is None or b.place_id is None or a.place_id == b.place_id:
        return True
    if a.is_country or b.is_country:  # "in Kazakhstan" and "in Almaty"
        return bool(a.country) and a.country == b.country
    if None in (a.lat, a.lon, b.lat, b.lon):
        return False
    return _km(a.lat, a.lon, b.lat, b.lon) <= NEARBY_KM


def _compatible(a: _Report, b: _Report) -> bool:
    return (a.actor is None or b.actor is None or a.actor == b.actor) and _dates_agree(a, b) and _places_agree(a, b)


def _reports(block: pd.DataFrame, country_ids: set[str]) -> list[_Report]:
    n = {"day": 10, "month": 7, "year": 4}
    out = []
    for row, d, prec, actor, pid, country, lat, lon in zip(
            block.index, block["date"], block["date_precision"], block["actor"], block["place_id"],
            block["country"], block["lat"], block["lon"], strict=True):
        iso = str(pd.Timestamp(d).date())
        out.append(_Report(row, date.fromisoformat(iso) if prec == "day" else None, iso[:n.get(prec, 10)],
                           None if pd.isna(actor) else str(actor), None if pd.isna(pid) else str(pid),
                           None if pd.isna(country) else str(country), None if pd.isna(lat) else float(lat),
                           None if pd.isna(lon) else float(lon), str(pid) in country_ids))
    return out


def happening_ids(events: pd.DataFrame, country_place_ids: set[str] | None = None) -> pd.Series:
    """A happening id per event row; an event with no type or no date is a happening of its own.

    Blocks by type and month (year-precise events by type and year) keep the pairwise comparison
    small; within a block each report joins the first group whose every report it agrees with.
    """
    ids = pd.Series([f"h-{e}" for e in events["event_id"].astype(str)], index=events.index, dtype="string")
    if events.empty:
        return ids
    country_ids = country_place_ids if country_place_ids is not None else _country_place_ids(events)
    usable = events[events["event_type"].notna() & events["date"].notna()]
    if usable.empty:
        return ids
    month = pd.to_datetime(usable["date"]).dt.strftime("%Y-%m")
    year_only = usable["date_precision"].eq("year")
    block_key = usable["event_type"].astype(str) + "|" + month.where(~year_only, month.str[:4])
    eid = events["event_id"].astype(str)
    for _, block in usable.groupby(block_key, sort=False):
        reports = sorted(_reports(block, country_ids), key=lambda r: (r.prefix, eid.at[r.row]))  # order-free
        groups: list[list[_Report]] = []
        for rep in reports:
            home = next((g for g in groups if all(_compatible(rep, other) for other in g)), None)
            if home is None:
                groups.append([rep])
            else:
                home.append(rep)
        for g in groups:
            first = min(eid.at[r.row] for r in g)
            hid = hashlib.sha1(first.encode()).hexdigest()[:16]
            for r in g:
                ids.at[r.row] = hid
    return ids


def _country_place_ids(events: pd.DataFrame) -> set[str]:
    """Place ids that stand for a whole country: a country-level event place has the country's centre."""
    if "place_kind" in events:
        return set(events.loc[events["place_kind"] == "country", "place_id"].dropna().astype(str))
    return set()
