"""SiFive UART on a bare bus: registers, FIFOs, watermarks and timing in virtual cycles."""

import inspect
import logging

import pytest

from machine.clock import Clock
from machine.host.uart import BufferBackend
from machine.peripherals import PERIPHERAL_TYPES
from machine.peripherals.sifive_uart import SifiveUart

TXDATA, RXDATA, TXCTRL, RXCTRL, IE, IP, DIV = 0x00, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x18
FULL = EMPTY = 1 << 31
TXEN = RXEN = 1
NSTOP = 1 << 1
TXWM, RXWM = 1, 2
CHAR = 160  # cycles per character with div = 15 and one stop bit


def watermark(count: int) -> int:
    return count << 16


@pytest.fixture
def clock():
    return Clock(16_000_000)


@pytest.fixture
def out():
    return BufferBackend()


@pytest.fixture
def uart(clock, out):
    u = SifiveUart("uart0", clock)
    u.attach(out)
    u.write(DIV, 4, 15)
    return u


def test_the_registry_resolves_sifive_uart0_and_its_params_match_init():
    cls = PERIPHERAL_TYPES["sifive-uart0"]
    assert cls is SifiveUart
    params = list(inspect.signature(cls.__init__).parameters)[3:]
    assert params == list(cls.PARAMS)


def test_registers_reset_to_the_values_in_the_manual(clock):
    u = SifiveUart("uart0", clock)
    assert [u.read(off, 4) for off in (TXDATA, RXDATA, TXCTRL, RXCTRL, IE, IP)] == [0, EMPTY, 0, 0, 0, 0]
    assert u.read(DIV, 4) == 0x21E


def test_the_reset_divisor_makes_a_character_last_5430_cycles(clock, out):
    u = SifiveUart("uart0", clock)
    u.attach(out)
    u.write(TXCTRL, 4, TXEN)
    u.write(TXDATA, 4, ord("x"))
    clock.advance(5429)
    assert out.output == b""
    clock.advance(1)
    assert out.timestamps == [5430]


def test_a_character_takes_ten_bit_times_of_div_plus_one_cycles(uart, clock, out):
    uart.write(TXCTRL, 4, TXEN)
    uart.write(TXDATA, 4, ord("A"))
    clock.advance(CHAR - 1)
    assert out.output == b""
    clock.advance(1)
    assert out.output == b"A" and out.timestamps == [CHAR]


def test_two_stop_bits_make_a_character_eleven_bit_times(uart, clock, out):
    uart.write(TXCTRL, 4, TXEN | NSTOP)
    uart.write(TXDATA, 4, ord("A"))
    clock.advance(10_000)
    assert out.timestamps == [176]


def test_queued_bytes_leave_back_to_back_one_character_apart(uart, clock, out):
    uart.write(TXCTRL, 4, TXEN)
    for ch in b"abc":
        uart.write(TXDATA, 4, ch)
    clock.advance(10_000)
    assert out.output == b"abc"
    assert out.timestamps == [CHAR, 2 * CHAR, 3 * CHAR]


def test_nothing_is_transmitted_while_txen_is_clear(uart, clock, out):
    uart.write(TXDATA, 4, ord("A"))
    clock.advance(10_000)
    assert out.output == b""
    uart.write(TXCTRL, 4, TXEN)
    clock.advance(CHAR)
    assert out.output == b"A" and out.timestamps == [10_000 + CHAR]


def test_the_tx_fifo_holds_eight_bytes_and_then_reports_full(uart):
    for n in range(7):
        uart.write(TXDATA, 4, n)
    assert uart.read(TXDATA, 4) == 0
    uart.write(TXDATA, 4, 7)
    assert uart.read(TXDATA, 4) == FULL


def test_a_write_to_a_full_tx_fifo_is_dropped(uart, clock, out):
    for ch in b"012345678":
        uart.write(TXDATA, 4, ch)
    uart.write(TXCTRL, 4, TXEN)
    clock.advance(100 * CHAR)
    assert out.output == b"01234567"


