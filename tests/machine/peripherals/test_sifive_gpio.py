"""SiFive GPIO on a bare bus: pads, host-driven inputs, logged edges and pin interrupts."""

import inspect
import logging

import pytest

from machine.clock import Clock
from machine.peripherals import PERIPHERAL_TYPES
from machine.peripherals.sifive_gpio import SifiveGpio

(INPUT_VAL, INPUT_EN, OUTPUT_EN, OUTPUT_VAL, PUE, DS, RISE_IE, RISE_IP, FALL_IE, FALL_IP,
 HIGH_IE, HIGH_IP, LOW_IE, LOW_IP, IOF_EN, IOF_SEL, OUT_XOR) = range(0x00, 0x44, 4)


@pytest.fixture
def clock():
    return Clock(16_000_000)


@pytest.fixture
def gpio(clock):
    return SifiveGpio("gpio0", clock)


def test_the_registry_resolves_sifive_gpio0_and_its_params_match_init():
    cls = PERIPHERAL_TYPES["sifive-gpio0"]
    assert cls is SifiveGpio
    assert list(inspect.signature(cls.__init__).parameters)[3:] == list(cls.PARAMS)


def test_it_has_one_interrupt_line_per_pin():
    assert SifiveGpio.IRQS == tuple(f"pin{i}" for i in range(32))


def test_registers_reset_to_zero_and_every_pin_is_a_released_low_input(gpio):
    assert [gpio.read(off, 4) for off in range(0x00, 0x44, 4)] == [0] * 17
    assert not any(gpio.level(pin) for pin in range(32))


def test_an_output_enabled_pin_drives_output_val_onto_the_pad(gpio):
    gpio.write(OUTPUT_VAL, 4, 1 << 5)
    assert gpio.level(5) is False
    gpio.write(OUTPUT_EN, 4, 1 << 5)
    assert gpio.level(5) is True


def test_out_xor_inverts_the_output_pad(gpio):
    gpio.write(OUTPUT_EN, 4, 1 << 2)
    gpio.write(OUT_XOR, 4, 1 << 2)
    assert gpio.level(2) is True
    gpio.write(OUTPUT_VAL, 4, 1 << 2)
    assert gpio.level(2) is False


def test_input_val_shows_only_input_enabled_pins(gpio):
    gpio.drive(3, True)
    gpio.drive(4, True)
    assert gpio.read(INPUT_VAL, 4) == 0
    gpio.write(INPUT_EN, 4, 1 << 3)
    assert gpio.read(INPUT_VAL, 4) == 1 << 3


def test_a_released_input_reads_the_pull_up_when_pue_is_set(gpio):
    gpio.write(INPUT_EN, 4, 1 << 9)
    gpio.write(PUE, 4, 1 << 9)
    assert gpio.read(INPUT_VAL, 4) == 1 << 9
    gpio.drive(9, False)
    assert gpio.read(INPUT_VAL, 4) == 0
    gpio.drive(9, None)
    assert gpio.read(INPUT_VAL, 4) == 1 << 9


def test_an_output_pin_reads_back_through_input_val_when_its_input_is_enabled(gpio):
    gpio.write(INPUT_EN, 4, 1 << 1)
    gpio.write(OUTPUT_EN, 4, 1 << 1)
    gpio.write(OUTPUT_VAL, 4, 1 << 1)
    assert gpio.read(INPUT_VAL, 4) == 1 << 1


def test_an_output_enabled_pin_wins_over_the_host_driver(gpio):
    gpio.drive(7, True)
    gpio.write(OUTPUT_EN, 4, 1 << 7)
    assert gpio.level(7) is False


def test_input_val_is_read_only(gpio):
    gpio.write(INPUT_VAL, 4, 0xFFFF_FFFF)
    assert gpio.read(INPUT_VAL, 4) == 0


def test_iof_en_iof_sel_and_ds_store_what_is_written(gpio):
    for off in (IOF_EN, IOF_SEL, DS):
        gpio.write(off, 4, 0x8000_0001)
        assert gpio.read(off, 4) == 0x8000_0001


def test_every_output_edge_is_logged_with_its_cycle(gpio, clock):
    gpio.write(OUTPUT_EN, 4, 1)
    clock.advance(100)
    gpio.write(OUTPUT_VAL, 4, 1)
    clock.advance(50)
    gpio.write(OUTPUT_VAL, 4, 0)
    gpio.write(OUTPUT_VAL, 4, 0)
    assert gpio.edges == [(100, 0, True), (150, 0, False)]


def test_edge_listeners_are_called_on_each_output_edge(gpio, clock):
    seen = []
    gpio.edge_listeners.append(lambda cycle, pin, level: seen.append((cycle, pin, level)))
    gpio.write(OUTPUT_EN, 4, 1 << 31)
    clock.advance(7)
    gpio.write(OUTPUT_VAL, 4, 1 << 31)
    assert seen == [(7, 31, True)]


def test_host_driven_inputs_are_not_logged_as_edges(gpio):
    gpio.write(INPUT_EN, 4, 1)
    gpio.drive(0, True)
    gpio.drive(0, False)
    assert gpio.edges == []


