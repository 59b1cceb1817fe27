"""The TLB fill hook, in C (machine/native/tlb.c), fed from the active AddressSpace.

`NativeTlb.activate(space)` copies the space's mappings into a sorted C array that
the fill hook binary-searches on every TLB miss; no Python runs on a miss. The copy
is redone only when the space or its `version` changes. A refused fill leaves its
address, access and reason in the shared struct, read back as a `Refusal`.

The machine's sentinel page is in no space: every access to it is refused as a
permission fault, except inside `machine_use()`, while the machine runs its own code
there (the RISC-V user-entry trampoline). Unicorn hands the fill the page of the
access, not the byte, so a refusal names the page.
"""

from __future__ import annotations

import contextlib
import ctypes

from unicorn import Uc
from unicorn.unicorn_const import (
    UC_CTL_IO_WRITE,
    UC_CTL_TLB_FLUSH,
    UC_HOOK_TLB_FILL,
    UC_MEM_FETCH,
    UC_MEM_READ,
    UC_MEM_WRITE,
)

from .counter import NATIVE_DIR as _NATIVE, add_native_hook, load, mirrors, uclib
from .memory import AccessKind, AddressSpace, FaultKind, Refusal


@mirrors(_NATIVE / "tlb.c", "atoll_mapping")
class _Mapping(ctypes.Structure):
    _fields_ = [("vbase", ctypes.c_uint32), ("vend", ctypes.c_uint32),
                ("pbase", ctypes.c_uint32), ("perms", ctypes.c_uint32)]


@mirrors(_NATIVE / "tlb.c", "atoll_tlb")
class _Tlb(ctypes.Structure):
    _fields_ = [("maps", ctypes.POINTER(_Mapping)), ("count", ctypes.c_uint32),
                ("sentinel_page", ctypes.c_uint32), ("refused", ctypes.c_uint32),
                ("refused_vaddr", ctypes.c_uint32), ("refused_access", ctypes.c_uint32),
                ("refused_kind", ctypes.c_uint32), ("machine_use", ctypes.c_uint32),
                ("code_pages", ctypes.POINTER(ctypes.c_uint8)), ("page_shift", ctypes.c_uint32)]


_ACCESS = {UC_MEM_READ: AccessKind.READ, UC_MEM_WRITE: AccessKind.WRITE, UC_MEM_FETCH: AccessKind.FETCH}
_KIND = {1: FaultKind.UNMAPPED, 2: FaultKind.PERMISSION}


class NativeTlb:
    def __init__(self, uc: Uc, sentinel_page: int) -> None:
        # one bit per target page of the 32-bit physical space: pages ever fetched from
        page_shift = uc.ctl_get_page_size().bit_length() - 1
        self._code_pages = (ctypes.c_uint8 * ((1 << 32) >> page_shift >> 3))()
        self._s = _Tlb(None, 0, sentinel_page, 0, 0, 0, 0, 0,
                       ctypes.cast(self._code_pages, ctypes.POINTER(ctypes.c_uint8)), page_shift)
        #: id(space) -> (version, pointer to its array, count, the array kept alive)
        self._tables: dict[int, tuple] = {}
        self._keep: list[AddressSpace] = []                      # spaces whose ids key _tables
        #: arrays replaced since the last `activate` (the active one may still point at one)
        self._retired: list = []
        self._handle = add_native_hook(uc, UC_HOOK_TLB_FILL, load().atoll_tlb_fill, self._s)
        self._uclib = uclib()
        self._uch = uc._uch
        self._flush_code = (UC_CTL_IO_WRITE << 30) | UC_CTL_TLB_FLUSH  # uc_ctl's encoding, no arguments

    def activate(self, space: AddressSpace) -> None:
        """Serve translations of `space` from now on (the caller flushes Unicorn's TLB)."""
        self._s.maps, self._s.count = self._table(space)
        self._retired.clear()

    def table(self, space: AddressSpace) -> tuple[int, int]:
        """The address and length of `space`'s C array (valid while the space's version
        stays), for native code that activates spaces itself (machine/trapfront.py)."""
        maps, count = self._table(space)
        return ctypes.cast(maps, ctypes.c_void_p).value or 0, count

    def _table(self, space: AddressSpace):
        key = id(space)
        cached = self._tables.get(key)
        if cached is None or cached[0] != space.version:
            maps = space.mappings
            # a mapping that ends at 4 GiB is cut one byte short (the machine's
            # sentinel page sits there and is refused first anyway)
            array = (_Mapping * max(len(maps), 1))(*[
                _Mapping(m.vbase, min(m.vend, 0xFFFF_FFFF), m.pbase, m.perms.value) for m in maps])
            old = self._tables.get(key)
            if old is not None:
                self._retired.append(old[3])
            cached = (space.version, ctypes.cast(array, ctypes.POINTER(_Mapping)), len(maps), array)
            if key not in self._tables:
                self._keep.append(space)
            self._tables[key] = cached
        return cached[1], cached[2]

    @property
    def fields(self) -> tuple[int, int]:
        """The addresses of the active table's pointer and length in the shared struct."""
        base = ctypes.addressof(self._s)
        return base + _Tlb.maps.offset, base + _Tlb.count.offset

    @property
    def code_fields(self) -> tuple[int, int, int]:
        """The addresses of the active table's pointer, its length and the `machine_use` flag
        (the instruction counter decodes blocks through them, native/counter.c)."""
        base = ctypes.addressof(self._s)
        return base + _Tlb.maps.offset, base + _Tlb.count.offset, base + _Tlb.machine_use.offset

    def flush(self) -> None:
        """Drop every cached translation (one direct C call: this runs on every switch)."""
        self._uclib.uc_ctl(self._uch, self._flush_code)

    @contextlib.contextmanager
    def machine_use(self):
        """Serve the sentinel page (read and execute) inside this block only; translations
        are flushed on the way in and out, so none of them outlives it."""
        self._s.machine_use = 1
        self.flush()
        try:
            yield
        finally:
            self._s.machine_use = 0
            self.flush()

    def clear_refusal(self) -> None:
        self._s.refused = 0

    @property
    def refusal(self) -> Refusal | None:
        s = self._s
        if not s.refused:
            return None
        return Refusal(s.refused_vaddr, _ACCESS.get(s.refused_access, AccessKind.READ), _KIND[s.refused_kind])
