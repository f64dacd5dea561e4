"""Every page under AppTest, opened by its own URL: it renders, a sidebar filter changes what it shows,
the address bar follows, and the same address reopens the same view. The build is the bundled
sample plus one hostile article whose text must reach the page as text."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAGES = ["overview", "map", "timeline", "stances", "articles", "data", "briefing"]
HOSTILE = ("Almaty <script>alert('x')</script> **bold** <b>html</b> [link](javascript:alert(1)) $x^2$\n\n"
           "Protesters gathered in Almaty on 5 January 2022, the president of Kazakhstan said. "
           "<img src=x onerror=alert(1)> # not a heading\n")


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory) -> Path:
    from kzdash.pipeline.build import build

    src = tmp_path_factory.mktemp("pages_in") / "articles"
    shutil.copytree(ROOT / "data" / "articles", src)
    (src / "hostile.txt").write_text(HOSTILE, encoding="utf-8")
    out = tmp_path_factory.mktemp("pages_out") / "build"
    build(src, out, progress=False)
    return out


@pytest.fixture(autouse=True)
def _use_build(build_dir: Path, monkeypatch) -> None:
    from kzdash import ui

    monkeypatch.setenv("KZDASH_BUILD", str(build_dir))
    monkeypatch.setattr(ui, "_SHARED", {})  # each test starts with no failures counted


def open_page(page: str, params: dict | None = None) -> AppTest:
    """As a browser opening /<page>?<params> directly."""
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params = dict(params or {})
    if page != "overview":
        at.switch_page(f"pages/{page}.py")
    return at.run()


def snapshot(at: AppTest) -> tuple:
    """What a page shows, in a comparable form (charts left out)."""
    return (tuple(t.value for t in at.title), tuple((m.label, m.value) for m in at.metric),
            tuple(h.proto.body for h in at.html if "kz-" in h.proto.body),
            tuple(d.value.shape for d in at.dataframe), tuple(m.value for m in at.markdown))


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_filters_and_round_trips(page: str) -> None:
    at = open_page(page)
    assert not at.exception, at.exception
    assert at.title, "every page has a title"
    assert [w.key for w in at.sidebar.multiselect][:2] == ["flt_outlets", "flt_languages"]  # the shared sidebar
    before = snapshot(at)
    at.sidebar.multiselect(key="flt_languages").set_value(["sq"]).run()
    assert not at.exception, at.exception
    assert at.query_params.get("lang") == "sq"
    after = snapshot(at)
    assert after != before, f"the language filter changed nothing on {page}"
    again = open_page(page, at.query_params)
    assert not again.exception
    assert again.sidebar.multiselect(key="flt_languages").value == ["sq"]
    assert snapshot(again) == after
    assert again.query_params == at.query_params


def test_text_and_date_filters_reach_the_url() -> None:
    at = open_page("timeline")
    at.sidebar.text_input(key="flt_text").set_value("Zhanaozen").run()
    assert at.query_params.get("q") == "Zhanaozen"
    assert len(at.dataframe[0].value) == 1  # one happening mentions it
    at.sidebar.date_input(key="flt_start").set_value(pd.Timestamp("2022-02-01").date()).run()
    assert at.query_params.get("from") == "2022-02-01" and len(at.dataframe[0].value) == 0
    at.sidebar.button[0].click().run()  # reset
    assert "q" not in at.query_params and "from" not in at.query_params


def test_junk_in_the_url_still_opens() -> None:
    at = open_page("stances", {"from": "yesterday", "lang": "<b>", "holder": "'; drop", "outlet": "Nobody"})
    assert not at.exception
    assert at.query_params == {"outlet": "Nobody"}
    assert at.sidebar.multiselect(key="flt_outlets").value == ["Nobody"]


def test_hostile_article_is_shown_as_text(build_dir: Path) -> None:
    arts = pd.read_parquet(build_dir / "articles.parquet")
    aid = arts.loc[arts["source"] == "hostile.txt", "article_id"].iloc[0]
    at = open_page("articles", {"article": aid})
    assert not at.exception
    reader = [h.proto.body for h in at.html if h.proto.body.startswith("<div class=\"kz-reader\"")]
    assert len(reader) == 1
    body = reader[0]
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body and "<script" not in body
    assert "**bold**" in body and "&lt;b&gt;html&lt;/b&gt;" in body and "<img" not in body
    assert '<mark class="kz-place"' in body  # Almaty is still highlighted
    for md in at.markdown:  # nothing of the article went through Markdown
        assert "alert" not in md.value


def test_map_selection_lists_evidence(build_dir: Path) -> None:
    places = pd.read_parquet(build_dir / "places.parquet")
    pid = places.loc[places["name"] == "Zhanaozen", "place_id"].iloc[0]
    at = open_page("map", {"pick": pid})
    assert not at.exception
    assert at.pills(key="view_pick").value == pid
    quotes = [h.proto.body for h in at.html if "kz-quote" in h.proto.body]
    assert quotes and any("زاناوزين" in q for q in quotes)
    other = places.loc[places["name"] == "Aktau", "place_id"].iloc[0]
    at.pills(key="view_pick").set_value(other).run()
    assert at.query_params.get("pick") == other
    assert any("أكتاو" in h.proto.body for h in at.html if "kz-quote" in h.proto.body)


def test_the_seven_places_lead_to_their_evidence(build_dir: Path) -> None:
    places = pd.read_parquet(build_dir / "places.parquet")
    at = open_page("map")
    shown = at.pills(key="view_pick").options  # the labels on the chips
    ids = dict(zip(places["name"], places["place_id"], strict=False))
    for name in ["Almaty", "Zhanaozen", "Aktau", "Astana", "Upper Lars", "Donetsk", "Luhansk"]:
        assert name in shown, name
        at.pills(key="view_pick").set_value(ids[name]).run()
        assert not at.exception and at.query_params.get("pick") == ids[name]
        assert any(m.value == f"Evidence: {name}" for m in at.subheader), name
        marked = [h.proto.body for h in at.html if "kz-quote" in h.proto.body and "<mark" in h.proto.body]
        surfaces = places.loc[places["place_id"] == ids[name], "surface"]
        assert any(f">{s}</mark>" in q for q in marked for s in surfaces), name


def test_briefing_steps_through_saved_views() -> None:
    from kzdash.dashboard.briefing import load_views

    views = load_views()
    assert len(views) >= 3
    at = open_page("briefing")
    assert at.query_params.get("view") == "1"  # opened without a view: the first, with its saved filters
    assert views[0].title in at.title[0].value
    seen = [at.title[0].value]
    for n in (2, 3):
        next(b for b in at.button if b.label == "Next").click().run()
        assert not at.exception
        assert at.query_params.get("view") == str(n)
        assert views[n - 1].title in at.title[0].value
        seen.append(at.title[0].value)
        expected = views[n - 1].filters.replace(slide=n).to_query_params()
        assert at.query_params == {k: v if isinstance(v, str) else v[0] if len(v) == 1 else v
                                   for k, v in expected.items()}
    assert len(set(seen)) == 3
    at.sidebar.multiselect(key="flt_languages").set_value(["ar"]).run()  # a live change keeps the place
    assert at.query_params.get("view") == "3" and at.query_params.get("lang") == "ar"
    next(b for b in at.button if b.label == "Previous").click().run()
    assert at.query_params.get("view") == "2" and "lang" not in at.query_params

def test_hosted_link_shows_nothing_before_the_right_password(monkeypatch) -> None:
    monkeypatch.setenv("KZDASH_MODE", "hosted")
    monkeypatch.setenv("KZDASH_PASSWORD", "a long shared passphrase")
    at = AppTest.from_file(APP, default_timeout=90).run()
    assert not at.exception, at.exception
    assert not at.metric and not at.dataframe  # no data before the password
    at.text_input[0].input("wrong").run()
    assert not at.metric and not at.dataframe and not at.session_state["kzdash_unlocked"]
    at.text_input[0].input("a long shared passphrase").run()
    assert not at.exception, at.exception
    assert at.metric, "the right password opens the dashboard"


# --- the password gate against guessing: limits, expiry, audit log --------------------------------

PASSPHRASE = "a long shared passphrase"


class Clock:
    """The gate's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def guarded(tmp_path: Path, monkeypatch) -> SimpleNamespace:
    """A hosted link with the password gate; the test sets the clock and the client's address."""
    from kzdash import ui

    monkeypatch.setenv("KZDASH_MODE", "hosted")
    monkeypatch.setenv("KZDASH_PASSWORD", PASSPHRASE)
    monkeypatch.setenv("KZDASH_AUDIT_LOG", str(tmp_path / "access.jsonl"))
    state = SimpleNamespace(clock=Clock(), peer="203.0.113.7", log=tmp_path / "access.jsonl")
    monkeypatch.setattr(ui, "_clock", state.clock)
    monkeypatch.setattr(ui, "_request_origin", lambda: (state.peer, []))
    return state


