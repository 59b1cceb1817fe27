"""The policy monitor: every IPC request and reply checked before any byte is delivered.

The kernel asks the monitor about each SEND/CALL (`request`) and each REPLY (`reply`)
on an endpoint. A request is allowed when the policy's first matching rule allows
(source component, destination component, interface method) and the message has the
method's shape: its label names a method of the endpoint's interface, message
registers past the method's `args` are 0, and the leases are those the method
declares (count, rights, lengths). A reply is allowed when its request was and the
reply's registers past the method's `reply` are 0. Messages the kernel itself sends
(FAULT) and notifications are not IPC requests and are not checked.

A request the policy allows but whose shape is wrong is denied with rule "shape" (the
reason says what was wrong). A label of the kernel's own, refused by the kernel before
the monitor is asked, is recorded too (rule "kernel label").

Decisions are cached per (source, endpoint, label), so the rules run once per kind
of request (a restarted server keeps its endpoint and so the cache); the shape is
checked on every message. The cache holds at most `VERDICTS` decisions: a component
calling with a new label each time would otherwise grow it for ever; past the bound the
oldest decision is forgotten (decided again if asked again) and counted in
`verdicts_evicted`. In permissive mode a denial is recorded as "would-deny" and the
message is delivered.

Audit: each decision the policy's `audit` level selects ("denied" or "all") becomes
a record `{"time_us", "source", "destination", "endpoint", "kind", "method",
"decision", "rule", "reason"}`, kept in `records` (the last `RECORDS` of them;
`records_dropped` counts the older ones let go) and passed to `sink` (the kernel's
`on_audit`, e.g. a `JsonLinesSink`, which writes one JSON object per line, at most
`AUDIT_RATE` a second of virtual time: past that, records are counted, not written, and a
"dropped" record with their number is written when the next second begins or the sink is
closed).
"""

from __future__ import annotations

import collections
import json
from typing import IO, Callable

from .abi import MESSAGE_REGISTERS
from .rules import Policy
from .process import Endpoint, Message

#: audit records kept in memory
RECORDS = 10_000
#: decisions the monitor caches (a real system needs components x endpoints x methods)
VERDICTS = 4096
#: audit records a JsonLinesSink writes per second of virtual time (about 250 bytes each)
AUDIT_RATE = 1000

Sink = Callable[[dict], None]


class JsonLinesSink:
    """Writes each audit record to a text stream as one JSON line, flushed; at most `rate`
    records in each second of virtual time (a component making denied calls in a loop makes
    thousands a second). Records past the rate are counted in `dropped`; a record of kind
    "dropped" saying how many is written before the first record of a later second, and by
    `close()`."""

    def __init__(self, stream: IO[str], rate: int = AUDIT_RATE) -> None:
        self.stream = stream
        self.rate = rate
        self.written = 0
        self.dropped = 0
        self._second: int | None = None
        self._in_second = 0
        self._unsaid = 0
        self._last_us = 0

    def __call__(self, record: dict) -> None:
        now = record.get("time_us", 0)
        self._last_us = now
        second = now // 1_000_000
        if second != self._second:
            self._second, self._in_second = second, 0
            self._say_dropped(now)
        if self._in_second >= self.rate:
            self.dropped += 1
            self._unsaid += 1
            return
        self._in_second += 1
        self._write(record)

    def close(self) -> None:
        """Say what was dropped and not yet said (the stream stays open: it is the caller's)."""
        self._say_dropped(self._last_us)

    def _say_dropped(self, time_us: int) -> None:
        if self._unsaid:
            n, self._unsaid = self._unsaid, 0
            self._write({"time_us": time_us, "source": "kernel", "destination": "-", "endpoint": "-",
                         "kind": "dropped", "method": "-", "decision": "dropped", "rule": "rate limit",
                         "reason": f"{n} record(s) not written: more than {self.rate} in one second of "
                                   f"virtual time", "dropped": n})

    def _write(self, record: dict) -> None:
        self.stream.write(json.dumps(record, separators=(", ", ": ")) + "\n")
        self.stream.flush()
        self.written += 1


class _Verdict:
    """The rules' word on one kind of request (cached): the method, if the label names one, and
    the name the audit log gives it ("iface.method", or "label 0x..." for an untyped endpoint)."""

    __slots__ = ("allowed", "rule", "method", "name", "reason")

    def __init__(self, allowed: bool, rule: str, method, name: str, reason: str = "") -> None:
        self.allowed, self.rule, self.method, self.name, self.reason = allowed, rule, method, name, reason


