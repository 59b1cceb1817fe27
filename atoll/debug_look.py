"""The debugger's commands that look without running: registers, memory, code, stack, source, views.

All of them show the selected component (`select COMP` changes it): its registers
(live if it is the one running, else its saved context), its memory through its own
address space, its instructions (capstone, through the `Cpu`'s disassembler), its
call stack (`atoll.unwind`) and its source lines; and the kernel's views
(`atoll.views`): ps, caps, ipc, irq, time.
"""

from __future__ import annotations

import re

from . import views
from .debug_frames import FrameView, arguments_text, evaluate, selected_view
from .debug_session import DebugSession
from .symbols import DebuggerError

_SIZES = {"b": 1, "h": 2, "w": 4, "g": 8}


class Looking:
    """Commands that show the selected component and the kernel's state."""

    def __init__(self, session: DebugSession) -> None:
        self.session = session

    def cmd_regs(self, arg: str) -> str:
        """All registers, or the ones named (`regs pc sp`, `$pc` too), in the selected frame."""
        s = self.session
        process = s.selected
        view = selected_view(s)
        names = [w.lstrip("$") for w in arg.split()]
        for name in names:
            if name not in s.cpu.GDB_REGISTERS:
                raise DebuggerError(f"no register {name!r} (registers: {' '.join(s.cpu.GDB_REGISTERS)})")
        lines = []
        for name in names or s.cpu.GDB_REGISTERS:
            value = view.register_value(name)
            extra = ""
            if name in ("pc", s.cpu.LINK_REGISTER):
                syms = s.syms(process)
                described = syms.describe(s.cpu.code_address(value)) if syms else ""
                extra = f" <{described}>" if described else ""
            lines.append(f"{name:<6} {value:#010x} {value:>11}{extra}")
        if names:
            return "\n".join(lines) + "\n"
        frame = f", frame #{view.number}" if view.number else ""
        return f"registers of {process.name} ({process.thread.state.value}{frame}):\n" + "\n".join(lines) + "\n"

    def cmd_x(self, arg: str) -> str:
        s = self.session
        m = re.match(r"^(?:/(\d*)([xducsi]?)([bhwg]?)([xducsi]?)(?=\s|$))?\s*(.+)$", arg.strip())
        if m is None or m.group(5).startswith("/"):
            raise DebuggerError("usage: x/NFU ADDRESS (F: x d u c s i; U: b h w)")
        count = int(m.group(1) or 1)
        fmt = m.group(2) or m.group(4) or "x"
        size = _SIZES[m.group(3) or ("b" if fmt in "cs" else "w")]
        process = s.selected
        address = self.address(m.group(5))
        if fmt == "i":
            return "\n".join(s.disas_lines(process, address, count)) + "\n"
        if fmt == "s":
            out = []
            for _ in range(count):
                data = bytearray()
                while len(data) < 4096:
                    b = s.read(process, address + len(data), 1)
                    if b == b"\0":
                        break
                    data += b
                out.append(f"{address:#010x}: {data.decode('utf-8', 'replace')!r}")
                address += len(data) + 1
            return "\n".join(out) + "\n"
        data = s.read(process, address, count * size)
        per_line = max(1, 16 // size)
        lines = []
        for i in range(0, count, per_line):
            items = []
            for j in range(i, min(count, i + per_line)):
                value = int.from_bytes(data[j * size:(j + 1) * size], "little")
                if fmt == "x":
                    items.append(f"{value:#0{2 + 2 * size}x}")
                elif fmt == "d":
                    items.append(str(value - (1 << (8 * size)) if value >> (8 * size - 1) else value))
                elif fmt == "u":
                    items.append(str(value))
                else:
                    items.append(repr(chr(value & 0xFF)))
            lines.append(f"{address + i * size:#010x}:  " + "  ".join(items))
        return "\n".join(lines) + "\n"

    def address(self, text: str) -> int:
        """The address an expression names, as `x` takes it: a number or pointer's value, the address
        of an object or function (`x/4xw stats`, `x/2i main+4`, `x/s cfg->name`)."""
        s = self.session
        try:
            value = evaluate(selected_view(s), text.strip().lstrip("*") if text.strip().startswith("*0x") else text)
        except DebuggerError as error:
            try:
                return s.address(text, s.selected)
            except DebuggerError:
                raise error from None
        t = value.type.strip()
        if t.kind in ("function", "array", "struct", "union") and value.address is not None:
            return value.address
        if value.type.is_integer or value.type.is_pointer:
            return value.as_int() & 0xFFFFFFFF
        raise DebuggerError(f"cannot use a value of type {t.kind} as an address")

    def cmd_disas(self, arg: str) -> str:
        s = self.session
        words = arg.split()
        process = s.selected
        address = self.address(words[0]) if words else s.pc(process)
        count = 10
        if len(words) > 1:
            count = s.count(words[1])
        return "\n".join(s.disas_lines(process, address, count)) + "\n"

    def cmd_bt(self, arg: str) -> str:
        s = self.session
        process = s.selected
        syms = s.syms(process)
        lines = []
        for i, frame in enumerate(s.frames(process)):
            lookup = frame.pc if i == 0 else frame.pc - 1
            fn = syms.function_at(frame.pc) if syms else None
            line = syms.line_at(lookup) if syms else None
            try:
                args = arguments_text(FrameView(s, process, i, frame)) if syms else ""
            except DebuggerError:          # no readable debug information: the frame without them
                args = ""
            text = f"#{i:<2} {frame.pc:#010x} in {fn.name if fn else '??'} ({args})"
            if line is not None:
                text += f" at {line[0]}:{line[1]}"
            lines.append(text)
        return f"{process.name}:\n" + "\n".join(lines) + "\n"

    def cmd_list(self, arg: str) -> str:
        s = self.session
        process = s.selected
        syms = s.syms(process)
        if syms is None:
            raise DebuggerError(f"no symbols for {process.name}")
        if arg.strip():
            address = s.locations(arg.strip(), process.name)[0][1]
        else:
            address = s.pc(process)
        where = syms.line_at(address)
        if where is None:
            raise DebuggerError(f"no source line for {address:#x}")
        file, line = where
        out = []
        for n in range(max(1, line - 4), line + 6):
            text = syms.source_text(file, n)
            if text is None:
                break
            out.append(f"{'>' if n == line else ' '}{n:>5}\t{text}")
        return f"{file}:\n" + "\n".join(out) + "\n"

    def cmd_where(self, arg: str) -> str:
        s = self.session
        return s.where(s.selected) + "\n"

    def cmd_select(self, arg: str) -> str:
        s = self.session
        if not arg.strip():
            raise DebuggerError("usage: select COMPONENT")
        s.selected = s.process(arg.strip())
        return s.where(s.selected) + "\n"

    # -- kernel views ---------------------------------------------------------------------------

    def cmd_ps(self, arg: str) -> str:
        s = self.session
        return views.ps(s.machine, s.kernel)

    def cmd_caps(self, arg: str) -> str:
        s = self.session
        return views.caps(s.process(arg.strip()) if arg.strip() else s.selected)

    def cmd_ipc(self, arg: str) -> str:
        s = self.session
        return views.ipc(s.kernel, s.count(arg) if arg.strip() else 20)

    def cmd_irq(self, arg: str) -> str:
        s = self.session
        return views.irqs(s.machine, s.kernel)

    def cmd_time(self, arg: str) -> str:
        s = self.session
        return views.time_view(s.machine, s.kernel)
