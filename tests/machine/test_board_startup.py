"""Each board's system blocks as vendor start-up code uses them: a bare-metal program per board
(tests/machine/guest/startup_<board>.c) sets them up by polling and prints what it read over
UART0. On Atoll the whole output is pinned; against real QEMU the part QEMU models the same way
(all of it on mps2-an385, the lines before "--" on hifive1, whose QEMU model lacks the AON,
SPI flash controller and PWM blocks and resets hfrosccfg's divider and trim to 0) must match
byte for byte.
"""

from __future__ import annotations

import pathlib

import pytest

from atoll.toolchain import build
from firmware.build import BOARDS as FIRMWARE_BOARDS
from machine import BufferBackend, Machine, StopReason
from tests.boards import build_bare
from tests.firmware import qemu

GUEST = pathlib.Path(__file__).resolve().parent / "guest"

EXPECTED = {
    "mps2-an385": (
        "startup on mps2-an385\r\n"
        "scc.id 0x41043850\r\n"
        "scc.aid 0x00200008\r\n"
        "scc.cfg_reg4 0x00000002\r\n"
        "fpgaio.led0 0x00000001\r\n"
        "fpgaio.button 0x00000000\r\n"
        "dualtimer.pid0 0x00000023\r\n"
        "dualtimer.oneshot 0x00000111\r\n"
        "watchdog.load 0x00100000\r\n"
        "watchdog.lock 0x00000001\r\n"
        "scc.oscclk2 0x017d7840\r\n"
        "scc.cfgstat 0x00000001\r\n"
        "scc.switches 0x00000000\r\n"
        "fpgaio.counter_moved 0x00000001\r\n"
        "done\r\n"),
    "hifive1": (
        "startup on hifive1\r\n"
        "prci.hfrosc_en_rdy 0xc0000000\r\n"
        "prci.hfxosccfg 0xc0000000\r\n"
        "prci.plloutdiv 0x00000100\r\n"
        "prci.pllcfg 0x000305f1\r\n"
        "prci.plloutdiv 0x00000000\r\n"
        "--\r\n"
        "prci.hfrosccfg 0xc0100004\r\n"
        "aon.lfrosccfg 0xc0100004\r\n"
        "aon.backup0 0xb00710ad\r\n"
        "aon.rtcs 0x00000002\r\n"
        "qspi0.jedec_id 0x009d6018\r\n"
        "pwm1.cfg 0xf0000000\r\n"
        "done\r\n"),
}
#: where the part compared with QEMU ends (None: the whole output)
QEMU_PART_ENDS = {"mps2-an385": None, "hifive1": b"--\r\n"}


@pytest.fixture(scope="module")
def startup_elves(tmp_path_factory) -> dict[str, pathlib.Path]:
    out = tmp_path_factory.mktemp("startup")
    elves = {}
    for name, board in FIRMWARE_BOARDS.items():
        elves[name] = build([GUEST / f"startup_{name}.c", board.directory / board.crt0],
                            out / f"startup-{name}.elf", board.isa, board.directory / "link.ld",
                            include_dirs=[board.directory])
    return elves


def atoll_output(board: str, elf: pathlib.Path) -> bytes:
    machine = Machine(board)
    machine.load_elf(elf)
    uart = BufferBackend()
    machine.attach_uart("uart0", uart)
    machine.run_until(lambda: b"done\r\n" in bytes(uart.output), timeout=1.0)
    machine.run_for(0.01)   # anything extra would show up in the comparison
    return bytes(uart.output)


def test_every_board_with_bare_firmware_has_a_startup_program():
    assert set(EXPECTED) == set(FIRMWARE_BOARDS)


@pytest.mark.parametrize("board", sorted(EXPECTED))
def test_the_startup_program_reads_what_the_manuals_say(board, startup_elves):
    assert atoll_output(board, startup_elves[board]).decode() == EXPECTED[board]


@pytest.mark.qemu
@pytest.mark.parametrize("board", sorted(EXPECTED))
def test_the_startup_program_prints_the_same_bytes_as_qemu_where_qemu_models_the_blocks(board, startup_elves):
    qemu.require(board)
    ours = atoll_output(board, startup_elves[board])
    end = QEMU_PART_ENDS[board]
    if end is None:
        theirs = qemu.run(board, startup_elves[board], until=b"done\r\n", settle=0.3, timeout=10)
    else:
        ours = ours[:ours.index(end) + len(end)]
        theirs = qemu.run(board, startup_elves[board], until=end, timeout=10)
        theirs = theirs[:theirs.index(end) + len(end)] if end in theirs else theirs
    assert ours == theirs


WATCHDOG = {"mps2-an385": "watchdog", "hifive1": "aon"}


@pytest.fixture(scope="module")
def watchdog_elves(tmp_path_factory) -> dict[str, pathlib.Path]:
    return build_bare(GUEST / "watchdog_reset.c", tmp_path_factory.mktemp("watchdog"))


@pytest.mark.parametrize("board", sorted(WATCHDOG))
def test_a_watchdog_left_unfed_ends_the_run_with_a_board_reset_request_the_caller_can_act_on(board, watchdog_elves):
    machine = Machine(board)
    machine.load_elf(watchdog_elves[board])
    uart = BufferBackend()
    machine.attach_uart("uart0", uart)
    stop = machine.run_for(0.1)
    assert (stop.reason, machine.reset_request) == (StopReason.STOPPED, WATCHDOG[board])
    assert 0.0009 < stop.cycle / machine.clock.frequency_hz < 0.002
    machine.reset()
    assert machine.reset_request is None
    machine.run_until(lambda: bytes(uart.output).count(b"armed\r\n") == 2, timeout=0.01)
    assert bytes(uart.output) == b"armed\r\n" * 2
