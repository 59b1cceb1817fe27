"""Breakpoints and watchpoints as Unicorn hooks on their own addresses only.

A debugger (the GDB stub, an interactive debugger) asks the machine to stop at an
address or on an access to a range; `MachineDebug` turns each request into one
Unicorn hook whose range is exactly that address or range, so code elsewhere runs
at full speed (DESIGN.md section 7: never a global Python code or block hook).

Facts about Unicorn 2.1.4 with the virtual TLB that this module relies on (the
GDB stub tests check them through real use):

- a code hook receives the *virtual* pc, and fires in whichever address space is
  active. Every component is linked at the same virtual addresses, so a
  breakpoint names its space and the callback ignores the others;
- calling `uc_emu_stop` inside a code hook stops *before* the instruction runs;
  the native instruction counter counted its whole block, so the count is settled
  at the breakpoint's address. With no per-instruction hook in normal running (the
  counter counts per block), a code hook bounded to one address costs nothing
  elsewhere;
- memory hooks receive the *physical* address. A watchpoint is therefore
  translated through its space once, when it is set, and reported back in
  virtual terms; a memory access is stopped after the instruction completes,
  before the next one (the counter's exact stop, for which runs carry the
  counter's code hook while a watchpoint is set), not at the end of its block.
  `uc_emu_stop` from the memory hook itself would make Unicorn run the accessing
  instruction again when the CPU restarts.

A machine in host timing (machine/hosttime.py) has no instruction counter to settle
at a breakpoint or stop after a watched access: `MachineDebug` refuses it (`TimingError`).

A hit is recorded (`hit`) and ends the run the way `Machine.request_stop` does;
the run returns `Stop("stopped")` and the debugger reads `take_hit()`.
Resuming from a breakpoint: `skip_once(space, pc)` lets the next execution of
that address in that space through, so "continue" does not stop where it is.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from unicorn.unicorn_const import UC_HOOK_CODE, UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE, UC_MEM_WRITE

from .hosttime import needs_exact
from .memory import AddressSpace

if TYPE_CHECKING:
    from .machine import Machine

#: the widest single memory access a CPU makes (a hook fires on an access's first byte)
_WIDEST_ACCESS = 8
WATCH_KINDS = ("write", "read", "access")


class HitKind(enum.StrEnum):
    """What kind of debug hook stopped the machine."""

    #: pc is at the hit's address; the instruction has not run
    BREAKPOINT = "breakpoint"
    #: the access at the hit's virtual address has happened
    WATCHPOINT = "watchpoint"


@dataclass(frozen=True)
class DebugHit:
    """Why the debug hooks stopped the machine.

    kind: `HitKind.BREAKPOINT` or `HitKind.WATCHPOINT` (then `access` is "read"
    or "write", `watch` the kind the watchpoint was set with).
    """

    kind: HitKind
    address: int
    space: AddressSpace
    access: str | None = None
    watch: str | None = None
    #: a watchpoint's: the address of the instruction that made the access
    pc: int | None = None


@dataclass
class _Watch:
    vaddr: int
    length: int
    kind: str
    space: AddressSpace
    pieces: list[tuple[int, int, int]]   # (vaddr, paddr, length) per physical run
    hooks: list[int]


class MachineDebug:
    """The breakpoints and watchpoints of one machine."""

    def __init__(self, machine: "Machine") -> None:
        if machine.host_time is not None:   # no count to settle at a hit, no exact stop
            raise needs_exact("breakpoints, watchpoints and single steps")
        self.machine = machine
        self._uc = machine.uc
        self._code_address = machine.cpu.code_address
        #: address -> (Unicorn hook handle, spaces it stops in; None in the set: every space)
        self._breaks: dict[int, tuple[int, set]] = {}
        self._watches: list[_Watch] = []
        self._skip: set[tuple[int, int]] = set()
        self.hit: DebugHit | None = None
        #: while True, hits are ignored (a debugger stepping over its own breakpoint)
        self.suspended = False

    # -- breakpoints -----------------------------------------------------------

    def add_breakpoint(self, address: int, space: AddressSpace | None = None) -> None:
        """Stop before the instruction at virtual `address` runs in `space` (None: in any space)."""
        address = self._code_address(address)
        entry = self._breaks.get(address)
        if entry is None:
            handle = self._uc.hook_add(UC_HOOK_CODE, self._on_code, begin=address, end=address)
            entry = self._breaks[address] = (handle, set())
            # code translated before the hook existed carries no call to it
            self._uc.ctl_flush_tb()
        entry[1].add(None if space is None else id(space))

    def remove_breakpoint(self, address: int, space: AddressSpace | None = None) -> bool:
        address = self._code_address(address)
        entry = self._breaks.get(address)
        key = None if space is None else id(space)
        if entry is None or key not in entry[1]:
            return False
        entry[1].discard(key)
        if not entry[1]:
            self._uc.hook_del(entry[0])
            del self._breaks[address]
        return True

    def breakpoint_at(self, address: int, space: AddressSpace) -> bool:
        entry = self._breaks.get(self._code_address(address))
        return entry is not None and (None in entry[1] or id(space) in entry[1])

    def skip_once(self, space: AddressSpace, address: int) -> None:
        """Let the next execution of `address` in `space` pass a breakpoint there (resuming)."""
        if self.breakpoint_at(address, space):
            self._skip.add((self._code_address(address), id(space)))

    # -- watchpoints -----------------------------------------------------------

    def add_watchpoint(self, address: int, length: int, kind: str, space: AddressSpace) -> None:
        """Stop after an access of `kind` ("write", "read", "access") to [address, address+length)
        as `space` sees it; `ValueError` if part of it is unmapped in `space`."""
        if kind not in WATCH_KINDS:
            raise ValueError(f"watchpoint kind must be one of {WATCH_KINDS}, not {kind!r}")
        if not 0 < length <= 0x1000:
            raise ValueError(f"watchpoint length must be 1 to 4096 bytes, not {length}")
        pieces = []
        vaddr, left = address, length
        while left > 0:
            m = space.lookup(vaddr)
            if m is None:
                raise ValueError(f"{vaddr:#x} is not mapped in {space.name}")
            n = min(left, m.vend - vaddr)
            pieces.append((vaddr, m.pbase + (vaddr - m.vbase), n))
            vaddr += n
            left -= n
        types = {"write": (UC_HOOK_MEM_WRITE,), "read": (UC_HOOK_MEM_READ,),
                 "access": (UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE)}[kind]
        watch = _Watch(address, length, kind, space, pieces, [])
        for _, paddr, n in pieces:
            begin = max(0, paddr - _WIDEST_ACCESS + 1)
            for hook_type in types:
                watch.hooks.append(self._uc.hook_add(hook_type, self._on_memory, watch,
                                                     begin=begin, end=paddr + n - 1))
        self._watches.append(watch)
        self.machine.counter.watching = True   # exact stops after an access need the code hook
        self.machine.flush_code()   # pages already in the TLB would not look for the new hooks

    def remove_watchpoint(self, address: int, length: int, kind: str, space: AddressSpace | None = None) -> bool:
        for watch in self._watches:
            if (watch.vaddr, watch.length, watch.kind) == (address, length, kind) and \
                    (space is None or watch.space is space):
                for handle in watch.hooks:
                    self._uc.hook_del(handle)
                self._watches.remove(watch)
                self.machine.counter.watching = bool(self._watches)
                self.machine.flush_code()   # back to the fast path for those pages
                return True
        return False

    # -- all of them -----------------------------------------------------------

    def clear(self) -> None:
        """Remove every breakpoint and watchpoint (a debugger detached)."""
        for handle, _ in self._breaks.values():
            self._uc.hook_del(handle)
        for watch in self._watches:
            for handle in watch.hooks:
                self._uc.hook_del(handle)
        self._breaks.clear()
        self._watches.clear()
        self.machine.counter.watching = False
        self._skip.clear()
        self.hit = None

    @property
    def breakpoints(self) -> list[int]:
        return sorted(self._breaks)

    @property
    def watchpoints(self) -> list[tuple[int, int, str, str]]:
        return [(w.vaddr, w.length, w.kind, w.space.name) for w in self._watches]

    def take_hit(self) -> DebugHit | None:
        """The hit that ended the last run (once), and forget the pending skips."""
        hit, self.hit = self.hit, None
        if hit is not None:
            self._skip.clear()
        return hit

    # -- Unicorn callbacks -----------------------------------------------------

    def _on_code(self, uc, address: int, size: int, _) -> None:
        try:
            entry = self._breaks.get(address)
            if entry is None or self.suspended or self.hit is not None:
                return
            space = self.machine.space
            key = id(space)
            if None not in entry[1] and key not in entry[1]:
                return
            if (address, key) in self._skip:
                self._skip.discard((address, key))
                return
            self.hit = DebugHit(HitKind.BREAKPOINT, address, space)
            machine = self.machine
            machine.request_stop()
            # the block was counted whole; the instruction here and those after it will not run
            machine.counter.settle(address)
            uc.emu_stop()
        except BaseException as e:  # carried out of emu_start by the machine, never swallowed
            self.machine.carry(e)

    def _on_memory(self, uc, access: int, address: int, size: int, value: int, watch: _Watch) -> None:
        try:
            if self.suspended or self.hit is not None:
                return
            for vaddr, paddr, n in watch.pieces:
                if address < paddr + n and address + size > paddr:
                    where = vaddr + max(0, address - paddr)
                    break
            else:
                return  # the hook's range is widened by an access's width; this one missed
            kind = "write" if access == UC_MEM_WRITE else "read"
            self.hit = DebugHit(HitKind.WATCHPOINT, where, watch.space, kind, watch.kind,
                                self._code_address(self.machine.cpu.pc))
            self.machine.request_stop()
            # at the very next instruction, not at the end of the block (its branch, a call)
            self.machine.counter.stop_before_next()
        except BaseException as e:
            self.machine.carry(e)

