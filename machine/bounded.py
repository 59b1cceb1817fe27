"""Bounded logs: what a guest can make the host remember, kept to a stated size.

Nothing a guest does may grow host memory without bound (DESIGN.md section 9). Every log
that guest actions append to (a kernel's debug lines, GPIO edges, lines held aside for a
terminal) is a `BoundedLog`: a list that keeps its newest `limit` entries and counts in
`dropped` how many older ones it let go, so that wherever the log is shown the loss can be
said.

A `Ring` is the same for a `collections.deque` with a `maxlen` (the kernel's IPC log):
each append to a full ring pushes out its oldest entry and counts it in `dropped`; `extend`
counts a whole batch with one subtraction, for producers that make entries in bulk.

Invariants:
- `len(log) <= limit + slack`, where slack is limit // 8 (at least 1): the oldest entries
  leave in batches of `slack`, so an append costs O(1) amortised, not a memmove of the
  whole list each time;
- `dropped` + `len(log)` is the number of entries ever appended (assigning to the list,
  as a snapshot's restore does, replaces the entries and leaves `dropped` to its owner);
- it is a `list`: it compares equal to a list of the same entries, slices, and pickles and
  deep-copies with its limit and count.
"""

from __future__ import annotations

import collections


class BoundedLog(list):
    """A list of the newest `limit` entries (up to `limit // 8` more between trims)."""

    # class-level defaults: unpickling appends entries before it restores the attributes
    limit: int | None = None
    dropped: int = 0

    def __init__(self, limit: int, entries=()) -> None:
        if limit < 1:
            raise ValueError(f"a bounded log keeps at least one entry, not {limit}")
        super().__init__(entries)
        self.limit = limit
        self.dropped = 0
        self._trim()

    @property
    def capacity(self) -> int:
        """The most entries the log ever holds: `limit` plus the batch trimmed at once."""
        return self.limit + max(1, self.limit // 8)

    def append(self, entry) -> None:
        super().append(entry)
        if self.limit is not None and len(self) > self.capacity:
            self._trim()

    def _trim(self) -> None:
        excess = len(self) - self.limit
        if excess > 0:
            del self[:excess]
            self.dropped += excess


class Ring(collections.deque):
    """A deque with a `maxlen` that counts in `dropped` the entries its appends pushed out."""

    dropped: int = 0

    def __init__(self, entries=(), maxlen: int | None = None) -> None:
        super().__init__(entries, maxlen)
        self.dropped = 0

    def append(self, entry) -> None:
        if len(self) == self.maxlen:
            self.dropped += 1
        super().append(entry)

    def extend(self, entries) -> None:
        """Append many at once: one Python call for the batch (the IPC fast path's sync)."""
        entries = entries if isinstance(entries, (list, tuple)) else list(entries)
        if self.maxlen is not None:
            self.dropped += max(0, len(self) + len(entries) - self.maxlen)
        super().extend(entries)
