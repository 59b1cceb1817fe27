"""CMSDK APB UART on a bare bus: registers, timing in cycles, interrupts, host side."""

import logging

import pytest

from machine.clock import Clock
from machine.peripherals import PERIPHERAL_TYPES
from machine.host.uart import BufferBackend
from machine.peripherals.cmsdk_uart import CmsdkUart

DATA, STATE, CTRL, INTSTATUS, BAUDDIV = 0x000, 0x004, 0x008, 0x00C, 0x010
TXFULL, RXFULL, TXOVR, RXOVR = 1, 2, 4, 8
TXEN, RXEN, TXINTEN, RXINTEN, TXOVRINTEN, RXOVRINTEN, HSTM = 1, 2, 4, 8, 16, 32, 64
TXINT, RXINT, TXOVRINT, RXOVRINT = 1, 2, 4, 8
DIV = 100          # bit time in cycles
CHAR = 10 * DIV    # character time


@pytest.fixture
def clock():
    return Clock(25_000_000)


@pytest.fixture
def uart(clock):
    u = CmsdkUart("uart0", clock)
    u.attach(BufferBackend())
    return u


def enable(uart, ctrl, div=DIV):
    uart.write(BAUDDIV, 4, div)
    uart.write(CTRL, 4, ctrl)


@pytest.mark.parametrize("offset", [DATA, STATE, CTRL, INTSTATUS, BAUDDIV])
def test_every_register_resets_to_zero(uart, offset):
    assert uart.read(offset, 4) == 0


@pytest.mark.parametrize("offset, value", [
    (0xFD0, 0x04), (0xFD4, 0x00), (0xFD8, 0x00), (0xFDC, 0x00),
    (0xFE0, 0x21), (0xFE4, 0xB8), (0xFE8, 0x1B), (0xFEC, 0x00),
    (0xFF0, 0x0D), (0xFF4, 0xF0), (0xFF8, 0x05), (0xFFC, 0xB1)])
def test_id_registers_read_the_trm_values(uart, offset, value):
    assert uart.read(offset, 4) == value


def test_id_registers_ignore_writes(uart):
    uart.write(0xFE0, 4, 0xFF)
    assert uart.read(0xFE0, 4) == 0x21


def test_ctrl_keeps_its_seven_bits(uart):
    uart.write(CTRL, 4, 0xFFFF_FFFF)
    assert uart.read(CTRL, 4) == 0x7F


def test_bauddiv_keeps_twenty_bits(uart):
    uart.write(BAUDDIV, 4, 0xFFFF_FFFF)
    assert uart.read(BAUDDIV, 4) == 0xF_FFFF


def test_writing_data_with_tx_enabled_sets_tx_full_for_one_character_time(uart, clock):
    enable(uart, TXEN)
    uart.write(DATA, 4, ord("A"))
    assert uart.read(STATE, 4) & TXFULL
    clock.advance(CHAR - 1)
    assert uart.read(STATE, 4) & TXFULL
    clock.advance(1)
    assert not uart.read(STATE, 4) & TXFULL


def test_a_sent_byte_reaches_the_backend_with_its_completion_cycle(uart, clock):
    enable(uart, TXEN)
    clock.advance(7)
    uart.write(DATA, 4, ord("A"))
    clock.advance(CHAR)
    assert uart.backend.output == b"A"
    assert uart.backend.timestamps == [7 + CHAR]


def test_a_byte_is_not_handed_over_before_its_character_time(uart, clock):
    enable(uart, TXEN)
    uart.write(DATA, 4, ord("A"))
    clock.advance(CHAR - 1)
    assert uart.backend.output == b""


def test_consecutive_bytes_leave_one_character_time_apart(uart, clock):
    enable(uart, TXEN)
    for ch in b"hi!":
        while uart.read(STATE, 4) & TXFULL:
            clock.advance(1)
        uart.write(DATA, 4, ch)
    clock.advance(CHAR)
    assert uart.backend.output == b"hi!"
    assert uart.backend.timestamps == [CHAR, 2 * CHAR, 3 * CHAR]


