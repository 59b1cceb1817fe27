"""Guest RAM and flash in host memory the machine owns.

The machine maps each memory region of its board from a host mapping it allocates itself
(`uc.mem_map_ptr`) rather than letting Unicorn allocate it, so that the instruction counter
(native/counter.c) reads a translated block's code there directly, with no copy. The
mappings are private, as Unicorn's own memory is: a process forked from one that holds a
machine (a campaign's worker pool) gets its own copy of guest memory, never a shared one.
They live as long as the machine that holds the returned dictionary.
"""

from __future__ import annotations

import ctypes
import mmap

from unicorn.unicorn_const import UC_PROT_ALL


def map_memory(uc, regions) -> dict[int, mmap.mmap]:
    """Map each region (`base`, `size`) from a private host mapping; returns them by base."""
    memory = {r.base: mmap.mmap(-1, r.size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS) for r in regions}
    for r in regions:
        uc.mem_map_ptr(r.base, r.size, UC_PROT_ALL, address_of(memory[r.base]))
    return memory


def address_of(memory: mmap.mmap) -> int:
    """The host address of a mapping's first byte."""
    return ctypes.addressof(ctypes.c_char.from_buffer(memory))
