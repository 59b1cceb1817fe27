"""Virtual time on a whole board: exact, deterministic, and fast when the CPU waits.

These run the real bare-metal firmware (firmware/bare) on both boards.
"""

from __future__ import annotations

import pytest

from machine import BufferBackend, Machine
from tests.boards import BARE_BOARDS, bare_define

BOARDS = BARE_BOARDS
BLINK_PIN = {board: bare_define(board, "BLINK_PIN") for board in BOARDS}
#: blink's period in CPU cycles: 25,000 timer cycles at 25 MHz; 33 ticks of the
#: 32,768 Hz mtime at 16 MHz = 16,113.28 cycles, so edges alternate 16,113 and 16,114
BLINK_PERIOD_CYCLES = {"mps2-an385": 25_000, "hifive1": 33 * 16_000_000 / 32_768}


def boot(board: str, elf) -> tuple[Machine, BufferBackend]:
    machine = Machine(board)
    machine.load_elf(elf)
    uart = BufferBackend()
    machine.attach_uart("uart0", uart)
    return machine, uart


@pytest.mark.parametrize("board", BOARDS)
def test_hello_prints_its_greeting_on_uart0(board, bare_firmware):
    machine, uart = boot(board, bare_firmware[board, "hello"])

    machine.run_for(0.01)

    assert uart.text == f"Hello from Atoll on {board}!\r\n"


@pytest.mark.parametrize("board", BOARDS)
def test_two_runs_give_identical_bytes_at_identical_virtual_times(board, bare_firmware):
    runs = []
    for _ in range(2):
        machine, uart = boot(board, bare_firmware[board, "blink"])
        machine.run_for(0.02)
        runs.append((bytes(uart.output), list(uart.timestamps), list(machine.peripheral("gpio0").edges),
                     machine.counter.executed))

    assert runs[0] == runs[1]
    assert runs[0][0] and runs[0][2]


@pytest.mark.parametrize("board", BOARDS)
def test_blink_toggles_its_pin_once_per_period_of_virtual_time(board, bare_firmware):
    machine, _ = boot(board, bare_firmware[board, "blink"])

    machine.run_for(0.012)

    edges = [(cycle, level) for cycle, pin, level in machine.peripheral("gpio0").edges if pin == BLINK_PIN[board]]
    assert len(edges) >= 10
    levels = [level for _, level in edges]
    assert levels[:4] == [False, True, False, True] or levels[:4] == [True, False, True, False]
    gaps = [b[0] - a[0] for a, b in zip(edges[1:], edges[2:])]
    period = BLINK_PERIOD_CYCLES[board]
    # The program polls the timer, so an edge lags its deadline by a few instructions, never more.
    assert all(abs(gap - period) <= 40 for gap in gaps), gaps
    assert abs(sum(gaps) / len(gaps) - period) <= 4


@pytest.mark.parametrize("board", BOARDS)
def test_a_waiting_cpu_lets_time_jump_instead_of_executing(board, bare_firmware):
    machine, uart = boot(board, bare_firmware[board, "hello"])

    stop = machine.run_for(30.0)

    assert stop.reason == "time"
    assert machine.clock.seconds == pytest.approx(30.0)
    assert machine.waiting
    assert machine.counter.executed < 100_000  # the greeting, then nothing until the end


#: how far past its deadline a slice may run: to the end of one translated block
#: (machine/native/counter.c), a few instructions, the same on every run
BLOCK_OVERRUN = 64


def end_of_two_runs(board, elf) -> int:
    machine, _ = boot(board, elf)
    machine.run(12_345)
    machine.run(1)
    return machine.clock.now


@pytest.mark.parametrize("board", BOARDS)
def test_a_run_ends_at_the_first_block_boundary_at_or_after_the_cycle_asked_for(board, bare_firmware):
    end = end_of_two_runs(board, bare_firmware[board, "blink"])

    assert 12_346 <= end < 12_346 + BLOCK_OVERRUN
    assert end_of_two_runs(board, bare_firmware[board, "blink"]) == end  # the same every run


@pytest.mark.parametrize("board", BOARDS)
def test_a_step_ends_on_the_exact_instruction_asked_for(board, bare_firmware):
    machine, _ = boot(board, bare_firmware[board, "blink"])
    machine.run(12_345)
    before = machine.clock.now

    # two, not three: on the Cortex-M3 the third instruction from here opens a Thumb IT block,
    # which Unicorn runs whole (a step there ends after the block; test_slicing.py covers that)
    machine.step(2)

    assert machine.clock.now == before + 2


