"""Peripheral test benches: a booted device driven from Python in virtual time.

`Device` boots a system (a description `.toml` or a packed image) on the board it
names, or a bare-metal ELF on a board given by name, and gives a test what it
needs to drive and observe it:

- UART: `write`, `expect` (text or a compiled regex, like pexpect: each match
  consumes the output up to its end), `read_available`; a failed expectation
  raises `ExpectTimeout` showing the last output and the virtual time.
- GPIO: `gpio.drive`, `gpio.release`, `gpio.level`, `gpio.edges` (with virtual
  timestamps), `gpio.toggles_with_period`.
- Time: `run_for`, `run_until`, `now`; every wait is in virtual time, so a bench
  gives the same transcript and timestamps on every run and on any host.
- Introspection: `components`, `ipc_count`, `fault_count`, `restart_count`,
  `debug_lines`.
- Fault injection: `kill`, `fault`, `restart`, `corrupt`, `raise_interrupt`
  (spurious or stuck), `override_read` (a register that reads a wrong value).
- `reset` boots the same image again from scratch; `snapshot` and `restore` put the
  whole device (CPU, memory, peripherals, kernel, the UART buffers and cursors) back
  to an earlier moment, much faster than a boot, to fork one booted system into many
  tests (docs/testbenches.md shows the pytest pattern).

Durations are seconds (int or float) or strings such as "500ms" (the syntax of
`atoll boot --for`). Nothing here needs pytest; `atoll.pytest_plugin` builds the
`dut` fixture on it.
"""

from __future__ import annotations

import argparse
import pathlib
import re
from dataclasses import dataclass
from typing import Callable, Iterable

from kernel import DEBUG_LOG_LINES, Kernel, State
from machine import BoundedLog, BufferBackend, Fault, FaultKind, GpioBlock, Machine, Stop, load_board
from sysdesc import load_any

from .durations import parse_duration

__all__ = ["BenchError", "BenchTimeout", "Component", "Device", "DeviceSnapshot", "Edge", "ExpectTimeout",
           "GpioPort", "PeriodCheck", "UartPort", "seconds"]

#: characters of UART output shown when an expectation fails
TAIL_CHARS = 500


class BenchError(Exception):
    """A bench used the device wrongly (an unknown component, a bad duration, ...)."""


class BenchTimeout(AssertionError):
    """A wait in virtual time ended before its condition held."""


class ExpectTimeout(BenchTimeout):
    """`expect` did not see its pattern in time; the message shows the last output."""


def seconds(duration: float | int | str) -> float:
    """A duration as seconds of virtual time: 0.5, 2, "500ms", "10s", "250us"."""
    if isinstance(duration, bool):
        raise BenchError(f"a duration must be seconds or a string such as '500ms', not {duration!r}")
    if isinstance(duration, (int, float)):
        value = float(duration)
    elif isinstance(duration, str):
        try:
            value = parse_duration(duration)
        except argparse.ArgumentTypeError as e:
            raise BenchError(f"duration {e}") from None
    else:
        raise BenchError(f"a duration must be seconds or a string such as '500ms', not {duration!r}")
    if value < 0:
        raise BenchError(f"a duration cannot be negative: {duration!r}")
    return value


def _tail(text: str, limit: int = TAIL_CHARS) -> str:
    return text if len(text) <= limit else "..." + text[-limit:]


# -- UART ------------------------------------------------------------------------------------


