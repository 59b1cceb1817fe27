"""Building a component's address space from its ELF.

Checks, each failing with `LoadError` naming the file and the problem:
32-bit little-endian executable of the board's ISA (machine's `read_elf`); every
loadable segment inside [COMPONENT_BASE, COMPONENT_LIMIT); no segment both
writable and executable; segments that share a page agree on its permissions;
the entry point inside an executable segment; enough free RAM on the board.

Physical pages come from a `FrameAllocator` over the board's RAM regions; a
component keeps its pages for life, so a restart reloads the ELF in place.
"""

from __future__ import annotations

import pathlib

from machine import PAGE_SIZE, AddressSpace, BoardSpec, ElfError, ElfImage, Machine, Perm, read_elf

from .abi import COMPONENT_BASE, COMPONENT_LIMIT, HEAP_BASE, STACK_TOP


class LoadError(ValueError):
    """A component that cannot be loaded; the message names the file."""


class FrameAllocator:
    """Hands out physical pages of the board's RAM, lowest first."""

    def __init__(self, board: BoardSpec, reserve: int = 0) -> None:
        self._free: list[tuple[int, int]] = [
            (r.base, r.end) for r in board.regions if r.kind == "ram" and r.perms & Perm.W]
        self._next = 0
        self.allocated = 0
        if reserve:
            self.take(reserve // PAGE_SIZE)

    def take(self, pages: int) -> list[int]:
        """`pages` free pages, or MemoryError with none taken (a refused component costs nothing)."""
        free = sum((end - start) // PAGE_SIZE for start, end in self._free[self._next:])
        if pages > free:
            raise MemoryError(f"out of RAM: needed {pages} pages, {free} free")
        result = []
        while len(result) < pages:
            if self._next >= len(self._free):
                raise MemoryError(f"out of RAM: needed {pages} more pages")
            start, end = self._free[self._next]
            if start >= end:
                self._next += 1
                continue
            result.append(start)
            self._free[self._next] = (start + PAGE_SIZE, end)
        self.allocated += pages
        return result


def _perm_of(flags: str) -> Perm:
    perm = Perm.NONE
    for ch, p in (("r", Perm.R), ("w", Perm.W), ("x", Perm.X)):
        if ch in flags:
            perm |= p
    return perm


def check_component(path: pathlib.Path, isa: str) -> tuple[ElfImage, dict[int, Perm]]:
    """The ELF and the permissions of each virtual page it occupies."""
    try:
        image = read_elf(path, isa)
    except ElfError as e:
        raise LoadError(str(e)) from None
    pages: dict[int, Perm] = {}
    for seg in image.segments:
        if seg.vaddr < COMPONENT_BASE or seg.vend > COMPONENT_LIMIT:
            raise LoadError(f"{path}: segment at {seg.vaddr:#x}-{seg.vend:#x} is outside the component "
                            f"range {COMPONENT_BASE:#x}-{COMPONENT_LIMIT:#x} (link with firmware/lib/component.ld)")
        perm = _perm_of(seg.flags)
        if perm & Perm.W and perm & Perm.X:
            raise LoadError(f"{path}: segment at {seg.vaddr:#x} is both writable and executable")
        for page in range(seg.vaddr & ~(PAGE_SIZE - 1), seg.vend, PAGE_SIZE):
            if page in pages and pages[page] != perm:
                raise LoadError(f"{path}: segments with different permissions share the page at {page:#x}")
            pages[page] = perm
    entry_page = image.entry & ~(PAGE_SIZE - 1) & ~1
    if not pages.get(entry_page, Perm.NONE) & Perm.X:
        raise LoadError(f"{path}: entry point {image.entry:#x} is not in an executable segment")
    return image, pages


def build_space(machine: Machine, name: str, image: ElfImage, pages: dict[int, Perm], stack: int,
                frames: FrameAllocator, heap: int = 0) -> tuple[AddressSpace, dict[int, int]]:
    """Map the image's pages, a stack and a heap of `heap` bytes (at HEAP_BASE, rw-) onto fresh
    frames; returns the space and vpage->frame (the heap's pages are zeroed on every (re)load)."""
    space = AddressSpace(name)
    stack_pages = -(-stack // PAGE_SIZE)
    layout = dict(pages)
    for i in range(stack_pages):
        layout[STACK_TOP - (i + 1) * PAGE_SIZE] = Perm.R | Perm.W
    for i in range(-(-heap // PAGE_SIZE)):
        layout[HEAP_BASE + i * PAGE_SIZE] = Perm.R | Perm.W
    try:
        physical = frames.take(len(layout))
    except MemoryError:
        raise LoadError(f"{image.path}: the board's RAM is full ({len(layout)} pages needed for {name})") from None
    frame_of = dict(zip(sorted(layout), physical))
    for vpage in sorted(layout):
        space.map(vpage, frame_of[vpage], PAGE_SIZE, layout[vpage], _region_of(vpage, stack_pages))
    load_image(machine, image, frame_of)
    return space, frame_of


def _region_of(vpage: int, stack_pages: int) -> str:
    if vpage >= STACK_TOP - stack_pages * PAGE_SIZE:
        return "stack"
    return "heap" if vpage >= HEAP_BASE else "image"


def load_image(machine: Machine, image: ElfImage, frame_of: dict[int, int]) -> None:
    """(Re)write every page: zero, then the segments' bytes (bss stays zero)."""
    zero = bytes(PAGE_SIZE)
    for frame in frame_of.values():
        machine.write_physical(frame, zero, flush_code=False)
    for seg in image.segments:
        data = seg.data
        addr = seg.vaddr
        while data:
            page = addr & ~(PAGE_SIZE - 1)
            n = min(len(data), page + PAGE_SIZE - addr)
            machine.write_physical(frame_of[page] + (addr - page), data[:n], flush_code=False)
            addr += n
            data = data[n:]
    machine.flush_code()