@pytest.mark.parametrize("board", BOARDS)
def test_an_event_scheduled_while_the_cpu_runs_fires_at_the_end_of_that_block(board, bare_firmware):
    machine, _ = boot(board, bare_firmware[board, "blink"])
    fired_at = []
    machine.clock.schedule(77_777, lambda: fired_at.append(machine.clock.now))

    machine.run(200_000)

    assert len(fired_at) == 1 and 77_777 <= fired_at[0] < 77_777 + BLOCK_OVERRUN


@pytest.mark.parametrize("board", BOARDS)
def test_run_until_stops_as_soon_as_its_condition_holds(board, bare_firmware):
    machine, uart = boot(board, bare_firmware[board, "hello"])

    stop = machine.run_until(lambda: b"\n" in uart.output, timeout=1.0)

    assert stop.reason == "condition"
    assert uart.output.endswith(b"\r\n")
    assert machine.clock.now == uart.timestamps[-1]


@pytest.mark.parametrize("board", BOARDS)
def test_run_until_reports_a_timeout_when_its_condition_never_holds(board, bare_firmware):
    machine, uart = boot(board, bare_firmware[board, "hello"])

    stop = machine.run_until(lambda: b"never" in uart.output, timeout=0.5)

    assert stop.reason == "timeout"
    assert machine.clock.seconds == pytest.approx(0.5)


@pytest.mark.parametrize("board", BOARDS)
def test_a_request_to_stop_from_a_callback_ends_the_run_at_once(board, bare_firmware):
    machine, uart = boot(board, bare_firmware[board, "blink"])
    machine.clock.schedule(50_000, machine.request_stop)

    stop = machine.run_for(1.0)

    assert stop.reason == "stopped" and 50_000 <= stop.cycle < 50_000 + BLOCK_OVERRUN


def test_uart_input_from_the_host_reaches_the_receive_register(bare_firmware):
    machine, uart = boot("hifive1", bare_firmware["hifive1", "hello"])
    machine.run_for(0.01)
    rx = machine.peripheral("uart0")
    rx.write(0x0C, 4, 1)  # rxctrl.rxen

    uart.send(b"ok")
    machine.run_for(0.01)

    received = [rx.read(0x04, 4) & 0xFF for _ in range(2)]
    assert bytes(received) == b"ok"


#: one character on the wire in CPU cycles, for the divisors the firmware sets:
#: CMSDK BAUDDIV 16 -> 10 bits x 16 cycles; SiFive div 138 -> 10 bits x 139 cycles
CHARACTER_CYCLES = {"mps2-an385": 160, "hifive1": 1390}


@pytest.mark.parametrize("board", BOARDS)
def test_bytes_leave_the_uart_one_character_time_apart(board, bare_firmware):
    machine, uart = boot(board, bare_firmware[board, "hello"])

    machine.run_for(0.01)

    gaps = [b - a for a, b in zip(uart.timestamps, uart.timestamps[1:])]
    char = CHARACTER_CYCLES[board]
    # The guest polls for room, so a byte may start a few instructions late, never early.
    assert all(char <= gap <= char + 30 for gap in gaps), gaps


@pytest.mark.parametrize("board", BOARDS)
def test_a_reset_board_runs_its_program_again_from_time_zero(board, bare_firmware):
    machine, uart = boot(board, bare_firmware[board, "blink"])
    machine.run_for(0.005)
    first = (bytes(uart.output), list(uart.timestamps), machine.clock.now, machine.counter.executed)
    uart.output.clear()
    uart.timestamps.clear()

    machine.reset()
    machine.run_for(0.005)

    # a run ends at the first block boundary at or after its end (the blink program is
    # running, not waiting, at 5 ms since IT-skipped Thumb instructions count): the same one again
    assert 0 <= machine.clock.now - machine.clock.cycles(0.005) < BLOCK_OVERRUN
    assert (bytes(uart.output), list(uart.timestamps), machine.clock.now, machine.counter.executed
            - first[3]) == first[:3] + (first[3],)


@pytest.mark.parametrize("board", BOARDS)
def test_a_program_cut_into_tiny_slices_computes_what_it_computes_in_one(board, bare_firmware):
    def checksum(max_slice: int) -> bytes:
        machine, uart = boot(board, bare_firmware[board, "compute"])
        machine.max_slice = max_slice
        machine.run_until(lambda: uart.output.endswith(b"\n"), timeout=5.0)
        return bytes(uart.output)

    # Slices end all through the loop's translated blocks; the saved state must be whole
    # wherever they end (on ARM a slice cut inside a block once lost the Thumb condition state).
    assert checksum(7) == checksum(250_000)
