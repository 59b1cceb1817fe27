"""Time for threads: sleeps and notification timers, as events on the machine's clock.

SLEEP blocks a thread until its clock event wakes it; TIMER_SET notifies bits at a
deadline (one timer per thread: setting it again replaces the earlier one). With no
thread ready the machine idles and time jumps to the next event.

Invariants: each event's callback is a partial of a method of this module, never a
closure, so a snapshot's copy of the event calls the copy's thread
(machine/snapshot.py); a stopped thread has neither event (`cancel`).
"""

from __future__ import annotations

import functools

from .process import State, Thread


class Timers:
    """Sleeps and timers (see the module's docstring)."""

    def __init__(self, kernel) -> None:
        self.kernel = kernel
        self.s = kernel.state
        self.clock = kernel.clock

    def now_us(self) -> int:
        return self.clock.us(self.clock.now)

    def sleep(self, t: Thread, microseconds: int) -> None:
        t.state = State.SLEEPING
        cycles = microseconds * self.clock.frequency_hz // 1_000_000
        # a partial of a bound method, not a closure: a snapshot's copy rebinds it (machine/snapshot.py)
        t.wake_event = self.clock.after(max(cycles, 1), functools.partial(self._wake_sleeper, t))

    def _wake_sleeper(self, t: Thread) -> None:
        t.wake_event = None
        if t.state is State.SLEEPING:
            self.kernel.dispatcher.wake(t)

    def set_timer(self, t: Thread, deadline_us: int, bits: int) -> None:
        old = self.s.timers.pop(t, None)
        if old is not None:
            old.cancel()
        when = deadline_us * self.clock.frequency_hz // 1_000_000
        self.s.timers[t] = self.clock.schedule(when, functools.partial(self._timer_fired, t, bits))

    def _timer_fired(self, t: Thread, bits: int) -> None:
        self.s.timers.pop(t, None)
        if t.state not in (State.STOPPED, State.EXITED):
            self.kernel.ipc.notify(t, bits)
            self.kernel.dispatcher.schedule()

    def cancel(self, t: Thread) -> None:
        """`t` stopped: its sleep and its timer are cancelled."""
        if t.wake_event is not None:
            t.wake_event.cancel()
            t.wake_event = None
        timer = self.s.timers.pop(t, None)
        if timer is not None:
            timer.cancel()
