"""Recording a debugged run so that it can be gone back in: snapshots plus deterministic replay.

A `Recording` sits on a debugger's `Control` (the GDB stub's or `atoll debug`'s) and
sees every forward operation the tool makes: a run of N cycles (`Control.run`), a wait
for a component to become ready (`Control.wait_until_ready`), a quiet one-instruction
step (`Control.step`) and letting what fell due during a step happen (`Control.advance`,
which the GDB stub does after each step: clock events fire, an interrupt is taken; it is
logged as a run of 0 cycles, since it is one). Each becomes an `Op` in the log, with the instruction count and
cycle it ended at. Every `interval` instructions (and before the first operation after the
debugger wrote a register or memory, or restarted something) it takes a snapshot of the
whole system (`Kernel.snapshot`, or the machine's on bare metal) as a `Mark`.

Going back to instruction count T ("the state just before the instruction numbered T
runs") restores the latest mark at or before it and replays the logged operations from
there, each exactly as it was made, the last one cut at T by the instruction counter's
limit (`InstructionCounter.set_limit`). Runs are deterministic -- virtual time is counted
in instructions; the kernel's sleeps, timers, time slices, IPC and interrupts all hang off
that clock and are in the snapshot -- so the replayed state is the recorded one: a replayed
operation that ends anywhere else than where the original ended is a `ReplayError`.

What is not in a snapshot is the outside world. UART bytes a host backend delivered are
logged (per operation and cycle) and handed in again on replay instead of reading the
host; UART output, the kernel's callbacks (debug lines, traces) and GPIO edge listeners
are muted while replaying, so nothing is said twice (atoll/recording_world.py). Breakpoints
and watchpoints do not fire while replaying (`MachineDebug.suspended`).

Going forward again from a point in the past runs the system on from there: the history
after that point is dropped (a new branch), and the UART input the host sends from then on
is new input.

Memory bound: at most `keep` marks are held; over it, every other mark in the older half
goes (the older the history, the sparser it is and the longer a replay into it), and the
first mark goes only when every other one is pinned (a debugger's write): the history then
starts later. A mark stores RAM as pages shared with the mark before it where unchanged.
"""

from __future__ import annotations

import ctypes
import dataclasses
from dataclasses import dataclass, field

from machine import StopReason

from .control import READY_LIMIT_SECONDS, Control
from .recording_world import Input, OutsideWorld

#: default: a snapshot every this many instructions (4-6 s of virtual time on the boards, about
#: 0.1 s of host time at the machine's speed: a snapshot copies and compares all RAM, and every
#: 25M cost a debugged run a third of its speed once counting moved into translated code)
DEFAULT_INTERVAL = 100_000_000
#: default: at most this many snapshots kept
DEFAULT_KEEP = 64
PAGE = 4096
CHUNK = 16
#: run ends after which the run loop had done its between-slice work (events, interrupts)
_SETTLED = (StopReason.TIME, StopReason.STOPPED, StopReason.CONDITION, StopReason.TIMEOUT)


class ReplayError(RuntimeError):
    """A replay did not end where the recorded run ended (the run was not deterministic)."""


@dataclass
class Op:
    """One forward operation of the debugger, as recorded."""

    kind: str          # "run" (cycles), "wait" (until a component is ready), "step" (one instruction)
    cycles: int
    start: int         # instruction count at its start
    end: int           # ... and at its end
    end_cycle: int
    settled: bool      # the run loop did its between-slice work at the end


@dataclass
class Mark:
    """A snapshot taken just before operation `op`."""

    op: int
    executed: int
    cycle: int
    snapshot: object                # a KernelSnapshot or MachineSnapshot, its RAM in `pages`
    pages: tuple                    # ((base, (page bytes, ...)), ...)
    pinned: bool = False

    @property
    def size(self) -> int:
        return sum(len(p) for _, pages in self.pages for p in pages)


@dataclass
class Cursor:
    """Where a going-back left the system: just before instruction `target`, inside op `op`."""

    op: int
    target: int


