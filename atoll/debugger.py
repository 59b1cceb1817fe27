"""The interactive debugger: `atoll debug IMAGE`.

A booted system, stopped before the first instruction of the first component,
driven by text commands. `Debugger.execute("break main.c:42")` runs one command
and returns what it prints, so tests and other tools drive it the way a person
does; `DebuggerShell` is the terminal front end (the `cmd` module: readline
editing and history, `help`, an empty line repeats the last command).

What it is made of:
- symbols and source lines from each component's ELF (`ComponentSymbols`:
  pyelftools, the symbol table and the DWARF line programs; call frames from
  .debug_frame for `bt` and `finish`);
- breakpoints and watchpoints as `machine.MachineDebug` hooks on their own
  addresses, each in the address space of the component it belongs to (every
  component is linked at the same addresses);
- instruction steps with `machine.step(1, events=False)`, so no timer or interrupt
  slips in; a step over SVC/ECALL shows the syscall, its result and which
  component runs next; line steps are instruction steps until a new line starts,
  and a component that blocks in a syscall is followed until it runs again;
- the kernel's views (`atoll.views`): ps, caps, ipc, irq, time.

Commands (`help` lists them): break/tbreak, watch/rwatch/awatch, delete, info,
continue, stepi, step, next, finish, until, regs, x, disas, bt, list, ps, caps,
ipc, irq, time, select, uart, where. Ctrl-C stops a running system.
"""

from __future__ import annotations

import bisect
import cmd
import os
import pathlib
import re
import signal
import sys
import threading
from dataclasses import dataclass, field

import capstone
from elftools.elf.elffile import ELFFile

from kernel import DEBUG_LOG_LINES, Kernel, State, Sys
from machine import BoundedLog, BufferBackend, Machine, MachineDebug
from sysdesc import load_any

from . import views

#: virtual time one run slice covers between checks for Ctrl-C and the end of a run
RUN_SLICE_SECONDS = 0.01
#: the most instructions one line step executes before giving up
MAX_LINE_STEP = 200_000


class DebuggerError(Exception):
    """A command that cannot be carried out; its message is shown to the user."""


# -- symbols and source lines -----------------------------------------------------------


@dataclass
class _Function:
    start: int
    end: int
    name: str


@dataclass
class _Frame:
    pc: int
    sp: int
    cfa: int | None = None
    regs: dict = field(default_factory=dict)