def test_reading_txdata_gives_zero_in_the_data_field(uart):
    uart.write(TXDATA, 4, 0xFF)
    assert uart.read(TXDATA, 4) & 0xFF == 0


def test_the_byte_in_the_shift_register_frees_its_fifo_entry(uart, clock, out):
    uart.write(TXCTRL, 4, TXEN)
    for ch in b"012345678":
        uart.write(TXDATA, 4, ch)
    assert uart.read(TXDATA, 4) == FULL
    clock.advance(100 * CHAR)
    assert out.output == b"012345678"


def test_clearing_txen_finishes_the_character_in_progress_and_stops(uart, clock, out):
    uart.write(TXCTRL, 4, TXEN)
    uart.write(TXDATA, 4, ord("a"))
    uart.write(TXDATA, 4, ord("b"))
    clock.advance(10)
    uart.write(TXCTRL, 4, 0)
    clock.advance(10 * CHAR)
    assert out.output == b"a"


def test_a_detached_uart_discards_its_output(uart, clock, out):
    uart.attach(None)
    uart.write(TXCTRL, 4, TXEN)
    uart.write(TXDATA, 4, ord("A"))
    clock.advance(CHAR)
    assert out.output == b"" and uart.read(IP, 4) == 0


def test_txwm_pends_while_the_tx_fifo_holds_fewer_than_txcnt_bytes(uart):
    uart.write(TXCTRL, 4, watermark(2))
    assert uart.read(IP, 4) & TXWM
    uart.write(TXDATA, 4, 1)
    assert uart.read(IP, 4) & TXWM
    uart.write(TXDATA, 4, 2)
    assert not uart.read(IP, 4) & TXWM


def test_txwm_raises_the_interrupt_line_only_when_enabled_in_ie(uart):
    uart.write(TXCTRL, 4, watermark(1))
    assert uart.irq["irq"].level is False
    uart.write(IE, 4, TXWM)
    assert uart.irq["irq"].level is True


def test_txwm_interrupt_clears_when_the_fifo_fills_and_raises_when_it_drains(uart, clock):
    uart.write(IE, 4, TXWM)
    uart.write(TXCTRL, 4, TXEN | watermark(1))
    uart.write(TXDATA, 4, 1)   # goes straight to the shift register
    uart.write(TXDATA, 4, 2)   # waits in the FIFO
    assert uart.irq["irq"].level is False
    clock.advance(CHAR - 1)
    assert uart.irq["irq"].level is False
    clock.advance(1)
    assert uart.irq["irq"].level is True


def test_received_bytes_arrive_one_per_character_time(uart, clock):
    uart.write(RXCTRL, 4, RXEN)
    uart.feed(b"ab")
    clock.advance(CHAR - 1)
    assert uart.read(RXDATA, 4) == EMPTY
    clock.advance(1)
    assert uart.read(RXDATA, 4) == ord("a")
    clock.advance(CHAR - 1)
    assert uart.read(RXDATA, 4) == EMPTY
    clock.advance(1)
    assert uart.read(RXDATA, 4) == ord("b")


def test_reading_rxdata_pops_the_oldest_byte_first(uart, clock):
    uart.write(RXCTRL, 4, RXEN)
    uart.feed(b"xyz")
    clock.advance(3 * CHAR)
    assert [uart.read(RXDATA, 4) for _ in range(4)] == [ord("x"), ord("y"), ord("z"), EMPTY]


def test_host_input_waits_while_the_receiver_is_disabled(uart, clock):
    uart.feed(b"hi")
    clock.advance(10 * CHAR)
    assert uart.read(RXDATA, 4) == EMPTY
    assert uart.input_pending == 2
    uart.write(RXCTRL, 4, RXEN)
    clock.advance(2 * CHAR)
    assert uart.input_pending == 0
    assert uart.read(RXDATA, 4) == ord("h")


