"""The Thumb IT-state guard of an ARMv7-M engine (native/itstate.c says how Unicorn loses
the IT state across TLB misses and MMIO callbacks, and what the guard does about it)."""

from __future__ import annotations

import ctypes

from unicorn import Uc
from unicorn.arm_const import UC_ARM_REG_EPSR
from unicorn.unicorn_const import UC_HOOK_TLB_FILL, UC_MEM_FETCH

from .counter import NATIVE_DIR, add_native_hook, function_address, load, mirrors, uclib


@mirrors(NATIVE_DIR / "itstate.c", "atoll_it_guard")
class _ItGuardStruct(ctypes.Structure):
    _fields_ = [
        ("reg_read", ctypes.c_void_p),
        ("reg_write", ctypes.c_void_p),
        ("epsr", ctypes.c_int32),
        ("fetch", ctypes.c_int32),
    ]


class ItStateGuard:
    """Keeps an ARMv7-M engine's Thumb IT state whole across TLB misses (native/itstate.c
    says how Unicorn loses it). Must be registered before the machine's TLB fill hook,
    since Unicorn stops asking fill hooks at the first that gives a translation."""

    def __init__(self, uc: Uc) -> None:
        lib = uclib()
        self._s = _ItGuardStruct(function_address(lib.uc_reg_read), function_address(lib.uc_reg_write),
                                 UC_ARM_REG_EPSR, UC_MEM_FETCH)
        self._handle = add_native_hook(uc, UC_HOOK_TLB_FILL, load().atoll_it_after_fill, self._s)
        self._clear = load().atoll_it_clear
        self._clear.restype, self._clear.argtypes = None, [ctypes.c_void_p, ctypes.c_void_p]
        #: where native code finds the guard (the counter's settle clears the bits too)
        self.address = ctypes.addressof(self._s)
        self._args = (self.address, uc._uch)

    def clear(self) -> None:
        """The IT bits back to zero where a block runs on from a state restore (an MMIO
        callback on the patched build: machine/timed_mmio.py)."""
        self._clear(*self._args)
