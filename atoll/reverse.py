"""Reverse execution on a `Recording`: step back, continue back to a breakpoint or watchpoint,
and the instruction trail of one component that the line-wise reverse steps walk.

Positions are instruction counts: position T is the state just before the instruction
numbered T runs (`Recording.goto`). Every search replays the recording one snapshot
interval at a time, newest first, with hooks that only look -- they never stop the
replay, so it stays the recorded run:

- `continue_back` finds the latest breakpoint or watchpoint hit before the current
  position (the debugger's own, in `MachineDebug`, each in the address space it was set
  in) and goes there; with none it goes to the start of the history and says so (None).
  A breakpoint hit is the state before its instruction; a watchpoint hit the state
  before the instruction that made the access (the one GDB reports, going backwards).
- `step_back(space)` goes to just before the latest instruction that ran in `space`
  (another component's instructions, the kernel's work and idle time in between are gone
  through); False at the start of the history.
- `instructions_back(space)` yields (position, pc) of the instructions `space` ran,
  newest first, from a block trail (one Python hook per translated block, only while a
  search replays): a block's instructions are decoded from its start for as many as the
  instruction counter says ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from unicorn.unicorn_const import UC_HOOK_BLOCK, UC_HOOK_CODE, UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE, UC_MEM_WRITE

from .recording import Recording

_WIDEST_ACCESS = 8


@dataclass(frozen=True)
class ReverseHit:
    """A breakpoint or watchpoint hit found going backwards, at `position`."""

    position: int
    kind: str            # "breakpoint" or "watchpoint"
    address: int
    space: object
    watch: str = ""      # the watchpoint's kind: "write", "read", "access"
    access: str = ""     # what the instruction did: "write" or "read"


class _Observer:
    """Hooks that note hits (and, with `trail`, block starts) during one replay."""

    def __init__(self, recording: Recording, trail: bool) -> None:
        self.recording = recording
        self.machine = recording.machine
        self.counter = recording.machine.counter
        self.trail = trail
        self.hits: list[ReverseHit] = []
        self.blocks: list[tuple[int, int, object]] = []
        self._handles: list[int] = []

    def install(self) -> None:
        uc, debug = self.machine.uc, self.recording.control.debug
        for address in debug.breakpoints:
            self._handles.append(uc.hook_add(UC_HOOK_CODE, self._on_code, begin=address, end=address))
        for vaddr, length, kind, space_name in debug.watchpoints:
            space = self._space_named(space_name)
            if space is None:
                continue
            types = {"write": (UC_HOOK_MEM_WRITE,), "read": (UC_HOOK_MEM_READ,),
                     "access": (UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE)}[kind]
            for v, paddr, n in _pieces(space, vaddr, length):
                for hook_type in types:
                    self._handles.append(uc.hook_add(hook_type, self._on_memory, (v, paddr, n, kind, space),
                                                     begin=max(0, paddr - _WIDEST_ACCESS + 1), end=paddr + n - 1))
        if self.trail:
            self._handles.append(uc.hook_add(UC_HOOK_BLOCK, self._on_block))
        self.machine.flush_code()

    def remove(self) -> None:
        for handle in self._handles:
            self.machine.uc.hook_del(handle)
        self._handles.clear()
        self.machine.flush_code()

    def _space_named(self, name: str):
        kernel = self.recording.kernel
        spaces = [p.space for p in kernel.processes] if kernel is not None else []
        return next((s for s in (*spaces, self.machine.bare_space) if s.name == name), None)

    # The counter counts per block (machine/native/counter.c): the index of the hooked
    # instruction is settled from its pc, and None for one a replay's limit stops.

    def _on_code(self, uc, address: int, size: int, _) -> None:
        index = self.counter.index_of(address)
        if index is None:
            return
        space = self.machine.space
        if self.recording.control.debug.breakpoint_at(address, space):
            self.hits.append(ReverseHit(index, "breakpoint", address, space))

    def _on_memory(self, uc, access: int, address: int, size: int, value: int, watch) -> None:
        vaddr, paddr, n, kind, space = watch
        index = self.counter.index_of(self.machine.cpu.pc)
        if index is None or not (address < paddr + n and address + size > paddr):
            return
        where = vaddr + max(0, address - paddr)
        did = "write" if access == UC_MEM_WRITE else "read"
        self.hits.append(ReverseHit(index, "watchpoint", where, space, kind, did))

    def _on_block(self, uc, address: int, size: int, _) -> None:
        if not self.counter.limited:
            self.blocks.append((self.counter.running_block_start, address, self.machine.space))


def _pieces(space, address: int, length: int) -> list[tuple[int, int, int]]:
    pieces = []
    while length > 0:
        m = space.lookup(address)
        if m is None:
            break
        n = min(length, m.vend - address)
        pieces.append((address, m.pbase + (address - m.vbase), n))
        address += n
        length -= n
    return pieces


class Reverse:
    """Going back in one recording."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.machine = recording.machine

    # -- one snapshot interval at a time ----------------------------------------------------

    def _segments(self, before: int) -> Iterator[int]:
        """Indices of the marks whose interval holds instructions before `before`, newest first."""
        marks = self.recording.marks
        for i in range(len(marks) - 1, -1, -1):
            if marks[i].executed < before:
                yield i

    def _scan(self, index: int, end: int, trail: bool) -> _Observer:
        """Replay interval `index` (to the next mark, or to `end`) with observing hooks."""
        rec = self.recording
        marks = rec.marks
        if index + 1 < len(marks) and marks[index + 1].executed <= end:
            k, target = marks[index + 1].op, marks[index + 1].executed
        else:
            k = next((i for i, op in enumerate(rec.ops) if op.end > end), len(rec.ops))
            target = end
        observer = _Observer(rec, trail)
        rec.replay(marks[index], k, target, observe=observer)
        observer.blocks.append((rec.executed, 0, None))   # where the interval ended
        return observer

    # -- the operations -----------------------------------------------------------------

    def continue_back(self) -> ReverseHit | None:
        """Go to the latest hit before here (None: none; the history's start, where it went)."""
        rec = self.recording
        here = rec.executed
        for i in self._segments(here):
            hits = [h for h in self._scan(i, here, trail=False).hits if h.position < here]
            if hits:
                hit = max(hits, key=lambda h: h.position)
                rec.goto(hit.position)
                return hit
        rec.goto(rec.start if rec.start is not None else here)
        return None

    def step_back(self, space=None) -> bool:
        """Go to just before the latest instruction `space` ran (None: any); False at the start."""
        rec = self.recording
        here = rec.executed
        if rec.at_start():
            return False
        rec.goto(here - 1)
        if space is None or self.machine.space is space:
            return True
        for position, _ in self.instructions_back(space, here):
            rec.goto(position)
            return True
        rec.goto(rec.start)
        return False

    def instructions_back(self, space, before: int) -> Iterator[tuple[int, int]]:
        """(position, pc) of each instruction `space` ran before `before`, newest first
        (the system is left wherever the last search replay ended: `goto` after)."""
        length = self.machine.cpu.instruction_length
        for i in self._segments(before):
            blocks = self._scan(i, before, trail=True).blocks
            ran = []
            for (start, address, sp), (nxt, _, _) in zip(blocks, blocks[1:]):
                count = min(nxt, before) - start
                if sp is not space or count <= 0:
                    continue
                pc = address
                for n in range(count):
                    ran.append((start + n, pc))
                    first = int.from_bytes(self.machine.read_virtual(space, pc, 2), "little")
                    pc += length(first)
            yield from reversed(ran)
            before = self.recording.marks[i].executed if i < len(self.recording.marks) else before


__all__ = ["Reverse", "ReverseHit"]