def test_bauddiv_below_sixteen_sends_instantly(uart, clock):
    enable(uart, TXEN, div=0)
    clock.advance(5)
    uart.write(DATA, 4, ord("x"))
    assert uart.backend.output == b"x"
    assert uart.backend.timestamps == [5]
    assert not uart.read(STATE, 4) & TXFULL


def test_high_speed_test_mode_sends_one_bit_per_cycle(uart, clock):
    enable(uart, TXEN | HSTM)
    uart.write(DATA, 4, ord("x"))
    clock.advance(9)
    assert uart.backend.output == b""
    clock.advance(1)
    assert uart.backend.output == b"x"


def test_writing_data_with_tx_disabled_sends_nothing(uart, clock):
    enable(uart, 0)
    uart.write(DATA, 4, ord("A"))
    clock.advance(10 * CHAR)
    assert uart.backend.output == b""
    assert uart.read(STATE, 4) == 0


def test_writing_data_while_tx_is_full_sets_tx_overrun(uart):
    enable(uart, TXEN)
    uart.write(DATA, 4, ord("A"))
    uart.write(DATA, 4, ord("B"))
    assert uart.read(STATE, 4) & TXOVR


def test_the_byte_written_during_a_tx_overrun_is_dropped(uart, clock):
    enable(uart, TXEN)
    uart.write(DATA, 4, ord("A"))
    uart.write(DATA, 4, ord("B"))
    clock.advance(3 * CHAR)
    assert uart.backend.output == b"A"


def test_tx_overrun_is_cleared_by_writing_one_to_state(uart):
    enable(uart, TXEN)
    uart.write(DATA, 4, 1)
    uart.write(DATA, 4, 2)
    uart.write(STATE, 4, TXOVR)
    assert not uart.read(STATE, 4) & TXOVR


def test_writing_zero_to_state_leaves_an_overrun_set(uart):
    enable(uart, TXEN)
    uart.write(DATA, 4, 1)
    uart.write(DATA, 4, 2)
    uart.write(STATE, 4, 0)
    assert uart.read(STATE, 4) & TXOVR


def test_a_byte_write_to_the_upper_bytes_of_state_keeps_the_overrun_flags(uart):
    enable(uart, TXEN)
    uart.write(DATA, 4, 1)
    uart.write(DATA, 4, 2)
    uart.write(STATE + 1, 1, 0)
    assert uart.read(STATE, 4) & TXOVR


def test_tx_full_and_rx_full_ignore_writes(uart):
    uart.write(STATE, 4, TXFULL | RXFULL)
    assert uart.read(STATE, 4) == 0


def test_tx_completion_raises_tx_interrupt_when_enabled(uart, clock):
    enable(uart, TXEN | TXINTEN)
    uart.write(DATA, 4, ord("A"))
    assert not uart.irq["tx"].level
    clock.advance(CHAR)
    assert uart.read(INTSTATUS, 4) == TXINT
    assert uart.irq["tx"].level


def test_tx_completion_without_tx_interrupt_enable_raises_nothing(uart, clock):
    enable(uart, TXEN)
    uart.write(DATA, 4, ord("A"))
    clock.advance(CHAR)
    assert uart.read(INTSTATUS, 4) == 0
    assert not uart.irq["tx"].level


def test_enabling_tx_interrupt_with_an_empty_buffer_raises_nothing(uart):
    enable(uart, TXEN | TXINTEN)
    assert uart.read(INTSTATUS, 4) == 0


def test_writing_one_to_intclear_clears_tx_interrupt(uart, clock):
    enable(uart, TXEN | TXINTEN)
    uart.write(DATA, 4, ord("A"))
    clock.advance(CHAR)
    uart.write(INTSTATUS, 4, TXINT)
    assert uart.read(INTSTATUS, 4) == 0
    assert not uart.irq["tx"].level


def test_writing_intclear_for_another_bit_keeps_tx_interrupt(uart, clock):
    enable(uart, TXEN | TXINTEN)
    uart.write(DATA, 4, ord("A"))
    clock.advance(CHAR)
    uart.write(INTSTATUS, 4, RXINT)
    assert uart.irq["tx"].level