class UartPort:
    """One UART of the device, on a `BufferBackend`.

    Output is matched as text (UTF-8; undecodable bytes never raise). `expect`
    and `read_available` share one cursor: what one consumed, the other skips. The
    cursor counts bytes since boot; the backend keeps the newest `BufferBackend.keep`
    bytes (1 MiB), so output older than that is gone (`dropped` says how much) and a
    cursor behind it reads from the oldest byte kept.
    """

    def __init__(self, device: "Device", name: str, backend: BufferBackend) -> None:
        self.device = device
        self.name = name
        self.backend = backend
        self.cursor = 0

    # -- host to device

    def write(self, data: bytes | str) -> None:
        """Queue bytes for the UART's receiver; they arrive at the line rate as time runs."""
        if not isinstance(data, (bytes, bytearray, str)):
            raise BenchError(f"write takes bytes or str, not {type(data).__name__}")
        self.backend.send(bytes(data) if not isinstance(data, str) else data)

    def writeline(self, line: str, end: str = "\r") -> None:
        """`line` followed by `end` (a carriage return, as a terminal sends Enter)."""
        self.write(line + end)

    # -- device to host

    @property
    def output(self) -> bytes:
        """The bytes the device sent on this UART since boot (the newest `backend.keep` of them)."""
        return bytes(self.backend.output)

    @property
    def dropped(self) -> int:
        """Bytes sent since boot that are no longer kept (the oldest)."""
        return self.backend.dropped

    @property
    def text(self) -> str:
        """`output` as text."""
        return self.backend.output.decode("utf-8", errors="replace")

    @property
    def timestamps(self) -> list[int]:
        """The virtual cycle at which each byte of `output` left the UART."""
        return list(self.backend.timestamps)

    def read_available(self) -> str:
        """The output not yet consumed by `expect` or `read_available`, consumed now."""
        data = self.backend.since(self.cursor)
        self.cursor = self.backend.total
        return data.decode("utf-8", errors="replace")

    def _unread(self) -> str:
        self.cursor = max(self.cursor, self.backend.dropped)   # what was dropped unread is gone
        return self.backend.since(self.cursor).decode("utf-8", errors="surrogateescape")

    def expect(self, pattern: str | re.Pattern, timeout: float | str = 1.0) -> re.Match:
        """Run until `pattern` appears in the unread output; returns the match.

        A `str` is matched literally, a compiled `re.Pattern` as a regex (on text).
        The output up to the end of the match is consumed. If `timeout` of virtual
        time passes first, `ExpectTimeout` says what was expected, on which UART,
        at what virtual time, and shows the last output.
        """
        regex = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
        if isinstance(regex.pattern, bytes):
            raise BenchError("expect matches text: compile the pattern from a str, not bytes")
        found: list[re.Match] = []
        seen = [-1]

        def matched() -> bool:
            size = self.backend.total
            if size == seen[0]:
                return False
            seen[0] = size
            m = regex.search(self._unread())
            if m is not None:
                found.append(m)
            return m is not None

        limit = seconds(timeout)
        self.device._run_until(matched, limit, raise_on_timeout=False)
        if not found:
            what = f"/{regex.pattern}/" if isinstance(pattern, re.Pattern) else repr(pattern)
            raise ExpectTimeout(
                f"{self.name}: {what} not seen within {limit:g} s of virtual time "
                f"(now {self.device.now:.6f} s); last output:\n{_tail(self.text)}")
        m = found[0]
        self.cursor += len(m.string[:m.end()].encode("utf-8", errors="surrogateescape"))
        return m

    def command(self, line: str, prompt: str | re.Pattern = "atoll> ", timeout: float | str = 1.0) -> str:
        """Send `line` and Enter, wait for the next `prompt`; the output in between
        (the echoed line, the answer), without the prompt."""
        self.read_available()
        self.writeline(line)
        m = self.expect(prompt, timeout)
        return m.string[:m.start()].encode("utf-8", "surrogateescape").decode("utf-8", "replace")


# -- GPIO ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edge:
    """A change of an output pin's pad level: when (virtual seconds and cycle), which pin, to what."""

    time: float
    cycle: int
    pin: int
    level: bool


@dataclass(frozen=True)
class PeriodCheck:
    """The answer of `GpioPort.toggles_with_period`: true when every measured period
    is within tolerance; its repr says what was measured, for assertion messages."""

    pin: int
    period: float
    tolerance: float
    cycles: int
    periods: tuple[float, ...]

    def __bool__(self) -> bool:
        return len(self.periods) >= self.cycles and all(
            abs(p - self.period) <= self.tolerance for p in self.periods)

    def __repr__(self) -> str:
        got = ", ".join(f"{p:.6f}" for p in self.periods) or "none"
        verdict = "ok" if self else "FAILED"
        return (f"<PeriodCheck {verdict}: pin {self.pin}, wanted {self.cycles} periods of "
                f"{self.period:g} s +/- {self.tolerance:g} s, measured [{got}] s>")


