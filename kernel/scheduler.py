"""Scheduling: fixed priorities with round-robin within a level, and the dispatcher.

Priority 0 is the most urgent; there are `LEVELS` levels. A thread is in a ready
queue (`Scheduler`) while its state is READY; entries of threads that left that
state are skipped lazily. The running thread keeps the CPU while no ready thread
is more urgent; its time slice ending puts it behind the others of its level.
`Dispatcher` acts on that: it switches the CPU between threads and keeps the one
clock event that ends time slices.
"""

from __future__ import annotations

from collections import deque

from .process import State, Thread

LEVELS = 8


class Scheduler:
    def __init__(self) -> None:
        self._queues: list[deque[Thread]] = [deque() for _ in range(LEVELS)]

    def make_ready(self, thread: Thread) -> None:
        thread.state = State.READY
        self._queues[thread.priority].append(thread)

    def best(self) -> Thread | None:
        """The most urgent ready thread, left in its queue."""
        for q in self._queues:
            while q and q[0].state is not State.READY:
                q.popleft()
            if q:
                return q[0]
        return None

    def take(self, thread: Thread) -> None:
        """Remove `thread` (the one `best` returned) from the front of its queue."""
        q = self._queues[thread.priority]
        if q and q[0] is thread:
            q.popleft()
        else:
            q.remove(thread)

    def remove(self, thread: Thread) -> None:
        """Take `thread` out of its queue wherever it is (it stopped, or is restarted)."""
        q = self._queues[thread.priority]
        while thread in q:
            q.remove(thread)

    def has_peer(self, thread: Thread) -> bool:
        """Whether another thread of the same or a more urgent level is ready."""
        best = self.best()
        return best is not None and best.priority <= thread.priority


class Dispatcher:
    """Who runs: picks the most urgent ready thread, switches contexts, ends time slices.

    It works on the kernel's state (`current`, the ready queues, the slice's event and
    deadline); `kernel.on_switch` sees every switch. Inside the trap hook a switch to no
    thread stops the CPU at once; outside it the machine idles until the next event.
    """

    def __init__(self, kernel, slice_cycles: int) -> None:
        self.kernel = kernel
        self.s = kernel.state
        self.machine = kernel.machine
        self.clock = kernel.clock
        #: the length of a time slice, in cycles
        self.slice_cycles = slice_cycles

    def schedule(self) -> None:
        s = self.s
        cur = s.current
        best = s.scheduler.best()
        if cur is not None and cur.state is State.RUNNING:
            if best is None or best.priority >= cur.priority:
                return
            s.scheduler.make_ready(cur)
        if best is None:
            self.switch(None)
            return
        s.scheduler.take(best)
        self.switch(best)

    def switch(self, t: Thread | None) -> None:
        s = self.s
        cur = s.current
        machine = self.machine
        if cur is t:
            if t is None:
                machine.waiting = True
            else:
                t.state = State.RUNNING
            return
        uc = machine.uc
        if cur is not None:
            uc.context_update(cur.context)
        s.current = t
        on_switch = self.kernel.on_switch
        if on_switch is not None:
            on_switch(self.clock.now, cur.name if cur else None, t.name if t else None)
        if t is None:
            machine.waiting = True
            if s.in_hook:
                machine.counter.stop_now()
            return
        s.stats.switches += 1
        t.state = State.RUNNING
        uc.context_restore(t.context)
        machine.activate(t.process.space)
        machine.waiting = False
        # A fresh slice for `t`. One clock event serves all slices: it is not moved
        # on every switch (that cost a heap operation per IPC); when it fires early
        # for the thread now running, it is set again for the real end.
        s.slice_deadline = self.clock.now + self.slice_cycles
        if s.slice_event is None:
            s.slice_event = self.clock.schedule(s.slice_deadline, self._slice_end)

    def slice_started(self, cycle: int) -> None:
        """The running thread's slice began at `cycle` (the IPC fast path switched to it there)."""
        self.s.slice_deadline = cycle + self.slice_cycles

    def _slice_end(self) -> None:
        s = self.s
        s.slice_event = None
        cur = s.current
        if cur is None:
            return
        if self.clock.now < s.slice_deadline:
            s.slice_event = self.clock.schedule(s.slice_deadline, self._slice_end)
        elif cur.state is State.RUNNING and s.scheduler.has_peer(cur):
            s.scheduler.make_ready(cur)
            self.schedule()
        else:
            s.slice_deadline = self.clock.now + self.slice_cycles
            s.slice_event = self.clock.schedule(s.slice_deadline, self._slice_end)

    def yield_current(self) -> None:
        s = self.s
        cur = s.current
        if cur is not None and cur.state is State.RUNNING and s.scheduler.has_peer(cur):
            s.scheduler.make_ready(cur)

    def wake(self, t: Thread) -> None:
        s = self.s
        if t is not s.current:
            s.scheduler.make_ready(t)
        else:
            t.state = State.RUNNING
        if not s.in_hook:
            self.schedule()