def test_tx_overrun_raises_the_overflow_line_when_enabled(uart):
    enable(uart, TXEN | TXOVRINTEN)
    uart.write(DATA, 4, 1)
    uart.write(DATA, 4, 2)
    assert uart.read(INTSTATUS, 4) == TXOVRINT
    assert uart.irq["overflow"].level


def test_tx_overrun_without_its_enable_leaves_the_overflow_line_low(uart):
    enable(uart, TXEN)
    uart.write(DATA, 4, 1)
    uart.write(DATA, 4, 2)
    assert uart.read(INTSTATUS, 4) == 0
    assert not uart.irq["overflow"].level


def test_clearing_tx_overrun_interrupt_clears_the_overrun_flag(uart):
    enable(uart, TXEN | TXOVRINTEN)
    uart.write(DATA, 4, 1)
    uart.write(DATA, 4, 2)
    uart.write(INTSTATUS, 4, TXOVRINT)
    assert not uart.read(STATE, 4) & TXOVR
    assert not uart.irq["overflow"].level


def test_fed_bytes_arrive_one_per_character_time(uart, clock):
    enable(uart, RXEN)
    uart.feed(b"ok")
    clock.advance(CHAR - 1)
    assert not uart.read(STATE, 4) & RXFULL
    clock.advance(1)
    assert uart.read(STATE, 4) & RXFULL
    assert uart.read(DATA, 4) == ord("o")
    clock.advance(CHAR)
    assert uart.read(DATA, 4) == ord("k")


def test_reading_data_clears_rx_full(uart, clock):
    enable(uart, RXEN)
    uart.feed(b"x")
    clock.advance(CHAR)
    uart.read(DATA, 4)
    assert not uart.read(STATE, 4) & RXFULL


def test_input_pending_counts_bytes_still_on_the_host_side(uart, clock):
    enable(uart, RXEN)
    uart.feed(b"abc")
    assert uart.input_pending == 3
    clock.advance(CHAR)
    assert uart.input_pending == 2


def test_without_a_baud_rate_input_is_paced_at_sixteen_cycles_per_bit(uart, clock):
    uart.write(CTRL, 4, RXEN)
    uart.feed(b"x")
    clock.advance(159)
    assert not uart.read(STATE, 4) & RXFULL
    clock.advance(1)
    assert uart.read(STATE, 4) & RXFULL


def test_bytes_stay_queued_while_the_receiver_is_disabled(uart, clock):
    uart.write(BAUDDIV, 4, DIV)
    uart.feed(b"x")
    clock.advance(5 * CHAR)
    assert uart.input_pending == 1
    assert not uart.read(STATE, 4) & RXFULL


def test_enabling_the_receiver_starts_delivery_one_character_later(uart, clock):
    uart.write(BAUDDIV, 4, DIV)
    uart.feed(b"x")
    clock.advance(5 * CHAR)
    uart.write(CTRL, 4, RXEN)
    clock.advance(CHAR)
    assert uart.read(DATA, 4) == ord("x")