class GpioPort:
    """One GPIO block: inputs driven from the host, outputs read, output edges logged.

    Driving an input changes its pad level at once; the model latches the
    interrupt conditions the guest enabled and raises its interrupt outputs, so
    a driver waiting on a pin interrupt wakes as on the real part.
    """

    def __init__(self, device: "Device", name: str) -> None:
        self.device = device
        self.name = name
        try:
            self.peripheral = device.machine.peripheral(name, GpioBlock)
        except TypeError as e:
            raise BenchError(str(e)) from None

    def drive(self, pin: int, level: bool) -> None:
        """Drive input `pin` high (True) or low (False)."""
        self.peripheral.drive(pin, bool(level))

    def release(self, pin: int) -> None:
        """Stop driving `pin` (it reads its pull-up or 0)."""
        self.peripheral.drive(pin, None)

    def level(self, pin: int) -> bool:
        """The pad level of `pin` now (an output's latch, or what is driven)."""
        return self.peripheral.level(pin)

    def edges(self, pin: int | None = None, since: float | str | None = None) -> list[Edge]:
        """Logged output edges, oldest first; of one pin, and from a virtual time on, if given."""
        hz = self.device.machine.clock.frequency_hz
        start = 0 if since is None else round(seconds(since) * hz)
        return [Edge(cycle / hz, cycle, p, level) for cycle, p, level in self.peripheral.edges
                if (pin is None or p == pin) and cycle >= start]

    @property
    def edges_dropped(self) -> int:
        """Older edges the block's log let go (it keeps the newest machine EDGE_LOG)."""
        return self.peripheral.edges.dropped

    def toggles_with_period(self, pin: int, period: float | str, tolerance: float | str,
                            cycles: int = 3, timeout: float | str | None = None) -> PeriodCheck:
        """Whether output `pin` toggles with full period `period` (rising edge to rising
        edge) within +/- `tolerance`, over the last `cycles` periods of its edge log.

        If the log does not hold `cycles` periods yet, virtual time runs until it does
        or until `timeout` (default: enough for them, plus one period). The result is
        true or false; its repr lists the periods measured, so `assert` shows them.
        """
        if cycles < 1:
            raise BenchError(f"cycles must be at least 1, not {cycles!r}")
        want, tol = seconds(period), seconds(tolerance)

        def rising() -> list[Edge]:
            return [e for e in self.edges(pin) if e.level]

        limit = seconds(timeout) if timeout is not None else (cycles + 2) * (want + tol)
        if len(rising()) < cycles + 1:
            self.device._run_until(lambda: len(rising()) >= cycles + 1, limit, raise_on_timeout=False)
        edges = self.edges(pin)
        alternating = all(a.level != b.level for a, b in zip(edges, edges[1:]))
        ups = rising()[-(cycles + 1):]
        periods = tuple(b.time - a.time for a, b in zip(ups, ups[1:]))
        if not alternating:   # two rising edges in a row: not a clean toggle
            periods = periods + (float("nan"),)
        return PeriodCheck(pin, want, tol, cycles, periods)


# -- components ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Component:
    """A component as the kernel sees it at one moment."""

    index: int
    name: str
    state: str          # a kernel thread state: "running", "receiving", "stopped", "exited", ...
    priority: int
    generation: int
    faults: int
    restarts: int


# -- the device ------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DeviceSnapshot:
    """A device at one moment (see `Device.snapshot`); restore it any number of times."""

    device: "Device"
    system: object                 # a KernelSnapshot, or a MachineSnapshot for bare metal
    uarts: dict                    # name -> (output, timestamps, dropped, queued input, cursor)
    debug_lines: tuple
    history: tuple
    time: float