class ComponentSymbols:
    """Symbols, source lines and call frames of one ELF file."""

    def __init__(self, path: str | pathlib.Path, isa: str) -> None:
        self.path = pathlib.Path(path)
        self.isa = isa
        self.symbols: dict[str, tuple[int, int, str]] = {}   # name -> (address, size, type)
        self.functions: list[_Function] = []
        self._starts: list[int] = []                          # address-sorted line ranges
        self._ranges: list[tuple[int, int, str, int]] = []    # (start, end, file, line)
        self.line_starts: dict[int, tuple[str, int]] = {}     # is_stmt row address -> (file, line)
        self.lines: dict[str, dict[int, list[int]]] = {}      # file -> line -> addresses
        self.comp_dirs: list[str] = []
        self._fdes: list = []
        self._function_starts: list[int] = []
        #: why this file has no symbols, when its sections could not be read (else None)
        self.problem: str | None = None
        try:
            with self.path.open("rb") as f:
                elf = ELFFile(f)
                self._read_symbols(elf)
                if elf.has_dwarf_info():
                    dwarf = elf.get_dwarf_info()
                    self._read_lines(dwarf)
                    self._read_frames(dwarf)
        except Exception as e:  # noqa: BLE001 -- pyelftools raises many kinds on damaged sections
            # The loader reads program headers only; a component whose section table or debug
            # information is damaged still runs, and is debugged without symbols.
            self._forget_symbols()
            self.problem = f"{self.path.name}: no symbols ({type(e).__name__}: {e})"

    def _forget_symbols(self) -> None:
        self.symbols, self.functions, self._function_starts = {}, [], []
        self._starts, self._ranges, self.line_starts, self.lines = [], [], {}, {}
        self.comp_dirs, self._fdes = [], []

    def _read_symbols(self, elf: ELFFile) -> None:
        table = elf.get_section_by_name(".symtab")
        if table is None:
            return
        for sym in table.iter_symbols():
            kind = sym["st_info"]["type"]
            if not sym.name or kind not in ("STT_FUNC", "STT_OBJECT", "STT_NOTYPE"):
                continue
            address = sym["st_value"] & ~1 if kind == "STT_FUNC" else sym["st_value"]
            if kind == "STT_NOTYPE" and (sym.name.startswith("$") or sym.name.startswith(".L")):
                continue
            self.symbols[sym.name] = (address, sym["st_size"], kind)
            if kind == "STT_FUNC":
                self.functions.append(_Function(address, address + max(sym["st_size"], 1), sym.name))
        self.functions.sort(key=lambda fn: fn.start)
        self._function_starts = [fn.start for fn in self.functions]

    def _read_lines(self, dwarf) -> None:
        rows = []
        for cu in dwarf.iter_CUs():
            program = dwarf.line_program_for_CU(cu)
            if program is None:
                continue
            top = cu.get_top_DIE()
            comp_dir = top.attributes["DW_AT_comp_dir"].value.decode() if "DW_AT_comp_dir" in top.attributes else ""
            if comp_dir and comp_dir not in self.comp_dirs:
                self.comp_dirs.append(comp_dir)
            version = program.header["version"]
            dirs = [d.decode() if isinstance(d, bytes) else d for d in program["include_directory"]]
            names = []
            for entry in program["file_entry"]:
                name = entry.name.decode() if isinstance(entry.name, bytes) else entry.name
                index = entry.dir_index
                if version >= 5:
                    folder = dirs[index] if index < len(dirs) else ""
                else:
                    folder = dirs[index - 1] if 0 < index <= len(dirs) else comp_dir
                full = os.path.normpath(os.path.join(comp_dir, folder, name))
                if comp_dir and full.startswith(comp_dir.rstrip("/") + "/"):
                    full = full[len(comp_dir.rstrip("/")) + 1:]
                names.append(full)
            base = 0 if version >= 5 else 1
            sequence = []
            for entry in program.get_entries():
                state = entry.state
                if state is None:
                    continue
                index = state.file - base
                file = names[index] if 0 <= index < len(names) else "??"
                sequence.append((state.address, file, state.line, state.is_stmt, state.end_sequence))
                if state.end_sequence:
                    rows.append(sequence)
                    sequence = []
        ranges = []
        for sequence in rows:
            for (address, file, line, is_stmt, end), nxt in zip(sequence, sequence[1:]):
                if end:
                    continue
                if nxt[0] > address:
                    ranges.append((address, nxt[0], file, line))
                if is_stmt and line > 0:
                    self.line_starts[address] = (file, line)
                    self.lines.setdefault(file, {}).setdefault(line, []).append(address)
        ranges.sort()
        self._ranges = ranges
        self._starts = [r[0] for r in ranges]

    def _read_frames(self, dwarf) -> None:
        try:
            entries = dwarf.CFI_entries() if dwarf.has_CFI() else []
        except Exception:  # a malformed or unsupported .debug_frame: no backtraces
            entries = []
        for entry in entries:
            if hasattr(entry, "cie") and "initial_location" in entry.header:
                start = entry.header["initial_location"]
                self._fdes.append((start, start + entry.header["address_range"], entry))
        self._fdes.sort(key=lambda f: f[0])

    # -- queries -------------------------------------------------------------------

    def function_at(self, address: int) -> _Function | None:
        i = bisect.bisect_right(self._function_starts, address) - 1
        if i >= 0 and self.functions[i].start <= address < self.functions[i].end:
            return self.functions[i]
        return None

    def describe(self, address: int) -> str:
        """'name+offset' of the function holding `address`, or ''."""
        fn = self.function_at(address)
        if fn is None:
            return ""
        offset = address - fn.start
        return fn.name if offset == 0 else f"{fn.name}+{offset}"

    def line_at(self, address: int) -> tuple[str, int] | None:
        i = bisect.bisect_right(self._starts, address) - 1
        if i >= 0:
            start, end, file, line = self._ranges[i]
            if start <= address < end and line > 0:
                return file, line
        return None

    def files_matching(self, name: str) -> list[str]:
        name = os.path.normpath(name)
        return [f for f in self.lines if f == name or f.endswith("/" + name)]

    def addresses_of_line(self, name: str, line: int) -> tuple[str, int, list[int]] | None:
        """The first address of `name`:`line` (or of the next line with code), per function."""
        files = self.files_matching(name)
        if not files:
            return None
        if len(files) > 1:
            raise DebuggerError(f"{name} is ambiguous in {self.path.name}: {', '.join(sorted(files))}")
        file = files[0]
        table = self.lines[file]
        candidates = sorted(n for n in table if n >= line)
        if not candidates:
            return None
        found = candidates[0]
        by_function: dict[object, int] = {}
        for address in sorted(table[found]):
            fn = self.function_at(address)
            key = fn.name if fn is not None else None
            by_function.setdefault(key, address)
        return file, found, sorted(by_function.values())

    def source_text(self, file: str, line: int) -> str | None:
        for folder in self.comp_dirs + [str(pathlib.Path(__file__).resolve().parent.parent)]:
            path = pathlib.Path(folder) / file
            try:
                lines = path.read_text(errors="replace").splitlines()
            except OSError:
                continue
            return lines[line - 1] if 0 < line <= len(lines) else None
        return None

    def frame_rule(self, pc: int):
        """(CFA rule, register rules, return address register) at `pc`, or None."""
        starts = [f[0] for f in self._fdes]
        i = bisect.bisect_right(starts, pc) - 1
        if i < 0 or not self._fdes[i][0] <= pc < self._fdes[i][1]:
            return None
        fde = self._fdes[i][2]
        decoded = fde.get_decoded()
        row = None
        for entry in decoded.table:
            if entry["pc"] <= pc:
                row = entry
            else:
                break
        if row is None:
            return None
        return row["cfa"], row, fde.cie["return_address_register"]


# -- breakpoints -----------------------------------------------------------------------------


@dataclass
class _Point:
    number: int
    kind: str                  # "breakpoint", "watch", "rwatch", "awatch"
    address: int
    component: str | None      # None: every component (an address breakpoint)
    where: str
    length: int = 0
    temporary: bool = False
    hits: int = 0


_WATCH_KINDS = {"watch": "write", "rwatch": "read", "awatch": "access"}
_SIZES = {"b": 1, "h": 2, "w": 4, "g": 8}


