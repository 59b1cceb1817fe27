"""The machine's interrupt hook (machine/native/trap.c), with a native filter in front of Python.

Every trap reaches `atoll_trap` first. With no filter it calls the Python handler
(the run loop's `interrupt`, machine/runloop.py) through a plain ctypes callback, which costs about a
microsecond less per trap than the binding's hook wrapper. A user of the machine
(the kernel's fast path) may install a filter written in C: it sees each trap
before Python does and either handles it completely, answering with the index of
the address space to run in from now on, or declines and Python runs as usual.

Invariants: a space index is handed out by `index(space)` and its table is
refreshed there whenever the space's version changed; `active` is the index of
the space the TLB serves; whenever control comes back to Python (the slow
callback, or `emu_start` returning) the machine follows `active` and the owner's
`sync` runs first, so that nothing in Python sees state the filter changed
without being told.
"""

from __future__ import annotations

import ctypes
from typing import Callable

from unicorn import Uc
from unicorn.unicorn_const import UC_CTL_IO_WRITE, UC_CTL_TLB_FLUSH, UC_HOOK_INTR

from .counter import NATIVE_DIR as _NATIVE, add_native_hook, function_address, load, mirrors, uclib
from .memory import AddressSpace
from .tlb import NativeTlb

#: spaces a filter can switch between (more are served by Python alone)
MAX_SPACES = 256

_SLOW = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p)


@mirrors(_NATIVE / "trap.c", "atoll_space_table")
class _SpaceTable(ctypes.Structure):
    _fields_ = [("maps", ctypes.c_void_p), ("count", ctypes.c_uint32), ("unused", ctypes.c_uint32)]


@mirrors(_NATIVE / "trap.c", "atoll_trap_front")
class _Front(ctypes.Structure):
    _fields_ = [("filter", ctypes.c_void_p), ("filter_data", ctypes.c_void_p), ("slow", ctypes.c_void_p),
                ("ctl", ctypes.c_void_p), ("tlb_maps", ctypes.c_void_p), ("tlb_count", ctypes.c_void_p),
                ("spaces", ctypes.c_void_p), ("space_count", ctypes.c_uint32), ("active", ctypes.c_int32),
                ("flush_code", ctypes.c_int32), ("unused", ctypes.c_uint32), ("filtered", ctypes.c_uint64)]


class TrapFront:
    def __init__(self, uc: Uc, tlb: NativeTlb, handler: Callable[[int], None],
                 on_error: Callable[[BaseException], None]) -> None:
        """`handler(intno)` is Python's part: every trap no filter handled; `on_error` gets
        whatever it raises (ctypes would print and drop it), to stop the run and raise it."""
        self._tlb = tlb
        self._spaces = (_SpaceTable * MAX_SPACES)()
        #: id(space) -> (index, version, the space kept alive so that its id stays its own)
        self._index: dict[int, tuple[int, int, AddressSpace]] = {}
        self._by_index: list[AddressSpace] = []
        self._handler = handler
        self._on_error = on_error
        self._sync: Callable[[], None] | None = None
        self._callback = _SLOW(self._slow)   # kept alive as long as the hook
        maps, count = tlb.fields
        self._s = _Front(None, None, function_address(self._callback), function_address(uclib().uc_ctl), maps, count,
                         ctypes.addressof(self._spaces), 0, -1,
                         (UC_CTL_IO_WRITE << 30) | UC_CTL_TLB_FLUSH, 0, 0)
        self._handle = add_native_hook(uc, UC_HOOK_INTR, load().atoll_trap, self._s)

    def _slow(self, uc, intno: int, _) -> None:
        try:
            self._handler(intno)
        except BaseException as e:
            self._on_error(e)

    # -- the filter ------------------------------------------------------------------

    def set_filter(self, function: int | None, data: int | None, sync: Callable[[], None] | None) -> None:
        """Put the C function at address `function` (called with the engine, the interrupt
        number and `data`) in front of Python; `sync()` runs whenever Python takes over
        again after the filter handled something. None removes the filter."""
        self._s.filter = function or None
        self._s.filter_data = data or None
        self._sync = sync if function else None

    def sync(self) -> None:
        """Tell the filter's owner that Python has the machine (it may have handled traps)."""
        if self._sync is not None:
            self._sync()

    @property
    def filtered(self) -> int:
        """Traps the filter has handled, in all."""
        return self._s.filtered

    # -- spaces --------------------------------------------------------------------------

    def index(self, space: AddressSpace) -> int | None:
        """`space`'s index for the filter (its table refreshed), or None when the table is full."""
        entry = self._index.get(id(space))
        if entry is not None and entry[1] == space.version:
            return entry[0]
        if entry is None:
            if len(self._by_index) == MAX_SPACES:
                return None
            i = len(self._by_index)
            self._by_index.append(space)
            self._s.space_count = i + 1
        else:
            i = entry[0]
        self._spaces[i].maps, self._spaces[i].count = self._tlb.table(space)
        self._index[id(space)] = (i, space.version, space)
        return i

    @property
    def active(self) -> int:
        return self._s.active

    @active.setter
    def active(self, index: int) -> None:
        self._s.active = index

    def space(self, index: int) -> AddressSpace:
        return self._by_index[index]


class ActiveSpace:
    """Which address space the CPU runs in: the one `activate` chose, or the one a trap
    filter switched to since (followed whenever Python takes the machine back).

    Invariant: `space` is the space whose table the TLB serves, `index` its index in the
    front (-1: none), and the front's `active` equals `index` whenever Python runs.
    """

    def __init__(self, tlb: NativeTlb, front: TrapFront, space: AddressSpace) -> None:
        self.tlb = tlb
        self.front = front
        #: the space Python last followed (read `space` to follow first)
        self.followed = space
        self._version = space.version
        tlb.activate(space)
        self._index = front.active = front.index(space)

    @property
    def space(self) -> AddressSpace:
        """The space now (after following what a trap filter switched)."""
        if self.front.active != self._index:
            self.follow()
        return self.followed

    def follow(self) -> None:
        """Make the space a trap filter left active the machine's own."""
        active = self.front.active
        if active != self._index:
            space = self.front.space(active)
            self.followed, self._version, self._index = space, space.version, active

    def regain(self) -> None:
        """Python has the machine again: follow what a trap filter switched, then tell its owner."""
        front = self.front
        if front.active != self._index:
            self.follow()
        front.sync()

    def activate(self, space: AddressSpace, force: bool = False) -> None:
        """Run from now on in `space` (flushes the TLB when the space changes, or with `force`)."""
        if force or space is not self.followed or space.version != self._version:
            self.followed = space
            self._version = space.version
            self.tlb.activate(space)
            self.tlb.flush()
            index = self.front.index(space)
            self._index = self.front.active = -1 if index is None else index
