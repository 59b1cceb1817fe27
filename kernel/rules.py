"""The rules a system description sets and the kernel enforces, as the runtime holds them.

`sysdesc` reads and checks description, policy and interface files and produces these
values; the kernel only consults them, so nothing here parses or checks a file:

- `Policy` (its `Rule`s): who may call which server's methods; the policy monitor
  (kernel/monitor.py) asks `Policy.decide` about every IPC request. The first matching
  rule decides; a request no rule matches is denied by `DEFAULT_RULE`.
- `Interface` (its `Method`s and their `LeaseSpec`s): the shape of a server's requests
  and replies, which the monitor checks before any byte is delivered. A request's label
  is `interface id << 16 | method number`.
- `RestartPolicy`: what follows when a component faults or exits with a nonzero code.

Every value is frozen: the kernel never changes what the description said.
"""

from __future__ import annotations

import enum
import fnmatch
import pathlib
from dataclasses import dataclass

#: a policy's modes: "permissive" records "would-deny" and delivers anyway
MODES = ("enforce", "permissive")
#: what a policy's audit log records
AUDIT_LEVELS = ("none", "denied", "all")
#: the name the audit log gives a decision no rule made
DEFAULT_RULE = "default deny"


@dataclass(frozen=True)
class Rule:
    name: str
    allow: bool
    sources: tuple[str, ...]      # component names, or ("*",)
    destinations: tuple[str, ...]
    methods: tuple[str, ...]      # "iface.method", "iface.*" or "*"

    def matches(self, source: str, destination: str, method: str | None) -> bool:
        """`method` is "iface.method", or None for an endpoint without an interface."""
        if "*" not in self.sources and source not in self.sources:
            return False
        if "*" not in self.destinations and destination not in self.destinations:
            return False
        for pattern in self.methods:
            if pattern == "*" or (method is not None and fnmatch.fnmatchcase(method, pattern)):
                return True
        return False


@dataclass(frozen=True)
class Policy:
    path: pathlib.Path
    mode: str
    audit: str
    rules: tuple[Rule, ...]

    @property
    def permissive(self) -> bool:
        return self.mode == "permissive"

    def decide(self, source: str, destination: str, method: str | None) -> tuple[bool, str]:
        """(allowed, the deciding rule's name) for one request, by the rules alone."""
        for rule in self.rules:
            if rule.matches(source, destination, method):
                return rule.allow, rule.name
        return False, DEFAULT_RULE


@dataclass(frozen=True)
class LeaseSpec:
    rights: int          # LEASE_READABLE / LEASE_WRITABLE bits the lease must have exactly
    max: int             # its largest length in bytes
    optional: bool       # a request may leave it (and every lease after it) out


@dataclass(frozen=True)
class Method:
    name: str
    number: int
    args: int            # request message registers in use; the others must be 0
    reply: int           # reply message registers in use; the others must be 0
    leases: tuple[LeaseSpec, ...]
    doc: str


@dataclass(frozen=True)
class Interface:
    name: str
    id: int
    doc: str
    methods: tuple[Method, ...]
    path: pathlib.Path

    def label(self, method: str) -> int:
        return self.id << 16 | self.method(method).number

    def qualified(self, method: Method) -> str:
        """How policies and the audit log name `method`: "iface.method"."""
        return f"{self.name}.{method.name}"

    def method(self, name: str) -> Method:
        for m in self.methods:
            if m.name == name:
                return m
        raise KeyError(f"interface {self.name} has no method {name!r}")

    def by_label(self, label: int) -> Method | None:
        """The method a request label names, or None (another interface, or no such method)."""
        if label >> 16 != self.id:
            return None
        number = label & 0xFFFF
        return next((m for m in self.methods if m.number == number), None)


class RestartAction(enum.StrEnum):
    """What happens when a component faults (or exits with a nonzero code)."""

    RESTART = "restart"
    BACKOFF = "backoff"
    HOLD = "hold"
    REBOOT = "reboot"


RESTART_ACTIONS = tuple(RestartAction)
#: what happens when a component fails more often than its limit allows
LIMIT_ACTIONS = (RestartAction.HOLD, RestartAction.REBOOT)
#: the limit a component that restarts (restart, backoff) has when its description sets none:
#: an 11th failure within 60 s holds it (stopped, reported once in the kernel's log), so a
#: crash loop costs ten restarts (about 4 s under the supervisor's backoff) and then nothing;
#: a component that fails now and then, less than once in 6 s on average, never meets it
DEFAULT_RESTART_LIMIT = 10
DEFAULT_RESTART_WINDOW_MS = 60_000


@dataclass(frozen=True)
class RestartPolicy:
    """A component's restart policy (`restart`, `restart_limit`, `restart_window_ms`, `restart_then`).

    restart: restarted at once; backoff: restarted after a delay that doubles with each
    fault (its supervisor's); hold: stays stopped for inspection; reboot: every component
    is restarted. A component that restarts and fails more than `limit` times within
    `window_ms` gets `then` (hold or reboot) instead: by default an 11th failure within
    60 s holds it. `limit` None (only through the kernel's Python API) never limits.
    """

    action: RestartAction
    limit: int | None = DEFAULT_RESTART_LIMIT
    window_ms: int = DEFAULT_RESTART_WINDOW_MS
    then: RestartAction = RestartAction.HOLD

    def __post_init__(self) -> None:   # a name from a file or a caller becomes the enum (ValueError if none)
        object.__setattr__(self, "action", RestartAction(self.action))
        object.__setattr__(self, "then", RestartAction(self.then))
