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

import ctypes
from typing import Callable

from unicorn import UcError

from .counter import NATIVE_DIR, function_address, load, mirrors, patched_build, uclib
from .hosttime import HostCounter

_READ = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint32)
_WRITE = ctypes.CFUNCTYPE(None, ctypes.c_uint64, ctypes.c_uint32, ctypes.c_uint64)
_MMIO_MAP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_size_t,
                             ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


@mirrors(NATIVE_DIR / "mmio.c", "atoll_mmio")
class _Mmio(ctypes.Structure):
    _fields_ = [("counter", ctypes.c_void_p), ("settle_here", ctypes.c_void_p), ("resume", ctypes.c_void_p),
                ("read", ctypes.c_void_p), ("write", ctypes.c_void_p)]


class NativeMmio:
    """A peripheral's window mapped with the C callbacks of native/mmio.c (the project's
    Unicorn build): the count settled and resumed in C, one Python call per access. An
    exception the peripheral raises ends the run and is raised out of it (`carry`)."""

    def __init__(self, uc, base: int, size: int, dev, counter, carry: Callable[[BaseException], None]) -> None:
        dev_read, dev_write = dev.read, dev.write

        def read(offset: int, width: int) -> int:
            try:
                return dev_read(offset, width)
            except BaseException as e:   # ctypes would print it and go on
                carry(e)
                return 0

        def write(offset: int, width: int, value: int) -> None:
            try:
                dev_write(offset, width, value)
            except BaseException as e:
                carry(e)

        lib = load()
        self._read, self._write = _READ(read), _WRITE(write)   # kept alive with the mapping
        self._s = _Mmio(counter.address, function_address(lib.atoll_settle_here),
                        function_address(lib.atoll_resume_block), function_address(self._read),
                        function_address(self._write))
        data = ctypes.addressof(self._s)
        status = _MMIO_MAP(function_address(uclib().uc_mmio_map))(
            uc._uch, base, size, function_address(lib.atoll_mmio_read), data, function_address(lib.atoll_mmio_write), data)
        if status != 0:
            raise UcError(status)


def timed_mmio(dev, counter, flush_tlb: Callable[[], None]) -> tuple:
    """The (read, None, write, None) callbacks of `Uc.mmio_map` for peripheral `dev`, where
    the counter does not count in translated code (a stock build): the TLB is flushed after
    each access (see above)."""
    settle, resume = counter.settle_access, counter.resume_block

    def timed(access):
        def call(*args):
            settle()
            try:
                return access(*args)
            finally:
                resume()
                flush_tlb()
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


def map_peripheral(uc, base: int, size: int, dev, counter, cpu, flush_tlb: Callable[[], None],
                   carry: Callable[[BaseException], None]) -> NativeMmio | None:
    """Map peripheral `dev`'s window: `host_mmio` when `counter` is a machine's host timing,
    `NativeMmio` on the project's Unicorn build, else `timed_mmio`. The caller keeps what it
    returns (the native mapping's callbacks) as long as the engine."""
    if isinstance(counter, HostCounter):
        uc.mmio_map(base, size, *host_mmio(dev, counter, cpu))
    elif counter.translated:
        return NativeMmio(uc, base, size, dev, counter, carry)
    else:
        uc.mmio_map(base, size, *timed_mmio(dev, counter, flush_tlb))
    return None
