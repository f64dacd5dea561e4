"""Who may see the dashboard and whether it may change anything: pure settings for hosted use.

Locally nothing is gated and everything is allowed. A hosted link is set up through environment
variables and Streamlit's `secrets.toml` (section `[kzdash]`; env vars win):

    KZDASH_MODE       / mode       "local" (default) or "hosted"
    KZDASH_READ_ONLY  / read_only  true/false; default: true when hosted. Read-only offers no build or upload.
    KZDASH_GATE       / gate       "off", "password" or "oidc"; default: "password" when a password is set,
                                   else "off" locally; hosted with no gate configured admits nobody
    KZDASH_PASSWORD   / password   the shared password for gate "password"

Reviewing (confirm, reject, correct a row; kzdash/dashboard/reviews.py) changes what everyone sees, so it
has its own permission (`may_review`): off in read-only mode; allowed locally; when hosted it needs

    KZDASH_REVIEWER_PASSWORD / reviewer_password  a second secret, never the viewer password, or
    KZDASH_REVIEWERS         / reviewers          the emails (comma list, or a list in secrets.toml) whose
                                                  OIDC login (st.login) may review

Gate "oidc" uses Streamlit's `st.login` with the provider in the `[auth]` section; it needs
`streamlit[auth]` and a provider reachable at run time, so it is optional and never the default.
The password gate works offline. A misconfigured gate fails closed: nobody sees data.

The password gate also holds against guessing (same places, same precedence; a bad value fails closed):

    KZDASH_FREE_ATTEMPTS    / free_attempts    3    wrong passwords in a row before a client must wait
    KZDASH_LOCKOUT_AFTER    / lockout_after    10   wrong passwords in a row that lock the client out ...
    KZDASH_LOCKOUT_MINUTES  / lockout_minutes  15   ... for this long (each further miss locks it again)
    KZDASH_GLOBAL_FAILURES  / global_failures  100  wrong passwords from all clients together within ...
    KZDASH_GLOBAL_MINUTES   / global_minutes   10   ... this window, after which only clients admitted in the
                                                    last 30 days may try until the window frees (0 failures: off)
    KZDASH_TRUST_PROXY      / trust_proxy      false  true (or the number of proxies in a row): the client is the
                                                      address the (outermost) proxy added to X-Forwarded-For,
                                                      not the connection's address
    KZDASH_IDLE_MINUTES     / idle_minutes     120  an admitted session idle this long is asked again (0: never)
    KZDASH_MAX_HOURS        / max_hours        12   ... and any admitted session this old (0: never)
    KZDASH_AUDIT_LOG        / audit_log        "<build folder>.access.jsonl", beside the build folder
    KZDASH_AUDIT_MAX_MB     / audit_max_mb     1    the log is rotated at this size (3 older files kept)

The `Limiter` counts failures per client and globally; it is pure (the caller passes the time),
thread-safe and bounded in memory, and one instance serves every session of a server process.
This module decides; the UI (kzdash/ui.py) asks it and renders the password box or login button.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import math
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MODES = ("local", "hosted")
GATES = ("off", "password", "oidc")
OIDC_KEYS = ("redirect_uri", "cookie_secret")  # Streamlit's shared [auth] settings; a provider adds its own
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}
DAY = 86_400.0


@dataclass(frozen=True)
class Limits:
    """How many wrong passwords a client, and all clients together, may try (times in seconds)."""

    free_attempts: int = 3  # wrong passwords in a row before any wait
    first_delay: float = 2.0  # the wait after the first failure past the free ones; doubles with each
    max_delay: float = 60.0
    lockout_after: int = 10  # wrong passwords in a row that lock the client out
    lockout: float = 900.0
    forget_after: float = DAY  # a client's failures are forgotten this long after its last one
    global_failures: int = 100  # failures from all clients together within global_window that throttle
    global_window: float = 600.0  # new clients (0 failures: no global throttle)
    known_for: float = 30 * DAY  # a client admitted within this time passes the global throttle
    max_clients: int = 10_000  # per-client entries kept: the memory bound
    max_known: int = 1_000

    def delay(self, failures: int) -> float:
        """The wait after the `failures`-th wrong password in a row, below the lockout."""
        past = failures - self.free_attempts
        return 0.0 if past <= 0 else min(self.first_delay * 2 ** min(past - 1, 60), self.max_delay)


@dataclass(frozen=True)
class Access:
    """The resolved settings; `problem` is set when the gate is misconfigured (then nobody is admitted)."""

    mode: str = "local"
    read_only: bool = False
    gate: str = "off"
    password: str | None = field(default=None, repr=False)  # never printed or logged
    problem: str | None = None
    limits: Limits = Limits()
    trust_proxy: int = 0  # how many proxies in a row add to X-Forwarded-For (0: the header is not trusted)
    idle: float = 120 * 60.0  # seconds; 0: never
    max_age: float = 12 * 3600.0  # seconds; 0: never
    audit_log: str | None = None  # None: beside the build folder (see audit_path)
    audit_max_bytes: int = 1_000_000
    reviewer_password: str | None = field(default=None, repr=False)  # never printed or logged
    reviewers: tuple[str, ...] = ()  # lower-cased emails whose OIDC login may review
    review_problem: str | None = None  # reviewing is misconfigured: nobody may review (viewing is unaffected)

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
        read_only = _flag("read_only", get("read_only"), default=mode == "hosted")
        guard = _guard_settings(get)
    except ValueError as exc:
        return Access(mode=mode, read_only=True, problem=str(exc))
    password = get("password")
    password = str(password) if password not in (None, "") else None
    gate = str(get("gate") or "").strip().lower() or ("password" if password else "off")
    problem = _gate_problem(mode, gate, password, explicit=bool(get("gate")), auth=secrets.get("auth") or {})
    return Access(mode=mode, read_only=read_only, gate=gate, password=password, problem=problem, **guard,
                  **_review_settings(get, password))


def _review_settings(get: Callable[[str], Any], password: str | None) -> dict[str, Any]:
    """The reviewer secret and list; a reviewer password equal to the viewer's is a problem (fail closed)."""
    secret = get("reviewer_password")
    secret = str(secret) if secret not in (None, "") else None
    listed = get("reviewers")
    items = listed.split(",") if isinstance(listed, str) else list(listed or [])
    reviewers = tuple(dict.fromkeys(str(e).strip().lower() for e in items if str(e).strip()))
    problem = None
    if secret and password and hmac.compare_digest(secret.encode("utf-8"), password.encode("utf-8")):
        problem = "the reviewer password must differ from the viewer password"
    return {"reviewer_password": secret, "reviewers": reviewers, "review_problem": problem}


