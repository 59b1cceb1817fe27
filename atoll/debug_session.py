"""What every part of the debugger stands on: one booted system, its components and symbols.

A `DebugSession` holds the machine, the kernel, the shared `Control` (registers
live or saved, runs, steps), each component's `ComponentSymbols` and the component
the user looks at (`selected`). It turns the user's words into things: component
names into processes, address expressions (`0x10084`, `$pc`, `main+4`) and
locations (`main.c:42`, `tx_pump`, `*0x10084`) into addresses, and addresses back
into text (`where`, disassembly). The command groups (breakpoints, running,
looking, data) each get the same session, so they agree on what is selected:
the component, and the frame in it (`frame_number`: the one `frame`/`up`/`down`
chose, until the system runs again or another component is selected). It also
keeps each component's DWARF variables and types (`atoll.dwarf_info`, read on
first use) and the value history of `print` (`$1`, `$2`, ...).
"""

from __future__ import annotations

import pathlib
import re

from kernel import Kernel
from machine import Machine

from .control import Control
from .dwarf_info import DebugInfo
from .symbols import ComponentSymbols, DebuggerError
from .unwind import Frame, unwind


class DebugSession:
    """One booted system under the debugger, and the component the user looks at."""

    def __init__(self, machine: Machine, kernel: Kernel, elves: dict[str, pathlib.Path]) -> None:
        self.machine = machine
        self.kernel = kernel
        self.control = Control(machine, kernel)
        self.debug = self.control.debug
        self.cpu = machine.cpu
        self.symbols = {name: ComponentSymbols(path) for name, path in elves.items()}
        self.selected = kernel.current.process if kernel.current is not None else kernel.processes[0]
        self.disassembler = machine.cpu.disassembler()
        #: the values `print` showed, $1 first
        self.history: list = []
        self._debug_info: dict[str, DebugInfo | None] = {}
        self._frame: tuple[object, int, int] | None = None    # (process, instructions run, number)

    # -- the selected frame ----------------------------------------------------------------------

    def frame_number(self) -> int:
        """The selected frame of the selected component: 0 unless chosen since the system last ran."""
        if self._frame is None:
            return 0
        process, executed, number = self._frame
        if process is not self.selected or executed != self.machine.counter.executed:
            self._frame = None
            return 0
        return number

    def select_frame(self, number: int) -> None:
        self._frame = (self.selected, self.machine.counter.executed, number)

    def debug_info(self, process) -> DebugInfo | None:
        """The DWARF variables and types of `process`'s ELF (None: it has no symbols)."""
        if process.name not in self._debug_info:
            syms = self.syms(process)
            info = None
            if syms is not None and syms.problem is None:
                try:
                    info = DebugInfo(syms.path)
                except Exception as e:  # noqa: BLE001 -- pyelftools raises many kinds on damaged DWARF
                    raise DebuggerError(f"{process.name}: cannot read its debug information "
                                        f"({type(e).__name__}: {e})") from None
            self._debug_info[process.name] = info
        return self._debug_info[process.name]

    # -- components, registers, memory -----------------------------------------------------------

    def process(self, name: str):
        try:
            return self.kernel.process(name)
        except KeyError:
            raise DebuggerError(f"no component named {name!r} (components: "
                                f"{', '.join(p.name for p in self.kernel.processes)})") from None

    def process_of_space(self, space):
        return next((p for p in self.kernel.processes if p.space is space), None)

    def reg(self, process, name: str) -> int:
        return self.control.read(process.thread, name)

    def pc(self, process) -> int:
        return self.control.pc(process.thread)

    def syms(self, process) -> ComponentSymbols | None:
        return self.symbols.get(process.name)

    def read(self, process, address: int, length: int) -> bytes:
        try:
            return self.machine.read_virtual(process.space, address, length)
        except Exception:
            raise DebuggerError(f"cannot read {length} bytes at {address:#x} in {process.name}") from None

    @staticmethod
    def number(text: str) -> int | None:
        try:
            return int(text, 0)
        except ValueError:
            return None

    def count(self, arg: str) -> int:
        if not arg.strip():
            return 1
        n = self.number(arg.strip())
        if n is None or n < 1:
            raise DebuggerError(f"expected a positive count, not {arg.strip()!r}")
        return n

    def address(self, text: str, process=None) -> int:
        """An address expression: a number, $register, a symbol, or symbol+offset."""
        process = process or self.selected
        text = text.strip().lstrip("*")
        m = re.match(r"^(.+?)\s*([+-])\s*(\w+)$", text)
        if m is not None and self.number(m.group(3)) is not None and not text.startswith("0x-"):
            base = self.address(m.group(1), process)
            offset = self.number(m.group(3))
            return (base + offset if m.group(2) == "+" else base - offset) & 0xFFFFFFFF
        value = self.number(text)
        if value is not None:
            return value & 0xFFFFFFFF
        if text.startswith("$"):
            name = text[1:]
            try:
                value = self.reg(process, name)
            except Exception:
                raise DebuggerError(f"no register {name!r}") from None
            return self.cpu.code_address(value) if name == "pc" else value
        syms = self.syms(process)
        if syms is not None and text in syms.symbols:
            return syms.symbols[text][0]
        raise DebuggerError(f"no symbol {text!r} in {process.name}")

    def frames(self, process, limit: int = 32) -> list[Frame]:
        """The call stack of `process`, innermost frame first (`atoll.unwind`)."""
        def read_word(address: int) -> int | None:
            try:
                return int.from_bytes(self.read(process, address, 4), "little")
            except DebuggerError:
                return None
        return unwind(self.cpu, lambda name: self.reg(process, name), self.pc(process), read_word,
                      self.syms(process), limit)

    # -- where things are --------------------------------------------------------------------------

    def where(self, process, pc: int | None = None) -> str:
        pc = self.pc(process) if pc is None else pc
        syms = self.syms(process)
        text = f"{process.name}: {pc:#010x}"
        if syms is None:
            return text
        fn = syms.function_at(pc)
        if fn is not None:
            text += f" in {fn.name}"
        line = syms.line_at(pc)
        if line is not None:
            text += f" at {line[0]}:{line[1]}"
            source = syms.source_text(*line)
            if source is not None:
                text += f"\n{line[1]}\t{source}"
        return text

    def where_short(self, process) -> str:
        pc = self.pc(process)
        syms = self.syms(process)
        text = f"{process.name}: {pc:#010x}"
        if syms is not None:
            name = syms.describe(pc)
            if name:
                text += f" <{name}>"
            line = syms.line_at(pc)
            if line is not None:
                text += f" at {line[0]}:{line[1]}"
        return text + "   " + self.disas_lines(process, pc, 1, marker=False)[0].strip()

    def disas_lines(self, process, address: int, count: int, marker: bool = True) -> list[str]:
        code = b""
        for length in (count * 4, 64, 16, 4, 2):
            try:
                code = self.machine.read_virtual(process.space, address, length)
                break
            except Exception:
                continue
        if not code:
            raise DebuggerError(f"cannot read code at {address:#x} in {process.name}")
        pc = self.pc(process)
        syms = self.syms(process)
        lines = []
        for insn in self.disassembler.disasm(code, address, count):
            name = syms.describe(insn.address) if syms else ""
            mark = "=> " if marker and insn.address == pc else "   "
            sym = f" <{name}>" if name else ""
            lines.append(f"{mark}{insn.address:#010x}{sym}:\t{insn.mnemonic}\t{insn.op_str}".rstrip())
        if not lines:
            lines.append(f"   {address:#010x}:\t(bad)")
        return lines

    def locations(self, spec: str, component: str | None) -> list[tuple[str | None, int, str]]:
        """(component or None for every one, address, description) for a location."""
        spec = spec.strip()
        procs = [self.process(component)] if component else list(self.kernel.processes)
        m = re.match(r"^(.+):(\d+)$", spec)
        if m is not None:
            return self._line_locations(spec, m.group(1), int(m.group(2)), procs, component)
        value = self.number(spec.lstrip("*"))
        if value is not None:
            return [(component, value & 0xFFFFFFFF, f"{value & 0xFFFFFFFF:#010x}")]
        found = []
        for p in procs:
            syms = self.syms(p)
            if syms is not None and spec in syms.symbols and syms.symbols[spec][2] == "STT_FUNC":
                found.append((p.name, self.after_prologue(p, syms.symbols[spec][0]), spec))
        if not found:
            raise DebuggerError(f"no function {spec!r}" + (f" in {component}" if component else " in any component"))
        return found

    def after_prologue(self, process, start: int) -> int:
        """Where a breakpoint on a function goes, as in GDB: past the code that sets up its frame
        (the line table's first prologue_end in the function), so its arguments can be read there;
        the function's first instruction when that place is already inside a function inlined into
        it (whose line would hide the function's own), or when the compiler marks none."""
        syms = self.syms(process)
        fn = syms.function_at(start)
        ends = [a for a in syms.prologue_ends if fn is not None and fn.start <= a < fn.end]
        if not ends:
            return start
        try:
            info = self.debug_info(process)
        except DebuggerError:
            return start
        scopes = info.scopes_at(min(ends)) if info is not None else []
        if any(scope.kind == "inlined" for scope in scopes):
            return start
        return min(ends)

    def _line_locations(self, spec: str, file: str, line: int, procs, component: str | None):
        found = []
        for p in procs:
            syms = self.syms(p)
            hit = syms.addresses_of_line(file, line) if syms else None
            if hit is None:
                continue
            name, found_line, addresses = hit
            found += [(p.name, a, f"{name}:{found_line}") for a in addresses]
        if not found:
            raise DebuggerError(f"no code at {spec}" + (f" in {component}" if component else ""))
        files = sorted({where.rsplit(":", 1)[0] for _, _, where in found})
        if len(files) > 1:
            raise DebuggerError(f"{file} is ambiguous: {', '.join(files)}; "
                                "give more of its path or a component")
        return found
