"""A timeline of a running system in the Chrome/Perfetto trace event format.

`TraceRecorder(kernel)` listens to the kernel while it runs and `write(path)` saves
a JSON object file ({"traceEvents": [...], "displayTimeUnit": "ns"}) that
ui.perfetto.dev and chrome://tracing open:

- one process (the system) and one track (thread) per component, named with
  "M" metadata events and ordered as in the image; track 0 is the kernel;
- the intervals each component ran, as "X" (complete) events, and the
  intervals nothing ran as "idle" on the kernel track;
- every syscall as an instant event named after `kernel.abi.Sys` ("SLEEP",
  "CALL", ...) on the caller's track;
- IPC (call, send, reply, notify) as instant events on the sender's track with
  the source, destination and label in their args, and a flow arrow from each
  call to its reply; interrupts as instant events on the kernel track; faults as
  instant events on the faulting component's track.

Timestamps are microseconds of virtual time (cycle / frequency * 1e6), so a trace
is the same on every host. Memory is bounded: after `max_events` events the
recorder stops (the file says so in "otherData" and with a "trace truncated"
marker). The kernel is not modified: the recorder chains onto its `on_switch` and
`on_syscall` observers and watches appends to its `ipc_log`.
"""

from __future__ import annotations

import json
import os
from typing import IO, Callable

from kernel import IpcKind
from kernel.abi import FaultCode, Sys
from machine import Ring

__all__ = ["DEFAULT_MAX_EVENTS", "TraceRecorder"]

#: about 150 bytes each while recording: a few hundred MB at most
DEFAULT_MAX_EVENTS = 1_000_000

_PID = 1
_KERNEL_TID = 0
_IPC_KINDS = (IpcKind.CALL, IpcKind.SEND, IpcKind.REPLY, IpcKind.NOTIFY)


class _ObservedLog(Ring):
    """The kernel's IPC log (same contents, same bound, same count of dropped entries) that also
    tells a listener of each entry."""

    def __init__(self, entries, maxlen, listener: Callable) -> None:
        super().__init__(entries, maxlen)
        self.dropped = getattr(entries, "dropped", 0)
        self.listener = listener

    def append(self, entry) -> None:
        super().append(entry)
        self.listener(entry)


