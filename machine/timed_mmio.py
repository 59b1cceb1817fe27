"""Peripheral accesses from guest code, at the exact time of their instruction.

The instruction counter counts per translated block (native/counter.c): while a block runs,
the count already includes all of it. Before a peripheral sees an access, the count is
settled at the accessing instruction (which counts as started), so the peripheral reads the
exact virtual time; afterwards the block is counted whole again. Unicorn 2.1.4 syncs the pc
before an MMIO callback only on a TLB miss, so the TLB is flushed after every MMIO access: the
next one misses again (docs/performance.md says what that costs). In host timing
(machine/hosttime.py) there is no count to settle: an access takes no guest time instead.
"""

from __future__ import annotations

from typing import Callable

from .hosttime import HostCounter


def timed_mmio(dev, counter, cpu, flush_tlb: Callable[[], None]) -> tuple:
    """The (read, None, write, None) callbacks of `Uc.mmio_map` for peripheral `dev`."""
    def timed(access):
        def call(*args):
            counter.settle(cpu.pc, started=True, finish=False)
            try:
                return access(*args)
            finally:
                counter.resume_block()
                flush_tlb()
        return call

    read, write = timed(dev.read), timed(dev.write)
    return (lambda uc, offset, size, _: read(offset, size), None,
            lambda uc, offset, size, value, _: write(offset, size, value), None)


def host_mmio(dev, host) -> tuple:
    """The same for a machine in host timing: the accesses take no guest time (`host.outside`)."""
    read, write = dev.read, dev.write
    return (host.outside(lambda uc, offset, size, _: read(offset, size)), None,
            host.outside(lambda uc, offset, size, value, _: write(offset, size, value)), None)


def mmio_callbacks(dev, counter, cpu, flush_tlb: Callable[[], None]) -> tuple:
    """`timed_mmio`, or `host_mmio` when `counter` is a machine's host timing."""
    return host_mmio(dev, counter) if isinstance(counter, HostCounter) else timed_mmio(dev, counter, cpu, flush_tlb)
