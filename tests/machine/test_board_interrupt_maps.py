"""The shipped boards' memory maps and interrupt numbers, as the AN385 application note and
the FE310-G002 manual give them (docs/boards.md cites the tables)."""

import pytest

from machine import load_board

AN385 = {
    ("uart0", "rx"): 0, ("uart0", "tx"): 1, ("uart1", "rx"): 2, ("uart1", "tx"): 3,
    ("uart2", "rx"): 4, ("uart2", "tx"): 5, ("gpio0", "combined"): 6, ("gpio1", "combined"): 7,
    ("timer0", "timer"): 8, ("timer1", "timer"): 9, ("dualtimer", "timintc"): 10,
    ("uart0", "overflow"): 12, ("uart1", "overflow"): 12, ("uart2", "overflow"): 12,
    ("gpio2", "combined"): 16, ("gpio3", "combined"): 17,
    ("uart3", "rx"): 18, ("uart3", "tx"): 19, ("uart4", "rx"): 20, ("uart4", "tx"): 21,
    **{("gpio0", f"pin{n}"): 24 + n for n in range(8)},
}
AN385_BASES = {"timer0": 0x4000_0000, "timer1": 0x4000_1000, "dualtimer": 0x4000_2000, "uart0": 0x4000_4000,
               "uart1": 0x4000_5000, "uart2": 0x4000_6000, "uart3": 0x4000_7000, "watchdog": 0x4000_8000,
               "uart4": 0x4000_9000, "gpio0": 0x4001_0000, "gpio1": 0x4001_1000, "gpio2": 0x4001_2000,
               "gpio3": 0x4001_3000, "fpgaio": 0x4002_8000, "scc": 0x4002_F000, "nvic": 0xE000_E000}
FE310 = {("aon", "wdogcmp"): 1, ("aon", "rtccmp"): 2, ("uart0", "irq"): 3, ("uart1", "irq"): 4,
         ("qspi0", "irq"): 5, **{("gpio0", f"pin{n}"): 8 + n for n in range(32)},
         **{(f"pwm{p}", f"cmp{n}"): 40 + 4 * p + n for p in range(3) for n in range(4)}}
FE310_BASES = {"clint": 0x0200_0000, "plic": 0x0C00_0000, "aon": 0x1000_0000, "prci": 0x1000_8000,
               "gpio0": 0x1001_2000, "uart0": 0x1001_3000, "qspi0": 0x1001_4000, "pwm0": 0x1001_5000,
               "uart1": 0x1002_3000, "pwm1": 0x1002_5000, "pwm2": 0x1003_5000}


def wiring(board: str) -> dict[tuple[str, str], int]:
    return {(p.name, out): line for p in load_board(board).peripherals for out, line in p.irq.items()}


@pytest.mark.parametrize("board, expected", [("mps2-an385", AN385), ("hifive1", FE310)])
def test_every_interrupt_output_is_wired_to_the_line_the_manual_gives(board, expected):
    assert wiring(board) == expected


@pytest.mark.parametrize("board, bases", [("mps2-an385", AN385_BASES), ("hifive1", FE310_BASES)])
def test_every_peripheral_sits_at_the_address_the_manual_gives(board, bases):
    assert {p.name: p.base for p in load_board(board).peripherals} == bases


def test_on_the_an385_only_the_uart_overflows_share_a_line():
    shared = {}
    for (name, out), line in wiring("mps2-an385").items():
        shared.setdefault(line, []).append(f"{name}.{out}")
    assert {line: names for line, names in shared.items() if len(names) > 1} == {
        12: ["uart0.overflow", "uart1.overflow", "uart2.overflow"]}


def test_the_pwm_blocks_have_the_manuals_comparator_widths():
    board = load_board("hifive1")
    assert [board.peripheral(f"pwm{n}").params["comparator_bits"] for n in range(3)] == [8, 16, 16]
