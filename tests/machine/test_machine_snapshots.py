"""Snapshots of a bare-metal machine: after `restore` it runs exactly as it ran from the
snapshot on (the same UART bytes at the same cycles, the same GPIO edges), every time."""

from __future__ import annotations

import pytest

from machine import BufferBackend, Machine
from machine.snapshot import SnapshotError
from tests.boards import BARE_BOARDS

BOARDS = BARE_BOARDS


def boot(board: str, elf) -> tuple[Machine, BufferBackend]:
    machine = Machine(board)
    machine.load_elf(elf)
    uart = BufferBackend()
    machine.attach_uart("uart0", uart)
    return machine, uart


def record(machine: Machine, uart: BufferBackend, seconds: float) -> tuple:
    """Run on from here; what came out, and where the machine ended."""
    start, edges_from = len(uart.output), len(machine.peripheral("gpio0").edges)
    machine.run_for(seconds)
    return (bytes(uart.output[start:]), uart.timestamps[start:], machine.peripheral("gpio0").edges[edges_from:],
            machine.clock.now, machine.counter.executed, machine.cpu.registers())


def rewind_output(uart: BufferBackend, length: int) -> None:
    del uart.output[length:]
    del uart.timestamps[length:]


@pytest.mark.parametrize("board", BOARDS)
def test_a_restored_machine_replays_the_same_bytes_edges_and_cycles(board, bare_firmware):
    machine, uart = boot(board, bare_firmware[board, "blink"])
    machine.run_for(0.003)
    snap = machine.snapshot()
    length = len(uart.output)

    first = record(machine, uart, 0.02)
    machine.restore(snap)
    rewind_output(uart, length)
    second = record(machine, uart, 0.02)

    assert first == second
    assert first[2], "blink toggled its pin"


@pytest.mark.parametrize("board", BOARDS)
def test_a_snapshot_taken_while_the_uart_is_sending_restores_the_byte_in_flight(board, bare_firmware):
    machine, uart = boot(board, bare_firmware[board, "blink"])
    machine.run_for(0.00005)   # in the middle of the first line
    assert machine.clock.next_deadline() is not None
    snap = machine.snapshot()
    length = len(uart.output)

    first = record(machine, uart, 0.005)
    machine.restore(snap)
    rewind_output(uart, length)
    second = record(machine, uart, 0.005)

    assert first == second
    assert first[0].endswith(b"\r\n")


@pytest.mark.parametrize("board", BOARDS)
def test_one_snapshot_restored_twice_gives_the_same_run_twice(board, bare_firmware):
    machine, uart = boot(board, bare_firmware[board, "blink"])
    machine.run_for(0.0021)
    snap = machine.snapshot()
    length = len(uart.output)
    runs = []
    for _ in range(3):
        machine.restore(snap)
        rewind_output(uart, length)
        runs.append(record(machine, uart, 0.01))

    assert runs[0] == runs[1] == runs[2]


@pytest.mark.parametrize("board", BOARDS)
def test_restore_brings_back_memory_registers_time_and_the_edge_log(board, bare_firmware):
    machine, uart = boot(board, bare_firmware[board, "blink"])
    machine.run_for(0.004)
    snap = machine.snapshot()
    region = machine.board.regions[-1]
    before = (machine.read_physical(region.base, 64), machine.cpu.registers(), machine.clock.now,
              list(machine.peripheral("gpio0").edges))

    machine.run_for(0.01)
    machine.write_physical(region.base, b"\xAA" * 64)
    machine.restore(snap)

    assert (machine.read_physical(region.base, 64), machine.cpu.registers(), machine.clock.now,
            list(machine.peripheral("gpio0").edges)) == before


def test_a_snapshot_of_one_board_is_refused_by_another(bare_firmware):
    arm, _ = boot("mps2-an385", bare_firmware["mps2-an385", "blink"])
    riscv, _ = boot("hifive1", bare_firmware["hifive1", "blink"])

    with pytest.raises(SnapshotError, match="mps2-an385"):
        riscv.restore(arm.snapshot())


def pending_events(machine: Machine) -> list:
    return sorted((when, seq, ev.callback.__self__.name, ev.callback.__func__.__name__)
                  for when, seq, ev in machine.clock._queue if not ev.cancelled)


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("moment, device", [(0.00005, "uart0"), (0.0021, "timer")])
def test_restore_puts_back_every_pending_event_at_its_cycle_in_its_order(board, moment, device, bare_firmware):
    machine, uart = boot(board, bare_firmware[board, "blink"])
    machine.run_for(moment)
    before = pending_events(machine)
    # the UART sending blink's first line; then blink's timer (CMSDK timer / CLINT)
    if device == "timer":
        device = "timer0" if board == "mps2-an385" else "clint"
    assert device in {name for _, _, name, _ in before}
    snap = machine.snapshot()

    machine.run_for(0.003)
    machine.restore(snap)

    assert pending_events(machine) == before