def test_rise_ip_latches_on_a_rising_edge_and_stays_after_the_level_falls(gpio):
    gpio.write(INPUT_EN, 4, 1 << 4)
    gpio.drive(4, True)
    gpio.drive(4, False)
    assert gpio.read(RISE_IP, 4) == 1 << 4


def test_fall_ip_latches_on_a_falling_edge_only(gpio):
    gpio.write(INPUT_EN, 4, 1 << 4)
    gpio.drive(4, True)
    assert gpio.read(FALL_IP, 4) == 0
    gpio.drive(4, False)
    assert gpio.read(FALL_IP, 4) == 1 << 4


def test_edges_of_pins_without_input_enable_latch_nothing(gpio):
    gpio.drive(4, True)
    gpio.drive(4, False)
    assert [gpio.read(off, 4) for off in (RISE_IP, FALL_IP, HIGH_IP, LOW_IP)] == [0, 0, 0, 0]


def test_ip_registers_are_write_one_to_clear(gpio):
    gpio.write(INPUT_EN, 4, 0b11)
    gpio.drive(0, True)
    gpio.drive(1, True)
    gpio.write(RISE_IP, 4, 0)
    assert gpio.read(RISE_IP, 4) == 0b11
    gpio.write(RISE_IP, 4, 0b01)
    assert gpio.read(RISE_IP, 4) == 0b10


def test_high_ip_is_set_again_while_the_level_stays_high(gpio):
    gpio.write(INPUT_EN, 4, 1)
    gpio.drive(0, True)
    gpio.write(HIGH_IP, 4, 1)
    assert gpio.read(HIGH_IP, 4) == 1
    gpio.drive(0, False)
    gpio.write(HIGH_IP, 4, 1)
    assert gpio.read(HIGH_IP, 4) == 0


def test_low_ip_follows_a_low_input_level(gpio):
    gpio.drive(6, True)
    gpio.write(INPUT_EN, 4, 1 << 6)
    assert gpio.read(LOW_IP, 4) == 0
    gpio.drive(6, False)
    gpio.write(LOW_IP, 4, 1 << 6)
    assert gpio.read(LOW_IP, 4) == 1 << 6


def test_each_pin_raises_its_own_interrupt_line(gpio):
    gpio.write(INPUT_EN, 4, 1 << 5)
    gpio.write(RISE_IE, 4, 1 << 5)
    gpio.drive(5, True)
    assert gpio.irq["pin5"].level is True
    assert [n for n, line in gpio.irq.items() if line.level] == ["pin5"]


def test_a_pending_condition_raises_no_line_without_its_enable(gpio):
    gpio.write(INPUT_EN, 4, 1)
    gpio.write(FALL_IE, 4, 1)
    gpio.drive(0, True)
    assert gpio.read(RISE_IP, 4) == 1 and gpio.irq["pin0"].level is False


@pytest.mark.parametrize("ie, level", [(HIGH_IE, True), (LOW_IE, False)])
def test_level_interrupts_follow_the_input_level(gpio, ie, level):
    gpio.drive(2, not level)
    gpio.write(INPUT_EN, 4, 1 << 2)
    gpio.write(ie + 4, 4, 1 << 2)   # clear what the released pin latched
    gpio.write(ie, 4, 1 << 2)
    assert gpio.irq["pin2"].level is False
    gpio.drive(2, level)
    assert gpio.irq["pin2"].level is True


def test_clearing_the_pending_bit_lowers_the_line(gpio):
    gpio.write(INPUT_EN, 4, 1)
    gpio.write(RISE_IE, 4, 1)
    gpio.drive(0, True)
    gpio.write(RISE_IP, 4, 1)
    assert gpio.irq["pin0"].level is False


def test_drive_refuses_a_pin_outside_0_to_31(gpio):
    with pytest.raises(ValueError, match=r"gpio0: pin must be an integer from 0 to 31, not 32"):
        gpio.drive(32, True)


def test_an_access_to_an_unimplemented_offset_is_logged_by_offset(gpio, caplog):
    with caplog.at_level(logging.WARNING, logger="atoll.machine"):
        gpio.write(0x44, 4, 1)
    assert gpio.unimplemented_accesses["offset 0x44"] == 1
    assert "gpio0: write of unimplemented register offset 0x44" in caplog.text


def test_a_snapshot_restores_registers_and_driven_inputs(gpio, clock):
    gpio.write(INPUT_EN, 4, 0b11)
    gpio.drive(1, True)
    twin = SifiveGpio("gpio0", clock)
    twin.restore(gpio.snapshot())
    assert twin.read(INPUT_VAL, 4) == 0b10 and twin.level(1) is True
    twin.drive(1, None)
    assert twin.read(FALL_IP, 4) == 0b10


def test_reset_turns_outputs_back_into_inputs_and_logs_the_edge(gpio, clock):
    gpio.write(OUTPUT_EN, 4, 1)
    gpio.write(OUTPUT_VAL, 4, 1)
    clock.advance(9)
    gpio.reset()
    assert gpio.level(0) is False
    assert gpio.edges[-1] == (9, 0, False)
