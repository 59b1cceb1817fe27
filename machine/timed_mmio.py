"""Peripheral accesses from guest code, at the exact time of their instruction.

The instruction counter counts per translated block (native/counter.c): while a block runs,
the count already includes all of it. Before a peripheral sees an access, the count is
settled at the accessing instruction (which counts as started), so the peripheral reads the
exact virtual time; afterwards the block is counted whole again. Unicorn 2.1.4 syncs the pc
before an MMIO callback only on a TLB miss, so the TLB is flushed after every MMIO access: the
next one misses again (docs/performance.md says what that costs).
"""

from __future__ import annotations

from typing import Callable


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