def _guard_settings(get: Callable[[str], Any]) -> dict[str, Any]:
    """Attempt limits, expiry and the audit log from the settings (ValueError names a bad one)."""
    base = Limits()
    free = _number("free_attempts", get("free_attempts"), base.free_attempts, integer=True)
    lockout_after = _number("lockout_after", get("lockout_after"), base.lockout_after, integer=True, least=1)
    limits = Limits(free_attempts=int(free), lockout_after=int(lockout_after),
                    lockout=60 * _number("lockout_minutes", get("lockout_minutes"), base.lockout / 60),
                    global_failures=int(_number("global_failures", get("global_failures"), base.global_failures,
                                                integer=True)),
                    global_window=60 * _number("global_minutes", get("global_minutes"), base.global_window / 60,
                                               least=1))
    audit_log = get("audit_log")
    return {"limits": limits, "trust_proxy": _proxies(get("trust_proxy")),
            "idle": 60 * _number("idle_minutes", get("idle_minutes"), Access.idle / 60),
            "max_age": 3600 * _number("max_hours", get("max_hours"), Access.max_age / 3600),
            "audit_log": str(audit_log).strip() if audit_log not in (None, "") else None,
            "audit_max_bytes": int(1_000_000 * _number("audit_max_mb", get("audit_max_mb"), 1, least=0.01))}