@dataclass
class RecordingInfo:
    """What `monitor record` and `record` show."""

    enabled: bool
    interval: int
    keep: int
    marks: int
    ops: int
    start: int
    end: int
    position: int
    snapshot_bytes: int
    pinned: int = 0
    notes: list = field(default_factory=list)


class Recording:
    """The forward history of one debugged system, and going back in it."""

    def __init__(self, control: Control, interval: int = DEFAULT_INTERVAL, keep: int = DEFAULT_KEEP) -> None:
        if interval < 1:
            raise ValueError(f"the snapshot interval must be at least 1 instruction, not {interval}")
        if keep < 2:
            raise ValueError(f"at least 2 snapshots must be kept, not {keep}")
        self.control = control
        self.machine = control.machine
        self.kernel = control.kernel
        self.interval = interval
        self.keep = keep
        self.enabled = True
        self.ops: list[Op] = []
        self.marks: list[Mark] = []
        self.inputs: list[Input] = []
        self.cursor: Cursor | None = None
        self.replaying = False
        self._dirty = False
        self.in_op = False
        #: while replaying: the input still to hand in, and the operation being replayed
        self.replay_inputs: list[Input] = []
        self.current_op = 0
        #: (the newest mark taken, its RAM whole per region): what the next mark is compared with
        self._raw: tuple = (None, {})
        self._originals = {"run": control.run, "step": control.step, "wait": control.wait_until_ready,
                           "advance": control.advance}
        control.run = self._run
        control.step = self._step
        control.wait_until_ready = self._wait
        control.advance = self._advance
        self._world = OutsideWorld(self)
        self._world.wrap_writes()
        self._world.wrap_backends()

    # -- what the tools see --------------------------------------------------------------

    @property
    def executed(self) -> int:
        return self.machine.counter.executed

    @property
    def start(self) -> int | None:
        """The instruction count the history starts at (None: nothing recorded yet)."""
        return self.marks[0].executed if self.marks else None

    def at_start(self) -> bool:
        return not self.marks or self.executed <= self.marks[0].executed

    def info(self) -> RecordingInfo:
        end = self.ops[-1].end if self.ops else self.executed
        return RecordingInfo(self.enabled, self.interval, self.keep, len(self.marks), len(self.ops),
                             self.start if self.marks else self.executed, end, self.executed,
                             self._stored_bytes(), sum(m.pinned for m in self.marks))

    def set_interval(self, interval: int) -> None:
        if interval < 1:
            raise ValueError(f"the snapshot interval must be at least 1 instruction, not {interval}")
        self.interval = interval

    def set_keep(self, keep: int) -> None:
        if keep < 2:
            raise ValueError(f"at least 2 snapshots must be kept, not {keep}")
        self.keep = keep
        self._thin()

    def set_enabled(self, enabled: bool) -> None:
        """Recording off drops the history; on starts a new one at the next operation."""
        self.enabled = enabled
        if not enabled:
            self.clear()

    def clear(self) -> None:
        """Forget the history (a snapshot of the tool's own was restored, the board was reset)."""
        self.ops.clear()
        self.marks.clear()
        self.inputs.clear()
        self.cursor = None
        self._dirty = False

    def changed(self) -> None:
        """The debugger changed the system's state outside a run (a register, memory, a restart):
        the next operation starts from a snapshot that is never thinned away."""
        if not self.in_op and not self.replaying:
            self._dirty = True

    # -- recording forward operations ------------------------------------------------------

    def _run(self, cycles: int):
        if not self.enabled:
            return self._originals["run"](cycles)
        return self._live("run", cycles, lambda: self._originals["run"](cycles), lambda r: r.stop)

    def _step(self, thread, space):
        if not self.enabled:
            return self._originals["step"](thread, space)
        return self._live("step", 0, lambda: self._originals["step"](thread, space), lambda r: r.stop)

    def _wait(self) -> bool:
        kernel = self.kernel
        if not self.enabled or kernel is None or kernel.current is not None:
            return self._originals["wait"]()

        def wait():
            stop = kernel.run_until(lambda: kernel.current is not None, READY_LIMIT_SECONDS)
            self.control.debug.take_hit()
            return stop
        self._live("wait", 0, wait, lambda stop: stop)
        return kernel.current is not None

    def _advance(self) -> None:
        if not self.enabled:
            return self._originals["advance"]()

        def advance():
            stop = (self.kernel if self.kernel is not None else self.machine).run(0)
            self.control.debug.take_hit()
            return stop
        self._live("run", 0, advance, lambda stop: stop)

    def _live(self, kind: str, cycles: int, run, stop_of):
        self._branch_here()
        self._maybe_mark()
        start = self.executed
        self.in_op = True
        try:
            result = run()
        finally:
            self.in_op = False
            self.ops.append(Op(kind, cycles, start, self.executed, self.machine.clock.now, False))
        stop = stop_of(result)
        self.ops[-1].settled = kind != "step" and stop is not None and stop.reason in _SETTLED
        return result

    def _branch_here(self) -> None:
        """Going forward from a point in the past: the history after it goes."""
        cursor, self.cursor = self.cursor, None
        if cursor is None:
            return
        kept = self.ops[:cursor.op]
        if cursor.op < len(self.ops):
            op = self.ops[cursor.op]
            if op.kind != "step" and cursor.target > op.start or op.kind == "run" and cursor.target == op.start:
                kept.append(dataclasses.replace(op, end=cursor.target, end_cycle=self.machine.clock.now,
                                                settled=False))
        self.ops = kept
        self.marks = [m for m in self.marks if m.op <= len(kept)]
        self.inputs = [i for i in self.inputs if i.op < len(kept)]

    def _maybe_mark(self) -> None:
        last = self.marks[-1] if self.marks else None
        if last is not None and last.op == len(self.ops):
            if self._dirty:
                self.marks.pop()
            else:
                return
        if last is None or self._dirty or self.executed - last.executed >= self.interval:
            self.marks.append(self._take(len(self.ops), pinned=self._dirty and last is not None))
            self._dirty = False
            self._thin()

    # -- snapshots ----------------------------------------------------------------------

    def _take(self, op: int, pinned: bool) -> Mark:
        snap = self.kernel.snapshot() if self.kernel is not None else self.machine.snapshot()
        machine_snap = snap.machine if self.kernel is not None else snap
        last = self.marks[-1] if self.marks else None
        previous = dict(last.pages) if last is not None else {}
        raw = self._raw[1] if self._raw[0] is last else {}
        split = [_pages(base, buf, previous.get(base), raw.get(base)) for base, buf in machine_snap.memory]
        pages = tuple((base, p) for base, p, _ in split)
        light = dataclasses.replace(machine_snap, memory=())
        snap = type(snap)(light) if self.kernel is not None else light
        mark = Mark(op, self.executed, self.machine.clock.now, snap, pages, pinned)
        self._raw = (mark, {base: data for base, _, data in split})
        return mark

    def _restore(self, mark: Mark) -> None:
        memory = tuple((base, _buffer(pages)) for base, pages in mark.pages)
        if self.kernel is not None:
            self.kernel.restore(type(mark.snapshot)(dataclasses.replace(mark.snapshot.machine, memory=memory)))
        else:
            self.machine.restore(dataclasses.replace(mark.snapshot, memory=memory))

    def _thin(self) -> None:
        while len(self.marks) > self.keep:
            older = [i for i in range(1, len(self.marks) // 2 + 1) if not self.marks[i].pinned]
            if older:
                for i in reversed(older[::2]):
                    del self.marks[i]
                continue
            self._drop_first()

    def _drop_first(self) -> None:
        """The history starts at the second mark from now on (the ops before it go)."""
        del self.marks[0]
        first = self.marks[0].op
        del self.ops[:first]
        for m in self.marks:
            m.op -= first
        self.inputs = [dataclasses.replace(i, op=i.op - first) for i in self.inputs if i.op >= first]

    def _stored_bytes(self) -> int:
        seen: set[int] = set()
        total = 0
        for mark in self.marks:
            for _, pages in mark.pages:
                for p in pages:
                    if id(p) not in seen:
                        seen.add(id(p))
                        total += len(p)
        return total

    # -- going back --------------------------------------------------------------------------

    def goto(self, target: int) -> None:
        """Put the system in the state it had just before instruction `target` ran (the latest
        state at that count); a target before the history's start goes to its start."""
        if not self.marks:
            return
        target = max(target, self.marks[0].executed)
        k = next((i for i, op in enumerate(self.ops) if op.end > target), len(self.ops))
        mark = max((m for m in self.marks if m.op <= k and m.executed <= target), key=lambda m: m.op)
        self.replay(mark, k, target)
        self.cursor = Cursor(k, target)

    def replay(self, mark: Mark, k: int, target: int, observe=None) -> None:
        """Restore `mark`, replay ops mark.op .. k-1 whole and op k up to `target`
        (`observe`: an object whose `install`/`remove` put hooks on for the replay)."""
        self._restore(mark)
        self.replaying = True
        muted = self._world.mute()
        debug = self.control.debug
        suspended, debug.suspended = debug.suspended, True
        # idle time is stepped as it was, not waited out again
        realtime_sleep, self.machine.realtime_sleep = self.machine.realtime_sleep, False
        self.replay_inputs = [i for i in self.inputs if i.op >= mark.op]
        if observe is not None:
            observe.install()
        try:
            for i in range(mark.op, min(k, len(self.ops))):
                self._replay_op(i, self.ops[i], None)
            if k < len(self.ops):
                op = self.ops[k]
                if op.kind != "step" and (target > op.start or op.kind == "run"):
                    self._replay_op(k, op, target)
        finally:
            if observe is not None:
                observe.remove()
            self.machine.counter.set_limit(None)
            debug.suspended = suspended
            self.machine.realtime_sleep = realtime_sleep
            debug.take_hit()
            self._world.unmute(muted)
            self.replaying = False

    def _replay_op(self, index: int, op: Op, target: int | None) -> None:
        counter = self.machine.counter
        self.current_op = index
        counter.set_limit(op.end if target is None else target)
        self._perform(op)
        limited = counter.limited
        counter.set_limit(None)
        if target is not None:
            return
        if limited and op.settled:
            self._perform(dataclasses.replace(op, kind="run", cycles=0))
        if self.executed != op.end or self.machine.clock.now != op.end_cycle:
            raise ReplayError(f"replaying operation {index} ({op.kind}) ended at instruction {self.executed}, "
                              f"cycle {self.machine.clock.now}; the recorded run ended at instruction "
                              f"{op.end}, cycle {op.end_cycle}")

    def _perform(self, op: Op) -> None:
        kernel = self.kernel
        if op.kind == "run":
            (kernel if kernel is not None else self.machine).run(op.cycles)
        elif op.kind == "wait":
            kernel.run_until(lambda: kernel.current is not None, READY_LIMIT_SECONDS)
        else:
            self.machine.step(1, events=False)


def _pages(base: int, buf, previous: tuple | None, raw: bytes | None = None) -> tuple[int, tuple, bytes]:
    """`buf` (a region's bytes) as pages, each the previous mark's own object where unchanged
    (compared a chunk of `CHUNK` pages at a time first: most of RAM does not change; `raw`:
    the previous pages joined, if the caller has them)."""
    data = bytes(buf)
    if previous is not None and raw is None:
        raw = b"".join(previous)
    old = raw if previous is not None and len(raw) == len(data) else None
    pages: list = []
    step = PAGE * CHUNK
    for offset in range(0, len(data), step):
        first = offset // PAGE
        if old is not None and data[offset:offset + step] == old[offset:offset + step]:
            pages.extend(previous[first:first + CHUNK])
            continue
        for i, at in enumerate(range(offset, min(offset + step, len(data)), PAGE), first):
            page = data[at:at + PAGE]
            pages.append(previous[i] if old is not None and page == old[at:at + PAGE] else page)
    return base, tuple(pages), data


def _buffer(pages: tuple) -> ctypes.Array:
    data = b"".join(pages)
    return (ctypes.c_char * len(data)).from_buffer_copy(data)


__all__ = ["DEFAULT_INTERVAL", "DEFAULT_KEEP", "Cursor", "Mark", "Op", "Recording", "RecordingInfo", "ReplayError"]
