"""The debugger's commands over the program's data, as GDB has them.

`print[/F] EXPR` (and `p`), `display[/F] EXPR` (shown again after every command
that ran the system; `undisplay`, `info display`), `set var NAME = EXPR`,
`whatis`/`ptype`, `info locals`, `info args`, and frame selection: `frame [N]`,
`up [N]`, `down [N]`. Expressions are C over the DWARF types of the selected
component (`atoll.expressions`, `atoll.expr_eval`), evaluated in its selected
frame (`atoll.debug_frames`) and printed as GDB prints them
(`atoll.value_format`). Values printed are numbered `$1`, `$2`, ... and can be
used in later expressions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .debug_frames import FrameView, arguments_text, evaluate, format_env, frame_view, selected_view
from .debug_session import DebugSession
from .dwarf_types import CType, type_name
from .expr_eval import Evaluator, Value
from .expressions import ExpressionError, parse
from .symbols import DebuggerError
from .value_format import FORMATS, FormatEnv, format_value

_FORMAT = re.compile(r"^/(\w*)\s*")


@dataclass
class Display:
    number: int
    expression: str
    fmt: str | None


def split_format(arg: str, command: str) -> tuple[str | None, str]:
    """(format letter or None, the rest) of `/x EXPR`."""
    arg = arg.strip()
    m = _FORMAT.match(arg)
    if m is None:
        return None, arg
    letters = m.group(1)
    if len(letters) != 1 or letters not in FORMATS + "s":
        raise DebuggerError(f"{command}: undefined format /{letters} (formats: /{', /'.join(FORMATS)})")
    return (None if letters == "s" else letters), arg[m.end():]


class Data:
    """print, display, set var, whatis, ptype, info locals/args, frame/up/down."""

    def __init__(self, session: DebugSession) -> None:
        self.session = session
        self.displays: dict[int, Display] = {}
        self._next_display = 1

    # -- printing --------------------------------------------------------------------------------

    def env(self, view: FrameView) -> FormatEnv:
        return format_env(view)

    def show(self, view: FrameView, value: Value, fmt: str | None, top: bool = True) -> str:
        try:
            return format_value(value, fmt, self.env(view), top)
        except ExpressionError as e:
            raise DebuggerError(str(e)) from None

    def cmd_print(self, arg: str) -> str:
        fmt, text = split_format(arg, "print")
        view = selected_view(self.session)
        if not text:
            if not self.session.history:
                raise DebuggerError("print: nothing printed yet; give an expression")
            value = self.session.history[-1]
        else:
            value = evaluate(view, text)
        if value.type.strip().kind == "void" and not value.unavailable:
            return "void\n"
        shown = self.show(view, value, fmt)
        self.session.history.append(value)
        return f"${len(self.session.history)} = {shown}\n"

    def cmd_whatis(self, arg: str) -> str:
        return f"type = {type_name(self._type_of(arg, 'whatis'))}\n"

    def cmd_ptype(self, arg: str) -> str:
        t = self._type_of(arg, "ptype")
        return f"type = {_expanded(t)}\n"

    def _type_of(self, arg: str, command: str) -> CType:
        if not arg.strip():
            raise DebuggerError(f"usage: {command} EXPRESSION|TYPE")
        view = selected_view(self.session)
        text = arg.strip()
        try:
            spec = parse(f"sizeof({text})", view.is_type)
        except ExpressionError:
            spec = None
        if spec is not None and spec.op == "sizeof" and spec.value is not None:      # a type's name
            try:
                return Evaluator(view).resolve_type(spec.value)
            except ExpressionError as e:
                raise DebuggerError(str(e)) from None
        return evaluate(view, text).type

    # -- display ---------------------------------------------------------------------------------

    def cmd_display(self, arg: str) -> str:
        fmt, text = split_format(arg, "display")
        if not text:
            return self.show_displays()
        try:
            parse(text, selected_view(self.session).is_type)
        except ExpressionError as e:
            raise DebuggerError(str(e)) from None
        display = Display(self._next_display, text, fmt)
        self._next_display += 1
        self.displays[display.number] = display
        return self._one_display(display)

    def _one_display(self, display: Display) -> str:
        head = f"{display.number}: " + (f"/{display.fmt} " if display.fmt else "") + display.expression
        try:
            view = selected_view(self.session)
            return f"{head} = {self.show(view, evaluate(view, display.expression), display.fmt)}\n"
        except DebuggerError as e:
            return f"{head} = <error: {e}>\n"

    def show_displays(self) -> str:
        """Every display, evaluated in the selected frame (after each stop)."""
        return "".join(self._one_display(d) for d in self.displays.values())

    def cmd_undisplay(self, arg: str) -> str:
        words = arg.replace(",", " ").split()
        if not words:
            self.displays.clear()
            return ""
        for word in words:
            number = self.session.number(word)
            if number is None or number not in self.displays:
                raise DebuggerError(f"undisplay: no display number {word}")
            del self.displays[number]
        return ""

    def info_display(self) -> str:
        if not self.displays:
            return "There are no auto-display expressions now.\n"
        return "Auto-display expressions now in effect:\nNum Enb Expression\n" + "".join(
            f"{d.number}:   y  " + (f"/{d.fmt} " if d.fmt else "") + f"{d.expression}\n"
            for d in self.displays.values())

    # -- changing --------------------------------------------------------------------------------

    def cmd_set(self, arg: str) -> str:
        text = arg.strip()
        m = re.match(r"^(var|variable)\b\s*(.*)$", text)
        if m is not None:
            text = m.group(2)
        elif not text.startswith("$") and not re.match(r"^[A-Za-z_][\w.\[\]>*-]*\s*(\[|\.|->|=[^=])", text):
            raise DebuggerError("usage: set var NAME = EXPRESSION")
        view = selected_view(self.session)
        try:
            node = parse(text, view.is_type)
        except ExpressionError as e:
            raise DebuggerError(str(e)) from None
        if node.op != "assign":
            raise DebuggerError(f"set var: expected NAME = EXPRESSION, not {text!r}")
        evaluate(view, node)
        return ""

    # -- locals and frames -----------------------------------------------------------------------

    def info_locals(self, params: bool) -> str:
        view = selected_view(self.session)
        if view.info is None:
            raise DebuggerError(f"no symbols for {view.process.name}")
        if view.function is None:
            raise DebuggerError(f"no debug information for the code at {view.pc:#x} in {view.process.name}")
        found = view.locals(params)
        if not found:
            return "No arguments.\n" if params else "No locals.\n"
        return "".join(f"{name} = {self.show(view, value, None, top=False)}\n" for name, value in found)

    def frame_line(self, view: FrameView) -> str:
        syms = self.session.syms(view.process)
        fn = syms.function_at(view.pc) if syms else None
        text = f"#{view.number:<2} {view.pc:#010x} in {fn.name if fn else '??'} ({arguments_text(view)})"
        line = syms.line_at(view.lookup_pc) if syms else None
        if line is not None:
            text += f" at {line[0]}:{line[1]}"
            source = syms.source_text(*line)
            if source is not None:
                text += f"\n{line[1]}\t{source}"
        return text + "\n"

    def cmd_frame(self, arg: str) -> str:
        s = self.session
        if arg.strip():
            number = s.number(arg.strip())
            if number is None or number < 0:
                raise DebuggerError(f"frame: expected a frame number, not {arg.strip()!r}")
            view = frame_view(s, s.selected, number)
            s.select_frame(number)
        else:
            view = selected_view(s)
        return f"{s.selected.name}:\n" + self.frame_line(view)

    def cmd_up(self, arg: str) -> str:
        return self._move(self.session.count(arg))

    def cmd_down(self, arg: str) -> str:
        return self._move(-self.session.count(arg))

    def _move(self, by: int) -> str:
        s = self.session
        current = s.frame_number()
        frames = s.frames(s.selected, current + max(by, 0) + 1)
        target = current + by
        if target < 0:
            raise DebuggerError("Bottom (innermost) frame selected; you cannot go down.")
        if target >= len(frames):
            if current == len(frames) - 1:
                raise DebuggerError("Initial frame selected; you cannot go up.")
            target = len(frames) - 1
        s.select_frame(target)
        return f"{s.selected.name}:\n" + self.frame_line(FrameView(s, s.selected, target, frames[target]))


def _expanded(t: CType, indent: str = "") -> str:
    """ptype's text: a struct, union or enum with its members (one level)."""
    s = t.strip()
    if s.kind in ("struct", "union"):
        lines = []
        for m in s.members:
            decl = type_name(m.type, m.name)
            lines.append(f"{indent}    {decl}" + (f" : {m.bit_size}" if m.bit_size else "") + ";")
        return f"{s.kind} {s.name + ' ' if s.name else ''}{{\n" + "\n".join(lines) + f"\n{indent}}}"
    if s.kind == "enum":
        return f"enum {s.name + ' ' if s.name else ''}{{" + ", ".join(
            f"{name}" if value == i else f"{name} = {value}"
            for i, (value, name) in enumerate(sorted(s.enumerators.items()))) + "}"
    if s.kind == "pointer" and s.target is not None and s.target.strip().kind in ("struct", "union"):
        return _expanded(s.target) + " *"
    return type_name(t)
