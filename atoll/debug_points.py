"""The debugger's numbered breakpoints and watchpoints, and what a hit of one says.

A user's breakpoint is a `Point` and, underneath, a `MachineDebug` hook in the
address space of its component (None: every component). Hooks are counted by
(address, space), so the debugger's own temporary stops (`finish`, `until`,
stepping over a call) share a hook with a user's breakpoint at the same place and
removing one leaves the other. `report` turns a debug hit into the text the user
sees, counts the hit and deletes a temporary breakpoint it consumed.
"""

from __future__ import annotations

from dataclasses import dataclass

from machine import DebugHit, HitKind

from .debug_session import DebugSession
from .symbols import DebuggerError

_WATCH_KINDS = {"watch": "write", "rwatch": "read", "awatch": "access"}


@dataclass
class Point:
    number: int
    kind: str                  # "breakpoint", "watch", "rwatch", "awatch"
    address: int
    component: str | None      # None: every component (an address breakpoint)
    where: str
    length: int = 0
    temporary: bool = False
    hits: int = 0


class Breakpoints:
    """The numbered points of one debugger, and the hooks under them."""

    def __init__(self, session: DebugSession) -> None:
        self.session = session
        self.points: dict[int, Point] = {}
        self._next_number = 1
        self._refs: dict[tuple[int, object], int] = {}

    # -- hooks -------------------------------------------------------------------------------------

    def add_hook(self, address: int, component: str | None) -> None:
        space = None if component is None else self.session.process(component).space
        key = (address, None if space is None else id(space))
        if self._refs.get(key, 0) == 0:
            self.session.debug.add_breakpoint(address, space)
        self._refs[key] = self._refs.get(key, 0) + 1

    def remove_hook(self, address: int, component: str | None) -> None:
        space = None if component is None else self.session.process(component).space
        key = (address, None if space is None else id(space))
        count = self._refs.get(key, 0) - 1
        if count <= 0:
            self._refs.pop(key, None)
            self.session.debug.remove_breakpoint(address, space)
        else:
            self._refs[key] = count

    def _new_point(self, point: Point) -> Point:
        self.points[point.number] = point
        self._next_number += 1
        return point

    def _delete_point(self, point: Point) -> None:
        del self.points[point.number]
        if point.kind == "breakpoint":
            self.remove_hook(point.address, point.component)
        else:
            space = self.session.process(point.component).space
            self.session.debug.remove_watchpoint(point.address, point.length, _WATCH_KINDS[point.kind], space)

    def user_breakpoint_at(self, process, address: int) -> bool:
        return any(p.kind == "breakpoint" and not p.temporary and p.address == address and
                   p.component in (None, process.name) for p in self.points.values())

    # -- commands ----------------------------------------------------------------------------------

    def cmd_break(self, arg: str, temporary: bool = False) -> str:
        s = self.session
        words = arg.split()
        if not words:
            p = s.selected
            words = [f"{s.pc(p):#x}", p.name]
        if len(words) > 2:
            raise DebuggerError("usage: break LOCATION [COMPONENT]")
        component = words[1] if len(words) == 2 else None
        if component is not None:
            s.process(component)
        out = []
        for comp, address, where in s.locations(words[0], component):
            self.add_hook(address, comp)
            point = self._new_point(Point(self._next_number, "breakpoint", address, comp, where,
                                          temporary=temporary))
            out.append(f"{'Temporary b' if temporary else 'B'}reakpoint {point.number} at {address:#010x}"
                       f" ({where}) in {comp or 'every component'}")
        return "\n".join(out) + "\n"

    def cmd_tbreak(self, arg: str) -> str:
        return self.cmd_break(arg, temporary=True)

    def cmd_watch(self, arg: str, kind: str = "watch") -> str:
        s = self.session
        words = arg.split()
        if not 1 <= len(words) <= 3:
            raise DebuggerError(f"usage: {kind} ADDRESS|SYMBOL [LENGTH] [COMPONENT]")
        component = None
        length = None
        for w in words[1:]:
            n = s.number(w)
            if n is not None:
                length = n
            else:
                component = w
        process = s.process(component) if component else s.selected
        address = s.address(words[0], process)
        if length is None:
            syms = s.syms(process)
            size = syms.symbols.get(words[0], (0, 0, ""))[1] if syms else 0
            length = size if 0 < size <= 4096 else 4
        try:
            s.debug.add_watchpoint(address, length, _WATCH_KINDS[kind], process.space)
        except ValueError as e:
            raise DebuggerError(str(e)) from None
        point = self._new_point(Point(self._next_number, kind, address, process.name, words[0], length))
        word = {"watch": "Watchpoint", "rwatch": "Read watchpoint", "awatch": "Access watchpoint"}[kind]
        return f"{word} {point.number}: {words[0]} ({address:#010x}, {length} bytes) in {process.name}\n"

    def cmd_delete(self, arg: str) -> str:
        words = arg.split()
        if not words:
            for point in list(self.points.values()):
                self._delete_point(point)
            return "deleted every breakpoint and watchpoint\n"
        out = []
        for w in words:
            n = self.session.number(w)
            if n is None or n not in self.points:
                out.append(f"no breakpoint number {w}")
                continue
            self._delete_point(self.points[n])
        return "".join(f"{line}\n" for line in out)

    def table(self) -> str:
        """`info breakpoints`."""
        if not self.points:
            return "no breakpoints or watchpoints\n"
        lines = [f"{'Num':<4} {'Type':<12} {'Address':<10} {'Component':<12} {'Hits':>4}  What"]
        for p in self.points.values():
            kind = p.kind if p.kind != "breakpoint" else ("tbreak" if p.temporary else "breakpoint")
            what_text = p.where + (f" ({p.length} bytes)" if p.length else "")
            lines.append(f"{p.number:<4} {kind:<12} {p.address:#010x} {p.component or '(all)':<12} "
                         f"{p.hits:>4}  {what_text}")
        return "\n".join(lines) + "\n"

    # -- hits --------------------------------------------------------------------------------------

    def report(self, hit: DebugHit, stop_when=None) -> str | None:
        """What `hit` says to the user, or None for a hook of the debugger's own that `stop_when`
        (process, address) does not accept and no user breakpoint shares."""
        s = self.session
        process = s.process_of_space(hit.space) or s.selected
        if hit.kind is HitKind.BREAKPOINT:
            if stop_when is not None and not stop_when(process, hit.address):
                if not self.user_breakpoint_at(process, hit.address):
                    return None
            s.selected = process
            numbers = []
            for point in list(self.points.values()):
                if point.kind == "breakpoint" and point.address == hit.address and \
                        point.component in (None, process.name):
                    point.hits += 1
                    numbers.append(point.number)
                    if point.temporary:
                        self._delete_point(point)
            head = f"Breakpoint {', '.join(map(str, numbers))}, " if numbers else ""
            return head + s.where(process) + "\n"
        s.selected = process
        numbers = [p for p in self.points.values() if p.kind != "breakpoint" and p.component == process.name
                   and p.address <= hit.address < p.address + p.length]
        for point in numbers:
            point.hits += 1
        value = ""
        try:
            data = s.machine.read_virtual(hit.space, hit.address & ~3, 4)
            value = f", word at {hit.address & ~3:#010x} now {int.from_bytes(data, 'little'):#010x}"
        except Exception:
            pass
        label = ", ".join(f"Watchpoint {p.number}" for p in numbers) or "Watchpoint"
        return f"{label}: {hit.access} at {hit.address:#010x}{value}\n" + s.where(process) + "\n"
