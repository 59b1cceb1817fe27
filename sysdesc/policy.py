"""Security policies: which component may call which server's methods.

A system description names its policy file (`[system] policy = "demo.policy.toml"`),
read here into a checked `Policy` (the kernel's runtime type, kernel/rules.py);
the kernel's monitor (kernel/monitor.py) checks every IPC request and reply against
it before any byte is delivered. A policy is a list of rules, tried in order; the
first that matches decides, and a request no rule matches is denied:

    [policy]
    mode = "enforce"        # or "permissive": record "would-deny", deliver anyway
    audit = "denied"        # what the audit log records: "none", "denied" or "all"

    [[rule]]
    name = "apps log through the console"   # shown in the audit log
    action = "allow"                        # or "deny"
    from = ["shell", "blinky"]              # component names, or "*"
    to = "console"                          # the server's component name, or "*"
    methods = ["console.*"]                 # "interface.method", "interface.*", or "*"

`"*"` in `methods` also matches requests on endpoints that declare no interface
(their labels are not checked). A reply is allowed when its request was, and its
shape matches the method's declaration.

`SystemPolicy` answers questions about a system without booting it: what a given
request would get (`decide`), which components can reach which (`reachability`),
and which rules never decide anything (`unused_rules`) — `atoll policy check`.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from machine import TomlChecker, read_toml

from kernel.rules import AUDIT_LEVELS, DEFAULT_RULE, MODES, Interface, Policy, Rule

if TYPE_CHECKING:
    from .description import SystemSpec

ACTIONS = ("allow", "deny")
#: names the monitor's audit log and `SystemPolicy` give decisions no rule made; no rule may take one
RESERVED_RULE_NAMES = (DEFAULT_RULE, "shape", "reply to an allowed request", "no capability", "no such method",
                       "no policy")


class PolicyError(ValueError):
    """A policy file that cannot be used; one line naming the file, rule and key."""


class _Checker(TomlChecker):
    error = PolicyError

    def names(self, value, key: str, known: list[str]) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
            raise self.fail(key, f"must be a component name, \"*\" or an array of names, not {value!r}")
        for name in items:
            if name != "*" and name not in known:
                raise self.fail(key, f"{name!r} is not a component of the system ({', '.join(known)})")
        return tuple(items)

    def methods(self, value, key: str, interfaces: dict[str, Interface]) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
            raise self.fail(key, f"must be \"interface.method\", \"interface.*\", \"*\" or an array of "
                                 f"them, not {value!r}")
        for pattern in items:
            if pattern == "*":
                continue
            iface, dot, method = pattern.partition(".")
            if not dot or not method:
                raise self.fail(key, f"{pattern!r} must be written \"interface.method\" or \"interface.*\"")
            if iface not in interfaces:
                known = ", ".join(sorted(interfaces)) or "none: no endpoint names an interface file"
                raise self.fail(key, f"{pattern!r} names no interface of the system (interfaces: {known})")
            if method != "*" and not any(m.name == method for m in interfaces[iface].methods):
                names = ", ".join(m.name for m in interfaces[iface].methods)
                raise self.fail(key, f"{pattern!r}: interface {iface} has no method {method!r} ({names})")
        return tuple(items)


def load_policy(path: str | pathlib.Path, components: list[str], interfaces: dict[str, Interface]) -> Policy:
    """Read and check a policy file against the system's component names and interfaces."""
    path = pathlib.Path(path)
    return parse_policy(read_toml(path, PolicyError), path, components, interfaces)


def parse_policy(data: dict, path: pathlib.Path, components: list[str],
                 interfaces: dict[str, Interface]) -> Policy:
    c = _Checker(path)
    c.only(data, None, {"policy", "rule"})
    head = data.get("policy", {})
    c.value(head, "policy", dict)
    c.only(head, "policy", {"mode", "audit"})
    mode = c.get(head, "mode", "policy", str, required=False, default="enforce")
    if mode not in MODES:
        raise c.fail("policy.mode", f"must be one of {', '.join(MODES)}, not {mode!r}")
    audit = c.get(head, "audit", "policy", str, required=False, default="denied")
    if audit not in AUDIT_LEVELS:
        raise c.fail("policy.audit", f"must be one of {', '.join(AUDIT_LEVELS)}, not {audit!r}")
    raw = c.tables(data, "rule")
    rules: list[Rule] = []
    for i, t in enumerate(raw):
        where = f"rule[{i}]"
        c.only(t, where, {"name", "action", "from", "to", "methods"})
        named = "name" in t
        name = c.get(t, "name", where, str, required=False, default=f"rule {i + 1}")
        if not name.strip():
            raise c.fail(f"{where}.name", "must not be empty")
        if name in RESERVED_RULE_NAMES:
            raise c.fail(f"{where}.name", f"{name!r} is what the audit log calls a decision no rule made; "
                                          f"choose another name")
        if any(r.name == name for r in rules):
            problem = f"{name!r} is the name of an earlier rule"
            raise c.fail(f"{where}.name", problem if named else f"missing, and the default name {problem}")
        action = c.get(t, "action", where, str)
        if action not in ACTIONS:
            raise c.fail(f"{where}.action", f"must be allow or deny, not {action!r}")
        for key in ("from", "to", "methods"):
            if key not in t:
                raise c.fail(f"{where}.{key}", "missing")
        rules.append(Rule(name, action == "allow",
                          c.names(t["from"], f"{where}.from", components),
                          c.names(t["to"], f"{where}.to", components),
                          c.methods(t["methods"], f"{where}.methods", interfaces)))
    return Policy(path, mode, audit, tuple(rules))


