"""Host timing (machine/hosttime.py): the opt-in fast mode, through real programs on both boards.

A host-timed machine counts no instructions and its time follows the host's clock, so these
tests compare what a program does (its UART bytes, the interrupts it takes), never when.
Exact timing stays the default, with the same bytes at the same cycles on every run.
"""

from __future__ import annotations

import pathlib

import pytest

from atoll.toolchain import build
from firmware.build import BOARDS as BARE_SPECS
from machine import TIMINGS, BufferBackend, Machine, MachineDebug, StopReason, TimingError
from tests.boards import BARE_BOARDS
from tests.machine.rv_guests import GUEST as RV_GUEST

ARM_GUEST = pathlib.Path(__file__).resolve().parent / "guest" / "armv7m"
#: virtual seconds a program may take, generous: host time includes a busy host's delays
TIMEOUT = 5.0


def boot(elf: pathlib.Path, board: str, timing: str) -> tuple[Machine, BufferBackend]:
    machine = Machine(board, timing=timing)
    uart = BufferBackend()
    machine.attach_uart("uart0", uart)
    machine.load_elf(elf)
    return machine, uart


def run_until_line(elf: pathlib.Path, board: str, timing: str, line: bytes) -> tuple[Machine, object, bytes]:
    machine, uart = boot(elf, board, timing)
    stop = machine.run_until(lambda: line in uart.output, timeout=TIMEOUT)
    return machine, stop, bytes(uart.output)


@pytest.fixture(scope="module")
def timer_programs(tmp_path_factory) -> dict[str, pathlib.Path]:
    """A timer-interrupt-driven guest per board: SysTick and WFI on the Cortex-M3 (svc.c),
    a scheduler switching tasks on mtimecmp interrupts on RISC-V (sched.c)."""
    out = tmp_path_factory.mktemp("timer-guests")
    arm, rv = BARE_SPECS["mps2-an385"], BARE_SPECS["hifive1"]
    return {
        "mps2-an385": build([ARM_GUEST / "svc.c", ARM_GUEST / "start.c"], out / "svc.elf", arm.isa,
                            arm.directory / "link.ld", include_dirs=[ARM_GUEST]),
        "hifive1": build([RV_GUEST / "sched.c", RV_GUEST / "rvtrap.S", rv.directory / rv.crt0], out / "sched.elf",
                         rv.isa, rv.directory / "link.ld", include_dirs=[rv.directory, RV_GUEST]),
    }


@pytest.mark.parametrize("board", BARE_BOARDS)
@pytest.mark.parametrize("program", ["hello", "memsort"])
def test_a_bare_program_prints_the_same_uart_output_in_host_timing_as_in_exact_timing(
        board, program, bare_firmware):
    elf = bare_firmware[board, program]
    _, exact_stop, exact = run_until_line(elf, board, "exact", b"\n")
    _, host_stop, host = run_until_line(elf, board, "host", b"\n")

    assert exact_stop.reason is host_stop.reason is StopReason.CONDITION, (exact_stop, host_stop)
    assert host == exact   # every byte once: the CPU is never stopped inside an MMIO access


@pytest.mark.parametrize("board", BARE_BOARDS)
def test_a_timer_interrupt_driven_program_takes_its_interrupts_and_finishes_in_host_timing(
        board, timer_programs):
    done = b"done\n" if board == "mps2-an385" else b"sched: done\r\n"
    _, stop, out = run_until_line(timer_programs[board], board, "host", done)

    assert stop.reason is StopReason.CONDITION, (stop, out)
    if board == "mps2-an385":
        assert b"woke on systick 3 times\n" in out
    else:
        assert out == b"".join(b"task %d turn %d\r\n" % (task, turn) for turn in range(4) for task in (0, 1)) + \
            b"sched: done\r\n"


@pytest.mark.parametrize("board", BARE_BOARDS)
def test_host_time_moves_on_with_the_host_clock_and_counts_no_instructions(board, bare_firmware):
    machine, stop, _ = run_until_line(bare_firmware[board, "hello"], board, "host", b"\n")

    assert machine.timing == "host"
    # the CPU's running time at the board's frequency, not an instruction count: the
    # greeting takes a few thousand instructions, the host far longer than that many cycles
    assert 0 < machine.counter.executed <= machine.clock.now == stop.cycle


@pytest.mark.parametrize("board", BARE_BOARDS)
def test_exact_timing_is_the_default_and_gives_the_same_bytes_at_the_same_cycles_on_every_run(
        board, bare_firmware):
    runs = []
    for _ in range(2):
        machine = Machine(board)
        uart = BufferBackend()
        machine.attach_uart("uart0", uart)
        machine.load_elf(bare_firmware[board, "hello"])
        machine.run(machine.clock.cycles(0.005))
        runs.append((machine.timing, bytes(uart.output), list(uart.timestamps), machine.counter.executed))

    assert runs[0] == runs[1]
    assert runs[0][0] == "exact" and runs[0][1] == f"Hello from Atoll on {board}!\r\n".encode()


def test_single_steps_and_the_debugger_are_refused_in_host_timing(bare_firmware):
    machine, _ = boot(bare_firmware["hifive1", "hello"], "hifive1", "host")

    with pytest.raises(TimingError) as step:
        machine.step()
    with pytest.raises(TimingError) as debug:
        MachineDebug(machine)

    assert str(step.value) == ("single steps need exact timing (an instruction count); this machine runs "
                               "with timing='host', which counts no instructions")
    assert str(debug.value) == ("breakpoints, watchpoints and single steps need exact timing (an instruction "
                                "count); this machine runs with timing='host', which counts no instructions")


def test_an_unknown_timing_is_refused_naming_the_ones_there_are():
    with pytest.raises(ValueError) as error:
        Machine("hifive1", timing="fast")

    assert TIMINGS == ("exact", "host")
    assert str(error.value) == ("timing must be 'exact' (instruction-counted, deterministic: the default) or "
                                "'host' (follows the host's clock: faster, not deterministic), not 'fast'")