class TraceRecorder:
    """Records scheduling, syscalls, IPC, interrupts and faults of `kernel` until `detach()`.

    Attach it before `kernel.boot(...)` to see the system from its first switch;
    attached later, it starts from the component running at that moment.
    """

    def __init__(self, kernel, name: str | None = None, max_events: int = DEFAULT_MAX_EVENTS) -> None:
        self.kernel = kernel
        self.clock = kernel.clock
        self.name = name or f"atoll on {kernel.machine.board.name}"
        self.max_events = max_events
        #: (phase, name, category, tid, cycle, duration_cycles, args, extra) in order of recording
        self._events: list[tuple] = []
        self.truncated_at: int | None = None      # the cycle recording stopped at, if it did
        self._tids: dict[str, int] = {}
        self._running: tuple[str, int] | None = None   # (component, since cycle)
        self._idle_since: int | None = None
        self._pending_calls: dict[str, int] = {}       # caller -> flow id of its call
        self._next_flow = 1
        self._start = self.clock.now
        self._previous_switch = kernel.on_switch
        self._previous_syscall = kernel.on_syscall
        kernel.on_switch = self._on_switch
        kernel.on_syscall = self._on_syscall
        self._log = kernel.ipc_log
        kernel.ipc_log = _ObservedLog(self._log, self._log.maxlen, self._on_ipc)
        if kernel.current is not None:
            self._running = (kernel.current.name, self._start)

    def detach(self) -> None:
        """Stop listening; what was recorded stays and can still be written."""
        k = self.kernel
        if k.on_switch == self._on_switch:
            k.on_switch = self._previous_switch
        if k.on_syscall == self._on_syscall:
            k.on_syscall = self._previous_syscall
        if isinstance(k.ipc_log, _ObservedLog) and k.ipc_log.listener == self._on_ipc:
            log = Ring(k.ipc_log, k.ipc_log.maxlen)
            log.dropped = k.ipc_log.dropped
            k.ipc_log = log

    # -- listening ------------------------------------------------------------------

    @property
    def full(self) -> bool:
        return self.truncated_at is not None

    def _add(self, event: tuple) -> None:
        if self.truncated_at is not None:
            return
        if len(self._events) >= self.max_events:
            self.truncated_at = event[4]
            self._close_intervals(event[4])
            return
        self._events.append(event)

    def _tid(self, component: str) -> int:
        tid = self._tids.get(component)
        if tid is None:
            index = next((p.index for p in self.kernel.processes if p.name == component), None)
            used = set(self._tids.values())
            if index is None or index in used:
                index = max([len(self.kernel.processes), *used]) + 1
            tid = self._tids[component] = index
        return tid

    def _close_intervals(self, cycle: int) -> None:
        if self._running is not None:
            name, since = self._running
            self._events.append(("X", name, "sched", self._tid(name), since, cycle - since, None, None))
            self._running = None
        if self._idle_since is not None:
            self._events.append(("X", "idle", "sched", _KERNEL_TID, self._idle_since,
                                 cycle - self._idle_since, None, None))
            self._idle_since = None

    def _on_switch(self, cycle: int, old: str | None, new: str | None) -> None:
        if self.truncated_at is None:
            if self._running is not None:
                name, since = self._running
                self._add(("X", name, "sched", self._tid(name), since, cycle - since, None, None))
            elif self._idle_since is not None:
                self._add(("X", "idle", "sched", _KERNEL_TID, self._idle_since, cycle - self._idle_since, None, None))
            self._running = (new, cycle) if new is not None else None
            self._idle_since = cycle if new is None else None
        if self._previous_switch is not None:
            self._previous_switch(cycle, old, new)

    def _on_syscall(self, cycle: int, component: str, number: int) -> None:
        try:
            name = Sys(number).name
        except ValueError:
            name = f"syscall {number}"
        self._add(("i", name, "syscall", self._tid(component), cycle, None, {"number": number}, None))
        if self._previous_syscall is not None:
            self._previous_syscall(cycle, component, number)

    def _on_ipc(self, e) -> None:
        if self.truncated_at is not None:
            return
        args = {"source": e.source, "destination": e.destination, "label": e.label}
        if e.kind in _IPC_KINDS:
            tid = _KERNEL_TID if e.source == "kernel" else self._tid(e.source)
            self._add(("i", e.kind, "ipc", tid, e.cycle, None, args, None))
            if e.kind is IpcKind.CALL:
                flow = self._next_flow
                self._next_flow += 1
                self._pending_calls[e.source] = flow
                self._add(("s", "call", "ipc", tid, e.cycle, None, None, flow))
            elif e.kind is IpcKind.REPLY and e.destination in self._pending_calls:
                flow = self._pending_calls.pop(e.destination)
                self._add(("f", "call", "ipc", tid, e.cycle, None, None, flow))
        elif e.kind is IpcKind.IRQ:
            self._add(("i", f"irq {e.source}", "irq", _KERNEL_TID, e.cycle, None, args, None))
        elif e.kind is IpcKind.FAULT:
            try:
                code = FaultCode(e.label).name
            except ValueError:
                code = str(e.label)
            args["code"] = code
            self._add(("i", "exit" if code == "EXITED" else "fault", "fault", self._tid(e.source),
                       e.cycle, None, args, None))
        else:
            self._add(("i", e.kind, "ipc", _KERNEL_TID, e.cycle, None, args, None))

    # -- output -----------------------------------------------------------------------

    def _us(self, cycles: int) -> float:
        return round(cycles * 1e6 / self.clock.frequency_hz, 3)

    def events(self) -> list[dict]:
        """The trace events so far (intervals still open end now)."""
        tracks = {"kernel": _KERNEL_TID}
        for p in self.kernel.processes:
            tracks[p.name] = self._tid(p.name)
        for name, tid in self._tids.items():
            tracks.setdefault(name, tid)
        out: list[dict] = [{"ph": "M", "name": "process_name", "pid": _PID, "tid": _KERNEL_TID,
                            "args": {"name": self.name}}]
        for name, tid in tracks.items():
            out.append({"ph": "M", "name": "thread_name", "pid": _PID, "tid": tid, "args": {"name": name}})
            out.append({"ph": "M", "name": "thread_sort_index", "pid": _PID, "tid": tid,
                        "args": {"sort_index": tid}})
        recorded = list(self._events)
        end = self.truncated_at if self.truncated_at is not None else self.clock.now
        if self.truncated_at is None:
            if self._running is not None:
                name, since = self._running
                recorded.append(("X", name, "sched", self._tid(name), since, end - since, None, None))
            if self._idle_since is not None:
                recorded.append(("X", "idle", "sched", _KERNEL_TID, self._idle_since, end - self._idle_since,
                                 None, None))
        for ph, name, cat, tid, cycle, dur, args, flow in recorded:
            ev = {"ph": ph, "name": name, "cat": cat, "pid": _PID, "tid": tid, "ts": self._us(cycle)}
            if ph == "X":
                ev["dur"] = round(self._us(cycle + dur) - ev["ts"], 3)  # ends exactly where the next begins
            elif ph == "i":
                ev["s"] = "t"
            else:  # a flow start or finish, bound to the slice around it
                ev["id"] = flow
                if ph == "f":
                    ev["bp"] = "e"
            if args is not None:
                ev["args"] = args
            out.append(ev)
        if self.truncated_at is not None:
            out.append({"ph": "i", "name": "trace truncated", "cat": "trace", "pid": _PID, "tid": _KERNEL_TID,
                        "ts": self._us(self.truncated_at), "s": "g"})
        return out

    def metadata(self) -> dict:
        """What the file's "otherData" says about the recording."""
        end = self.truncated_at if self.truncated_at is not None else self.clock.now
        data = {"system": self.name, "board": self.kernel.machine.board.name,
                "frequency_hz": self.clock.frequency_hz, "time": "virtual",
                "start_us": self._us(self._start), "end_us": self._us(end),
                "events": len(self._events), "max_events": self.max_events, "truncated": self.full}
        if self.full:
            data["note"] = (f"recording stopped after {self.max_events} events at "
                            f"{self.truncated_at / self.clock.frequency_hz:.6f} s virtual; later events are missing")
        return data

    def write(self, target: str | os.PathLike | IO[str]) -> None:
        """Save the trace as JSON to a path or an open text file."""
        document = {"traceEvents": self.events(), "displayTimeUnit": "ns", "otherData": self.metadata()}
        if hasattr(target, "write"):
            json.dump(document, target, separators=(",", ":"))
            target.write("\n")
            return
        with open(target, "w", encoding="utf-8") as f:
            json.dump(document, f, separators=(",", ":"))
            f.write("\n")
