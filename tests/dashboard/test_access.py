"""Access settings: off locally, fail closed when hosted without a gate, password compared in constant time."""

from __future__ import annotations

import pytest

from kzdash.dashboard.access import decide, password_matches, read_secrets, settings

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
