"""CMSDK AHB GPIO on a bare bus: data, masked access, pads, edges, interrupts."""

import logging

import pytest

from machine.clock import Clock
from machine.peripherals import PERIPHERAL_TYPES
from machine.peripherals.cmsdk_gpio import CmsdkGpio

DATA, DATAOUT = 0x000, 0x004
OUTENSET, OUTENCLR, ALTFUNCSET, ALTFUNCCLR = 0x010, 0x014, 0x018, 0x01C
INTENSET, INTENCLR, INTTYPESET, INTTYPECLR = 0x020, 0x024, 0x028, 0x02C
INTPOLSET, INTPOLCLR, INTSTATUS = 0x030, 0x034, 0x038
LOW, HIGH = 0x400, 0x800


@pytest.fixture
def clock():
    return Clock(25_000_000)


@pytest.fixture
def gpio(clock):
    return CmsdkGpio("gpio0", clock)


def low_mask(mask):
    return LOW + 4 * mask


def high_mask(mask):
    return HIGH + 4 * mask


def interrupt_on(gpio, pin, *, edge, high):
    gpio.write(INTTYPESET if edge else INTTYPECLR, 4, 1 << pin)
    gpio.write(INTPOLSET if high else INTPOLCLR, 4, 1 << pin)
    gpio.write(INTENSET, 4, 1 << pin)


@pytest.mark.parametrize("offset", [DATA, DATAOUT, OUTENSET, OUTENCLR, ALTFUNCSET, ALTFUNCCLR, INTENSET,
                                    INTENCLR, INTTYPESET, INTTYPECLR, INTPOLSET, INTPOLCLR, INTSTATUS])
def test_every_register_resets_to_zero(gpio, offset):
    assert gpio.read(offset, 4) == 0


@pytest.mark.parametrize("offset, value", [
    (0xFD0, 0x04), (0xFD4, 0x00), (0xFD8, 0x00), (0xFDC, 0x00),
    (0xFE0, 0x20), (0xFE4, 0xB8), (0xFE8, 0x1B), (0xFEC, 0x00),
    (0xFF0, 0x0D), (0xFF4, 0xF0), (0xFF8, 0x05), (0xFFC, 0xB1)])
def test_id_registers_read_the_trm_values(gpio, offset, value):
    assert gpio.read(offset, 4) == value


def test_writing_data_sets_the_output_latch(gpio):
    gpio.write(DATA, 4, 0x1234)
    assert gpio.read(DATAOUT, 4) == 0x1234


def test_the_output_latch_keeps_sixteen_bits(gpio):
    gpio.write(DATAOUT, 4, 0xFFFF_FFFF)
    assert gpio.read(DATAOUT, 4) == 0xFFFF


def test_data_reads_output_enabled_pins_from_the_latch(gpio):
    gpio.write(OUTENSET, 4, 0x00FF)
    gpio.write(DATAOUT, 4, 0xFFFF)
    assert gpio.read(DATA, 4) == 0x00FF


def test_data_reads_driven_inputs(gpio):
    gpio.drive(3, True)
    gpio.drive(9, True)
    assert gpio.read(DATA, 4) == (1 << 3) | (1 << 9)


def test_a_released_input_reads_zero(gpio):
    gpio.drive(3, True)
    gpio.drive(3, None)
    assert gpio.read(DATA, 4) == 0


def test_an_output_enabled_pin_ignores_what_the_host_drives(gpio):
    gpio.write(OUTENSET, 4, 1 << 2)
    gpio.drive(2, True)
    assert not gpio.level(2)


def test_level_reads_the_pad(gpio):
    gpio.write(OUTENSET, 4, 1)
    gpio.write(DATAOUT, 4, 1)
    gpio.drive(5, True)
    assert gpio.level(0) and gpio.level(5) and not gpio.level(1)


def test_a_bad_pin_number_is_refused_with_its_range(gpio):
    with pytest.raises(ValueError, match=r"gpio0: pin must be an integer from 0 to 15, not 16"):
        gpio.drive(16, True)


@pytest.mark.parametrize("name, set_, clr", [
    ("OUTEN", OUTENSET, OUTENCLR), ("ALTFUNC", ALTFUNCSET, ALTFUNCCLR), ("INTEN", INTENSET, INTENCLR),
    ("INTTYPE", INTTYPESET, INTTYPECLR), ("INTPOL", INTPOLSET, INTPOLCLR)])
