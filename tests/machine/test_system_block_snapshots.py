"""Machine snapshots of the system blocks with time-driven state (dual timer, watchdog, AON,
PWM): a restored machine has every pending event back at its cycle and raises the same
interrupts at the same cycles as the run it was taken from."""

import pytest

from machine import Machine

#: (board, [(peripheral, offset, value)...]): set-ups that leave events pending
SETUPS = {
    "mps2-an385": [("dualtimer", 0x00, 5000), ("dualtimer", 0x08, 0xE3),       # periodic, 32-bit, IntEnable
                   ("dualtimer", 0x20, 7000), ("dualtimer", 0x28, 0xA3),       # one-shot timer 2
                   ("watchdog", 0x000, 9000), ("watchdog", 0x008, 3)],
    "hifive1": [("aon", 0x060, 3), ("aon", 0x040, 1 << 12),                   # rtccmp0 3, rtcenalways
                ("aon", 0x01C, 0x51F15E), ("aon", 0x020, 5),                  # wdogcmp0 5
                ("aon", 0x01C, 0x51F15E), ("aon", 0x000, 1 << 12 | 1 << 9),   # enalways, zerocmp
                ("pwm1", 0x20, 999), ("pwm1", 0x24, 300), ("pwm1", 0x00, 1 << 12 | 1 << 9)],
}


def pending(machine: Machine) -> list:
    return sorted((when, seq) for when, seq, ev in machine.clock._queue if not ev.cancelled)


def levels(machine: Machine) -> dict:
    return {(name, out): line.level for name, dev in machine.peripherals.items() for out, line in dev.irq.items()}


def trace(machine: Machine, steps: int, step: int) -> list:
    seen = []
    for _ in range(steps):
        machine.clock.advance(step)
        seen.append(levels(machine))
    return seen


@pytest.mark.parametrize("board", sorted(SETUPS))
def test_a_restored_machine_replays_the_blocks_interrupts_cycle_for_cycle(board):
    machine = Machine(board)
    for name, offset, value in SETUPS[board]:
        machine.peripheral(name).write(offset, 4, value)
    machine.clock.advance(1234)
    before = pending(machine)
    assert before
    snap = machine.snapshot()
    first = trace(machine, 60, 997)
    machine.restore(snap)
    assert pending(machine) == before
    assert trace(machine, 60, 997) == first
    assert any(any(v.values()) for v in first)
