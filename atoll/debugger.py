"""The interactive debugger: `atoll debug IMAGE`.

A booted system, stopped before the first instruction of the first component,
driven by text commands. `Debugger.execute("break main.c:42")` runs one command
and returns what it prints, so tests and other tools drive it the way a person
does; `DebuggerShell` (atoll.debug_shell) is the terminal front end.

What it is made of, one noun per module:
- `atoll.debug_session`: the booted system, its components' symbols
  (`atoll.symbols`: pyelftools, the symbol table and the DWARF line programs),
  the selected component, address expressions and locations;
- `atoll.debug_points`: numbered breakpoints and watchpoints, as
  `machine.MachineDebug` hooks on their own addresses, each in the address space
  of the component it belongs to (every component is linked at the same addresses);
- `atoll.debug_run`: continue, instruction and line steps (through
  `atoll.control`, shared with the GDB stub); a step over SVC/ECALL shows the
  syscall, its result and which component runs next;
- `atoll.debug_look`: registers, memory, disassembly, call stacks
  (`atoll.unwind`, from .debug_frame), source, and the kernel's views
  (`atoll.views`): ps, caps, ipc, irq, time.

This module holds the command table and `execute`, which also hands back what the
UART and the components' debug lines printed meanwhile.

Commands (`help` lists them): break/tbreak, watch/rwatch/awatch, delete, info,
continue, stepi, step, next, finish, until, regs, x, disas, bt, list, ps, caps,
ipc, irq, time, select, uart, where. Ctrl-C stops a running system.
"""

from __future__ import annotations

import pathlib
import re

from kernel import DEBUG_LOG_LINES, Kernel
from machine import BoundedLog, BufferBackend, Machine
from sysdesc import load_any

from . import debug_reverse
from .debug_look import Looking
from .debug_points import Breakpoints
from .debug_run import Running
from .debug_session import DebugSession
from .symbols import ComponentSymbols, DebuggerError