def test_set_and_clear_registers_change_only_the_bits_written_as_one(gpio, name, set_, clr):
    gpio.write(set_, 4, 0x00F0)
    gpio.write(set_, 4, 0x0F00)
    gpio.write(clr, 4, 0x0030)
    assert gpio.read(set_, 4) == 0x0FC0
    assert gpio.read(clr, 4) == 0x0FC0


def test_a_byte_write_to_a_clear_register_leaves_the_other_byte(gpio):
    gpio.write(OUTENSET, 4, 0xFFFF)
    gpio.write(OUTENCLR + 1, 1, 0x01)
    assert gpio.read(OUTENSET, 4) == 0xFEFF


def test_a_byte_write_to_data_leaves_the_other_byte_of_the_latch(gpio):
    gpio.write(DATAOUT, 4, 0xAB00)
    gpio.write(DATA, 1, 0xCD)
    assert gpio.read(DATAOUT, 4) == 0xABCD


def test_a_masked_low_byte_write_changes_only_the_masked_pins(gpio):
    gpio.write(DATAOUT, 4, 0xFF0F)
    gpio.write(low_mask(0b0011_0001), 4, 0xFFF0)
    assert gpio.read(DATAOUT, 4) == 0xFF3E


def test_a_masked_high_byte_write_changes_only_the_masked_pins(gpio):
    gpio.write(DATAOUT, 4, 0x00FF)
    gpio.write(high_mask(0b1000_0001), 4, 0xFFFF)
    assert gpio.read(DATAOUT, 4) == 0x81FF


def test_a_masked_low_byte_read_returns_only_the_masked_pins(gpio):
    gpio.write(OUTENSET, 4, 0xFFFF)
    gpio.write(DATAOUT, 4, 0xFFFF)
    assert gpio.read(low_mask(0x0F), 4) == 0x0F


def test_a_masked_high_byte_read_returns_the_masked_pins_in_place(gpio):
    gpio.write(OUTENSET, 4, 0xFFFF)
    gpio.write(DATAOUT, 4, 0xFFFF)
    assert gpio.read(high_mask(0x0F), 4) == 0x0F00


def test_a_masked_write_toggles_the_pad_of_one_pin(gpio):
    gpio.write(OUTENSET, 4, 1 << 12)
    gpio.write(high_mask(1 << 4), 4, 1 << 12)
    assert gpio.level(12)


def test_an_output_change_is_logged_as_an_edge_with_its_cycle(gpio, clock):
    gpio.write(OUTENSET, 4, 1 << 4)
    clock.advance(100)
    gpio.write(DATAOUT, 4, 1 << 4)
    clock.advance(50)
    gpio.write(DATAOUT, 4, 0)
    assert gpio.edges == [(100, 4, True), (150, 4, False)]


def test_an_edge_listener_hears_every_output_edge(gpio, clock):
    heard = []
    gpio.edge_listeners.append(lambda cycle, pin, level: heard.append((cycle, pin, level)))
    gpio.write(OUTENSET, 4, 0b11)
    gpio.write(DATAOUT, 4, 0b10)
    assert heard == [(0, 1, True)]


def test_writing_the_same_output_value_logs_no_edge(gpio):
    gpio.write(OUTENSET, 4, 1)
    gpio.write(DATAOUT, 4, 1)
    gpio.write(DATAOUT, 4, 1)
    assert gpio.edges == [(0, 0, True)]


def test_a_driven_input_pin_logs_no_output_edge(gpio):
    gpio.drive(7, True)
    assert gpio.edges == []


def test_a_latch_change_on_an_input_pin_logs_no_edge(gpio):
    gpio.write(DATAOUT, 4, 0xFFFF)
    assert gpio.edges == []


def test_a_high_level_interrupt_latches_while_the_pin_is_high(gpio):
    interrupt_on(gpio, 3, edge=False, high=True)
    assert gpio.read(INTSTATUS, 4) == 0
    gpio.drive(3, True)
    assert gpio.read(INTSTATUS, 4) == 1 << 3
    assert gpio.irq["pin3"].level and gpio.irq["combined"].level


def test_a_low_level_interrupt_is_pending_as_soon_as_it_is_enabled_on_a_low_pin(gpio):
    interrupt_on(gpio, 6, edge=False, high=False)
    assert gpio.read(INTSTATUS, 4) == 1 << 6


def test_clearing_a_level_interrupt_does_not_stick_while_the_level_holds(gpio):
    interrupt_on(gpio, 3, edge=False, high=True)
    gpio.drive(3, True)
    gpio.write(INTSTATUS, 4, 1 << 3)
    assert gpio.read(INTSTATUS, 4) == 1 << 3