class Debugger:
    """One booted system under the debugger, driven by `execute(command)`."""

    def __init__(self, machine: Machine, kernel: Kernel, elves: dict[str, pathlib.Path],
                 uart: BufferBackend | None = None) -> None:
        self.machine = machine
        self.kernel = kernel
        self.isa = machine.isa
        self.debug = MachineDebug(machine)
        self.uart = uart
        self._uart_seen = 0
        #: debug lines not yet shown (the newest DEBUG_LOG_LINES; a long `continue` may make millions)
        self._debug_lines = BoundedLog(DEBUG_LOG_LINES)
        self.symbols = {name: ComponentSymbols(path, self.isa) for name, path in elves.items()}
        #: components debugged without symbols, and why (shown when the debugger starts)
        self.warnings = [f"{name}: {sym.problem}" for name, sym in self.symbols.items() if sym.problem]
        self.points: dict[int, _Point] = {}
        self._next_number = 1
        self._refs: dict[tuple[int, object], int] = {}
        self.selected = kernel.current.process if kernel.current is not None else kernel.processes[0]
        self._interrupted = False
        self._last_syscall: tuple[str, int] | None = None
        if self.isa == "armv7m":
            self._cs = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
        else:
            self._cs = capstone.Cs(capstone.CS_ARCH_RISCV, capstone.CS_MODE_RISCV32 | capstone.CS_MODE_RISCVC)
        self._reg_names = views.register_names(self.isa)
        previous_debug_line = kernel.on_debug_line

        def debug_line(component: str, line: str) -> None:
            self._debug_lines.append(f"[{component}] {line}")
            if previous_debug_line is not None:
                previous_debug_line(component, line)
        kernel.on_debug_line = debug_line
        previous_syscall = kernel.on_syscall

        def on_syscall(cycle: int, component: str, number: int) -> None:
            self._last_syscall = (component, number)
            if previous_syscall is not None:
                previous_syscall(cycle, component, number)
        kernel.on_syscall = on_syscall
        self.commands = {
            "break": (self.cmd_break, "break LOCATION [COMPONENT]: stop at a symbol, file:line, *ADDRESS or "
                                      "ADDRESS (only in COMPONENT if named)"),
            "tbreak": (self.cmd_tbreak, "tbreak LOCATION [COMPONENT]: a breakpoint that is deleted when hit"),
            "watch": (self.cmd_watch, "watch ADDRESS|SYMBOL [LENGTH] [COMPONENT]: stop after a write to it"),
            "rwatch": (self.cmd_watch, "rwatch ADDRESS|SYMBOL [LENGTH] [COMPONENT]: stop after a read of it"),
            "awatch": (self.cmd_watch, "awatch ADDRESS|SYMBOL [LENGTH] [COMPONENT]: stop after any access"),
            "delete": (self.cmd_delete, "delete [N...]: delete breakpoints/watchpoints (all without N)"),
            "info": (self.cmd_info, "info breakpoints|registers|components|symbol ADDRESS|line LOCATION"),
            "continue": (self.cmd_continue, "continue [DURATION]: run until a breakpoint, Ctrl-C, or DURATION "
                                            "of virtual time (e.g. 2s, 500ms)"),
            "stepi": (self.cmd_stepi, "stepi [N]: execute N instructions of the running component"),
            "step": (self.cmd_step, "step [N]: run to the next source line, into calls"),
            "next": (self.cmd_next, "next [N]: run to the next source line, over calls"),
            "finish": (self.cmd_finish, "finish: run until the current function returns"),
            "until": (self.cmd_until, "until [LOCATION]: run to LOCATION (without one: as next)"),
            "regs": (self.cmd_regs, "regs: the selected component's registers"),
            "x": (self.cmd_x, "x/NFU ADDRESS: examine memory (F: x d u c s i, U: b h w) in the selected "
                              "component's address space"),
            "disas": (self.cmd_disas, "disas [ADDRESS] [N]: N instructions (default 10) from ADDRESS (default pc)"),
            "bt": (self.cmd_bt, "bt: the call stack of the selected component, from .debug_frame"),
            "list": (self.cmd_list, "list [LOCATION]: source lines around LOCATION (default: where it stopped)"),
            "where": (self.cmd_where, "where: the selected component's location"),
            "select": (self.cmd_select, "select COMPONENT: show that component's registers and memory"),
            "ps": (self.cmd_ps, "ps: components, state, priority, pc, faults, generation, what each waits on"),
            "caps": (self.cmd_caps, "caps [COMPONENT]: the capability table of a component"),
            "ipc": (self.cmd_ipc, "ipc [N]: the last N (default 20) IPC, notification, irq and fault events"),
            "irq": (self.cmd_irq, "irq: interrupt lines, their drivers and notification bits"),
            "time": (self.cmd_time, "time: virtual time, instructions, and the kernel's counters"),
            "uart": (self.cmd_uart, "uart TEXT: type TEXT (and a newline) into UART0"),
            "help": (self.cmd_help, "help [COMMAND]: this list"),
        }
        self.aliases = {"b": "break", "c": "continue", "cont": "continue", "si": "stepi", "s": "step",
                        "n": "next", "fin": "finish", "u": "until", "d": "delete", "i": "info",
                        "registers": "regs", "disassemble": "disas", "backtrace": "bt", "where": "where",
                        "l": "list", "rw": "rwatch", "aw": "awatch"}

    # -- building one ---------------------------------------------------------------------

    @classmethod
    def from_image(cls, path: str | pathlib.Path) -> "Debugger":
        """Boot a system description (.toml) or packed image, stopped before its first instruction."""
        system = load_any(path)
        machine = Machine(system.board)
        kernel = Kernel(machine)
        uart = BufferBackend()
        kernel.boot(system)
        for name, dev in machine.peripherals.items():
            if hasattr(dev, "attach"):
                machine.attach_uart(name, uart)
                break
        return cls(machine, kernel, {c.name: c.elf for c in system.components}, uart)

    # -- the command interface ---------------------------------------------------------------

    def execute(self, line: str) -> str:
        """Run one command line; returns its output (errors as one line)."""
        line = line.strip()
        if not line:
            return ""
        m = re.match(r"([A-Za-z]+)(.*)$", line)
        if m is None:
            return f"unknown command {line.split()[0]!r}; try 'help'\n"
        word, rest = m.group(1), m.group(2).strip() if not m.group(2).startswith("/") else m.group(2)
        name = self.aliases.get(word, word)
        if name not in self.commands:
            matches = [c for c in self.commands if c.startswith(word)]
            if len(matches) != 1:
                return f"unknown command {word!r}; try 'help'\n"
            name = matches[0]
        handler = self.commands[name][0]
        try:
            out = handler(rest, name) if name in ("watch", "rwatch", "awatch") else handler(rest)
        except DebuggerError as e:
            out = f"{e}\n"
        return out + self._take_output()

    def _take_output(self) -> str:
        text = ""
        if self.uart is not None and self.uart.total > self._uart_seen:
            if self.uart.dropped > self._uart_seen:
                text += f"[atoll] {self.uart.dropped - self._uart_seen} older UART byte(s) dropped\n"
            new = self.uart.since(self._uart_seen).decode("utf-8", errors="replace")
            self._uart_seen = self.uart.total
            text += "".join(f"uart| {line}\n" for line in new.splitlines())
        if self._debug_lines.dropped:
            text += f"[atoll] {self._debug_lines.dropped} older debug line(s) dropped\n"
            self._debug_lines.dropped = 0
        if self._debug_lines:
            text += "".join(f"{line}\n" for line in self._debug_lines)
            self._debug_lines.clear()
        return text

    def interrupt(self) -> None:
        """Stop a running `continue` (from a signal handler or another thread)."""
        self._interrupted = True
        self.machine.request_stop()

    # -- components, registers, memory -----------------------------------------------------------

    def _process(self, name: str):
        try:
            return self.kernel.process(name)
        except KeyError:
            raise DebuggerError(f"no component named {name!r} (components: "
                                f"{', '.join(p.name for p in self.kernel.processes)})") from None

    def _reg(self, process, name: str) -> int:
        return views.read_register(self.machine, self.kernel, process.thread, name)

    def _pc(self, process) -> int:
        return views.thread_pc(self.machine, self.kernel, process.thread)

    def _syms(self, process) -> ComponentSymbols | None:
        return self.symbols.get(process.name)

    def _read(self, process, address: int, length: int) -> bytes:
        try:
            return self.machine.read_virtual(process.space, address, length)
        except Exception:
            raise DebuggerError(f"cannot read {length} bytes at {address:#x} in {process.name}") from None

    def _number(self, text: str) -> int | None:
        try:
            return int(text, 0)
        except ValueError:
            return None

    def _address(self, text: str, process=None) -> int:
        """An address expression: a number, $register, a symbol, or symbol+offset."""
        process = process or self.selected
        text = text.strip().lstrip("*")
        m = re.match(r"^(.+?)\s*([+-])\s*(\w+)$", text)
        if m is not None and self._number(m.group(3)) is not None and not text.startswith("0x-"):
            base = self._address(m.group(1), process)
            offset = self._number(m.group(3))
            return (base + offset if m.group(2) == "+" else base - offset) & 0xFFFFFFFF
        value = self._number(text)
        if value is not None:
            return value & 0xFFFFFFFF
        if text.startswith("$"):
            name = text[1:]
            try:
                value = self._reg(process, name)
            except Exception:
                raise DebuggerError(f"no register {name!r}") from None
            return value & ~1 if name == "pc" and self.isa == "armv7m" else value
        syms = self._syms(process)
        if syms is not None and text in syms.symbols:
            return syms.symbols[text][0]
        raise DebuggerError(f"no symbol {text!r} in {process.name}")

    def _where(self, process, pc: int | None = None) -> str:
        pc = self._pc(process) if pc is None else pc
        syms = self._syms(process)
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

    # -- locations ---------------------------------------------------------------------------------

    def _locations(self, spec: str, component: str | None) -> list[tuple[str | None, int, str]]:
        """(component or None for every one, address, description) for a location."""
        spec = spec.strip()
        procs = [self._process(component)] if component else list(self.kernel.processes)
        m = re.match(r"^(.+):(\d+)$", spec)
        if m is not None:
            found = []
            for p in procs:
                syms = self._syms(p)
                hit = syms.addresses_of_line(m.group(1), int(m.group(2))) if syms else None
                if hit is None:
                    continue
                file, line, addresses = hit
                found += [(p.name, a, f"{file}:{line}") for a in addresses]
            if not found:
                raise DebuggerError(f"no code at {spec}" + (f" in {component}" if component else ""))
            files = sorted({where.rsplit(":", 1)[0] for _, _, where in found})
            if len(files) > 1:
                raise DebuggerError(f"{m.group(1)} is ambiguous: {', '.join(files)}; "
                                    "give more of its path or a component")
            return found
        value = self._number(spec.lstrip("*"))
        if value is not None:
            return [(component, value & 0xFFFFFFFF, f"{value & 0xFFFFFFFF:#010x}")]
        found = []
        for p in procs:
            syms = self._syms(p)
            if syms is not None and spec in syms.symbols and syms.symbols[spec][2] == "STT_FUNC":
                found.append((p.name, syms.symbols[spec][0], spec))
        if not found:
            raise DebuggerError(f"no function {spec!r}" + (f" in {component}" if component else " in any component"))
        return found

    def _add_hook(self, address: int, component: str | None) -> None:
        space = None if component is None else self._process(component).space
        key = (address, None if space is None else id(space))
        if self._refs.get(key, 0) == 0:
            self.debug.add_breakpoint(address, space)
        self._refs[key] = self._refs.get(key, 0) + 1

    def _remove_hook(self, address: int, component: str | None) -> None:
        space = None if component is None else self._process(component).space
        key = (address, None if space is None else id(space))
        count = self._refs.get(key, 0) - 1
        if count <= 0:
            self._refs.pop(key, None)
            self.debug.remove_breakpoint(address, space)
        else:
            self._refs[key] = count

    def _new_point(self, point: _Point) -> _Point:
        self.points[point.number] = point
        self._next_number += 1
        return point

    # -- breakpoints and watchpoints --------------------------------------------------------

    def cmd_break(self, arg: str, temporary: bool = False) -> str:
        words = arg.split()
        if not words:
            p = self.selected
            words = [f"{self._pc(p):#x}", p.name]
        if len(words) > 2:
            raise DebuggerError("usage: break LOCATION [COMPONENT]")
        component = words[1] if len(words) == 2 else None
        if component is not None:
            self._process(component)
        out = []
        for comp, address, where in self._locations(words[0], component):
            self._add_hook(address, comp)
            point = self._new_point(_Point(self._next_number, "breakpoint", address, comp, where,
                                           temporary=temporary))
            out.append(f"{'Temporary b' if temporary else 'B'}reakpoint {point.number} at {address:#010x}"
                       f" ({where}) in {comp or 'every component'}")
        return "\n".join(out) + "\n"

    def cmd_tbreak(self, arg: str) -> str:
        return self.cmd_break(arg, temporary=True)

    def cmd_watch(self, arg: str, kind: str = "watch") -> str:
        words = arg.split()
        if not 1 <= len(words) <= 3:
            raise DebuggerError(f"usage: {kind} ADDRESS|SYMBOL [LENGTH] [COMPONENT]")
        component = None
        length = None
        for w in words[1:]:
            n = self._number(w)
            if n is not None:
                length = n
            else:
                component = w
        process = self._process(component) if component else self.selected
        address = self._address(words[0], process)
        if length is None:
            syms = self._syms(process)
            size = syms.symbols.get(words[0], (0, 0, ""))[1] if syms else 0
            length = size if 0 < size <= 4096 else 4
        try:
            self.debug.add_watchpoint(address, length, _WATCH_KINDS[kind], process.space)
        except ValueError as e:
            raise DebuggerError(str(e)) from None
        point = self._new_point(_Point(self._next_number, kind, address, process.name, words[0], length))
        word = {"watch": "Watchpoint", "rwatch": "Read watchpoint", "awatch": "Access watchpoint"}[kind]
        return f"{word} {point.number}: {words[0]} ({address:#010x}, {length} bytes) in {process.name}\n"

    def _delete_point(self, point: _Point) -> None:
        del self.points[point.number]
        if point.kind == "breakpoint":
            self._remove_hook(point.address, point.component)
        else:
            space = self._process(point.component).space
            self.debug.remove_watchpoint(point.address, point.length, _WATCH_KINDS[point.kind], space)

    def cmd_delete(self, arg: str) -> str:
        words = arg.split()
        if not words:
            for point in list(self.points.values()):
                self._delete_point(point)
            return "deleted every breakpoint and watchpoint\n"
        out = []
        for w in words:
            n = self._number(w)
            if n is None or n not in self.points:
                out.append(f"no breakpoint number {w}")
                continue
            self._delete_point(self.points[n])
        return "".join(f"{line}\n" for line in out)

    def cmd_info(self, arg: str) -> str:
        words = arg.split()
        what = words[0] if words else ""
        if "breakpoints".startswith(what) and what or "watchpoints".startswith(what) and what:
            if not self.points:
                return "no breakpoints or watchpoints\n"
            lines = [f"{'Num':<4} {'Type':<12} {'Address':<10} {'Component':<12} {'Hits':>4}  What"]
            for p in self.points.values():
                kind = p.kind if p.kind != "breakpoint" else ("tbreak" if p.temporary else "breakpoint")
                what_text = p.where + (f" ({p.length} bytes)" if p.length else "")
                lines.append(f"{p.number:<4} {kind:<12} {p.address:#010x} {p.component or '(all)':<12} "
                             f"{p.hits:>4}  {what_text}")
            return "\n".join(lines) + "\n"
        if what and "registers".startswith(what):
            return self.cmd_regs("")
        if what and ("components".startswith(what) or "threads".startswith(what)):
            return self.cmd_ps("")
        if what == "symbol" and len(words) == 2:
            address = self._address(words[1])
            syms = self._syms(self.selected)
            name = syms.describe(address) if syms else ""
            return f"{address:#010x} is {name or 'not in a known function'} in {self.selected.name}\n"
        if what == "line" and len(words) == 2:
            return "".join(f"{where} is at {address:#010x} in {comp or 'every component'}\n"
                           for comp, address, where in self._locations(words[1], None))
        raise DebuggerError("usage: info breakpoints|registers|components|symbol ADDRESS|line LOCATION")

    # -- running ----------------------------------------------------------------------------------

    def _resume_past_breakpoints(self) -> None:
        """The component that stopped on a breakpoint runs past it once (others that have not
        run yet and sit at the same address, such as every component's _start, still stop)."""
        current = self.kernel.current
        if current is not None:
            self.debug.skip_once(current.process.space, self._pc(current.process))

    def _run(self, seconds: float | None = None, stop_when=None) -> str:
        """Run the system until a hit (that `stop_when` accepts), Ctrl-C, or `seconds` pass."""
        clock = self.machine.clock
        end = None if seconds is None else clock.now + clock.cycles(seconds)
        self._interrupted = False
        restore = None
        if threading.current_thread() is threading.main_thread():
            try:
                restore = signal.signal(signal.SIGINT, lambda *_: self.interrupt())
            except ValueError:
                restore = None
        try:
            self._resume_past_breakpoints()
            while True:
                if self.kernel.all_exited():
                    return "every component has exited\n"
                cycles = clock.cycles(RUN_SLICE_SECONDS)
                if end is not None:
                    if clock.now >= end:
                        return f"stopped after {seconds:g} s of virtual time\n" + self._stopped_text()
                    cycles = min(cycles, end - clock.now)
                self.kernel.run(cycles)
                hit = self.debug.take_hit()
                if hit is not None:
                    text = self._report_hit(hit, stop_when)
                    if text is not None:
                        return text
                    self._resume_past_breakpoints()
                    continue
                if self._interrupted:
                    return "Interrupted\n" + self._stopped_text()
        finally:
            if restore is not None:
                signal.signal(signal.SIGINT, restore)

    def _process_of_space(self, space):
        return next((p for p in self.kernel.processes if p.space is space), None)

    def _report_hit(self, hit, stop_when=None) -> str | None:
        process = self._process_of_space(hit.space) or self.selected
        if hit.kind == "breakpoint":
            if stop_when is not None and not stop_when(process, hit.address):
                if not self._user_breakpoint_at(process, hit.address):
                    return None
            self.selected = process
            numbers = []
            for point in list(self.points.values()):
                if point.kind == "breakpoint" and point.address == hit.address and \
                        point.component in (None, process.name):
                    point.hits += 1
                    numbers.append(point.number)
                    if point.temporary:
                        self._delete_point(point)
            head = f"Breakpoint {', '.join(map(str, numbers))}, " if numbers else ""
            return head + self._where(process) + "\n"
        self.selected = process
        numbers = [p for p in self.points.values() if p.kind != "breakpoint" and p.component == process.name
                   and p.address <= hit.address < p.address + p.length]
        for point in numbers:
            point.hits += 1
        value = ""
        try:
            data = self.machine.read_virtual(hit.space, hit.address & ~3, 4)
            value = f", word at {hit.address & ~3:#010x} now {int.from_bytes(data, 'little'):#010x}"
        except Exception:
            pass
        label = ", ".join(f"Watchpoint {p.number}" for p in numbers) or "Watchpoint"
        return f"{label}: {hit.access} at {hit.address:#010x}{value}\n" + self._where(process) + "\n"

    def _user_breakpoint_at(self, process, address: int) -> bool:
        return any(p.kind == "breakpoint" and not p.temporary and p.address == address and
                   p.component in (None, process.name) for p in self.points.values())

    def _stopped_text(self) -> str:
        current = self.kernel.current
        if current is None:
            return "no component runs (every one waits); stopped in the kernel's idle loop\n"
        self.selected = current.process
        return self._where(current.process) + "\n"

    def cmd_continue(self, arg: str) -> str:
        seconds = None
        if arg.strip():
            from .cli import parse_duration
            try:
                seconds = parse_duration(arg.strip())
            except Exception as e:
                raise DebuggerError(f"continue: {e}") from None
        return self._run(seconds)

    # -- stepping -------------------------------------------------------------------------------------

    def _running_process(self):
        """The component that runs now; if none does, let time pass until one does."""
        if self.kernel.current is None:
            self.kernel.run_until(lambda: self.kernel.current is not None, 10.0)
            self.debug.take_hit()
        if self.kernel.current is None:
            raise DebuggerError("no component is ready to run")
        return self.kernel.current.process

    def _step_instruction(self) -> tuple[object, str]:
        """One instruction of the running component: (its process, what happened worth telling)."""
        process = self._running_process()
        thread = process.thread
        pc = self._pc(process)
        self.debug.skip_once(process.space, pc)
        self._last_syscall = None
        stops_before = self.kernel.stats.faults
        self.machine.step(1, events=False)
        hit = self.debug.take_hit()
        notes = ""
        if self._last_syscall is not None and self._last_syscall[0] == process.name:
            notes += self._syscall_text(process, self._last_syscall[1])
        if stops_before != self.kernel.stats.faults or thread.state in (State.STOPPED, State.EXITED):
            fault = process.last_fault
            notes += f"{process.name} {thread.state.value}" + (f": {fault}" if fault is not None else "") + "\n"
        elif self._last_syscall is None and self.kernel.current is not thread and thread.state is not State.RUNNING:
            notes += f"{process.name} is now {thread.state.value}\n"
        if hit is not None and hit.kind == "watchpoint":
            notes += self._report_hit(hit) or ""
        return process, notes

    def _syscall_text(self, process, number: int) -> str:
        try:
            name = Sys(number).name
        except ValueError:
            name = f"unknown syscall {number}"
        thread = process.thread
        if thread.state is State.RUNNING or thread.state is State.READY:
            status = self._reg(process, "r0" if self.isa == "armv7m" else "a0")
            status -= (1 << 32) if status & 0x80000000 else 0
            result = f"returned {status}"
        else:
            result = f"{process.name} is {thread.state.value}" + (
                f" ({views.waits_on(self.kernel, thread)})" if thread.state not in (State.STOPPED,) else "")
        current = self.kernel.current
        runs = current.name if current is not None else "nobody (idle)"
        return f"syscall {name} from {process.name}: {result}; next runs: {runs}\n"

    def cmd_stepi(self, arg: str) -> str:
        count = self._count(arg)
        notes = ""
        process = None
        for _ in range(count):
            process, note = self._step_instruction()
            notes += note
            if note and ("stopped" in note or "Watchpoint" in note):
                break
        current = self.kernel.current
        shown = current.process if current is not None else process
        self.selected = shown
        return notes + self._where_short(shown) + "\n"

    def _where_short(self, process) -> str:
        pc = self._pc(process)
        syms = self._syms(process)
        text = f"{process.name}: {pc:#010x}"
        if syms is not None:
            name = syms.describe(pc)
            if name:
                text += f" <{name}>"
            line = syms.line_at(pc)
            if line is not None:
                text += f" at {line[0]}:{line[1]}"
        return text + "   " + self._disas_lines(process, pc, 1, marker=False)[0].strip()

    def _count(self, arg: str) -> int:
        if not arg.strip():
            return 1
        n = self._number(arg.strip())
        if n is None or n < 1:
            raise DebuggerError(f"expected a positive count, not {arg.strip()!r}")
        return n

    def _line_key(self, process, pc: int):
        syms = self._syms(process)
        if syms is None:
            return None
        return syms.line_starts.get(pc)

    def _step_line(self, over: bool) -> str:
        process = self._running_process()
        syms = self._syms(process)
        if syms is None:
            raise DebuggerError(f"no symbols for {process.name}")
        start_pc = self._pc(process)
        start_line = syms.line_at(start_pc)
        start_fn = syms.function_at(start_pc)
        notes = ""
        for _ in range(MAX_LINE_STEP):
            before_pc = self._pc(process)
            _, note = self._step_instruction()
            notes += note
            thread = process.thread
            if thread.state in (State.STOPPED, State.EXITED):
                self.selected = process
                return notes
            if self.kernel.current is not thread:
                # blocked or preempted in a syscall: follow it until it runs again
                resume = self._pc(process)
                out = self._run_to(process, resume)
                if out is not None:
                    return notes + out
            if "Watchpoint" in note:
                self.selected = process
                return notes
            pc = self._pc(process)
            fn = syms.function_at(pc)
            if over and fn is not None and pc == fn.start and fn is not start_fn and before_pc != pc:
                # a call: run to its return address
                ret = self._reg(process, "lr" if self.isa == "armv7m" else "ra")
                ret &= ~1 if self.isa == "armv7m" else ~0
                out = self._run_to(process, ret)
                if out is not None:
                    return notes + out
                pc = self._pc(process)
            here = syms.line_starts.get(pc)
            if here is not None and (here != start_line or pc == start_pc or
                                     (pc < start_pc and syms.function_at(pc) is start_fn)):
                if here != start_line or pc <= start_pc:
                    self.selected = process
                    return notes + self._where(process) + "\n"
            if self._user_breakpoint_at(process, pc) and pc != start_pc:
                self.selected = process
                return notes + "Breakpoint, " + self._where(process) + "\n"
        self.selected = process
        return notes + f"gave up after {MAX_LINE_STEP} instructions\n" + self._where(process) + "\n"

    def _run_to(self, process, address: int) -> str | None:
        """Run until `process` reaches `address` (None) or something else stops the run (its text)."""
        self._add_hook(address, process.name)
        try:
            out = self._run(stop_when=lambda p, a: p is process and a == address)
        finally:
            self._remove_hook(address, process.name)
        if self.kernel.current is not None and self.kernel.current.process is process and \
                self._pc(process) == address:
            return None
        return out

    def cmd_step(self, arg: str) -> str:
        return "".join(self._step_line(over=False) for _ in range(self._count(arg)))

    def cmd_next(self, arg: str) -> str:
        return "".join(self._step_line(over=True) for _ in range(self._count(arg)))

    def cmd_until(self, arg: str) -> str:
        if not arg.strip():
            return self._step_line(over=True)
        process = self._running_process()
        locations = self._locations(arg.strip(), process.name)
        address = locations[0][1]
        out = self._run_to(process, address)
        return out if out is not None else self._where(process) + "\n"

    def cmd_finish(self, arg: str) -> str:
        process = self._running_process()
        frames = self._unwind(process, 2)
        if len(frames) < 2:
            raise DebuggerError("finish: no caller frame (no call frame information here)")
        caller = frames[1]
        syms = self._syms(process)
        name = syms.describe(frames[0].pc) if syms else ""
        out = self._run_to(process, caller.pc)
        if out is not None:
            return out
        value = self._reg(process, "r0" if self.isa == "armv7m" else "a0")
        return f"Run till exit from {name or hex(frames[0].pc)}\n" + self._where(process) + \
            f"\nValue returned: {value} ({value:#x})\n"

    # -- looking -----------------------------------------------------------------------------------

    def cmd_regs(self, arg: str) -> str:
        process = self.selected
        lines = []
        for name in self._reg_names:
            value = self._reg(process, name)
            extra = ""
            if name in ("pc", "lr", "ra"):
                syms = self._syms(process)
                described = syms.describe(value & ~1 if self.isa == "armv7m" else value) if syms else ""
                extra = f" <{described}>" if described else ""
            lines.append(f"{name:<6} {value:#010x} {value:>11}{extra}")
        return f"registers of {process.name} ({process.thread.state.value}):\n" + "\n".join(lines) + "\n"

    def cmd_x(self, arg: str) -> str:
        m = re.match(r"^(?:/(\d*)([xducsi]?)([bhwg]?)([xducsi]?))?\s*(.+)$", arg.strip())
        if m is None:
            raise DebuggerError("usage: x/NFU ADDRESS (F: x d u c s i; U: b h w)")
        count = int(m.group(1) or 1)
        fmt = m.group(2) or m.group(4) or "x"
        size = _SIZES[m.group(3) or ("b" if fmt in "cs" else "w")]
        process = self.selected
        address = self._address(m.group(5), process)
        if fmt == "i":
            return "\n".join(self._disas_lines(process, address, count)) + "\n"
        if fmt == "s":
            out = []
            for _ in range(count):
                data = bytearray()
                while len(data) < 4096:
                    b = self._read(process, address + len(data), 1)
                    if b == b"\0":
                        break
                    data += b
                out.append(f"{address:#010x}: {data.decode('utf-8', 'replace')!r}")
                address += len(data) + 1
            return "\n".join(out) + "\n"
        data = self._read(process, address, count * size)
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

    def _disas_lines(self, process, address: int, count: int, marker: bool = True) -> list[str]:
        code = b""
        for length in (count * 4, 64, 16, 4, 2):
            try:
                code = self.machine.read_virtual(process.space, address, length)
                break
            except Exception:
                continue
        if not code:
            raise DebuggerError(f"cannot read code at {address:#x} in {process.name}")
        pc = self._pc(process)
        syms = self._syms(process)
        lines = []
        for insn in self._cs.disasm(code, address, count):
            name = syms.describe(insn.address) if syms else ""
            mark = "=> " if marker and insn.address == pc else "   "
            sym = f" <{name}>" if name else ""
            lines.append(f"{mark}{insn.address:#010x}{sym}:\t{insn.mnemonic}\t{insn.op_str}".rstrip())
        if not lines:
            lines.append(f"   {address:#010x}:\t(bad)")
        return lines

    def cmd_disas(self, arg: str) -> str:
        words = arg.split()
        process = self.selected
        address = self._address(words[0], process) if words else self._pc(process)
        count = 10
        if len(words) > 1:
            count = self._count(words[1])
        return "\n".join(self._disas_lines(process, address, count)) + "\n"

    def _unwind(self, process, limit: int = 32) -> list[_Frame]:
        syms = self._syms(process)
        thumb = self.isa == "armv7m"
        sp_num, names = (13, [f"r{i}" for i in range(13)] + ["sp", "lr", "pc"]) if thumb else (2, list(views.RISCV_NAMES))
        regs = {i: self._reg(process, n) for i, n in enumerate(names) if n != "pc"}
        pc = self._pc(process)
        frames = [_Frame(pc, regs[sp_num], regs=dict(regs))]
        while len(frames) < limit and syms is not None:
            frame = frames[-1]
            lookup = frame.pc if len(frames) == 1 else frame.pc - 1
            rule = syms.frame_rule(lookup)
            if rule is None:
                break
            cfa_rule, row, ra_reg = rule
            if cfa_rule.reg is None or cfa_rule.reg not in frame.regs:
                break
            cfa = (frame.regs[cfa_rule.reg] + cfa_rule.offset) & 0xFFFFFFFF
            frame.cfa = cfa
            caller = dict(frame.regs)
            for reg, value in row.items():
                if not isinstance(reg, int) or getattr(value, "type", None) != "OFFSET":
                    continue
                try:
                    caller[reg] = int.from_bytes(self._read(process, cfa + value.arg, 4), "little")
                except DebuggerError:
                    return frames
            caller[sp_num] = cfa
            ret = caller.get(ra_reg)
            if ret is None:
                break
            ret &= ~1 if thumb else ~0
            if ret == 0 or (ret == frame.pc and cfa == frame.sp) or syms.function_at(ret) is None:
                break
            frames.append(_Frame(ret, cfa, regs=caller))
        return frames

    def cmd_bt(self, arg: str) -> str:
        process = self.selected
        syms = self._syms(process)
        lines = []
        for i, frame in enumerate(self._unwind(process)):
            lookup = frame.pc if i == 0 else frame.pc - 1
            fn = syms.function_at(frame.pc) if syms else None
            line = syms.line_at(lookup) if syms else None
            text = f"#{i:<2} {frame.pc:#010x} in {fn.name if fn else '??'} ()"
            if line is not None:
                text += f" at {line[0]}:{line[1]}"
            lines.append(text)
        return f"{process.name}:\n" + "\n".join(lines) + "\n"

    def cmd_list(self, arg: str) -> str:
        process = self.selected
        syms = self._syms(process)
        if syms is None:
            raise DebuggerError(f"no symbols for {process.name}")
        if arg.strip():
            address = self._locations(arg.strip(), process.name)[0][1]
        else:
            address = self._pc(process)
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
        return self._where(self.selected) + "\n"

    def cmd_select(self, arg: str) -> str:
        if not arg.strip():
            raise DebuggerError("usage: select COMPONENT")
        self.selected = self._process(arg.strip())
        return self._where(self.selected) + "\n"

    # -- kernel views -------------------------------------------------------------------------------

    def cmd_ps(self, arg: str) -> str:
        return views.ps(self.machine, self.kernel)

    def cmd_caps(self, arg: str) -> str:
        return views.caps(self._process(arg.strip()) if arg.strip() else self.selected)

    def cmd_ipc(self, arg: str) -> str:
        return views.ipc(self.kernel, self._count(arg) if arg.strip() else 20)

    def cmd_irq(self, arg: str) -> str:
        return views.irqs(self.machine, self.kernel)

    def cmd_time(self, arg: str) -> str:
        return views.time_view(self.machine, self.kernel)

    def cmd_uart(self, arg: str) -> str:
        if self.uart is None:
            raise DebuggerError("UART0 is not connected to the debugger")
        self.uart.send(arg + "\n")
        return f"queued {len(arg) + 1} bytes for UART0 (they arrive when the system runs)\n"

    def cmd_help(self, arg: str) -> str:
        word = arg.strip()
        if word:
            name = self.aliases.get(word, word)
            if name not in self.commands:
                raise DebuggerError(f"unknown command {word!r}")
            return self.commands[name][1] + "\n"
        return "".join(f"  {text}\n" for _, text in self.commands.values()) + \
            "  quit: leave the debugger\nAn empty line repeats the last command; Ctrl-C stops a running system.\n"