class Debugger:
    """One booted system under the debugger, driven by `execute(command)`."""

    def __init__(self, machine: Machine, kernel: Kernel, elves: dict[str, pathlib.Path],
                 uart: BufferBackend | None = None) -> None:
        self.machine = machine
        self.kernel = kernel
        self.isa = machine.isa
        self.session = session = DebugSession(machine, kernel, elves)
        self.symbols = session.symbols
        self.uart = uart
        self._uart_seen = 0
        #: debug lines not yet shown (the newest DEBUG_LOG_LINES; a long `continue` may make millions)
        self._debug_lines = BoundedLog(DEBUG_LOG_LINES)
        #: components debugged without symbols, and why (shown when the debugger starts)
        self.warnings = [f"{name}: {sym.problem}" for name, sym in self.symbols.items() if sym.problem]
        self.breakpoints = pts = Breakpoints(session)
        self.running = run = Running(session, pts)
        self.looking = look = Looking(session)
        previous_debug_line = kernel.on_debug_line

        def debug_line(component: str, line: str) -> None:
            self._debug_lines.append(f"[{component}] {line}")
            if previous_debug_line is not None:
                previous_debug_line(component, line)
        kernel.on_debug_line = debug_line
        self.commands = {
            "break": (pts.cmd_break, "break LOCATION [COMPONENT]: stop at a symbol, file:line, *ADDRESS or "
                                      "ADDRESS (only in COMPONENT if named)"),
            "tbreak": (pts.cmd_tbreak, "tbreak LOCATION [COMPONENT]: a breakpoint that is deleted when hit"),
            "watch": (pts.cmd_watch, "watch ADDRESS|SYMBOL [LENGTH] [COMPONENT]: stop after a write to it"),
            "rwatch": (pts.cmd_watch, "rwatch ADDRESS|SYMBOL [LENGTH] [COMPONENT]: stop after a read of it"),
            "awatch": (pts.cmd_watch, "awatch ADDRESS|SYMBOL [LENGTH] [COMPONENT]: stop after any access"),
            "delete": (pts.cmd_delete, "delete [N...]: delete breakpoints/watchpoints (all without N)"),
            "info": (self.cmd_info, "info breakpoints|registers|components|symbol ADDRESS|line LOCATION"),
            "continue": (run.cmd_continue, "continue [DURATION]: run until a breakpoint, Ctrl-C, or DURATION "
                                            "of virtual time (e.g. 2s, 500ms)"),
            "stepi": (run.cmd_stepi, "stepi [N]: execute N instructions of the running component"),
            "step": (run.cmd_step, "step [N]: run to the next source line, into calls"),
            "next": (run.cmd_next, "next [N]: run to the next source line, over calls"),
            "finish": (run.cmd_finish, "finish: run until the current function returns"),
            "until": (run.cmd_until, "until [LOCATION]: run to LOCATION (without one: as next)"),
            "regs": (look.cmd_regs, "regs: the selected component's registers"),
            "x": (look.cmd_x, "x/NFU ADDRESS: examine memory (F: x d u c s i, U: b h w) in the selected "
                              "component's address space"),
            "disas": (look.cmd_disas, "disas [ADDRESS] [N]: N instructions (default 10) from ADDRESS (default pc)"),
            "bt": (look.cmd_bt, "bt: the call stack of the selected component, from .debug_frame"),
            "list": (look.cmd_list, "list [LOCATION]: source lines around LOCATION (default: where it stopped)"),
            "where": (look.cmd_where, "where: the selected component's location"),
            "select": (look.cmd_select, "select COMPONENT: show that component's registers and memory"),
            "ps": (look.cmd_ps, "ps: components, state, priority, pc, faults, generation, what each waits on"),
            "caps": (look.cmd_caps, "caps [COMPONENT]: the capability table of a component"),
            "ipc": (look.cmd_ipc, "ipc [N]: the last N (default 20) IPC, notification, irq and fault events"),
            "irq": (look.cmd_irq, "irq: interrupt lines, their drivers and notification bits"),
            "time": (look.cmd_time, "time: virtual time, instructions, and the kernel's counters"),
            "uart": (self.cmd_uart, "uart TEXT: type TEXT (and a newline) into UART0"),
            "help": (self.cmd_help, "help [COMMAND]: this list"),
        }
        self.aliases = {"b": "break", "c": "continue", "cont": "continue", "si": "stepi", "s": "step",
                        "n": "next", "fin": "finish", "u": "until", "d": "delete", "i": "info",
                        "registers": "regs", "disassemble": "disas", "backtrace": "bt",
                        "l": "list", "rw": "rwatch", "aw": "awatch"}
        debug_reverse.install(self)   # reverse-stepi/step/next/finish/continue, record, snapshot

    # -- building one ---------------------------------------------------------------------

    @classmethod
    def from_image(cls, path: str | pathlib.Path) -> "Debugger":
        """Boot a system description (.toml) or packed image, stopped before its first instruction."""
        system = load_any(path)
        machine = Machine(system.board)
        kernel = Kernel(machine)
        uart = BufferBackend()
        kernel.boot(system)
        name = next(iter(machine.uarts), None)
        if name is not None:
            machine.attach_uart(name, uart)
        return cls(machine, kernel, {c.name: c.elf for c in system.components}, uart)

    @property
    def selected(self):
        """The component the looking commands show."""
        return self.session.selected

    # -- the command interface ---------------------------------------------------------------

    def execute(self, line: str) -> str:
        """Run one command line; returns its output (errors as one line)."""
        line = line.strip()
        if not line:
            return ""
        m = re.match(r"([A-Za-z][A-Za-z-]*)(.*)$", line)
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
        self.running.interrupt()

    def cmd_where(self, arg: str) -> str:
        return self.looking.cmd_where(arg)

    def cmd_info(self, arg: str) -> str:
        words = arg.split()
        what = words[0] if words else ""
        if "breakpoints".startswith(what) and what or "watchpoints".startswith(what) and what:
            return self.breakpoints.table()
        if what and "registers".startswith(what):
            return self.looking.cmd_regs("")
        if what and ("components".startswith(what) or "threads".startswith(what)):
            return self.looking.cmd_ps("")
        if what == "symbol" and len(words) == 2:
            address = self.session.address(words[1])
            syms = self.session.syms(self.session.selected)
            name = syms.describe(address) if syms else ""
            return f"{address:#010x} is {name or 'not in a known function'} in {self.session.selected.name}\n"
        if what == "line" and len(words) == 2:
            return "".join(f"{where} is at {address:#010x} in {comp or 'every component'}\n"
                           for comp, address, where in self.session.locations(words[1], None))
        raise DebuggerError("usage: info breakpoints|registers|components|symbol ADDRESS|line LOCATION")

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


__all__ = ["ComponentSymbols", "Debugger", "DebuggerError"]
