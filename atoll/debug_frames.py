"""The selected frame of the selected component, and expressions evaluated in it.

`FrameView` is one call frame of one component: its pc, its registers (frame #0:
the component's own, live or saved through `atoll.control`; an outer frame: as
the call frame information restores them), its canonical frame address, its
function and scopes from the component's DWARF (`atoll.dwarf_info`). It is the
`EvalContext` of `atoll.expr_eval`: variables are looked up innermost scope
first, then the component's globals and statics, enumerators, functions and ELF
symbols; memory is read and written through the component's own address space
only, so the same expression means the same thing whichever component runs.

`frame_view(session, process, number)` builds one; `selected_view(session)` is
the frame the user selected with `frame`/`up`/`down` in the selected component
(frame #0 again once the system has run, or another component is selected).
`evaluate(...)` parses and evaluates an expression text there; `format_env`
and `arguments_text` are what printing needs of a frame (symbols and strings of
its component; `name=value, ...` of its function's parameters, as `bt` shows them).
"""

from __future__ import annotations

from .debug_session import DebugSession
from .dwarf_info import FrameRegisters, Scope
from .dwarf_types import CType, pointer_to, VOID
from .expr_eval import EvalContext, Evaluator, Value, int_value, INT
from .expressions import ExpressionError, Node, parse
from .symbols import DebuggerError
from .unwind import Frame
from .value_format import FormatEnv, format_value

#: the type of an ELF symbol the DWARF does not describe (as GDB names it)
NO_DEBUG_DATA = CType("base", "<data variable, no debug info>", 4)
_CODE = CType("function", target=VOID, params=[])


class FrameView(EvalContext):
    """Frame `number` of `process`: its registers, variables and memory."""

    def __init__(self, session: DebugSession, process, number: int, frame: Frame) -> None:
        self.session = session
        self.process = process
        self.number = number
        self.frame = frame
        self.cpu = session.cpu
        self.pc = frame.pc
        #: the pc that names the frame's code: a caller's pc is a return address, just past its call
        self.lookup_pc = frame.pc if number == 0 else frame.pc - 1
        self.info = session.debug_info(process)
        self.scopes: list[Scope] = self.info.scopes_at(self.lookup_pc) if self.info is not None else []
        self.function = self.scopes[-1] if self.scopes else None

    # -- registers -------------------------------------------------------------------------------

    def register_names(self) -> tuple[str, ...]:
        return self.cpu.GDB_REGISTERS

    def register_value(self, name: str) -> int:
        """Register `name` in this frame (an outer frame's as its call frame information restores it)."""
        if name not in self.cpu.GDB_REGISTERS and name not in self.cpu.DWARF_REGISTERS:
            raise ExpressionError(f"no register ${name} (registers: {', '.join(self.cpu.GDB_REGISTERS)})")
        if self.number == 0:
            return self.session.reg(self.process, name)
        if name == "pc":
            return self.frame.pc
        if name in self.cpu.DWARF_REGISTERS:
            value = self.frame.regs.get(self.cpu.dwarf_number(name))
            if value is not None:
                return value & 0xFFFFFFFF
        return self.session.reg(self.process, name)

    def _dwarf_register(self, number: int) -> int:
        if not 0 <= number < len(self.cpu.DWARF_REGISTERS):
            raise ExpressionError(f"DWARF register {number} is not a register of this CPU")
        return self.register_value(self.cpu.DWARF_REGISTERS[number])

    def register(self, name: str) -> Value:
        value = self.register_value(name)
        if name == "pc":
            t = pointer_to(_CODE)
            value = self.cpu.code_address(value)
        elif name == "sp":
            t = pointer_to(VOID)
        else:
            t = INT
        out = int_value(value, t)
        out.register = name          # changing it in an outer frame is refused by write_register
        return out

    def write_register(self, name: str, value: int) -> None:
        if self.number != 0:
            raise ExpressionError(f"cannot change register {name} of frame #{self.number}: select frame 0 "
                                  "(only the innermost frame's registers can be changed)")
        self.session.control.write(self.process.thread, name, value)

    # -- memory ----------------------------------------------------------------------------------

    def read(self, address: int, length: int) -> bytes:
        try:
            return self.session.read(self.process, address & 0xFFFFFFFF, length)
        except DebuggerError as e:
            raise ExpressionError(str(e)) from None

    def write(self, address: int, data: bytes) -> None:
        try:
            self.session.machine.write_virtual(self.process.space, address & 0xFFFFFFFF, data)
        except Exception:
            raise ExpressionError(f"cannot write {len(data)} bytes at {address & 0xFFFFFFFF:#x} in "
                                  f"{self.process.name}") from None

    # -- names -----------------------------------------------------------------------------------

    def registers(self) -> FrameRegisters:
        return FrameRegisters(self._dwarf_register, self.frame.cfa, self.read)

    def variable(self, name: str) -> Value | None:
        info = self.info
        if info is not None:
            for scope in self.scopes:
                for var in scope.variables:
                    if var.name == name:
                        return self.value_of(var)
            if name in info.globals:
                return self.value_of(info.globals[name])
            if name in info.enumerators:
                value, t = info.enumerators[name]
                return int_value(value, t)
            fn = info.function_named(name)
            if fn is not None:
                return Value(fn.type or _CODE, b"", address=min(lo for lo, _ in fn.ranges))
        syms = self.session.syms(self.process)
        if syms is not None and name in syms.symbols:
            address, size, kind = syms.symbols[name]
            if kind == "STT_FUNC":
                return Value(_CODE, b"", address=address)
            return Value(NO_DEBUG_DATA, self.read(address, 4), address=address)
        return None

    def value_of(self, var) -> Value:
        where = self.info.locate(var, self.lookup_pc, self.registers(), self.function)
        t = var.type
        if where.kind == "memory":
            return Evaluator(self).at(t, where.address)
        if where.kind == "register":
            size = t.byte_size
            if size > 4:
                return Value(t, b"", unavailable=f"not available: a {size}-byte value in registers")
            value = int_value(self._dwarf_register(where.register), t)
            value.register = self.cpu.DWARF_REGISTERS[where.register]
            return value
        if where.kind == "value":
            return Value(t, where.data.ljust(t.byte_size, b"\0")[:t.byte_size])
        return Value(t, b"", unavailable=where.reason)

    def type_named(self, name: str) -> CType | None:
        return self.info.types.get(name) if self.info is not None else None

    def is_type(self, name: str) -> bool:
        """Whether `name` names a type here (a variable of the same name hides it, as in C)."""
        info = self.info
        if info is None or name not in info.types:
            return False
        return not any(v.name == name for scope in self.scopes for v in scope.variables) and \
            name not in info.globals

    def history(self, number: int | None, back: int | None) -> Value:
        values = self.session.history
        if not values:
            raise ExpressionError("history is empty")
        index = number - 1 if number is not None else len(values) - 1 - (back or 0)
        if number == 0:
            index = len(values) - 1
        if not 0 <= index < len(values):
            raise ExpressionError(f"history has not yet reached ${number if number is not None else index + 1}")
        return values[index]

    # -- describing ------------------------------------------------------------------------------

    def locals(self, params: bool) -> list[tuple[str, Value]]:
        """The function's parameters, or the local variables visible at the pc (innermost scope
        first; the parameters of a function inlined here count as locals)."""
        if params:
            variables = [v for v in (self.function.variables if self.function else []) if v.is_param]
            return [(v.name, self._shown_value(v)) for v in variables]
        out, seen = [], set()
        for scope in self.scopes:
            for var in scope.variables:
                if var.name in seen or (var.is_param and scope is self.function):
                    continue
                seen.add(var.name)
                out.append((var.name, self._shown_value(var)))
        return out

    def _shown_value(self, var) -> Value:
        """The variable's value, or one that says why it cannot be read (a list goes on)."""
        try:
            return self.value_of(var)
        except ExpressionError as e:
            return Value(var.type, b"", unavailable=f"error: {e}")


