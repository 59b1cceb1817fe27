"""Fault injection on a test-bench device: the failures a bench makes happen on purpose.

`Faults` acts on the components of a booted system (`Device.faults`; the device
offers each of its methods under the same name, `dut.fault(...)`): a fault through
the kernel's own fault path, a silent stop, a restart, a corrupted word of memory.
On the peripherals it makes a spurious or a stuck interrupt and a register that reads
a wrong value.

A stuck interrupt line and a read override are wiring of the host, not state of the
device: `Faults` remembers what it replaced (the peripheral's own `update_irq`, the
register's own read handler), puts exactly that back on `release_interrupt` and
`clear_override`, and a snapshot's restore neither adds nor removes them. A reset
boots a new machine and with it a new `Faults`, with nothing wired.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from kernel import State
from machine import Fault, FaultKind

from .bench_errors import BenchError

if TYPE_CHECKING:
    from .testbench import Device


class Faults:
    """The fault injections of one booted device (a new one after each reset)."""

    def __init__(self, device: "Device") -> None:
        self.device = device
        self._stuck: dict[tuple[str, str], Callable[[], None]] = {}
        self._overrides: dict[tuple[str, str], object] = {}

    # -- components

    def fault(self, component: str, kind: FaultKind | str = FaultKind.UNDEFINED_INSTRUCTION,
              address: int | None = None) -> None:
        """Fault `component` now, through the kernel's fault path: it stops, its callers get
        DEAD_PEER, and its supervisor receives a FAULT message (and may restart it)."""
        device = self.device
        process = device.process(component)
        if process.thread.state in (State.STOPPED, State.EXITED):
            raise BenchError(f"{component} is {process.thread.state.value}; it cannot fault")
        kind = FaultKind(kind)
        pc = device.machine.cpu.pc if device.kernel.current is process.thread else \
            process.thread.context.reg_read(device.machine.cpu.PC)
        device.kernel.fault(process, Fault(kind, pc, process.space.name, address,
                                           detail="injected by a test bench"))

    def kill(self, component: str) -> None:
        """Stop `component` and tell nobody (no FAULT message): if it is a supervised server, its
        supervisor's next heartbeat finds it (fault HUNG) and restarts it; otherwise it stays stopped."""
        process = self.device.process(component)
        self.device.kernel.stop(process)

    def restart(self, component: str) -> None:
        """Restart `component` as its supervisor would (a new generation)."""
        process = self.device.process(component)
        self.device.kernel.restart(process)

    def read_word(self, component: str, address: int) -> int:
        """The 32-bit little-endian word at virtual `address` of `component`."""
        process = self.device.process(component)
        return int.from_bytes(self.device.machine.read_virtual(process.space, address, 4), "little")

    def corrupt(self, component: str, address: int, word: int) -> int:
        """Write the 32-bit `word` at virtual `address` of `component` (through its address
        space, whatever the page's permissions); returns the word it replaced."""
        process = self.device.process(component)
        old = self.read_word(component, address)
        self.device.machine.write_virtual(process.space, address, (word & 0xFFFF_FFFF).to_bytes(4, "little"))
        return old

    # -- peripherals

    def _line(self, peripheral: str, output: str):
        dev = self.device.machine.peripheral(peripheral)
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
        dev = self.device.machine.peripheral(peripheral)
        try:
            name = dev.REGISTERS[register].name
        except KeyError:
            raise BenchError(f"{peripheral} has no register {register!r}") from None
        key = (peripheral, name)
        if key not in self._overrides:
            self._overrides[key] = dev.read_handler(name)
        dev.on_read(name, value if callable(value) else (lambda: value))

    def clear_override(self, peripheral: str, register: str) -> None:
        """Undo `override_read`: guest reads of `peripheral.register` reach the device again."""
        dev = self.device.machine.peripheral(peripheral)
        name = dev.REGISTERS[register].name
        key = (peripheral, name)
        if key in self._overrides:
            dev.on_read(name, self._overrides.pop(key))
