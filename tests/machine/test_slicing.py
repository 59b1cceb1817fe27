"""However a run is cut up, the guest computes the same thing: a program dense in Thumb-2 IT
blocks (tests/machine/guest/itdense.c; on RV32IMAC the same program with compressed
instructions) run in one piece, and run again cut by many random slice lengths, exact
stops, kernel-like context switches (context saved, the TLB flushed by another address
space, context restored) and snapshots restored after a detour, ends with the same
registers, the same memory and the same UART bytes at the same cycles.

The random plans come from fixed seeds, so a failure replays: the message names the seed
and the operations up to the point where the run went wrong.
"""

from __future__ import annotations

import hashlib
import pathlib
import random
from dataclasses import dataclass

import pytest

from machine import AddressSpace, BufferBackend, Machine
from tests.boards import BARE_BOARDS, build_bare

GUEST = pathlib.Path(__file__).resolve().parent / "guest" / "itdense.c"
BOARDS = tuple(BARE_BOARDS)
#: long enough for the program to finish and park on both boards (about 6.5 M instructions)
TOTAL = 9_000_000
SEEDS = (1, 2, 3, 4, 5)
DONE = b"itdense: done "


@pytest.fixture(scope="module")
def itdense(tmp_path_factory) -> dict[str, pathlib.Path]:
    return build_itdense(tmp_path_factory.mktemp("itdense"))


@dataclass(frozen=True)
class Outcome:
    registers: dict
    memory: str
    uart: bytes
    uart_cycles: tuple
    executed: int
    cycle: int


def build_itdense(out: pathlib.Path) -> dict[str, pathlib.Path]:
    """The bare-metal program built for each board into `out`."""
    return build_bare(GUEST, out)


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


def in_one_piece(board: str, elf: pathlib.Path) -> Outcome:
    """The run in one piece (one slice as long as the whole run, where no event cuts it)."""
    machine, uart = boot(board, elf)
    machine.max_slice = TOTAL
    stop = machine.run(TOTAL)
    assert stop.reason == "time", stop
    return outcome(machine, uart)


@pytest.fixture(scope="module")
def unsliced(itdense) -> dict[str, Outcome]:
    return {board: in_one_piece(board, itdense[board]) for board in BOARDS}


class Plan:
    """Runs a machine to TOTAL by random pieces, logging each for the failure message."""

    def __init__(self, machine: Machine, uart: BufferBackend, seed: int) -> None:
        self.machine, self.uart = machine, uart
        self.rng = random.Random(seed)
        self.log: list[str] = []
        self.elsewhere = AddressSpace("elsewhere")   # a space to switch to, as a kernel would

    def left(self) -> int:
        return TOTAL - self.machine.clock.now

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
        machine, uart = self.machine, self.uart
        snap = machine.snapshot()
        length = len(uart.output)
        self.log.append("snapshot")
        self.run_piece()
        machine.restore(snap)
        del uart.output[length:]
        del uart.timestamps[length:]
        self.log.append("restore")

    def play(self) -> None:
        moves = (self.run_piece, self.run_piece, self.exact_steps, self.switch, self.detour)
        while self.left() > 0:
            self.rng.choice(moves)()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("board", BOARDS)
def test_a_run_cut_anywhere_ends_with_the_same_registers_memory_and_uart_output(board, seed, itdense, unsliced):
    machine, uart = boot(board, itdense[board])
    plan = Plan(machine, uart, seed)
    plan.play()
    got, want = outcome(machine, uart), unsliced[board]
    where = f"seed {seed} on {board}: {plan.log[-12:]}"
    assert got.uart == want.uart, where
    assert got.registers == want.registers, where
    assert got.memory == want.memory, where
    assert got.uart_cycles == want.uart_cycles, where
    assert (got.executed, got.cycle) == (want.executed, want.cycle), where


def test_the_program_finishes_and_both_boards_compute_the_same_checksum(unsliced):
    lines = {board: unsliced[board].uart.split(b"\n")[-2] for board in BOARDS}
    assert all(line.startswith(DONE) for line in lines.values()), lines
    assert len(set(lines.values())) == 1, lines