class DebuggerShell(cmd.Cmd):
    """The terminal front end of a `Debugger`: readline line editing and history."""

    prompt = "(atoll) "

    def __init__(self, debugger: Debugger, history: pathlib.Path | None = None) -> None:
        super().__init__()
        self.debugger = debugger
        self.history = history
        self.intro = ("atoll debug: stopped before the first instruction of the first component. "
                      "Type 'help' for commands.\n" + debugger.cmd_where(""))

    def preloop(self) -> None:
        try:
            import readline
            if self.history is not None and self.history.exists():
                readline.read_history_file(str(self.history))
        except (ImportError, OSError):
            pass

    def postloop(self) -> None:
        try:
            import readline
            if self.history is not None:
                readline.set_history_length(1000)
                readline.write_history_file(str(self.history))
        except (ImportError, OSError):
            pass

    def default(self, line: str) -> bool:
        if line.strip() in ("EOF",):
            print()
            return True
        print(self.debugger.execute(line), end="")
        return False

    def do_quit(self, arg: str) -> bool:
        """quit: leave the debugger"""
        return True

    do_q = do_quit
    do_exit = do_quit

    def do_help(self, arg: str) -> None:
        print(self.debugger.execute("help " + arg), end="")

    def completenames(self, text: str, *ignored) -> list[str]:
        return [c for c in list(self.debugger.commands) + ["quit"] if c.startswith(text)]

    def cmdloop_with_interrupts(self) -> None:
        """`cmdloop`, where Ctrl-C at the prompt abandons the line rather than the debugger."""
        intro = self.intro
        while True:
            try:
                self.cmdloop(intro)
                return
            except KeyboardInterrupt:
                print("^C")
                intro = ""


def run_terminal(image: str | pathlib.Path) -> int:
    """`atoll debug IMAGE`: the terminal debugger until quit."""
    debugger = Debugger.from_image(image)
    for warning in debugger.warnings:
        print(f"atoll: warning: {warning}", file=sys.stderr)
    # at the terminal, idle time passes at the wall clock's pace (as in `atoll boot`)
    debugger.machine.realtime = True
    history = pathlib.Path(os.path.expanduser("~")) / ".atoll_debug_history" if sys.stdin.isatty() else None
    DebuggerShell(debugger, history).cmdloop_with_interrupts()
    return 0


__all__ = ["ComponentSymbols", "Debugger", "DebuggerError", "DebuggerShell", "run_terminal"]
