"""The virtual clock: time counted in CPU cycles, one cycle per executed instruction.

Time is `base + executed`, where `executed` is the CPU's instruction counter (read
live, so an MMIO access in the middle of a slice sees the exact time) and `base`
holds the cycles skipped while the CPU was idle. Nothing here reads the host's
clock, so the same program with the same inputs gives the same times every run.

Peripherals schedule `Event`s at absolute cycles; the run loop asks for
`next_deadline()`, runs the CPU exactly that far and calls `fire_due()`. Events at
the same cycle fire in the order they were scheduled. An event scheduled while the
CPU runs (by an MMIO access) shortens the running slice through `on_schedule`.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from typing import Callable, Protocol


#: the smallest queue length at which cancelled events are swept out
_MIN_SWEEP = 64


class InstructionSource(Protocol):
    @property
    def executed(self) -> int: ...


class _NoCpu:
    executed = 0


class Event:
    """A scheduled callback; `cancel()` it to drop it."""

    __slots__ = ("when", "callback", "cancelled")

    def __init__(self, when: int, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


@dataclass(frozen=True)
class ClockState:
    """The clock's own state: its base, the next sequence number, and the live events
    as (when, seq, event). The events are the live objects, not copies."""

    base: int
    next_seq: int
    events: tuple[tuple[int, int, Event], ...]


class Clock:
    """Cycle-counted virtual time at `frequency_hz`."""

    def __init__(self, frequency_hz: int, source: InstructionSource | None = None) -> None:
        if not isinstance(frequency_hz, int) or isinstance(frequency_hz, bool) or frequency_hz <= 0:
            raise ValueError(f"frequency must be a positive integer of Hz, not {frequency_hz!r}")
        self.frequency_hz = frequency_hz
        self._source: InstructionSource = source if source is not None else _NoCpu()
        self._base = 0
        self._queue: list[tuple[int, int, Event]] = []
        self._seq = itertools.count()
        #: the queue's length at which cancelled events are swept out (see `schedule`)
        self._sweep_at = _MIN_SWEEP
        #: called with the cycle of each newly scheduled event, so that a CPU slice
        #: already running can end early enough for it
        self.on_schedule: Callable[[int], None] | None = None

    # -- reading time -----------------------------------------------------------

    @property
    def now(self) -> int:
        """Cycles since reset."""
        return self._base + self._source.executed

    @property
    def seconds(self) -> float:
        return self.now / self.frequency_hz

    @property
    def ns(self) -> int:
        """Nanoseconds since reset, rounded down (exact integer arithmetic)."""
        return self.now * 1_000_000_000 // self.frequency_hz

    def us(self, cycle: int) -> int:
        """A cycle count as whole microseconds, rounded down (exact integer arithmetic)."""
        return cycle * 1_000_000 // self.frequency_hz

    def cycles(self, seconds: float) -> int:
        """A duration in seconds as whole cycles (rounded to nearest)."""
        return round(seconds * self.frequency_hz)

    def cycles_ns(self, ns: int) -> int:
        return (ns * self.frequency_hz + 500_000_000) // 1_000_000_000

    # -- moving time without the CPU ---------------------------------------------

    def advance(self, cycles: int) -> None:
        """Let `cycles` pass with the CPU idle, firing every event that falls due.

        Events already overdue (the CPU ran past them) fire at the current time;
        time never moves backwards.
        """
        if not isinstance(cycles, int):
            raise ValueError(f"cannot advance the clock by {cycles!r}: not a whole number of cycles")
        if cycles < 0:
            raise ValueError(f"cannot advance the clock by a negative amount ({cycles})")
        target = self.now + cycles
        while True:
            nxt = self.next_deadline()
            if nxt is None or nxt > target:
                break
            self._base += max(nxt - self.now, 0)
            self.fire_due()
        self._base += target - self.now

    def skip_to(self, cycle: int) -> None:
        """Advance to an absolute cycle (no-op if it has passed)."""
        if cycle > self.now:
            self.advance(cycle - self.now)

    # -- events ------------------------------------------------------------------------

    def schedule(self, when: int, callback: Callable[[], None]) -> Event:
        """Call `callback` once the clock reaches cycle `when` (now, if it has passed)."""
        if not isinstance(when, int):
            raise ValueError(f"cannot schedule an event at {when!r}: not a whole number of cycles")
        ev = Event(max(when, self.now), callback)
        q = self._queue
        if len(q) >= self._sweep_at:
            # A cancelled event leaves the heap only when it reaches the top, and one far in
            # the future may never get there (a timer set again and again): sweep them out
            # whenever the queue has doubled, so it stays within twice the live events.
            q[:] = [entry for entry in q if not entry[2].cancelled]
            heapq.heapify(q)
            self._sweep_at = max(_MIN_SWEEP, 2 * len(q))
        heapq.heappush(q, (ev.when, next(self._seq), ev))
        if self.on_schedule is not None:
            self.on_schedule(ev.when)
        return ev

    def after(self, cycles: int, callback: Callable[[], None]) -> Event:
        return self.schedule(self.now + cycles, callback)

    def next_deadline(self) -> int | None:
        q = self._queue
        while q and q[0][2].cancelled:
            heapq.heappop(q)
        return q[0][0] if q else None

    def fire_due(self) -> int:
        """Run every event whose time has come; returns how many ran."""
        fired = 0
        q = self._queue
        while q:
            when, _, ev = q[0]
            if ev.cancelled:
                heapq.heappop(q)
                continue
            if when > self.now:
                break
            heapq.heappop(q)
            ev.cancelled = True
            ev.callback()
            fired += 1
        return fired

    def reset(self) -> None:
        self._base = -self._source.executed
        self._queue.clear()

    # -- saving and restoring ------------------------------------------------------------

    def state(self) -> ClockState:
        """The base, the next sequence number (not used up) and every live event."""
        next_seq = next(self._seq)
        self._seq = itertools.count(next_seq)
        live = tuple(entry for entry in self._queue if not entry[2].cancelled)
        return ClockState(self._base, next_seq, live)

    def set_state(self, state: ClockState) -> None:
        """Put back a `state()`: events fire in (when, seq) order, new ones are numbered
        from `state.next_seq`. Time is `state.base` plus the instruction source's count."""
        self._base = state.base
        self._queue = sorted(state.events, key=lambda entry: entry[:2])   # a sorted list is a heap
        self._seq = itertools.count(state.next_seq)
