"""The debugger's numbered breakpoints and watchpoints, and what a hit of one says.

A user's breakpoint is a `Point` and, underneath, a `MachineDebug` hook in the
address space of its component (None: every component). Hooks are counted by
(address, space), so the debugger's own temporary stops (`finish`, `until`,
stepping over a call) share a hook with a user's breakpoint at the same place and
removing one leaves the other. `report` turns a debug hit into the text the user
sees, counts the hit and deletes a temporary breakpoint it consumed.

A breakpoint may have a condition (`break LOC if EXPR`, `condition N EXPR`): a C
expression evaluated at each hit in frame #0 of the component that hit it, with
that component's memory and symbols; the run goes on while it is false (and the
hit is not counted); an error in it stops the run and says so. A watchpoint is set
on an expression's object (`watch stats.tx_bytes`, `watch ring.data[3]`): its
address and size in the component's address space, and a hit shows the old and
new value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from machine import DebugHit, HitKind

from .debug_data import Data
from .debug_frames import evaluate, frame_view, selected_view
from .debug_session import DebugSession
from .expr_eval import Evaluator
from .expressions import ExpressionError, parse
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
    condition: str | None = None
    old: str | None = None      # a watched expression's value when last seen
    watched: object = None      # the watched object (a `Value`: its type, address, bit field)


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
        """Whether a user's breakpoint (whose condition, if any, holds or cannot be tested) stops
        `process` at `address`."""
        for p in self.points.values():
            if p.kind == "breakpoint" and not p.temporary and p.address == address and \
                    p.component in (None, process.name):
                try:
                    if p.condition is None or self._condition_holds(process, p.condition):
                        return True
                except DebuggerError:
                    return True
        return False

    # -- commands ----------------------------------------------------------------------------------

    def cmd_break(self, arg: str, temporary: bool = False) -> str:
        s = self.session
        condition = None
        m = re.match(r"^(.*?)(?:^|\s)if(?:\s+(.*)|\s*)$", arg.strip())
        if m is not None:
            arg, condition = m.group(1), (m.group(2) or "").strip()
            if not condition:
                raise DebuggerError("break: 'if' needs an expression")
            self._check_syntax(condition)
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
                                          temporary=temporary, condition=condition))
            out.append(f"{'Temporary b' if temporary else 'B'}reakpoint {point.number} at {address:#010x}"
                       f" ({where}) in {comp or 'every component'}" + (f" if {condition}" if condition else ""))
        return "\n".join(out) + "\n"

    def _check_syntax(self, text: str) -> None:
        try:
            parse(text, selected_view(self.session).is_type)
        except ExpressionError as e:
            raise DebuggerError(str(e)) from None

    def cmd_condition(self, arg: str) -> str:
        words = arg.split(None, 1)
        number = self.session.number(words[0]) if words else None
        if number is None:
            raise DebuggerError("usage: condition N [EXPR]")
        point = self.points.get(number)
        if point is None or point.kind != "breakpoint":
            raise DebuggerError(f"no breakpoint number {words[0]}")
        if len(words) == 1:
            point.condition = None
            return f"Breakpoint {number} now unconditional.\n"
        self._check_syntax(words[1])
        point.condition = words[1].strip()
        return ""

    def cmd_tbreak(self, arg: str) -> str:
        return self.cmd_break(arg, temporary=True)

    def cmd_watch(self, arg: str, kind: str = "watch") -> str:
        s = self.session
        text, length, process = self._watch_words(arg, kind)
        view = selected_view(s) if process is s.selected else frame_view(s, process)
        value = evaluate(view, text)
        if value.register is not None:
            raise DebuggerError(f"cannot watch {text}: it is in register {value.register}, not in memory")
        if value.unavailable:
            raise DebuggerError(f"cannot watch {text}: it is {value.unavailable}")
        if value.address is not None and value.type.strip().kind != "function":
            address = value.address
            size = value.type.byte_size
            if value.bits is not None:
                size = (value.bits[0] + value.bits[1] + 7) // 8
            syms = s.syms(process)
            if value.type.name == "<data variable, no debug info>" and syms and text in syms.symbols:
                size = syms.symbols[text][1]
            old = self._shown(view, value)
        elif value.type.is_integer or value.type.is_pointer or value.type.strip().kind == "function":
            address, size, old = (value.address if value.address is not None else value.as_int()), 4, None
        else:
            raise DebuggerError(f"cannot watch {text}: it is not in memory")
        address &= 0xFFFFFFFF
        if length is None:
            length = size if 0 < size <= 4096 else 4
        try:
            s.debug.add_watchpoint(address, length, _WATCH_KINDS[kind], process.space)
        except ValueError as e:
            raise DebuggerError(str(e)) from None
        point = self._new_point(Point(self._next_number, kind, address, process.name, text, length,
                                      old=old, watched=value if old is not None else None))
        word = {"watch": "Watchpoint", "rwatch": "Read watchpoint", "awatch": "Access watchpoint"}[kind]
        return f"{word} {point.number}: {text} ({address:#010x}, {length} bytes) in {process.name}\n"

    def _watch_words(self, arg: str, kind: str):
        """(expression, length or None, process) of `EXPR [LENGTH] [COMPONENT]`: the trailing
        words are a length and a component only if what is left before them is an expression."""
        s = self.session
        text = arg.strip()
        if not text:
            raise DebuggerError(f"usage: {kind} EXPR|ADDRESS [LENGTH] [COMPONENT]")
        names = {p.name for p in s.kernel.processes}
        candidates = []
        words = text.rsplit(None, 1)
        if len(words) == 2 and words[1] in names:
            rest = words[0].rsplit(None, 1)
            if len(rest) == 2 and s.number(rest[1]) is not None:
                candidates.append((rest[0], s.number(rest[1]), words[1]))
            candidates.append((words[0], None, words[1]))
        elif len(words) == 2 and s.number(words[1]) is not None:
            candidates.append((words[0], s.number(words[1]), None))
        expression, length, component = next(
            (c for c in candidates if self._parses(c[0])), (text, None, None))
        return expression, length, s.process(component) if component else s.selected

    def _parses(self, text: str) -> bool:
        try:
            parse(text, selected_view(self.session).is_type)
            return True
        except (ExpressionError, DebuggerError):
            return False

    def _shown(self, view, value) -> str | None:
        try:
            return Data(self.session).show(view, value, None)
        except DebuggerError:
            return None

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
            what_text = p.where + (f" ({p.length} bytes)" if p.length else "") + \
                (f" if {p.condition}" if p.condition else "")
            lines.append(f"{p.number:<4} {kind:<12} {p.address:#010x} {p.component or '(all)':<12} "
                         f"{p.hits:>4}  {what_text}")
        return "\n".join(lines) + "\n"

    # -- hits --------------------------------------------------------------------------------------

    def report(self, hit: DebugHit, stop_when=None) -> str | None:
        """What `hit` says to the user, or None for a hit that does not stop: a hook of the
        debugger's own that `stop_when` (process, address) does not accept, or a breakpoint
        whose condition is false."""
        s = self.session
        process = s.process_of_space(hit.space) or s.selected
        if hit.kind is HitKind.BREAKPOINT:
            return self._report_breakpoint(process, hit, stop_when)
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
        return f"{label}: {hit.access} at {hit.address:#010x}{value}\n" + self._values(process, numbers) + \
            s.where(process) + "\n"

    def _values(self, process, points: list[Point]) -> str:
        """`EXPR: Old value = ... New value = ...` of the watched expressions that hit."""
        out = ""
        for point in points:
            if point.old is None:
                continue
            try:
                view = frame_view(self.session, process)
                watched = point.watched
                # the object where it was when the watchpoint was set, whatever frame hit it
                value = evaluate(view, point.where) if watched.bits is not None else \
                    Evaluator(view).at(watched.type, watched.address)
                new = Data(self.session).show(view, value, None)
            except (DebuggerError, ExpressionError):
                continue
            if point.kind == "watch" or new != point.old:
                out += f"{point.where}: Old value = {point.old}, New value = {new}\n"
            else:
                out += f"{point.where}: Value = {new}\n"
            point.old = new
        return out

    def _report_breakpoint(self, process, hit: DebugHit, stop_when) -> str | None:
        s = self.session
        internal = stop_when is not None and stop_when(process, hit.address)
        numbers, errors = [], ""
        for point in list(self.points.values()):
            if point.kind != "breakpoint" or point.address != hit.address or \
                    point.component not in (None, process.name):
                continue
            if point.condition is not None:
                try:
                    if not self._condition_holds(process, point.condition):
                        continue
                except DebuggerError as e:
                    errors += f"Error in testing condition for breakpoint {point.number}: {e}\n"
            point.hits += 1
            numbers.append(point.number)
            if point.temporary:
                self._delete_point(point)
        if not numbers and not internal and (stop_when is not None or
                                             not self._unnumbered_stop(process, hit.address)):
            return None
        s.selected = process
        head = f"Breakpoint {', '.join(map(str, numbers))}, " if numbers else ""
        return errors + head + s.where(process) + "\n"

    def _unnumbered_stop(self, process, address: int) -> bool:
        """Whether a hit no user breakpoint accepted still stops a plain run: one at an address no
        breakpoint of this component is at (a hook of the debugger's own under `continue`)."""
        return not any(p.kind == "breakpoint" and p.address == address and p.component in (None, process.name)
                       for p in self.points.values())

    def _condition_holds(self, process, condition: str) -> bool:
        view = frame_view(self.session, process)
        value = evaluate(view, condition)
        try:
            return _truth(value)
        except ExpressionError as e:
            raise DebuggerError(str(e)) from None


def _truth(value) -> bool:
    if value.type.is_float:
        return value.as_float() != 0
    if not value.type.is_scalar and value.type.strip().kind != "array":
        raise ExpressionError("the condition's value is not a number")
    return value.as_int() != 0
