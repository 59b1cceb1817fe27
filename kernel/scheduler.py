"""Fixed-priority scheduling with round-robin within a level.

Priority 0 is the most urgent; there are `LEVELS` levels. A thread is in a ready
queue while its state is READY; entries of threads that left that state are
skipped lazily. The running thread keeps the CPU while no ready thread is more
urgent; its time slice ending puts it behind the others of its level.
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
