"""CMSDK APB dual timer on a bare bus, against the CMSDK TRM's (and SP804's) programmer's model:
modes, sizes, prescale, the raw and masked interrupts and the combined output."""

import pytest

from machine.clock import Clock
from machine.peripherals import PERIPHERAL_TYPES
from machine.peripherals.cmsdk_dualtimer import CmsdkDualTimer

LOAD, VALUE, CONTROL, INTCLR, RIS, MIS, BGLOAD = 0x00, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x18
T2 = 0x20
ONESHOT, SIZE32, PRE16, PRE256, INTEN, PERIODIC, EN = 1, 2, 4, 8, 0x20, 0x40, 0x80


@pytest.fixture
def clock():
    return Clock(25_000_000)


@pytest.fixture
def timer(clock):
    return CmsdkDualTimer("dualtimer", clock)


def test_the_board_file_type_name_gives_the_model():
    assert PERIPHERAL_TYPES["cmsdk-apb-dualtimer"] is CmsdkDualTimer


@pytest.mark.parametrize("base", [0, T2])
def test_each_timer_resets_as_the_trm_says(timer, base):
    assert timer.read(base + LOAD, 4) == 0
    assert timer.read(base + VALUE, 4) == 0xFFFF      # 16-bit at reset: the low half of 0xFFFF_FFFF
    assert timer.read(base + CONTROL, 4) == INTEN
    assert timer.read(base + RIS, 4) == 0 and timer.read(base + MIS, 4) == 0


@pytest.mark.parametrize("offset, value", [(0xFE0, 0x23), (0xFE4, 0xB8), (0xFE8, 0x1B), (0xFF0, 0x0D),
                                           (0xFF4, 0xF0), (0xFF8, 0x05), (0xFFC, 0xB1), (0xFD0, 0x04)])
def test_id_registers_name_part_0x823(timer, offset, value):
    assert timer.read(offset, 4) == value


def test_a_periodic_32_bit_timer_counts_down_and_reloads_after_zero(timer, clock):
    timer.write(LOAD, 4, 3)
    timer.write(CONTROL, 4, EN | PERIODIC | SIZE32 | INTEN)
    seen = []
    for _ in range(6):
        seen.append(timer.read(VALUE, 4))
        clock.advance(1)
    assert seen == [3, 2, 1, 0, 3, 2]


def test_reaching_zero_raises_ris_mis_and_both_outputs_until_intclr(timer, clock):
    timer.write(LOAD, 4, 10)
    timer.write(CONTROL, 4, EN | PERIODIC | SIZE32 | INTEN)
    clock.advance(9)
    assert not timer.irq["timintc"].level
    clock.advance(1)
    assert timer.irq["timint1"].level and timer.irq["timintc"].level and not timer.irq["timint2"].level
    assert timer.read(RIS, 4) == 1 and timer.read(MIS, 4) == 1
    timer.write(INTCLR, 4, 0)        # any value clears
    assert timer.read(RIS, 4) == 0 and not timer.irq["timintc"].level


def test_with_intenable_clear_the_raw_interrupt_latches_but_the_outputs_stay_low(timer, clock):
    timer.write(LOAD, 4, 5)
    timer.write(CONTROL, 4, EN | PERIODIC | SIZE32)
    clock.advance(20)
    assert timer.read(RIS, 4) == 1 and timer.read(MIS, 4) == 0
    assert not timer.irq["timintc"].level


def test_a_free_running_16_bit_timer_wraps_to_0xffff(timer, clock):
    timer.write(LOAD, 4, 2)
    timer.write(CONTROL, 4, EN)                       # free-running, 16-bit
    clock.advance(3)
    assert timer.read(VALUE, 4) == 0xFFFF


def test_a_free_running_32_bit_timer_wraps_to_all_ones(timer, clock):
    timer.write(LOAD, 4, 2)
    timer.write(CONTROL, 4, EN | SIZE32)
    clock.advance(3)
    assert timer.read(VALUE, 4) == 0xFFFF_FFFF


def test_a_one_shot_timer_stops_at_zero_after_one_interrupt(timer, clock):
    timer.write(LOAD, 4, 4)
    timer.write(CONTROL, 4, EN | ONESHOT | SIZE32 | INTEN)
    clock.advance(4)
    assert timer.read(VALUE, 4) == 0 and timer.irq["timintc"].level
    timer.write(INTCLR, 4, 1)
    clock.advance(100)
    assert timer.read(VALUE, 4) == 0 and not timer.irq["timintc"].level


@pytest.mark.parametrize("prescale, divider", [(0, 1), (PRE16, 16), (PRE256, 256)])
def test_the_prescaler_divides_the_clock_by_1_16_or_256(timer, clock, prescale, divider):
    timer.write(LOAD, 4, 100)
    timer.write(CONTROL, 4, EN | PERIODIC | SIZE32 | prescale)
    clock.advance(divider * 10 - 1)
    assert timer.read(VALUE, 4) == 91
    clock.advance(1)
    assert timer.read(VALUE, 4) == 90


def test_bgload_changes_the_next_period_not_the_current_count(timer, clock):
    timer.write(LOAD, 4, 5)
    timer.write(CONTROL, 4, EN | PERIODIC | SIZE32)
    clock.advance(2)
    timer.write(BGLOAD, 4, 100)
    assert timer.read(VALUE, 4) == 3 and timer.read(LOAD, 4) == 100
    clock.advance(4)
    assert timer.read(VALUE, 4) == 100


def test_writing_load_restarts_the_count_at_once(timer, clock):
    timer.write(LOAD, 4, 50)
    timer.write(CONTROL, 4, EN | PERIODIC | SIZE32)
    clock.advance(10)
    timer.write(LOAD, 4, 7)
    assert timer.read(VALUE, 4) == 7 and timer.read(BGLOAD, 4) == 7


def test_the_second_timer_is_independent_and_shares_the_combined_output(timer, clock):
    timer.write(T2 + LOAD, 4, 3)
    timer.write(T2 + CONTROL, 4, EN | PERIODIC | SIZE32 | INTEN)
    clock.advance(3)
    assert timer.irq["timint2"].level and timer.irq["timintc"].level and not timer.irq["timint1"].level
    assert timer.read(RIS, 4) == 0


def test_a_disabled_timer_holds_its_value(timer, clock):
    timer.write(LOAD, 4, 50)
    timer.write(CONTROL, 4, EN | PERIODIC | SIZE32)
    clock.advance(10)
    timer.write(CONTROL, 4, PERIODIC | SIZE32)
    clock.advance(100)
    assert timer.read(VALUE, 4) == 40


def test_a_snapshot_restored_raises_the_interrupt_on_time(clock):
    a = CmsdkDualTimer("dualtimer", clock)
    a.write(LOAD, 4, 100)
    a.write(CONTROL, 4, EN | PERIODIC | SIZE32 | INTEN)
    clock.advance(50)
    state = a.snapshot()
    b = CmsdkDualTimer("copy", clock)
    b.restore(state)
    a.reset()
    clock.advance(50)
    assert b.irq["timintc"].level and b.read(VALUE, 4) == 0
