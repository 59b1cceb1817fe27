"""The RISC-V counter CSRs read virtual time (machine/native/csr.c).

Unicorn 2.1.4 answers `cycle`, `instret`, `mcycle`, `minstret` and their high halves
with the host's time-stamp counter, in every privilege mode, so a guest could read
the host's clock and no two runs would agree. `VirtualCounters` answers them from
the machine's clock instead, for bare-metal programs and components alike:

- `cycle`/`mcycle`: `clock.now`, the virtual cycles since reset (idle time included);
- `instret`/`minstret`: the same count (the model retires one instruction per cycle
  and does not tell idle cycles apart);
- `time`: the CLINT's `mtime` (the board's real-time clock, as on the FE310), or an
  illegal instruction on a board without a CLINT (as Unicorn does today).

The values are read in Python at the moment of the instruction (a CSR read costs
about what an MMIO read does); normal running pays nothing. The CSR table is the
process's, so the machine says which one is running on its thread (`enter`, `leave`)
around each `emu_start`; outside of it (Unicorn's register read, from the host) a
counter reads 0.
"""

from __future__ import annotations

import ctypes
import pathlib
from typing import Callable

from .clock import Clock
from .counter import function_address, mirrors, native_library, uclib

_SOURCE = pathlib.Path(__file__).with_name("native") / "csr.c"
_VALUE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_uint32, ctypes.POINTER(ctypes.c_uint32))

CYCLE, TIME, INSTRET = 0xC00, 0xC01, 0xC02
CYCLEH, TIMEH, INSTRETH = 0xC80, 0xC81, 0xC82
MCYCLE, MINSTRET, MCYCLEH, MINSTRETH = 0xB00, 0xB02, 0xB80, 0xB82
_WORD = 0xFFFF_FFFF


@mirrors(_SOURCE, "atoll_csr")
class _Csr(ctypes.Structure):
    _fields_ = [("value", ctypes.c_void_p)]


_installed = False


def _library() -> ctypes.CDLL:
    global _installed
    lib = native_library(_SOURCE)
    if not _installed:
        lib.atoll_csr_install(ctypes.c_void_p(function_address(uclib().riscv_set_csr_ops_riscv32)))
        _installed = True
    return lib


class VirtualCounters:
    """The counter CSRs of one RISC-V machine, read from its clock (and CLINT, if any)."""

    def __init__(self, clock: Clock, mtime: Callable[[], int] | None,
                 on_error: Callable[[BaseException], None]) -> None:
        """`mtime()` gives the CLINT's mtime (None: the board has none); `on_error` gets
        whatever a read raises (ctypes would print and drop it), to end the run with it."""
        self._clock = clock
        self._mtime = mtime
        self._on_error = on_error
        self._callback = _VALUE(self._value)   # kept alive as long as the struct points at it
        self._s = _Csr(function_address(self._callback))
        self._ref = ctypes.byref(self._s)
        self._enter = _library().atoll_csr_enter

    @property
    def native_enter(self) -> tuple[int, int]:
        """What `enter` calls, for native code: the function's and the argument's addresses."""
        return function_address(self._enter), ctypes.addressof(self._s)

    def enter(self) -> None:
        """Counter reads on this thread are this machine's from now on (before `emu_start`)."""
        self._enter(self._ref)

    def leave(self) -> None:
        """... and no machine's (once `emu_start` returned)."""
        self._enter(None)

    def value(self, csrno: int) -> int | None:
        """The 32-bit value the guest reads from CSR `csrno`, or None (illegal instruction)."""
        if csrno in (TIME, TIMEH):
            if self._mtime is None:
                return None
            count = self._mtime()
        else:
            count = self._clock.now
        high = csrno in (CYCLEH, TIMEH, INSTRETH, MCYCLEH, MINSTRETH)
        return (count >> 32 if high else count) & _WORD

    def _value(self, csrno: int, out) -> int:
        try:
            value = self.value(csrno)
        except BaseException as e:
            self._on_error(e)
            return 1
        if value is None:
            return 1
        out[0] = value
        return 0