def test_disabling_the_receiver_keeps_the_byte_in_flight_on_the_host_side(uart, clock):
    uart.write(RXCTRL, 4, RXEN)
    uart.feed(b"q")
    clock.advance(CHAR - 1)
    uart.write(RXCTRL, 4, 0)
    clock.advance(10 * CHAR)
    assert uart.read(RXDATA, 4) == EMPTY and uart.input_pending == 1


def test_a_byte_arriving_with_the_rx_fifo_full_is_dropped(uart, clock):
    uart.write(RXCTRL, 4, RXEN)
    uart.feed(b"012345678")
    clock.advance(9 * CHAR)
    assert uart.input_pending == 0
    assert uart.rx_dropped == 1
    assert bytes(uart.read(RXDATA, 4) for _ in range(8)) == b"01234567"
    assert uart.read(RXDATA, 4) == EMPTY


def test_rxwm_pends_when_the_rx_fifo_holds_more_than_rxcnt_bytes(uart, clock):
    uart.write(RXCTRL, 4, RXEN | watermark(1))
    uart.feed(b"ab")
    clock.advance(CHAR)
    assert not uart.read(IP, 4) & RXWM
    clock.advance(CHAR)
    assert uart.read(IP, 4) & RXWM


def test_rxwm_interrupt_clears_when_rxdata_is_read_down_to_rxcnt(uart, clock):
    uart.write(IE, 4, RXWM)
    uart.write(RXCTRL, 4, RXEN)
    uart.feed(b"a")
    clock.advance(CHAR)
    assert uart.irq["irq"].level is True
    uart.read(RXDATA, 4)
    assert uart.irq["irq"].level is False


def test_ip_is_read_only(uart):
    uart.write(IP, 4, TXWM | RXWM)
    assert uart.read(IP, 4) == 0


def test_control_registers_keep_only_their_fields(uart):
    uart.write(TXCTRL, 4, 0xFFFF_FFFF)
    uart.write(RXCTRL, 4, 0xFFFF_FFFF)
    uart.write(IE, 4, 0xFFFF_FFFF)
    uart.write(DIV, 4, 0xFFFF_FFFF)
    assert [uart.read(off, 4) for off in (TXCTRL, RXCTRL, IE, DIV)] == [0x7_0003, 0x7_0001, 0x3, 0xFFFF]


def test_an_access_to_an_unimplemented_offset_is_logged_by_offset(uart, caplog):
    with caplog.at_level(logging.WARNING, logger="atoll.machine"):
        assert uart.read(0x1C, 4) == 0
    assert uart.unimplemented_accesses["offset 0x1c"] == 1
    assert "uart0: read of unimplemented register offset 0x1c" in caplog.text


def test_reset_empties_the_fifos_and_restores_the_registers(uart, clock, out):
    uart.write(RXCTRL, 4, RXEN)
    uart.feed(b"ab")
    clock.advance(CHAR)
    uart.write(TXDATA, 4, 1)
    uart.reset()
    uart.write(TXCTRL, 4, TXEN)
    uart.write(RXCTRL, 4, RXEN)
    clock.advance(100_000)
    assert uart.read(RXDATA, 4) == EMPTY
    assert out.output == b"" and uart.read(DIV, 4) == 0x21E


def test_a_snapshot_restores_fifos_host_input_and_characters_in_flight(uart, clock, out):
    uart.write(TXCTRL, 4, TXEN)
    uart.write(RXCTRL, 4, RXEN)
    uart.write(TXDATA, 4, ord("a"))
    uart.write(TXDATA, 4, ord("b"))
    uart.feed(b"xyz")
    clock.advance(CHAR + 10)
    state = uart.snapshot()

    clock2, out2 = Clock(16_000_000), BufferBackend()
    clock2.advance(CHAR + 10)
    twin = SifiveUart("uart0", clock2)
    twin.attach(out2)
    twin.restore(state)
    clock2.advance(10 * CHAR)
    assert out2.output == b"b" and out2.timestamps == [2 * CHAR]
    assert bytes(twin.read(RXDATA, 4) for _ in range(3)) == b"xyz"