# -- questions about a system, answered without booting it -------------------------------------


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: str            # the deciding rule, DEFAULT_RULE, or "no capability"
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


@dataclass(frozen=True)
class Edge:
    """`source` holds a capability to `endpoint`, served by `destination`."""

    source: str
    destination: str
    endpoint: str
    kind: str                                   # "call" (an endpoint) or "notify"
    allowed: tuple[str, ...] = ()               # methods the policy lets through
    denied: tuple[str, ...] = ()


@dataclass
class SystemPolicy:
    """A system description with its policy, for questions asked without booting."""

    system: "SystemSpec"
    policy: Policy | None = field(init=False)

    def __post_init__(self) -> None:
        self.policy = self.system.policy

    def _methods(self, endpoint) -> list[str | None]:
        iface = endpoint.interface
        return [None] if iface is None else [iface.qualified(m) for m in iface.methods]

    def decide(self, source: str, destination: str, method: str) -> Decision:
        """Would a request from `source` to `destination`'s `method` ("iface.method") be
        delivered? It needs a capability to an endpoint `destination` serves with that
        interface, and then the policy's word (no policy: everything is allowed)."""
        self.system.component(source)
        self.system.component(destination)
        iface_name = method.partition(".")[0]
        held = [e for e in self.system.endpoints if e.server == destination and source in e.clients
                and (e.interface is None or e.interface.name == iface_name)]
        if not held:
            return Decision(False, "no capability",
                            f"{source} holds no capability to an endpoint of {destination} serving {iface_name}")
        typed = [e for e in held if e.interface is not None]
        if typed and not any(method in self._methods(e) for e in typed):
            return Decision(False, "no such method", f"{iface_name} has no method {method.partition('.')[2]!r}")
        if self.policy is None:
            return Decision(True, "no policy")
        allowed, rule = self.policy.decide(source, destination, method if typed else None)
        return Decision(allowed, rule)

    def reachability(self) -> list[Edge]:
        """Every capability a component holds to another, with the methods the policy allows."""
        edges: list[Edge] = []
        for e in self.system.endpoints:
            for client in e.clients:
                allowed, denied = [], []
                for method in self._methods(e):
                    ok = True if self.policy is None else self.policy.decide(client, e.server, method)[0]
                    (allowed if ok else denied).append(method or "*")
                edges.append(Edge(client, e.server, e.name, "call", tuple(allowed), tuple(denied)))
        for n in self.system.notifications:
            edges.append(Edge(n.source, n.target, f"notification bits {n.bits:#x}", "notify"))
        return sorted(edges, key=lambda edge: (edge.source, edge.destination, edge.endpoint))

    def reach(self) -> dict[str, list[str]]:
        """{component: the components it can reach through allowed calls and notifications,
        directly or through servers that call on} (the transitive closure of `reachability`)."""
        direct: dict[str, set[str]] = {c.name: set() for c in self.system.components}
        for e in self.reachability():
            if e.kind == "notify" or e.allowed:
                direct[e.source].add(e.destination)
        reach: dict[str, list[str]] = {}
        for name in direct:
            seen: set[str] = set()
            todo = list(direct[name])
            while todo:
                other = todo.pop()
                if other not in seen:
                    seen.add(other)
                    todo.extend(direct[other])
            seen.discard(name)
            reach[name] = sorted(seen)
        return reach

    def unused_rules(self) -> list[tuple[str, str]]:
        """Rules that decide no request the capabilities make possible: (name, why)."""
        if self.policy is None:
            return []
        requests = [(client, e.server, method) for e in self.system.endpoints for client in e.clients
                    for method in self._methods(e)]
        deciding = {self.policy.decide(*r)[1] for r in requests}
        unused = []
        for rule in self.policy.rules:
            if rule.name in deciding:
                continue
            matching = [r for r in requests if rule.matches(*r)]
            why = ("earlier rules decide every request it matches" if matching
                   else "no component holds a capability it would match")
            unused.append((rule.name, why))
        return unused
