"""Running one bare-metal program whole and cut into pieces, and comparing the two ends: what the
slicing test (test_slicing.py) and the guest exception tests of both ISAs
(test_armv7m_exceptions.py, test_riscv_machine_mode.py) share.

`whole_run` runs a program in one piece; a `Plan` runs it again to the same cycle by random
pieces from a fixed seed (slices of random lengths, exact steps, kernel-like context switches,
snapshot detours), logging each piece; `assert_same_outcome` then requires the same registers,
memory, UART bytes and their cycles, instruction count and cycle, naming the seed's last pieces
in the message, so that a failure replays.
"""

from __future__ import annotations

import hashlib
import pathlib
import random
from dataclasses import dataclass

from machine import AddressSpace, BufferBackend, Machine, MachineDebug, MachineSnapshot
from machine.elf import read_elf, symbols


@dataclass(frozen=True)
class Outcome:
    registers: dict
    memory: str
    uart: bytes
    uart_cycles: tuple
    executed: int
    cycle: int


def boot(board: str, elf: pathlib.Path) -> tuple[Machine, BufferBackend]:
    machine = Machine(board)
    uart = BufferBackend()
    machine.attach_uart("uart0", uart)
    machine.load_elf(elf)
    return machine, uart


def outcome(machine: Machine, uart: BufferBackend) -> Outcome:
    digest = hashlib.sha256()
    for region in machine.board.regions:
        digest.update(machine.read_physical(region.base, region.size))
    return Outcome(machine.cpu.registers(), digest.hexdigest(), bytes(uart.output), tuple(uart.timestamps),
                   machine.counter.executed, machine.clock.now)


def whole_run(board: str, elf: pathlib.Path, total: int) -> Outcome:
    """The run in one piece (one slice as long as the whole run, where no event cuts it)."""
    machine, uart = boot(board, elf)
    machine.max_slice = total
    stop = machine.run(total)
    assert stop.reason == "time", stop
    return outcome(machine, uart)


def run_past_breakpoints(board: str, elf: pathlib.Path, total: int, everywhere: bool = False,
                         max_slice: int | None = None) -> Outcome:
    """The run with a breakpoint at every symbol of the program (`everywhere`: at every
    halfword of its executable segments) set for an address space that never runs, so that
    every hit passes through (machine/debug.py); in slices of `max_slice` if given."""
    machine, uart = boot(board, elf)
    if max_slice is not None:
        machine.max_slice = max_slice
    debug = MachineDebug(machine)
    elsewhere = AddressSpace("elsewhere")
    image = read_elf(elf, machine.isa)
    addresses = set(symbols(image).values())
    if everywhere:
        addresses = {a for seg in image.segments if "x" in seg.flags for a in range(seg.vaddr, seg.vend, 2)}
    for address in addresses:
        debug.add_breakpoint(address, elsewhere)
    stop = machine.run(total)
    assert stop.reason == "time" and debug.hit is None, stop
    return outcome(machine, uart)


def assert_same_outcome(got: Outcome, want: Outcome, where: str) -> None:
    assert got.uart == want.uart, where
    assert got.registers == want.registers, where
    assert got.memory == want.memory, where
    assert got.uart_cycles == want.uart_cycles, where
    assert (got.executed, got.cycle) == (want.executed, want.cycle), where


class Plan:
    """Runs a machine to `total` cycles by random pieces, logging each for the failure message."""

    def __init__(self, machine: Machine, uart: BufferBackend, seed: int, total: int) -> None:
        self.machine, self.uart, self.total = machine, uart, total
        self.rng = random.Random(seed)
        self.log: list[str] = []
        self.elsewhere = AddressSpace("elsewhere")   # a space to switch to, as a kernel would

    def left(self) -> int:
        return self.total - self.machine.clock.now

    def rewind(self, snap: MachineSnapshot, length: int) -> None:
        """Restore `snap`, taken when the UART had sent `length` bytes, and forget the later bytes."""
        self.machine.restore(snap)
        del self.uart.output[length:]
        del self.uart.timestamps[length:]

    def run_piece(self) -> None:
        """A run of random length, cut into slices of a random length (tiny to long)."""
        rng, machine = self.rng, self.machine
        slice_ = rng.choice((rng.randint(1, 40), rng.randint(40, 3000), rng.randint(3000, 400_000)))
        length = rng.randint(1, min(self.left(), slice_ * 300))
        self.log.append(f"run {length} in slices of {slice_}")
        machine.max_slice = slice_
        stop = machine.run(length)
        assert stop.reason == "time", f"{stop} after {self.log}"

    def exact_steps(self) -> None:
        """Stops after exact numbers of instructions, at any instruction (mid-block, inside an
        IT block, where Unicorn runs the block to its end). Steps are a debugger's: clock
        events wait for them, so steps that met an event are undone (the snapshot taken
        before them restored) and the stretch is run instead."""
        machine, uart = self.machine, self.uart
        if machine.waiting or machine.clock.next_deadline() is not None:
            return self.run_piece()
        snap, length = machine.snapshot(), len(uart.output)
        counts = [self.rng.randint(1, 60) for _ in range(self.rng.randint(1, 40))]
        for count in counts:
            before = machine.counter.executed
            stop = machine.step(count, events=False)
            assert stop.reason == "time", f"{stop} after {self.log}"
            ran = machine.counter.executed - before
            assert count <= ran <= count + 3, f"stepped {ran} instructions, not {count}, after {self.log}"
        if machine.clock.next_deadline() is not None or len(uart.output) != length:
            machine.restore(snap)
            return self.run_piece()
        self.log.append(f"steps {counts}")

    def switch(self) -> None:
        """What a kernel's context switch away and back does to the CPU and its TLB."""
        machine = self.machine
        self.log.append("switch")
        context = machine.uc.context_save()
        machine.activate(self.elsewhere)
        machine.cpu.reset()
        machine.activate(machine.bare_space)
        machine.uc.context_restore(context)

    def detour(self) -> None:
        """Snapshot, run on for a while, restore the snapshot (the UART output too)."""
        snap, length = self.machine.snapshot(), len(self.uart.output)
        self.log.append("snapshot")
        self.run_piece()
        self.rewind(snap, length)
        self.log.append("restore")

    def play(self) -> None:
        moves = (self.run_piece, self.run_piece, self.exact_steps, self.switch, self.detour)
        while self.left() > 0:
            self.rng.choice(moves)()


def sliced_run(board: str, elf: pathlib.Path, seed: int, total: int,
               plan: type[Plan] = Plan) -> tuple[Outcome, Plan]:
    """The run cut into `plan`'s pieces from `seed` up to `total` cycles: its outcome, and the
    plan (its log)."""
    machine, uart = boot(board, elf)
    played = plan(machine, uart, seed, total)
    played.play()
    return outcome(machine, uart), played
