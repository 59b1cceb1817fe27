"""Peripheral accesses from guest code, at the exact time of their instruction.

The instruction counter counts per translated block (native/counter.c): while a block runs,
the count already includes all of it. Before a peripheral sees an access, the count is
settled at the accessing instruction (which counts as started), so the peripheral reads the
exact virtual time; afterwards the block is counted whole again. The project's Unicorn build
syncs the pc before an MMIO callback (patches/unicorn/0003). A stock 2.1.4 syncs it only on a
TLB miss, so there the TLB is flushed after every MMIO access: the next one misses again
(docs/performance.md says what that costs). In host timing (machine/hosttime.py) there is no
count to settle: an access takes no guest time instead.
"""

from __future__ import annotations

from typing import Callable

from .counter import patched_build
from .hosttime import HostCounter


def timed_mmio(dev, counter, flush_tlb: Callable[[], None]) -> tuple:
    """The (read, None, write, None) callbacks of `Uc.mmio_map` for peripheral `dev`."""
    settle, resume = counter.settle_access, counter.resume_block
    after = (lambda: None) if counter.translated else flush_tlb   # a stock build: see above

    def timed(access):
        def call(*args):
            settle()
            try:
                return access(*args)
            finally:
                resume()
                after()
        return call

    read, write = timed(dev.read), timed(dev.write)
    return (lambda uc, offset, size, _: read(offset, size), None,
            lambda uc, offset, size, value, _: write(offset, size, value), None)


def host_mmio(dev, host, cpu) -> tuple:
    """The same for a machine in host timing: the accesses take no guest time (`host.outside`)."""
    read, write = dev.read, dev.write
    guard = getattr(cpu, "it_guard", None)
    if guard is not None and patched_build():   # as the counter's settle does (native/itstate.c)
        plain_read, plain_write = read, write

        def read(offset, size):
            guard.clear()
            return plain_read(offset, size)

        def write(offset, size, value):
            guard.clear()
            plain_write(offset, size, value)
    return (host.outside(lambda uc, offset, size, _: read(offset, size)), None,
            host.outside(lambda uc, offset, size, value, _: write(offset, size, value)), None)


def mmio_callbacks(dev, counter, cpu, flush_tlb: Callable[[], None]) -> tuple:
    """`timed_mmio`, or `host_mmio` when `counter` is a machine's host timing."""
    return host_mmio(dev, counter, cpu) if isinstance(counter, HostCounter) else timed_mmio(dev, counter, flush_tlb)