def test_a_level_interrupt_stays_latched_after_the_level_goes_until_cleared(gpio):
    interrupt_on(gpio, 3, edge=False, high=True)
    gpio.drive(3, True)
    gpio.drive(3, False)
    assert gpio.read(INTSTATUS, 4) == 1 << 3
    gpio.write(INTSTATUS, 4, 1 << 3)
    assert gpio.read(INTSTATUS, 4) == 0
    assert not gpio.irq["pin3"].level and not gpio.irq["combined"].level


def test_a_rising_edge_interrupt_latches_on_a_rising_edge_only(gpio):
    interrupt_on(gpio, 1, edge=True, high=True)
    gpio.drive(1, True)
    gpio.write(INTSTATUS, 4, 1 << 1)
    assert gpio.read(INTSTATUS, 4) == 0     # the level alone does not latch again
    gpio.drive(1, False)
    assert gpio.read(INTSTATUS, 4) == 0
    gpio.drive(1, True)
    assert gpio.read(INTSTATUS, 4) == 1 << 1


def test_a_falling_edge_interrupt_latches_on_a_falling_edge_only(gpio):
    gpio.drive(2, True)
    interrupt_on(gpio, 2, edge=True, high=False)
    assert gpio.read(INTSTATUS, 4) == 0
    gpio.drive(2, False)
    assert gpio.read(INTSTATUS, 4) == 1 << 2
    assert gpio.irq["pin2"].level


def test_an_edge_on_an_output_pin_interrupts_too(gpio):
    gpio.write(OUTENSET, 4, 1 << 8)
    interrupt_on(gpio, 8, edge=True, high=True)
    gpio.write(high_mask(1), 4, 1 << 8)
    assert gpio.irq["pin8"].level


def test_an_edge_while_the_interrupt_is_disabled_is_not_latched(gpio):
    gpio.write(INTTYPESET, 4, 1)
    gpio.write(INTPOLSET, 4, 1)
    gpio.drive(0, True)
    gpio.write(INTENSET, 4, 1)
    assert gpio.read(INTSTATUS, 4) == 0


def test_disabling_an_interrupt_keeps_its_latched_status(gpio):
    interrupt_on(gpio, 0, edge=True, high=True)
    gpio.drive(0, True)
    gpio.write(INTENCLR, 4, 1)
    assert gpio.read(INTSTATUS, 4) == 1


def test_intclear_clears_only_the_bits_written_as_one(gpio):
    interrupt_on(gpio, 0, edge=True, high=True)
    interrupt_on(gpio, 9, edge=True, high=True)
    gpio.drive(0, True)
    gpio.drive(9, True)
    gpio.write(INTSTATUS, 4, 1 << 9)
    assert gpio.read(INTSTATUS, 4) == 1
    assert gpio.irq["pin0"].level and not gpio.irq["pin9"].level


def test_a_byte_write_to_intclear_keeps_the_other_bytes_status(gpio):
    interrupt_on(gpio, 0, edge=True, high=True)
    interrupt_on(gpio, 9, edge=True, high=True)
    gpio.drive(0, True)
    gpio.drive(9, True)
    gpio.write(INTSTATUS + 1, 1, 0x02)
    assert gpio.read(INTSTATUS, 4) == 1


def test_reset_clears_registers_and_status(gpio):
    interrupt_on(gpio, 0, edge=False, high=True)
    gpio.drive(0, True)
    gpio.write(OUTENSET, 4, 0xF0)
    gpio.reset()
    assert gpio.read(INTSTATUS, 4) == 0 and gpio.read(OUTENSET, 4) == 0
    assert not gpio.irq["combined"].level


def test_a_snapshot_restores_status_and_driven_inputs(gpio, clock):
    interrupt_on(gpio, 5, edge=True, high=True)
    gpio.drive(5, True)
    snap = gpio.snapshot()
    other = CmsdkGpio("gpio1", clock)
    other.restore(snap)
    assert other.read(INTSTATUS, 4) == 1 << 5
    assert other.level(5) and other.irq["pin5"].level


def test_access_to_an_undeclared_offset_is_logged_and_counted(gpio, caplog):
    with caplog.at_level(logging.WARNING, logger="atoll.machine"):
        gpio.write(0x008, 4, 1)
    assert gpio.unimplemented_accesses["offset 0x8"] == 1
    assert "gpio0: write of unimplemented register offset 0x8" in caplog.text


def test_the_registry_resolves_cmsdk_ahb_gpio_to_this_model():
    assert PERIPHERAL_TYPES["cmsdk-ahb-gpio"] is CmsdkGpio