class Monitor:
    def __init__(self, policy: Policy, interfaces: dict[str, object], now_us: Callable[[], int],
                 sink: Sink | None = None) -> None:
        """`interfaces`: endpoint name -> its Interface (or None); `now_us` gives the audit's time;
        `sink` gets every audit record as it is made."""
        self.policy = policy
        self.interfaces = interfaces
        self.now_us = now_us
        self.permissive = policy.permissive
        self.audit_all = policy.audit == "all"
        self.audit_denied = policy.audit != "none"
        self.records: collections.deque[dict] = collections.deque(maxlen=RECORDS)
        self.sink = sink
        self.allowed = 0
        self.denied = 0
        #: decisions forgotten to keep the cache within VERDICTS
        self.verdicts_evicted = 0
        self._recorded = 0
        self._cache: dict[tuple[str, Endpoint, int], _Verdict] = {}

    @property
    def records_dropped(self) -> int:
        """Audit records made but no longer in `records` (it keeps the last RECORDS)."""
        return self._recorded - len(self.records)

    @property
    def cached_verdicts(self) -> int:
        return len(self._cache)

    # -- the checks the kernel calls ----------------------------------------------------

    def request(self, source: str, ep: Endpoint, msg: Message) -> tuple[bool, _Verdict, bool]:
        """(deliver?, the request's verdict, allowed?) for a SEND/CALL from `source` on `ep`. In
        permissive mode a request is delivered without being allowed. The kernel keeps
        (ep, verdict, allowed) with the request, for `reply`."""
        key = (source, ep, msg.label)
        verdict = self._cache.get(key)
        if verdict is None:
            if len(self._cache) >= VERDICTS:   # forget the oldest decision (dicts keep insertion order)
                del self._cache[next(iter(self._cache))]
                self.verdicts_evicted += 1
            verdict = self._cache[key] = self._decide(source, ep, msg.label)
        if not verdict.allowed:
            return self._denied("request", source, _server(ep), ep, verdict.name, verdict.rule,
                                verdict.reason), verdict, False
        method = verdict.method
        # the common case costs two tests: no stray registers, no leases either side
        if method is not None and (any(msg.mrs[method.args:]) or msg.leases or method.leases):
            problem = _request_shape(method, msg)
            if problem:
                return self._denied("request", source, _server(ep), ep, verdict.name, "shape", problem), verdict, False
        if self.audit_all:
            self._record("request", source, _server(ep), ep, verdict.name, "allow", verdict.rule, "")
        self.allowed += 1
        return True, verdict, True

    def reply(self, source: str, destination: str, request: tuple[Endpoint, _Verdict, bool], msg: Message) -> bool:
        """Deliver the reply `msg` from server `source` to the caller `destination`? `request` is
        what `request` answered for the request it replies to: (endpoint, verdict, allowed), a
        request not allowed having been delivered in permissive mode."""
        ep, verdict, allowed = request
        method, name = verdict.method, verdict.name
        if method is not None and any(msg.mrs[method.reply:]):
            i = next(i for i in range(method.reply, len(msg.mrs)) if msg.mrs[i])
            return self._denied("reply", source, destination, ep, name, "shape",
                                f"mr{i} is {msg.mrs[i]:#x}; {name} replies with {method.reply} register(s)")
        if not allowed:
            return self._denied("reply", source, destination, ep, name, "reply to a denied request", "")
        if self.audit_all:
            self._record("reply", source, destination, ep, name, "allow", "reply to an allowed request", "")
        self.allowed += 1
        return True

    def fast_allowance(self, source: str, ep: Endpoint, label: int) -> tuple[int, int, _Verdict] | None:
        """For the IPC fast path (kernel/fastpath.py): (request registers, reply registers,
        verdict) when requests of this kind, already decided, are allowed with no record to
        make and no lease to check, so that counting them and checking that registers past
        those counts are 0 is the whole check; None otherwise."""
        verdict = self._cache.get((source, ep, label))
        if verdict is None or not verdict.allowed or self.audit_all:
            return None
        method = verdict.method
        if method is None:
            return MESSAGE_REGISTERS, MESSAGE_REGISTERS, verdict
        if method.leases:
            return None
        return method.args, method.reply, verdict

    def kernel_label(self, source: str, ep: Endpoint, label: int) -> None:
        """Record a request the kernel refused before asking the monitor: a label of its own."""
        self.denied += 1
        if self.audit_denied:
            self._record("request", source, _server(ep), ep, f"label {label:#x}", "deny", "kernel label",
                         "labels from 0xffffff00 up are the kernel's")

    # -- deciding ---------------------------------------------------------------------------

    def _decide(self, source: str, ep: Endpoint, label: int) -> _Verdict:
        destination = _server(ep)
        iface = self.interfaces.get(ep.name)
        if iface is None:
            allowed, rule = self.policy.decide(source, destination, None)
            return _Verdict(allowed, rule, None, f"label {label:#x}")
        method = iface.by_label(label)
        if method is None:
            return _Verdict(False, "shape", None, f"label {label:#x}",
                            f"label {label:#x} is no method of the endpoint's interface")
        name = iface.qualified(method)
        allowed, rule = self.policy.decide(source, destination, name)
        return _Verdict(allowed, rule, method, name)

    def _denied(self, kind: str, source: str, destination: str, ep: Endpoint, method: str, rule: str,
                reason: str) -> bool:
        self.denied += 1
        decision = "would-deny" if self.permissive else "deny"
        if self.audit_denied:
            self._record(kind, source, destination, ep, method, decision, rule, reason)
        return self.permissive

    def _record(self, kind: str, source: str, destination: str, ep: Endpoint, method: str,
                decision: str, rule: str, reason: str) -> None:
        record = {"time_us": self.now_us(), "source": source, "destination": destination,
                  "endpoint": ep.name, "kind": kind, "method": method, "decision": decision,
                  "rule": rule, "reason": reason}
        self.records.append(record)
        self._recorded += 1
        if self.sink is not None:
            self.sink(record)


def _server(ep: Endpoint) -> str:
    return ep.server.name if ep.server is not None else ep.name


def _request_shape(method, msg: Message) -> str:
    """What is wrong with a request's shape for `method`, or ''."""
    for i in range(method.args, len(msg.mrs)):
        if msg.mrs[i]:
            return f"mr{i} is {msg.mrs[i]:#x}; the method takes {method.args} argument register(s)"
    leases, declared = msg.leases, method.leases
    if len(leases) > len(declared):
        return f"{len(leases)} lease(s); the method takes at most {len(declared)}"
    for j, spec in enumerate(declared):
        if j >= len(leases):
            if not spec.optional:
                return f"lease {j} is missing"
            break
        lease = leases[j]
        if lease.rights != spec.rights:
            return f"lease {j} has rights {lease.rights:#x}; the method's are {spec.rights:#x}"
        if lease.length > spec.max:
            return f"lease {j} is {lease.length} bytes; the method's limit is {spec.max}"
    return ""