def frame_view(session: DebugSession, process, number: int = 0) -> FrameView:
    frames = session.frames(process, number + 1)
    if number >= len(frames):
        raise DebuggerError(f"no frame #{number} in {process.name} (the stack has {len(frames)})")
    return FrameView(session, process, number, frames[number])


def selected_view(session: DebugSession) -> FrameView:
    return frame_view(session, session.selected, session.frame_number())


def evaluate(view: FrameView, text: str | Node) -> Value:
    """`text` (or a parsed tree) evaluated in `view`; errors as `DebuggerError`s."""
    try:
        node = parse(text, view.is_type) if isinstance(text, str) else text
        return Evaluator(view).evaluate(node)
    except ExpressionError as e:
        raise DebuggerError(str(e)) from None
    except RecursionError:
        raise DebuggerError("expression is nested too deeply") from None
    except (ValueError, OverflowError, ArithmeticError) as e:     # a case the checks above missed
        raise DebuggerError(f"cannot evaluate {text if isinstance(text, str) else 'the expression'}: {e}") \
            from None


def format_env(view: FrameView) -> FormatEnv:
    """Symbols and strings of `view`'s component, for printing values."""
    syms = view.session.syms(view.process)

    def symbol(address: int) -> str:
        if syms is None:
            return ""
        name = syms.describe(address)
        if name:
            return name
        for sym, (start, size, kind) in syms.symbols.items():
            if kind == "STT_OBJECT" and start <= address < start + max(size, 1):
                return sym if address == start else f"{sym}+{address - start}"
        return ""

    def string(address: int) -> bytes | None:
        data = bytearray()
        try:
            while len(data) <= 200:
                chunk = view.read(address + len(data), 1)
                if chunk == b"\0":
                    break
                data += chunk
        except ExpressionError:
            return bytes(data) if data else None
        return bytes(data)
    return FormatEnv(symbol, string)


def arguments_text(view: FrameView) -> str:
    """`name=value, ...` of the frame's function's parameters (structs and arrays as `...`)."""
    if view.function is None:
        return ""
    env = format_env(view)
    parts = []
    for name, value in view.locals(True):
        if value.type.strip().kind in ("struct", "union", "array") and not value.unavailable:
            text = "..."
        else:
            try:
                text = format_value(value, None, env, top=False)
            except ExpressionError as e:
                text = f"<error: {e}>"
        parts.append(f"{name}={text}")
    return ", ".join(parts)