class Device:
    """A booted board, driven from Python in virtual time.

    `Device("firmware/images/demo-hifive1.toml")` boots a system description or a
    packed image on the board it names; `Device("blink.elf", board="mps2-an385")`
    loads a bare-metal ELF (no kernel). `uarts` names the UARTs given a buffer
    backend (the first is `uart`); `gpio` names the GPIO block `gpio` drives.
    """

    def __init__(self, image: str | pathlib.Path, board: str | None = None, *,
                 uarts: Iterable[str] = ("uart0",), gpio: str | None = "gpio0") -> None:
        self.image = pathlib.Path(image)
        self.board_name = board
        self._uart_names = tuple(uarts)
        self._gpio_name = gpio
        #: what earlier boots of this device sent on the first UART (reset keeps it for reports)
        self.history: list[str] = []
        self._boot()

    # -- booting

    def _boot(self) -> None:
        if not self.image.is_file():
            raise BenchError(f"{self.image}: no such file")
        with self.image.open("rb") as f:
            is_elf = f.read(4) == b"\x7fELF"
        self.kernel: Kernel | None = None
        #: (seconds, component, line): the newest DEBUG_LOG_LINES (`debug_lines.dropped` counts the rest)
        self.debug_lines = BoundedLog(DEBUG_LOG_LINES)
        if is_elf:
            if self.board_name is None:
                raise BenchError(f"{self.image}: a bare-metal ELF needs a board")
            self.machine = Machine(load_board(self.board_name))
            self.machine.load_elf(self.image)
            self.system = None
        else:
            self.system = load_any(self.image)
            if self.board_name is not None and self.board_name != self.system.board.name:
                raise BenchError(f"{self.image}: is for board {self.system.board.name}, "
                                 f"not {self.board_name}")
            self.machine = Machine(self.system.board)
            self.kernel = Kernel(self.machine)
            self.kernel.on_debug_line = self._debug_line
        self.uarts: dict[str, UartPort] = {}
        for name in self._uart_names:
            backend = BufferBackend()
            self.machine.attach_uart(name, backend)
            self.uarts[name] = UartPort(self, name, backend)
        self.uart = self.uarts[self._uart_names[0]] if self._uart_names else None
        self.gpio = GpioPort(self, self._gpio_name) if self._gpio_name else None
        self._stuck: dict[tuple[str, str], Callable[[], None]] = {}
        self._overrides: dict[tuple[str, str], object] = {}
        if self.kernel is not None:
            self.kernel.boot(self.system)

    # -- snapshots

    def snapshot(self) -> DeviceSnapshot:
        """The whole device now: CPU, memory, peripherals, the kernel's objects, the UART
        buffers with their cursors, and the debug lines. `restore` returns to it exactly:
        the same output at the same virtual times follows.

        Fault-injection wiring (`raise_interrupt(stuck=True)`, `override_read`) is the
        host's, not the device's: restoring neither adds nor removes it.
        """
        system = self.kernel.snapshot() if self.kernel is not None else self.machine.snapshot()
        uarts = {name: (port.backend.state(), port.cursor) for name, port in self.uarts.items()}
        return DeviceSnapshot(self, system, uarts, tuple(self.debug_lines), tuple(self.history), self.now)

    def restore(self, snap: DeviceSnapshot) -> None:
        """Put the device back to `snap` (taken from this device, since its last `reset`)."""
        if snap.device is not self:
            raise BenchError("a snapshot can only be restored into the device it was taken from")
        if self.kernel is not None:
            if snap.system.machine.board != self.board or snap.system.shared[0] is not self.kernel:
                raise BenchError("this snapshot was taken before the device was reset")
            self.kernel.restore(snap.system)
        else:
            if snap.system.board != self.board or snap.system.space is not self.machine.bare_space:
                raise BenchError("this snapshot was taken before the device was reset")
            self.machine.restore(snap.system)
        for name, (state, cursor) in snap.uarts.items():
            self.uarts[name].backend.set_state(state)
            self.uarts[name].cursor = cursor
        self.debug_lines[:] = snap.debug_lines
        self.history[:] = snap.history

    def _debug_line(self, component: str, line: str) -> None:
        self.debug_lines.append((self.now, component, line))

    def reset(self) -> None:
        """Boot the same image again: a new machine, time back to zero, fresh UART buffers."""
        if self.uart is not None:
            self.history.append(self.uart.text)
        self._boot()

    @property
    def board(self) -> str:
        return self.machine.board.name

    # -- UART shortcuts (the first UART)

    def _first_uart(self) -> UartPort:
        if self.uart is None:
            raise BenchError("this device was booted without a UART backend")
        return self.uart

    def write(self, data: bytes | str) -> None:
        self._first_uart().write(data)

    def writeline(self, line: str, end: str = "\r") -> None:
        self._first_uart().writeline(line, end)

    def expect(self, pattern: str | re.Pattern, timeout: float | str = 1.0) -> re.Match:
        return self._first_uart().expect(pattern, timeout)

    def read_available(self) -> str:
        return self._first_uart().read_available()

    def command(self, line: str, prompt: str | re.Pattern = "atoll> ", timeout: float | str = 1.0) -> str:
        return self._first_uart().command(line, prompt, timeout)

    def transcript(self) -> str:
        """Everything the UARTs sent (earlier boots first) and the components' debug lines."""
        parts = [f"--- {self._uart_names[0]}, boot {i + 1} ---\n{text}" for i, text in enumerate(self.history)]
        for name, port in self.uarts.items():
            parts.append(f"--- {name} ---\n{port.text}")
        if self.debug_lines.dropped:
            parts.append(f"--- {self.debug_lines.dropped} older debug lines dropped ---")
        if self.debug_lines:
            parts.append("--- debug lines ---\n" + "\n".join(
                f"{t:.6f} [{c}] {line}" for t, c, line in self.debug_lines))
        return "\n".join(parts)

    # -- time

    @property
    def now(self) -> float:
        """Virtual seconds since boot."""
        return self.machine.clock.now / self.machine.clock.frequency_hz

    @property
    def cycles(self) -> int:
        """Virtual time since boot, in cycles of the board's clock."""
        return self.machine.clock.now

    def run_for(self, duration: float | str) -> Stop:
        """Run `duration` of virtual time (a bare-metal fault or trap ends it early)."""
        cycles = self.machine.clock.cycles(seconds(duration))
        return (self.kernel or self.machine).run(cycles)

    def run_until(self, condition: Callable[[], bool], timeout: float | str = 1.0) -> Stop:
        """Run until `condition()` holds (checked at least every millisecond of virtual
        time); `BenchTimeout` if `timeout` of virtual time passes first."""
        return self._run_until(condition, seconds(timeout))

    def _run_until(self, condition: Callable[[], bool], limit: float, raise_on_timeout: bool = True) -> Stop:
        if self.kernel is not None:
            stop = self.kernel.run_until(condition, limit)
        else:
            stop = self.machine.run_until(condition, limit)
        if stop.reason == "timeout" and raise_on_timeout:
            raise BenchTimeout(f"condition not met within {limit:g} s of virtual time "
                               f"(now {self.now:.6f} s); last output:\n{_tail(self.uart.text if self.uart else '')}")
        if stop.reason in ("fault", "trap") and self.kernel is None:
            raise BenchError(f"the program stopped at {self.now:.6f} s: {stop.fault or stop.trap}")
        return stop

    # -- introspection

    def _kernel(self) -> Kernel:
        if self.kernel is None:
            raise BenchError("a bare-metal device has no components")
        return self.kernel

    def process(self, name: str):
        try:
            return self._kernel().process(name)
        except KeyError:
            names = ", ".join(p.name for p in self._kernel().processes)
            raise BenchError(f"no component named {name!r}; there are: {names}") from None

    def components(self) -> list[Component]:
        """Every component, in the order of the description."""
        return [Component(p.index, p.name, p.thread.state.value, p.thread.priority, p.generation,
                          p.thread.faults, p.restarts) for p in self._kernel().processes]

    def component(self, name: str) -> Component:
        p = self.process(name)
        return next(c for c in self.components() if c.index == p.index)

    @property
    def stats(self):
        """The kernel's counters (syscalls, ipc, switches, faults, restarts, interrupts)."""
        return self._kernel().stats

    @property
    def ipc_count(self) -> int:
        return self._kernel().stats.ipc

    def fault_count(self, component: str | None = None) -> int:
        """Faults of one component, or of all."""
        return self.process(component).thread.faults if component else self._kernel().stats.faults

    def restart_count(self, component: str | None = None) -> int:
        """Restarts of one component, or of all."""
        return self.process(component).restarts if component else self._kernel().stats.restarts

    # -- fault injection

    def fault(self, component: str, kind: FaultKind | str = FaultKind.UNDEFINED_INSTRUCTION,
              address: int | None = None) -> None:
        """Fault `component` now, through the kernel's fault path: it stops, its callers get
        DEAD_PEER, and its supervisor receives a FAULT message (and may restart it)."""
        process = self.process(component)
        if process.thread.state in (State.STOPPED, State.EXITED):
            raise BenchError(f"{component} is {process.thread.state.value}; it cannot fault")
        kind = FaultKind(kind)
        pc = self.machine.cpu.pc if self.kernel.current is process.thread else \
            process.thread.context.reg_read(self.machine.cpu.PC)
        self.kernel.fault(process, Fault(kind, pc, process.space.name, address,
                                         detail="injected by a test bench"))

    def kill(self, component: str) -> None:
        """Stop `component` and tell nobody (no FAULT message): if it is a supervised server, its
        supervisor's next heartbeat finds it (fault HUNG) and restarts it; otherwise it stays stopped."""
        self.kernel.stop(self.process(component))

    def restart(self, component: str) -> None:
        """Restart `component` as its supervisor would (a new generation)."""
        self._kernel().restart(self.process(component))

    def read_word(self, component: str, address: int) -> int:
        """The 32-bit little-endian word at virtual `address` of `component`."""
        process = self.process(component)
        return int.from_bytes(self.machine.read_virtual(process.space, address, 4), "little")

    def corrupt(self, component: str, address: int, word: int) -> int:
        """Write the 32-bit `word` at virtual `address` of `component` (through its address
        space, whatever the page's permissions); returns the word it replaced."""
        process = self.process(component)
        old = self.read_word(component, address)
        self.machine.write_virtual(process.space, address, (word & 0xFFFF_FFFF).to_bytes(4, "little"))
        return old

    def _line(self, peripheral: str, output: str):
        dev = self.machine.peripheral(peripheral)
        if output not in dev.irq:
            raise BenchError(f"{peripheral} has no interrupt output {output!r}; it has: {', '.join(dev.irq)}")
        return dev, dev.irq[output]

    def raise_interrupt(self, peripheral: str, output: str = "irq", stuck: bool = False) -> None:
        """A spurious interrupt (one pulse of `peripheral.output`, the device itself has
        nothing to report) or, with `stuck`, the line held high until `release_interrupt`,
        whatever the device's state."""
        dev, line = self._line(peripheral, output)
        if not stuck:
            line.set(True)
            line.set(False)
            dev.update_irq()
            return
        key = (peripheral, output)
        if key in self._stuck:
            return
        original = dev.update_irq   # the bound method; the instance attribute shadows it

        def stuck_high() -> None:
            original()
            line.set(True)

        dev.update_irq = stuck_high
        self._stuck[key] = original
        stuck_high()

    def release_interrupt(self, peripheral: str, output: str = "irq") -> None:
        """Undo a stuck interrupt: the line follows the device again."""
        dev, _ = self._line(peripheral, output)
        if self._stuck.pop((peripheral, output), None) is not None:
            del dev.update_irq
            dev.update_irq()

    def override_read(self, peripheral: str, register: str, value: int | Callable[[], int]) -> None:
        """Make guest reads of `peripheral.register` return `value` (or `value()`), as a
        failing device would, until `clear_override`. Writes behave as before."""
        dev = self.machine.peripheral(peripheral)
        try:
            name = dev.REGISTERS[register].name
        except KeyError:
            raise BenchError(f"{peripheral} has no register {register!r}") from None
        key = (peripheral, name)
        if key not in self._overrides:
            self._overrides[key] = dev.read_handler(name)
        dev.on_read(name, value if callable(value) else (lambda: value))

    def clear_override(self, peripheral: str, register: str) -> None:
        dev = self.machine.peripheral(peripheral)
        name = dev.REGISTERS[register].name
        key = (peripheral, name)
        if key in self._overrides:
            dev.on_read(name, self._overrides.pop(key))

    def __repr__(self) -> str:
        return f"<Device {self.image.name} on {self.board} at {self.now:.6f} s>"