def test_disabling_the_receiver_mid_character_keeps_the_byte_queued(uart, clock):
    enable(uart, RXEN)
    uart.feed(b"x")
    clock.advance(CHAR // 2)
    uart.write(CTRL, 4, 0)
    clock.advance(2 * CHAR)
    assert uart.input_pending == 1


def test_a_byte_arriving_while_rx_is_full_sets_rx_overrun(uart, clock):
    enable(uart, RXEN)
    uart.feed(b"ab")
    clock.advance(2 * CHAR)
    assert uart.read(STATE, 4) & RXOVR


def test_a_byte_arriving_while_rx_is_full_replaces_the_unread_byte(uart, clock):
    enable(uart, RXEN)
    uart.feed(b"ab")
    clock.advance(2 * CHAR)
    assert uart.read(DATA, 4) == ord("b")


def test_rx_overrun_raises_the_overflow_line_when_enabled(uart, clock):
    enable(uart, RXEN | RXOVRINTEN)
    uart.feed(b"ab")
    clock.advance(2 * CHAR)
    assert uart.read(INTSTATUS, 4) == RXOVRINT
    assert uart.irq["overflow"].level


def test_rx_overrun_is_cleared_through_intclear(uart, clock):
    enable(uart, RXEN | RXOVRINTEN)
    uart.feed(b"ab")
    clock.advance(2 * CHAR)
    uart.write(INTSTATUS, 4, RXOVRINT)
    assert not uart.read(STATE, 4) & RXOVR
    assert not uart.irq["overflow"].level


def test_an_arriving_byte_raises_rx_interrupt_when_enabled(uart, clock):
    enable(uart, RXEN | RXINTEN)
    uart.feed(b"x")
    clock.advance(CHAR)
    assert uart.read(INTSTATUS, 4) == RXINT
    assert uart.irq["rx"].level


def test_an_arriving_byte_without_rx_interrupt_enable_raises_nothing(uart, clock):
    enable(uart, RXEN)
    uart.feed(b"x")
    clock.advance(CHAR)
    assert not uart.irq["rx"].level


def test_reading_data_does_not_clear_rx_interrupt(uart, clock):
    enable(uart, RXEN | RXINTEN)
    uart.feed(b"x")
    clock.advance(CHAR)
    uart.read(DATA, 4)
    assert uart.irq["rx"].level


def test_writing_one_to_intclear_clears_rx_interrupt(uart, clock):
    enable(uart, RXEN | RXINTEN)
    uart.feed(b"x")
    clock.advance(CHAR)
    uart.write(INTSTATUS, 4, RXINT)
    assert not uart.irq["rx"].level


def test_a_detached_uart_discards_output(uart, clock):
    uart.attach(None)
    enable(uart, TXEN | TXINTEN)
    uart.write(DATA, 4, ord("A"))
    clock.advance(CHAR)
    assert uart.irq["tx"].level


def test_reset_clears_registers_and_the_byte_in_flight(uart, clock):
    enable(uart, TXEN | RXEN | TXINTEN)
    uart.write(DATA, 4, ord("A"))
    uart.reset()
    clock.advance(2 * CHAR)
    assert uart.backend.output == b""
    assert [uart.read(o, 4) for o in (STATE, CTRL, INTSTATUS, BAUDDIV)] == [0, 0, 0, 0]


def test_a_snapshot_restores_buffers_and_the_host_queue(clock):
    a = CmsdkUart("a", clock)
    a.attach(BufferBackend())
    enable(a, TXEN | RXEN)
    a.feed(b"xyz")
    a.write(DATA, 4, ord("T"))
    clock.advance(CHAR)
    snap = a.snapshot()
    b = CmsdkUart("b", clock)
    b.attach(BufferBackend())
    b.restore(snap)
    a.reset()
    clock.advance(2 * CHAR)
    assert b.input_pending == 0
    assert b.read(STATE, 4) & RXOVR
    assert b.read(DATA, 4) == ord("z")


def test_a_snapshot_taken_mid_character_finishes_the_character_on_time(clock):
    a = CmsdkUart("a", clock)
    enable(a, TXEN)
    a.write(DATA, 4, ord("T"))
    clock.advance(CHAR // 2)
    snap = a.snapshot()
    a.reset()
    b = CmsdkUart("b", clock)
    b.attach(BufferBackend())
    b.restore(snap)
    clock.advance(CHAR)
    assert b.backend.timestamps == [CHAR]
    assert b.backend.output == b"T"


def test_access_to_an_undeclared_offset_is_logged_and_counted(uart, caplog):
    with caplog.at_level(logging.WARNING, logger="atoll.machine"):
        assert uart.read(0x020, 4) == 0
    assert uart.unimplemented_accesses["offset 0x20"] == 1
    assert "offset 0x20" in caplog.text


def test_the_registry_resolves_cmsdk_apb_uart_to_this_model():
    assert PERIPHERAL_TYPES["cmsdk-apb-uart"] is CmsdkUart