def _flag(name: str, value: Any, *, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise ValueError(f"{name} must be true or false, not {value!r}")


def _proxies(value: Any) -> int:
    """trust_proxy: false/true, or how many proxies in a row (true is one)."""
    if value is None or isinstance(value, bool) or str(value).strip().lower() in _TRUE | _FALSE:
        return int(_flag("trust_proxy", value, default=False))
    try:
        return int(_number("trust_proxy", value, 0, integer=True))
    except ValueError:
        raise ValueError(f"trust_proxy must be true, false or a number of proxies, not {value!r}") from None


def _number(name: str, value: Any, default: float, *, integer: bool = False, least: float = 0) -> float:
    """A setting that is a number >= `least` (a whole one when `integer`), or its default when unset."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number < least or (integer and number != int(number)):
        kind = "a whole number" if integer else "a number"
        raise ValueError(f"{name} must be {kind} of at least {least:g}, not {value!r}")
    return number


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


def reviewer_matches(given: str, access: Access) -> bool:
    """Whether `given` is the reviewer password (constant time; never when reviewing is misconfigured)."""
    return access.review_problem is None and password_matches(given, access.reviewer_password)


def may_review(access: Access, *, admitted: bool, reviewer_unlocked: bool = False,
               email: str | None = None) -> Decision:
    """Whether a session may confirm, reject or correct rows.

    `admitted`: decide() let it see data; `reviewer_unlocked`: it gave the reviewer password
    (reviewer_matches); `email`: its OIDC login's email, only when st.user.is_logged_in. Locally
    reviewing is allowed; read-only never; hosted needs the reviewer password or a listed email."""
    if not admitted:
        return Decision(False, "Reviewing needs access to the dashboard first.")
    if access.read_only:
        return Decision(False, "Reviewing is off: this dashboard is read-only.")
    if access.mode != "hosted":
        return Decision(True)
    if access.review_problem:
        return Decision(False, f"Reviewing is not configured: {access.review_problem}.")
    if email and access.reviewers and email.strip().lower() in access.reviewers:
        return Decision(True)
    if access.reviewer_password and reviewer_unlocked:
        return Decision(True)
    if not access.reviewer_password and not access.reviewers:
        return Decision(False, "Reviewing is off: no reviewer password or reviewers list is set.")
    if access.reviewer_password:
        return Decision(False, "Enter the reviewer password to review.")
    return Decision(False, "Log in with an account on the reviewers list to review.")


# --- who is asking -------------------------------------------------------------------------------


def client_key(peer: str | None, forwarded: Sequence[str] = (), *, proxies: int = 0) -> str:
    """The client a failure is counted against: an IPv4 address or an IPv6 /64 network.

    `peer` is the connection's address as Streamlit reports it (None on localhost; its server,
    uvicorn, already replaces a proxy on 127.0.0.1 by the client that proxy saw). `forwarded`: the
    X-Forwarded-For header values, used only with `proxies` (trust_proxy): the client is the address
    the outermost of that many proxies appended, counted from the right, because everything left of
    it is whatever the client sent. An IPv6 client holds a whole /64, so counting single addresses
    would let it rotate without end. Only parsed addresses come out: the key is safe to log and show."""
    hops = [hop.strip() for value in forwarded for hop in str(value).split(",") if hop.strip()]
    if proxies > 0 and len(hops) >= proxies:
        ip = _parse_ip(hops[-proxies])
        if ip is not None:
            return _key(ip)
    if peer is None:
        return "local"
    ip = _parse_ip(peer)
    return _key(ip) if ip is not None else "unknown"


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    port_cut = text.rsplit(":", 1)[0] if text.count(":") == 1 else ""  # "203.0.113.7:4431"
    bracketed = text[1:].partition("]")[0] if text.startswith("[") else ""  # "[2001:db8::1]:443"
    for candidate in (text, port_cut, bracketed):
        try:
            return ipaddress.ip_address(candidate.split("%")[0])  # "%eth0": an IPv6 zone
        except ValueError:
            continue
    return None


def _key(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


# --- attempt limits ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """What became of one password attempt.

    outcome: "admitted"; "failed" (wrong); "locked" (wrong, and this failure locked the client out);
    "refused" (not checked: the client must wait, is locked out, or the global throttle holds, see
    `reason`: "wait", "lockout" or "global"). `wait`: seconds before the client's next try is checked."""

    outcome: str
    failures: int = 0
    wait: float = 0.0
    reason: str = ""

    @property
    def message(self) -> str:
        """What the person at the password box is told (numbers only, nothing of theirs)."""
        wait = duration(self.wait)
        if self.outcome == "admitted":
            return ""
        if self.outcome == "locked":
            return (f"Wrong password. After {self.failures} wrong passwords in a row this address is locked out "
                    f"for {wait}.")
        if self.outcome == "failed":
            return "Wrong password." + (f" Too many tries from this address: wait {wait} before the next one."
                                        if self.wait > 0 else "")
        if self.reason == "lockout":
            return f"Not checked: this address is locked out after too many wrong passwords. Try again in {wait}."
        if self.reason == "global":
            return (f"Not checked: this link has had too many wrong passwords from many addresses. "
                    f"Try again in {wait}.")
        return f"Not checked: too many wrong passwords from this address. Wait {wait} before the next try."


