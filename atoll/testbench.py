"""Peripheral test benches: a booted device driven from Python in virtual time.

`Device` boots a system (a description `.toml` or a packed image) on the board it
names, or a bare-metal ELF on a board given by name, and gives a test what it
needs to drive and observe it:

- UART: `write`, `expect` (text or a compiled regex, like pexpect: each match
  consumes the output up to its end), `read_available`; a failed expectation
  raises `ExpectTimeout` showing the last output and the virtual time.
- GPIO: `gpio.drive`, `gpio.release`, `gpio.level`, `gpio.edges` (with virtual
  timestamps), `gpio.toggles_with_period`.
- Time: `run_for`, `run_until`, `wait`, `now`; every wait is in virtual time, so a bench
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

`Device` is the booted system, its virtual time and what the kernel knows; the rest
is in parts it holds, one module each: `bench_uart.UartPort` (`uart`, `uarts`),
`bench_gpio.GpioPort` (`gpio`), `bench_faults.Faults` (`faults`, whose methods the
device also offers under their own names) and `bench_snapshots` (`snapshot`,
`restore`); `bench_errors` holds the errors and the duration check they share. The
names a bench imports from here stay here.
"""

from __future__ import annotations

import pathlib
import re
from dataclasses import dataclass
from typing import Callable, Iterable

from kernel import DEBUG_LOG_LINES, Kernel
from machine import BoundedLog, BufferBackend, Machine, Stop, StopReason, load_board
from sysdesc import load_any

from . import bench_snapshots
from .bench_errors import BenchError, BenchTimeout, ExpectTimeout, seconds, tail
from .bench_faults import Faults
from .bench_gpio import Edge, GpioPort, PeriodCheck
from .bench_snapshots import DeviceSnapshot
from .bench_uart import UartPort

__all__ = ["BenchError", "BenchTimeout", "Component", "Device", "DeviceSnapshot", "Edge", "ExpectTimeout",
           "Faults", "GpioPort", "PeriodCheck", "UartPort", "seconds"]


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


def _forwarded(name: str) -> property:
    """`device.NAME`: the method NAME of `device.faults`, the fault injections, offered
    on the device under its own name (as benches call them: `dut.fault("console")`)."""
    def method(device: "Device"):
        return getattr(device.faults, name)
    return property(method, doc=getattr(Faults, name).__doc__)


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
        self.faults = Faults(self)
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
        return bench_snapshots.take(self)

    def restore(self, snap: DeviceSnapshot) -> None:
        """Put the device back to `snap` (taken from this device, since its last `reset`)."""
        bench_snapshots.restore(self, snap)

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
        limit = seconds(timeout)
        stop = self.wait(condition, limit)
        if stop.reason is StopReason.TIMEOUT:
            raise BenchTimeout(f"condition not met within {limit:g} s of virtual time "
                               f"(now {self.now:.6f} s); last output:\n{tail(self.uart.text if self.uart else '')}")
        return stop

    def wait(self, condition: Callable[[], bool], timeout: float | str = 1.0) -> Stop:
        """Run until `condition()` holds or `timeout` of virtual time passes, whichever is
        first, and say which (`Stop.reason` is "timeout" for the latter): `run_until`
        without the `BenchTimeout`, for a bench (or a port's `expect`) that reports a
        timeout its own way. A bare-metal program's fault or trap is a `BenchError`."""
        limit = seconds(timeout)
        if self.kernel is not None:
            stop = self.kernel.run_until(condition, limit)
        else:
            stop = self.machine.run_until(condition, limit)
        if stop.reason in (StopReason.FAULT, StopReason.TRAP) and self.kernel is None:
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

    # -- fault injection (`faults`, a `bench_faults.Faults`; the same methods, by the names benches use)

    fault = _forwarded("fault")
    kill = _forwarded("kill")
    restart = _forwarded("restart")
    read_word = _forwarded("read_word")
    corrupt = _forwarded("corrupt")
    raise_interrupt = _forwarded("raise_interrupt")
    release_interrupt = _forwarded("release_interrupt")
    override_read = _forwarded("override_read")
    clear_override = _forwarded("clear_override")

    def __repr__(self) -> str:
        return f"<Device {self.image.name} on {self.board} at {self.now:.6f} s>"