def page_text(at: AppTest) -> str:
    """Everything the page sends to the browser, as text."""
    return "\n".join(str(node.proto) for node in at._tree if getattr(node, "proto", None) is not None)


def log_entries(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def no_data(at: AppTest) -> bool:
    return not at.exception and not at.metric and not at.dataframe and not at.sidebar.multiselect


def test_fifty_wrong_passwords_from_one_client(guarded: SimpleNamespace) -> None:
    """A guesser who waits exactly as long as told: the waits grow, the lockout engages, nothing leaks."""
    at = AppTest.from_file(APP, default_timeout=90).run()
    guesses = [f"guess number {n} of fifty" for n in range(1, 51)]
    seen = []  # (attempt, outcome, wait) as the log has them
    for n, guess in enumerate(guesses, 1):
        at.text_input[0].input(guess).run()
        assert no_data(at), n
        text = page_text(at)
        assert guess not in text and PASSPHRASE not in text
        assert at.session_state["kzdash_password"] == ""  # not kept in the session either
        entry = log_entries(guarded.log)[-1]
        seen.append((n, entry["outcome"], entry.get("wait_s", 0)))
        if entry["outcome"] == "refused":  # told to wait: it tries again right after the wait
            assert "Not checked" in at.error[0].value
            guarded.clock.now += entry["wait_s"]
        elif entry["wait_s"]:
            assert ("wait" in at.error[0].value) or ("locked out" in at.error[0].value)
    failures = [(n, wait) for n, outcome, wait in seen if outcome != "refused"]
    assert [wait for _, wait in failures[:10]] == [0, 0, 0, 2, 4, 8, 16, 32, 60, 900]  # grows, then the lockout
    assert [outcome for _, outcome, _ in seen[:16]] == ["failed"] * 4 + ["refused", "failed"] * 5 + ["refused",
                                                                                                     "locked"]
    assert all(outcome in ("refused", "locked") for _, outcome, _ in seen[16:])  # each later miss locks again
    entries = log_entries(guarded.log)
    assert len(entries) == 50 and {e["client"] for e in entries} == {"203.0.113.7"}
    assert len({e["session"] for e in entries}) == 1

    # the right password from the locked-out address is not even checked, in this tab or a new one
    at.text_input[0].input(PASSPHRASE).run()
    assert no_data(at) and log_entries(guarded.log)[-1]["reason"] == "lockout"
    other_tab = AppTest.from_file(APP, default_timeout=90).run()
    assert no_data(other_tab) and "locked out" in other_tab.error[0].value  # told before trying
    # a colleague at another address gets in, and sees the log on the Data page
    guarded.peer = "198.51.100.2"
    colleague = AppTest.from_file(APP, default_timeout=90).run()
    assert not colleague.error
    colleague.text_input[0].input(PASSPHRASE).run()
    assert not colleague.exception and colleague.metric, "the right password from another address opens it"
    last = log_entries(guarded.log)[-1]
    assert (last["client"], last["outcome"]) == ("198.51.100.2", "admitted")
    colleague.switch_page("pages/data.py").run()
    assert not colleague.exception
    shown = next(d.value for d in colleague.dataframe if "outcome" in d.value.columns)
    assert len(shown) == 50 and shown.iloc[0]["outcome"] == "admitted" and shown.iloc[0]["client"] == "198.51.100.2"
    assert set(shown["outcome"]) == {"admitted", "failed", "locked", "refused"}  # the last 50 of 52
    logged = "".join(p.read_text(encoding="utf-8") for p in guarded.log.parent.glob("access.jsonl*"))
    for secret in [PASSPHRASE, *guesses]:
        assert secret not in logged and secret not in page_text(colleague)


def test_idle_and_old_sessions_are_asked_again(guarded: SimpleNamespace) -> None:
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.text_input[0].input(PASSPHRASE).run()
    assert at.metric
    guarded.clock.now += 3600
    assert at.run().metric  # an hour without a click: still in (idle limit 2 h)
    guarded.clock.now += 2 * 3600 + 1
    at.run()
    assert no_data(at) and at.text_input, "idle past the limit: the password box again"
    assert any("idle for more than 2 h" in i.value for i in at.info)
    assert log_entries(guarded.log)[-1]["outcome"] == "expired"
    at.text_input[0].input(PASSPHRASE).run()
    assert at.metric
    for _ in range(11):  # busy all day: a click every hour
        guarded.clock.now += 3600
        assert at.run().metric
    guarded.clock.now += 3600
    at.run()
    assert no_data(at) and any("more than 12 h ago" in i.value for i in at.info)
    assert [e["reason"] for e in log_entries(guarded.log) if e["outcome"] == "expired"] == ["idle", "max_age"]


def test_hosted_link_without_a_gate_admits_nobody(monkeypatch) -> None:
    monkeypatch.setenv("KZDASH_MODE", "hosted")
    monkeypatch.delenv("KZDASH_PASSWORD", raising=False)
    at = AppTest.from_file(APP, default_timeout=90).run()
    assert not at.exception, at.exception
    assert not at.metric and not at.dataframe and not at.text_input


# --- adding articles from the Data page ---------------------------------------------------------

GOOD_UPLOAD = ("Протестующие собрались в Алматы 5 января 2022 года, заявил президент Казахстана.\n\n"
               "Казахстан не признает независимость ДНР и ЛНР, сказал Токаев.\n").encode()


@pytest.fixture
def own_build(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    """A build of its own (the upload tests change it), made from a copy of the sample."""
    from kzdash.pipeline.build import build

    src, out = tmp_path / "articles", tmp_path / "build"
    shutil.copytree(ROOT / "data" / "articles", src)
    build(src, out, progress=False)
    monkeypatch.setenv("KZDASH_BUILD", str(out))
    return src, out


def _upload(files: list[tuple[str, bytes, str]]) -> AppTest:
    at = open_page("data")
    at.file_uploader(key="uploads").set_value(files)
    next(b for b in at.button if b.label == "Add and rebuild").click().run()
    assert not at.exception, at.exception
    return at


def test_upload_sets_bad_files_aside_and_builds_the_good_one(own_build: tuple[Path, Path]) -> None:
    src, out = own_build
    at = _upload([("almaty.txt", GOOD_UPLOAD, "text/plain"),
                  ("tool.exe", b"MZ\x90\x00" * 40, "application/octet-stream"),
                  ("latin1.txt", "Kazakhstan a déclaré".encode("latin-1") + b"\xff\xfe\x00", "text/plain"),
                  ("empty.txt", b"", "text/plain")])
    warnings = [w.value for w in at.warning]
    for name in ("tool.exe", "latin1.txt", "empty.txt"):  # each named, with its reason
        assert any(w.startswith(f"Set aside {name}: ") and len(w) > len(f"Set aside {name}: ") for w in warnings), name
    assert any("Added 1 file(s)" in s.value for s in at.success)
    assert len(pd.read_parquet(out / "articles.parquet")) == 6
    assert [p.name.split("-")[0] for p in (src / "inbox").glob("*.txt")] == ["almaty"]  # bad files never stored
    refused = next(d.value for d in at.dataframe if set(d.value.columns) == {"source", "reason"})
    assert set(refused["source"]) == {"tool.exe", "latin1.txt", "empty.txt"}
    assert at.metric[0].value == "6"  # the page shows the new tables


def test_a_failed_rebuild_keeps_the_last_good_build(own_build: tuple[Path, Path], monkeypatch) -> None:
    from kzdash.pipeline import store

    _, out = own_build
    before = {f.name: f.read_bytes() for f in store.table_files(out, "articles")}

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(store, "_write_duckdb", disk_full)
    at = _upload([("almaty.txt", GOOD_UPLOAD, "text/plain")])
    assert any("last good build is kept" in e.value for e in at.error)
    assert {f.name: f.read_bytes() for f in store.table_files(out, "articles")} == before
    assert at.metric[0].value == "5"


@pytest.mark.parametrize("env", [{"KZDASH_READ_ONLY": "true"},
                                 {"KZDASH_MODE": "hosted", "KZDASH_PASSWORD": "a long shared passphrase"}])
def test_read_only_offers_no_upload_and_no_build(env: dict, monkeypatch) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    at = AppTest.from_file(APP, default_timeout=90)
    at.switch_page("pages/data.py")
    at.run()
    if at.text_input and at.text_input[0].proto.type == at.text_input[0].proto.PASSWORD:
        at.text_input[0].input("a long shared passphrase").run()
    assert not at.exception, at.exception
    assert at.metric, "the page shows its data"
    assert not at.get("file_uploader")
    assert not [b for b in at.button if "build" in b.label.lower()]
    assert any("read-only" in c.value for c in at.caption)
    hosted = env.get("KZDASH_MODE") == "hosted"  # the access log is shown to admitted users of a hosted link
    assert any(s.value == "Access log" for s in at.subheader) is hosted


def test_articles_page_says_why_each_row_was_made(build_dir: Path) -> None:
    arts = pd.read_parquet(build_dir / "articles.parquet")
    stances = pd.read_parquet(build_dir / "stances.parquet")
    aid = stances["article_id"].value_counts().index[0]  # the article with the most stances
    at = open_page("articles", {"article": aid})
    assert not at.exception
    events_df, stances_df, places_df = (d.value for d in at.dataframe[-3:])
    assert list(stances_df.columns)[0] == "why" and list(events_df.columns)[0] == "why"
    assert all("holder:" in w or "welcomed party" in w for w in stances_df["why"])  # every holder has its rule
    assert all(w.startswith("matched «") for w in places_df["why"])
    at.button(key="kz-trail").click().run()
    assert not at.exception
    trail = at.code[-1].value
    source = arts.loc[arts["article_id"] == aid, "source"].iloc[0]
    assert trail.startswith(f"{source}: language ")
    assert trail.count("=> stance: ") == len(stances[stances["article_id"] == aid])


def test_confident_only_switch_is_in_the_url_and_its_help_quotes_the_measurement() -> None:
    at = open_page("stances")
    toggle = at.sidebar.toggle(key="flt_confident")
    assert "docs/confidence.md" in toggle.proto.help and "Keeps stances" in toggle.proto.help
    toggle.set_value(True).run()
    assert not at.exception
    assert at.query_params.get("sure") in ("1", ["1"])
    again = open_page("stances", {"sure": "1"})
    assert again.sidebar.toggle(key="flt_confident").value is True