@dataclass(frozen=True)
class _Client:
    failures: int
    last_failure: float
    not_before: float
    locked: bool


class Limiter:
    """Failed passwords per client and globally, shared by all sessions of a server process.

    Pure (the caller passes `now`), thread-safe (one lock; the password comparison it runs is
    microseconds) and bounded: at most `max_clients` client entries (those whose failures are
    forgotten go first, then the least recently failed), `max_known` admitted clients and
    `global_failures` timestamps. Refusing an attempt until a "not before" time never blocks a thread.

    The global throttle stops guessing spread over many addresses: once `global_failures` wrong
    passwords fell within `global_window`, a client not admitted in the last `known_for` is refused
    until the oldest of them leaves the window. It never locks anyone out for good: it lifts by itself
    at most `global_window` after the guessing stops, it admits one new attempt each time a slot
    frees, and the colleagues who were admitted before from their address pass it throughout (their
    own per-client limits still apply)."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._lock = threading.Lock()
        self._clients: OrderedDict[str, _Client] = OrderedDict()  # by last failure, oldest first
        self._known: OrderedDict[str, float] = OrderedDict()  # client -> last admission, oldest first
        self._recent: deque[float] = deque(maxlen=max(self.limits.global_failures, 1))

    def attempt(self, client: str, now: float, check: Callable[[], bool]) -> Attempt:
        """Check a password (`check()`) for `client` at time `now`, unless it must not be checked yet."""
        with self._lock:
            refused = self._refusal(client, now)
            if refused is not None:
                return refused
            if check():
                self._clients.pop(client, None)
                self._known[client] = now
                self._known.move_to_end(client)
                while len(self._known) > self.limits.max_known:
                    self._known.popitem(last=False)
                return Attempt("admitted")
            entry = self._entry(client, now)
            failures = (entry.failures if entry else 0) + 1
            if self.limits.global_failures > 0:
                self._recent.append(now)
            locked = failures >= self.limits.lockout_after
            wait = self.limits.lockout if locked else self.limits.delay(failures)
            self._put(client, _Client(failures, now, now + wait, locked))
            return Attempt("locked" if locked else "failed", failures, wait)

    def pending(self, client: str, now: float) -> Attempt | None:
        """The refusal `client` would meet now, if any (nothing is recorded)."""
        with self._lock:
            return self._refusal(client, now)

    def __len__(self) -> int:
        return len(self._clients)

    def _refusal(self, client: str, now: float) -> Attempt | None:
        entry = self._entry(client, now)
        if entry is not None and now < entry.not_before:
            return Attempt("refused", entry.failures, entry.not_before - now, "lockout" if entry.locked else "wait")
        throttle = self._global_wait(now)
        if throttle > 0 and not self._is_known(client, now):
            return Attempt("refused", entry.failures if entry else 0, throttle, "global")
        return None

    def _entry(self, client: str, now: float) -> _Client | None:
        entry = self._clients.get(client)
        if entry is not None and self._forgotten(entry, now):
            del self._clients[client]
            return None
        return entry

    def _forgotten(self, entry: _Client, now: float) -> bool:
        return now >= entry.not_before and now - entry.last_failure >= self.limits.forget_after

    def _put(self, client: str, entry: _Client) -> None:
        self._clients[client] = entry
        self._clients.move_to_end(client)
        if len(self._clients) > self.limits.max_clients:  # the front holds the oldest failures
            while self._clients and self._forgotten(next(iter(self._clients.values())), entry.last_failure):
                self._clients.popitem(last=False)
            while len(self._clients) > self.limits.max_clients:
                self._clients.popitem(last=False)

    def _global_wait(self, now: float) -> float:
        if self.limits.global_failures <= 0 or len(self._recent) < self.limits.global_failures:
            return 0.0
        return max(0.0, self._recent[0] + self.limits.global_window - now)

    def _is_known(self, client: str, now: float) -> bool:
        seen = self._known.get(client)
        return seen is not None and now - seen < self.limits.known_for


def duration(seconds: float) -> str:
    """A wait as people say it: "8 s", "2 min", "1 h 5 min" (rounded up, never "0 s")."""
    whole = max(1, math.ceil(seconds - 1e-9))
    if whole < 60:
        return f"{whole} s"
    minutes = math.ceil(whole / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h" + (f" {rest} min" if rest else "")


# --- expiry --------------------------------------------------------------------------------------


def expired(admitted_at: float, last_seen: float, now: float, *, idle: float, max_age: float) -> str:
    """Why an admitted session must give the password again: "max_age", "idle", or "" while it may stay
    (a limit of 0 never expires)."""
    if max_age > 0 and now - admitted_at >= max_age:
        return "max_age"
    if idle > 0 and now - last_seen >= idle:
        return "idle"
    return ""


def expiry_message(why: str, access: Access) -> str:
    """What a session asked again is told."""
    if why == "max_age":
        return f"This session was opened more than {duration(access.max_age)} ago: enter the password again."
    return f"This session was idle for more than {duration(access.idle)}: enter the password again."


# --- audit log -----------------------------------------------------------------------------------


def audit_path(access: Access, build_dir: Path) -> Path:
    """The log file: `audit_log`, else "<build folder>.access.jsonl" beside the build folder (a rebuild
    swaps the folder itself, and the log outlives builds)."""
    if access.audit_log:
        return Path(access.audit_log).expanduser()
    build_dir = Path(build_dir)
    return build_dir.with_name(build_dir.name + ".access.jsonl")


def audit_entry(now: float, client: str, attempt: Attempt | None, *, session: str = "",
                outcome: str | None = None, note: str = "") -> dict[str, Any]:
    """One log line: time (UTC), client, outcome and its numbers; never what was typed."""
    entry: dict[str, Any] = {"time": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
                             "client": client, "outcome": outcome or (attempt.outcome if attempt else "")}
    if attempt is not None and attempt.outcome != "admitted":
        entry.update(failures=attempt.failures, wait_s=round(attempt.wait, 1))
        if attempt.reason:
            entry["reason"] = attempt.reason
    if note:
        entry["reason"] = note
    if session:
        entry["session"] = session
    return entry


class AuditLog:
    """JSON lines appended to `path`, rotated by size: at `max_bytes` the file becomes path.1
    (path.1 becomes path.2, …; `keep` old files). Writes from this process's threads are serialised
    (the rotation too); each line is one append, so lines from several processes do not interleave."""

    _locks: dict[str, threading.Lock] = {}
    _locks_guard = threading.Lock()

    def __init__(self, path: Path, max_bytes: int = 1_000_000, keep: int = 3) -> None:
        self.path, self.max_bytes, self.keep = Path(path), max_bytes, keep
        with self._locks_guard:
            self._lock = self._locks.setdefault(str(self.path.resolve()), threading.Lock())

    def write(self, entry: Mapping[str, Any]) -> None:
        line = (json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            size = self.path.stat().st_size if self.path.is_file() else 0
            if size and size + len(line) > self.max_bytes:
                self._rotate()
            with self.path.open("ab") as fh:
                fh.write(line)

    def _rotate(self) -> None:
        for n in range(self.keep, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            newer = self.path.with_name(f"{self.path.name}.{n - 1}") if n > 1 else self.path
            if newer.is_file():
                newer.replace(older)

    def files(self) -> list[Path]:
        """The log and its rotated files that exist, newest first."""
        names = [self.path, *(self.path.with_name(f"{self.path.name}.{n}") for n in range(1, self.keep + 1))]
        return [p for p in names if p.is_file()]

    def tail(self, n: int, *, chunk: int = 65_536) -> list[dict[str, Any]]:
        """The last `n` entries, oldest first (reads only the end of the files)."""
        entries: list[dict[str, Any]] = []
        for path in self.files():
            with path.open("rb") as fh:
                size = fh.seek(0, 2)
                fh.seek(max(0, size - chunk))
                lines = fh.read().splitlines()
            if size > chunk:
                lines = lines[1:]  # the first may be cut
            parsed = [e for e in map(_parse_line, lines) if e is not None]
            entries = parsed[-(n - len(entries)):] + entries
            if len(entries) >= n:
                break
        return entries[-n:] if n > 0 else []


def _parse_line(line: bytes) -> dict[str, Any] | None:
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None
