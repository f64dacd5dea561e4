"""Access settings: off locally, fail closed when hosted without a gate, password compared in constant time;
the password gate's attempt limits (per client and global), session expiry and audit log."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from kzdash.dashboard.access import (
    Attempt,
    AuditLog,
    Limiter,
    Limits,
    audit_entry,
    audit_path,
    client_key,
    decide,
    duration,
    expired,
    expiry_message,
    may_review,
    password_matches,
    read_secrets,
    reviewer_matches,
    settings,
)

AUTH = {"redirect_uri": "https://kz.example/oauth2callback", "cookie_secret": "s3cr3t", "client_id": "id",
        "client_secret": "cs", "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}


def test_local_default_is_open_and_writable() -> None:
    access = settings({}, {})
    assert (access.mode, access.gate, access.read_only, access.can_build) == ("local", "off", False, True)
    assert decide(access).admitted


def test_hosted_without_a_gate_admits_nobody_and_is_read_only() -> None:
    access = settings({"KZDASH_MODE": "hosted"}, {})
    assert access.read_only and not access.can_build
    decision = decide(access, unlocked=True, logged_in=True)
    assert not decision.admitted and "needs an access gate" in decision.reason


def test_hosted_public_link_must_be_explicit() -> None:
    assert decide(settings({"KZDASH_MODE": "hosted", "KZDASH_GATE": "off"}, {})).admitted


def test_password_gate_from_secrets() -> None:
    access = settings({}, {"kzdash": {"mode": "hosted", "password": "ключ-42"}})
    assert access.gate == "password" and access.read_only
    assert "ключ" not in repr(access)
    assert not decide(access).admitted
    assert not decide(access, unlocked=False, logged_in=True).admitted  # a login is not the password
    assert decide(access, unlocked=True).admitted


@pytest.mark.parametrize(("given", "ok"), [("ключ-42", True), ("ключ-43", False), ("", False), ("ключ-42 ", False)])
def test_password_matches(given: str, ok: bool) -> None:
    assert password_matches(given, "ключ-42") is ok


def test_no_password_never_matches() -> None:
    assert not password_matches("", None) and not password_matches("x", "")


def test_env_wins_over_secrets() -> None:
    access = settings({"KZDASH_READ_ONLY": "false", "KZDASH_PASSWORD": "env-pw"},
                      {"kzdash": {"mode": "hosted", "read_only": True, "password": "file-pw"}})
    assert not access.read_only and access.password == "env-pw"


@pytest.mark.parametrize(("env", "secrets", "problem"), [
    ({"KZDASH_GATE": "password"}, {}, "without a password"),
    ({"KZDASH_GATE": "oidc"}, {}, "[auth] section"),
    ({"KZDASH_GATE": "basic"}, {}, "unknown gate"),
    ({"KZDASH_MODE": "public"}, {}, "unknown mode"),
    ({"KZDASH_READ_ONLY": "maybe"}, {}, "read_only must be"),
])
def test_misconfiguration_fails_closed(env: dict, secrets: dict, problem: str) -> None:
    access = settings(env, secrets)
    assert problem in (access.problem or "")
    assert not decide(access, unlocked=True, logged_in=True).admitted


def test_oidc_gate_needs_a_login() -> None:
    access = settings({"KZDASH_GATE": "oidc"}, {"auth": AUTH})
    assert access.problem is None
    assert not decide(access, unlocked=True).admitted
    assert decide(access, logged_in=True).admitted


def test_read_secrets_without_a_file() -> None:
    def missing():
        raise FileNotFoundError("No secrets found")

    assert read_secrets(missing) == {}
    assert read_secrets(lambda: {"kzdash": {"gate": "off"}}) == {"kzdash": {"gate": "off"}}


# --- guarding the password gate: limits, expiry, audit log ----------------------------------------

RIGHT = "ключ-42"


def _try(limiter: Limiter, client: str, now: float, password: str) -> Attempt:
    return limiter.attempt(client, now, lambda: password_matches(password, RIGHT))


@pytest.mark.parametrize(("failures", "wait"), [(1, 0), (3, 0), (4, 2), (5, 4), (6, 8), (7, 16), (8, 32), (9, 60),
                                                (30, 60), (10_000, 60)])
def test_delay_grows_then_caps(failures: int, wait: float) -> None:
    assert Limits().delay(failures) == wait


# (time, password, outcome, failures, wait, reason): one client, default limits
SCRIPT = [
    (0, "a", "failed", 1, 0, ""),
    (1, "b", "failed", 2, 0, ""),
    (2, "c", "failed", 3, 0, ""),
    (3, "d", "failed", 4, 2, ""),  # the first wait
    (4, RIGHT, "refused", 4, 1, "wait"),  # even the right password is not checked before the wait is over
    (5, "e", "failed", 5, 4, ""),
    (9, "f", "failed", 6, 8, ""),
    (17, "g", "failed", 7, 16, ""),
    (33, "h", "failed", 8, 32, ""),
    (65, "i", "failed", 9, 60, ""),
    (125, "j", "locked", 10, 900, ""),  # the tenth in a row locks the address out
    (500, RIGHT, "refused", 10, 525, "lockout"),
    (1025, "k", "locked", 11, 900, ""),  # after the lockout, each miss locks again
    (1925, RIGHT, "admitted", 0, 0, ""),
    (1926, "l", "failed", 1, 0, ""),  # a success resets the count
]


def test_one_client_waits_then_is_locked_out() -> None:
    limiter = Limiter()
    for now, password, outcome, failures, wait, reason in SCRIPT:
        got = _try(limiter, "203.0.113.7", now, password)
        assert (got.outcome, got.failures, got.wait, got.reason) == (outcome, failures, wait, reason), now


def test_clients_are_counted_apart_and_failures_are_forgotten() -> None:
    limiter = Limiter()
    for n in range(10):
        _try(limiter, "203.0.113.7", n * 100, "wrong")
    assert limiter.pending("203.0.113.7", 1000).reason == "lockout"
    assert limiter.pending("198.51.100.2", 1000) is None
    assert _try(limiter, "198.51.100.2", 1000, RIGHT).outcome == "admitted"
    # a day after its last failure (and past the lockout) the address starts afresh
    assert _try(limiter, "203.0.113.7", 900 + 86_400, "wrong").failures == 1


def test_pending_records_nothing() -> None:
    limiter = Limiter(Limits(free_attempts=0))
    _try(limiter, "c", 0, "wrong")
    for _ in range(5):
        assert limiter.pending("c", 1).wait == 1
    assert _try(limiter, "c", 2, "wrong").failures == 2


def test_global_throttle_stops_guessing_spread_over_addresses_but_not_known_colleagues() -> None:
    limits = Limits(global_failures=20, global_window=600)
    limiter = Limiter(limits)
    assert _try(limiter, "192.0.2.1", 0, RIGHT).outcome == "admitted"  # a colleague came in yesterday
    for n in range(20):  # one guess from each of 20 addresses: no per-client limit is reached
        assert _try(limiter, f"198.51.100.{n}", 100 + n, "guess").outcome == "failed"
    refused = _try(limiter, "198.51.100.99", 130, RIGHT)
    assert (refused.outcome, refused.reason, refused.wait) == ("refused", "global", 570)  # until 100 + 600
    assert _try(limiter, "192.0.2.1", 130, RIGHT).outcome == "admitted"  # the known colleague passes
    # it lifts by itself: one new try each time the oldest failure leaves the window
    assert _try(limiter, "198.51.100.99", 700, "guess").outcome == "failed"
    assert _try(limiter, "198.51.100.98", 700, "guess").reason == "global"
    assert _try(limiter, "198.51.100.98", 701, RIGHT).outcome == "admitted"
    assert _try(limiter, "203.0.113.50", 1400, RIGHT).outcome == "admitted"  # all clear once guessing stops


def test_global_throttle_off() -> None:
    limiter = Limiter(Limits(global_failures=0))
    for n in range(500):
        assert _try(limiter, f"10.0.{n // 250}.{n % 250}", n, "guess").outcome == "failed"


def test_memory_is_bounded_against_rotating_addresses() -> None:
    limiter = Limiter(Limits(max_clients=100, max_known=10, global_failures=0))
    for n in range(5_000):
        _try(limiter, f"10.{n // 65_536}.{n // 256 % 256}.{n % 256}", n, "guess")
    assert len(limiter) == 100
    for n in range(50):
        _try(limiter, f"172.16.0.{n}", 10_000 + n, RIGHT)
    assert len(limiter._known) == 10
    assert len(limiter._recent) <= 1


def test_forgotten_clients_leave_first() -> None:
    limiter = Limiter(Limits(max_clients=3, global_failures=0))
    for n, who in enumerate(("a", "b", "c")):  # yesterday's typos
        _try(limiter, who, n, "x")
    _try(limiter, "d", 100_000, "x")  # the table is full: every forgotten entry goes, not just the oldest
    assert list(limiter._clients) == ["d"]
    for who in ("e", "f", "g"):  # all live: the least recently failed goes
        _try(limiter, who, 100_001, "x")
    assert list(limiter._clients) == ["e", "f", "g"]


def test_limiter_is_thread_safe() -> None:
    limiter = Limiter(Limits(free_attempts=10_000, lockout_after=10_000, global_failures=0))

    def guess() -> None:
        for _ in range(200):
            _try(limiter, "c", 0, "wrong")

    threads = [threading.Thread(target=guess) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert limiter.pending("c", 0) is None and _try(limiter, "c", 0, "wrong").failures == 1601


@pytest.mark.parametrize(("peer", "forwarded", "proxies", "key"), [
    (None, [], 0, "local"),  # localhost: Streamlit reports no address
    ("203.0.113.7", [], 0, "203.0.113.7"),
    ("203.0.113.7", ["198.51.100.2"], 0, "203.0.113.7"),  # the header is ignored unless trusted
    ("10.0.0.1", ["198.51.100.2"], 1, "198.51.100.2"),  # one proxy: the address it added
    ("10.0.0.1", ["192.0.2.66, 198.51.100.2"], 1, "198.51.100.2"),  # what the client sent itself does not count
    ("10.0.0.1", ["192.0.2.66", "198.51.100.2"], 1, "198.51.100.2"),  # the header given twice
    ("10.0.0.1", ["192.0.2.66, 198.51.100.2, 10.0.0.9"], 2, "198.51.100.2"),  # two proxies in a row
    ("10.0.0.1", ["198.51.100.2"], 2, "10.0.0.1"),  # fewer hops than proxies: it did not come through them
    ("10.0.0.1", ["198.51.100.2:4431"], 1, "198.51.100.2"),
    ("10.0.0.1", ["[2001:db8:1:2::5]:443"], 1, "2001:db8:1:2::/64"),
    ("10.0.0.1", ["<script>alert(1)</script>"], 1, "10.0.0.1"),  # junk: the proxy's address, never the text
    ("10.0.0.1", ["x11.2.3.4"], 1, "10.0.0.1"),
    ("10.0.0.1", [""], 1, "10.0.0.1"),
    ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", [], 0, "2001:db8:1:2::/64"),  # a /64 is one client
    ("::ffff:203.0.113.7", [], 0, "203.0.113.7"),
    ("fe80::1%eth0", [], 0, "fe80::/64"),
    ("not an address", [], 0, "unknown"),
])
def test_client_key(peer, forwarded, proxies, key) -> None:
    assert client_key(peer, forwarded, proxies=proxies) == key


@pytest.mark.parametrize(("value", "proxies"), [(None, 0), ("false", 0), ("true", 1), ("1", 1), (True, 1), ("2", 2),
                                                (3, 3), ("0", 0)])
def test_trust_proxy_setting(value, proxies: int) -> None:
    own = {"password": RIGHT} | ({"trust_proxy": value} if value is not None else {})
    assert settings({}, {"kzdash": own}).trust_proxy == proxies


@pytest.mark.parametrize(("admitted", "seen", "now", "why"), [
    (0, 0, 7199, ""),
    (0, 0, 7200, "idle"),  # two hours without a rerun
    (0, 40_000, 43_199, ""),
    (0, 43_000, 43_200, "max_age"),  # active all day, but twelve hours is the most
    (0, 0, 10**9, "max_age"),
])
def test_expiry(admitted: float, seen: float, now: float, why: str) -> None:
    access = settings({}, {})
    assert expired(admitted, seen, now, idle=access.idle, max_age=access.max_age) == why
    assert expired(admitted, seen, now, idle=0, max_age=0) == ""


def test_expiry_message() -> None:
    access = settings({"KZDASH_IDLE_MINUTES": "30"}, {})
    assert "idle for more than 30 min" in expiry_message("idle", access)
    assert "more than 12 h ago" in expiry_message("max_age", access)


@pytest.mark.parametrize(("seconds", "text"), [(0, "1 s"), (0.2, "1 s"), (1.5, "2 s"), (59, "59 s"), (60, "1 min"),
                                               (61, "2 min"), (900, "15 min"), (3600, "1 h"), (3900, "1 h 5 min")])
def test_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_guard_settings_defaults_and_overrides() -> None:
    access = settings({}, {"kzdash": {"password": RIGHT}})
    assert access.limits == Limits() and access.trust_proxy == 0
    assert (access.idle, access.max_age, access.audit_log, access.audit_max_bytes) == (7200, 43_200, None, 1_000_000)
    access = settings({"KZDASH_LOCKOUT_MINUTES": "30", "KZDASH_TRUST_PROXY": "yes", "KZDASH_MAX_HOURS": "0"},
                      {"kzdash": {"password": RIGHT, "free_attempts": 5, "lockout_after": 8, "global_failures": 0,
                                  "global_minutes": 5, "idle_minutes": 45, "audit_log": "/var/log/kz.jsonl",
                                  "audit_max_mb": 0.5, "lockout_minutes": 60}})
    assert access.limits == Limits(free_attempts=5, lockout_after=8, lockout=1800, global_failures=0,
                                   global_window=300)
    assert access.trust_proxy == 1 and (access.idle, access.max_age) == (2700, 0)
    assert (access.audit_log, access.audit_max_bytes) == ("/var/log/kz.jsonl", 500_000)


@pytest.mark.parametrize(("name", "value"), [("free_attempts", "2.5"), ("lockout_after", "0"), ("idle_minutes", "-1"),
                                             ("lockout_minutes", "soon"), ("trust_proxy", "perhaps"),
                                             ("trust_proxy", "1.5"),
                                             ("max_hours", "nan"), ("audit_max_mb", "0")])
def test_bad_guard_setting_fails_closed(name: str, value: str) -> None:
    access = settings({f"KZDASH_{name.upper()}": value}, {"kzdash": {"password": RIGHT}})
    assert name in (access.problem or "")
    assert not decide(access, unlocked=True).admitted


def test_audit_path_beside_the_build_folder(tmp_path: Path) -> None:
    assert audit_path(settings({}, {}), tmp_path / "build" / "sample") == tmp_path / "build" / "sample.access.jsonl"
    own = settings({"KZDASH_AUDIT_LOG": str(tmp_path / "logs" / "kz.jsonl")}, {})
    assert audit_path(own, tmp_path / "build") == tmp_path / "logs" / "kz.jsonl"


def test_audit_entry_holds_no_password() -> None:
    failed = audit_entry(0, "203.0.113.7", Attempt("failed", 4, 2.0), session="ab12cd34")
    assert failed == {"time": "1970-01-01T00:00:00+00:00", "client": "203.0.113.7", "outcome": "failed",
                      "failures": 4, "wait_s": 2.0, "session": "ab12cd34"}
    assert audit_entry(60, "local", Attempt("admitted")) == {"time": "1970-01-01T00:01:00+00:00", "client": "local",
                                                             "outcome": "admitted"}
    assert audit_entry(0, "local", None, outcome="expired", note="idle")["reason"] == "idle"


def test_audit_log_rotates_by_size_and_reads_its_tail(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a" / "access.jsonl", max_bytes=2_000, keep=2)
    for n in range(200):
        log.write({"n": n, "client": "198.51.100.2", "outcome": "failed"})
    files = log.files()
    assert [p.name for p in files] == ["access.jsonl", "access.jsonl.1", "access.jsonl.2"]
    assert all(p.stat().st_size <= 2_000 for p in files)
    assert [e["n"] for e in log.tail(5)] == [195, 196, 197, 198, 199]
    first_kept = json.loads(files[-1].read_text().splitlines()[0])["n"]
    assert [e["n"] for e in log.tail(1_000)] == list(range(first_kept, 200))  # across the rotated files
    assert [e["n"] for e in log.tail(40, chunk=100)][-1] == 199  # a cut first line is skipped
    assert AuditLog(tmp_path / "none.jsonl").tail(10) == []


@pytest.mark.parametrize("attempt", [Attempt("failed", 1), Attempt("failed", 4, 2), Attempt("locked", 10, 900),
                                     Attempt("refused", 4, 1.5, "wait"), Attempt("refused", 10, 600, "lockout"),
                                     Attempt("refused", 0, 30, "global")])
def test_messages_say_what_to_do(attempt: Attempt) -> None:
    text = attempt.message
    assert text and (attempt.wait == 0 or any(u in text for u in (" s", " min", " h")))
    assert ("Wrong password" in text) == (attempt.outcome != "refused")


# --- the reviewer permission ---------------------------------------------------------------------

HOSTED_RW = {"KZDASH_MODE": "hosted", "KZDASH_READ_ONLY": "false", "KZDASH_PASSWORD": "viewer-pw"}


def test_local_reviewing_is_allowed_without_any_secret() -> None:
    access = settings({}, {})
    assert may_review(access, admitted=True).admitted
    assert not may_review(access, admitted=False).admitted  # a session that may not see data may not review


def test_read_only_never_reviews_even_with_the_reviewer_password() -> None:
    for env in ({"KZDASH_READ_ONLY": "true", "KZDASH_REVIEWER_PASSWORD": "rev-pw"},
                {"KZDASH_MODE": "hosted", "KZDASH_PASSWORD": "viewer-pw", "KZDASH_REVIEWER_PASSWORD": "rev-pw"}):
        access = settings(env, {})
        assert access.read_only
        decision = may_review(access, admitted=True, reviewer_unlocked=True, email="a@b.example")
        assert not decision.admitted and "read-only" in decision.reason


def test_hosted_with_a_viewer_password_only_does_not_review() -> None:
    access = settings(HOSTED_RW, {})
    assert decide(access, unlocked=True).admitted
    decision = may_review(access, admitted=True, reviewer_unlocked=True, email="a@b.example")
    assert not decision.admitted and "no reviewer password" in decision.reason
    assert not reviewer_matches("viewer-pw", access) and not reviewer_matches("", access)


def test_hosted_reviewer_password_is_a_second_secret() -> None:
    access = settings(HOSTED_RW, {"kzdash": {"reviewer_password": "рецензент-7"}})
    assert "рецензент" not in repr(access)
    assert reviewer_matches("рецензент-7", access)
    assert not reviewer_matches("viewer-pw", access) and not reviewer_matches("рецензент-8", access)
    assert not may_review(access, admitted=True).admitted
    assert "reviewer password" in may_review(access, admitted=True).reason
    assert may_review(access, admitted=True, reviewer_unlocked=True).admitted
    assert not may_review(access, admitted=False, reviewer_unlocked=True).admitted


def test_reviewer_password_equal_to_the_viewer_password_fails_closed() -> None:
    access = settings({**HOSTED_RW, "KZDASH_REVIEWER_PASSWORD": "viewer-pw"}, {})
    assert access.problem is None and decide(access, unlocked=True).admitted  # viewing is unaffected
    assert "must differ" in (access.review_problem or "")
    assert not reviewer_matches("viewer-pw", access)
    assert not may_review(access, admitted=True, reviewer_unlocked=True).admitted


@pytest.mark.parametrize(("listed", "email", "ok"), [
    ("ann@kz.example, Bob@KZ.example", "bob@kz.example", True),
    ("ann@kz.example, Bob@KZ.example", " ANN@kz.example", True),
    ("ann@kz.example", "ann@kz.example.evil", False),
    ("ann@kz.example", "nn@kz.example", False),
    ("ann@kz.example", None, False),
    (["ann@kz.example"], "ann@kz.example", True),  # a TOML list in secrets
    ("", "ann@kz.example", False),
])
def test_hosted_oidc_reviewers_list(listed, email, ok: bool) -> None:
    env = {"KZDASH_MODE": "hosted", "KZDASH_READ_ONLY": "false", "KZDASH_GATE": "oidc"}
    access = settings(env, {"auth": AUTH, "kzdash": {"reviewers": listed}})
    assert access.problem is None
    assert may_review(access, admitted=True, email=email).admitted is ok
    assert not may_review(access, admitted=False, email=email).admitted


def test_env_reviewers_win_over_secrets() -> None:
    access = settings({"KZDASH_REVIEWERS": "env@kz.example"}, {"kzdash": {"reviewers": ["file@kz.example"]}})
    assert access.reviewers == ("env@kz.example",)
