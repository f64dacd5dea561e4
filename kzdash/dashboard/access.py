"""Who may see the dashboard and whether it may change anything: pure settings for hosted use.

Locally nothing is gated and everything is allowed. A hosted link is set up through environment
variables and Streamlit's `secrets.toml` (section `[kzdash]`; env vars win):

    KZDASH_MODE       / mode       "local" (default) or "hosted"
    KZDASH_READ_ONLY  / read_only  true/false; default: true when hosted. Read-only offers no build or upload.
    KZDASH_GATE       / gate       "off", "password" or "oidc"; default: "password" when a password is set,
                                   else "off" locally; hosted with no gate configured admits nobody
    KZDASH_PASSWORD   / password   the shared password for gate "password"

Gate "oidc" uses Streamlit's `st.login` with the provider in the `[auth]` section; it needs
`streamlit[auth]` and a provider reachable at run time, so it is optional and never the default.
The password gate works offline. A misconfigured gate fails closed: nobody sees data.
This module decides; the UI (app.py) asks it and renders the password box or login button.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

MODES = ("local", "hosted")
GATES = ("off", "password", "oidc")
OIDC_KEYS = ("redirect_uri", "cookie_secret")  # Streamlit's shared [auth] settings; a provider adds its own
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Access:
    """The resolved settings; `problem` is set when the gate is misconfigured (then nobody is admitted)."""

    mode: str = "local"
    read_only: bool = False
    gate: str = "off"
    password: str | None = field(default=None, repr=False)  # never printed or logged
    problem: str | None = None

    @property
    def can_build(self) -> bool:
        """Whether the browser may start a build or upload articles."""
        return not self.read_only


@dataclass(frozen=True)
class Decision:
    """Whether this session may see data, and what to tell it otherwise."""

    admitted: bool
    reason: str = ""


def read_secrets(load: Callable[[], Mapping[str, Any]]) -> Mapping[str, Any]:
    """`load()` (e.g. `lambda: st.secrets.to_dict()`), or {} when there is no secrets.toml."""
    try:
        return load()
    except FileNotFoundError:  # streamlit's StreamlitSecretNotFoundError is one
        return {}


def settings(env: Mapping[str, str], secrets: Mapping[str, Any]) -> Access:
    """Access settings from environment variables and the secrets mapping (env wins)."""
    own = secrets.get("kzdash") or {}

    def get(name: str) -> Any:
        value = env.get(f"KZDASH_{name.upper()}")
        return value if value is not None else own.get(name)

    mode = str(get("mode") or "local").strip().lower()
    if mode not in MODES:
        return Access(mode="hosted", read_only=True, gate="off", problem=f"unknown mode {mode!r}")
    try:
        read_only = _flag(get("read_only"), default=mode == "hosted")
    except ValueError as exc:
        return Access(mode=mode, read_only=True, problem=str(exc))
    password = get("password")
    password = str(password) if password not in (None, "") else None
    gate = str(get("gate") or "").strip().lower() or ("password" if password else "off")
    problem = _gate_problem(mode, gate, password, explicit=bool(get("gate")), auth=secrets.get("auth") or {})
    return Access(mode=mode, read_only=read_only, gate=gate, password=password, problem=problem)


def _flag(value: Any, *, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise ValueError(f"read_only must be true or false, not {value!r}")


def _gate_problem(mode: str, gate: str, password: str | None, *, explicit: bool, auth: Mapping) -> str | None:
    """Why the gate cannot admit anyone, or None when it is usable."""
    if gate not in GATES:
        return f"unknown gate {gate!r} (expected one of {', '.join(GATES)})"
    if gate == "password" and not password:
        return "gate 'password' without a password: set [kzdash] password in secrets.toml"
    if gate == "oidc" and not all(auth.get(k) for k in OIDC_KEYS):
        return "gate 'oidc' needs an [auth] section with redirect_uri, cookie_secret and a provider in secrets.toml"
    if mode == "hosted" and gate == "off" and not explicit:
        return "hosted mode needs an access gate: set [kzdash] password, or gate = 'off' for a public link"
    return None


def password_matches(given: str, expected: str | None) -> bool:
    """Constant-time comparison (on bytes, so any Unicode password works)."""
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def decide(access: Access, *, unlocked: bool = False, logged_in: bool = False) -> Decision:
    """Whether a session may see data: `unlocked` = gave the password, `logged_in` = st.user.is_logged_in."""
    if access.problem:
        return Decision(False, f"Access is not configured: {access.problem}.")
    if access.gate == "off":
        return Decision(True)
    if access.gate == "password":
        return Decision(unlocked, "" if unlocked else "Enter the password to see the dashboard.")
    return Decision(logged_in, "" if logged_in else "Log in to see the dashboard.")
