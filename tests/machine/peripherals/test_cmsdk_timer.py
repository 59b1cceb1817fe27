"""CMSDK APB timer on a bare bus: lazy counting, reload, interrupt timing in cycles."""

import logging

import pytest

from machine.clock import Clock
from machine.peripherals import PERIPHERAL_TYPES
from machine.peripherals.cmsdk_timer import CmsdkTimer

CTRL, VALUE, RELOAD, INTSTATUS = 0x000, 0x004, 0x008, 0x00C
EN, SELEXTEN, SELEXTCLK, INTEN = 1, 2, 4, 8


@pytest.fixture
def clock():
    return Clock(25_000_000)


@pytest.fixture
def timer(clock):
    return CmsdkTimer("timer0", clock)


def start(timer, *, value, reload, ctrl=EN | INTEN):
    timer.write(RELOAD, 4, reload)
    timer.write(VALUE, 4, value)
    timer.write(CTRL, 4, ctrl)


def values(timer, clock, n):
    out = []
    for _ in range(n):
        clock.advance(1)
        out.append(timer.read(VALUE, 4))
    return out


@pytest.mark.parametrize("offset", [CTRL, VALUE, RELOAD, INTSTATUS])
def test_every_register_resets_to_zero(timer, offset):
    assert timer.read(offset, 4) == 0


@pytest.mark.parametrize("offset, value", [
    (0xFD0, 0x04), (0xFD4, 0x00), (0xFD8, 0x00), (0xFDC, 0x00),
    (0xFE0, 0x22), (0xFE4, 0xB8), (0xFE8, 0x1B), (0xFEC, 0x00),
    (0xFF0, 0x0D), (0xFF4, 0xF0), (0xFF8, 0x05), (0xFFC, 0xB1)])
def test_id_registers_read_the_trm_values(timer, offset, value):
    assert timer.read(offset, 4) == value


def test_ctrl_keeps_its_four_bits(timer):
    timer.write(CTRL, 4, 0xFF)
    assert timer.read(CTRL, 4) == 0xF


def test_reload_reads_back_what_was_written(timer):
    timer.write(RELOAD, 4, 0xDEAD_BEEF)
    assert timer.read(RELOAD, 4) == 0xDEAD_BEEF


def test_writing_reload_does_not_change_value(timer):
    timer.write(VALUE, 4, 5)
    timer.write(RELOAD, 4, 1000)
    assert timer.read(VALUE, 4) == 5


def test_a_disabled_timer_holds_its_value(timer, clock):
    timer.write(VALUE, 4, 100)
    clock.advance(1000)
    assert timer.read(VALUE, 4) == 100


def test_an_enabled_timer_counts_down_one_per_cycle(timer, clock):
    start(timer, value=1000, reload=1000)
    clock.advance(250)
    assert timer.read(VALUE, 4) == 750


def test_value_reloads_on_the_cycle_after_reaching_zero(timer, clock):
    start(timer, value=2, reload=4)
    assert values(timer, clock, 8) == [1, 0, 4, 3, 2, 1, 0, 4]


def test_the_free_running_period_is_reload_plus_one(timer, clock):
    start(timer, value=9, reload=9)
    clock.advance(10 * 1000 + 3)
    assert timer.read(VALUE, 4) == 6


def test_value_is_exact_at_any_cycle_without_interrupts(timer, clock):
    start(timer, value=3, reload=7, ctrl=EN)
    clock.advance(123_456)
    # zero at 3, then 8-cycle periods: at 3 + 8k the value is 0
    assert timer.read(VALUE, 4) == 7 - (123_456 - 3 - 1) % 8


def test_no_clock_event_is_scheduled_when_the_interrupt_is_disabled(timer, clock):
    start(timer, value=10, reload=10, ctrl=EN)
    assert clock.next_deadline() is None


def test_the_interrupt_latches_on_the_cycle_value_steps_from_one_to_zero(timer, clock):
    start(timer, value=5, reload=100)
    clock.advance(4)
    assert timer.read(INTSTATUS, 4) == 0 and not timer.irq["timer"].level
    clock.advance(1)
    assert timer.read(VALUE, 4) == 0
    assert timer.read(INTSTATUS, 4) == 1 and timer.irq["timer"].level


def test_the_interrupt_line_rises_by_itself_at_underflow(timer, clock):
    start(timer, value=5, reload=100)
    clock.advance(5)
    assert timer.irq["timer"].level


def test_an_underflow_without_inten_latches_nothing(timer, clock):
    start(timer, value=5, reload=100, ctrl=EN)
    clock.advance(50)
    assert timer.read(INTSTATUS, 4) == 0


def test_writing_one_to_intclear_clears_the_interrupt(timer, clock):
    start(timer, value=5, reload=100)
    clock.advance(5)
    timer.write(INTSTATUS, 4, 1)
    assert timer.read(INTSTATUS, 4) == 0 and not timer.irq["timer"].level


def test_writing_zero_to_intclear_keeps_the_interrupt(timer, clock):
    start(timer, value=5, reload=100)
    clock.advance(5)
    timer.write(INTSTATUS, 4, 0)
    assert timer.read(INTSTATUS, 4) == 1


def test_the_interrupt_latches_again_one_period_after_being_cleared(timer, clock):
    start(timer, value=5, reload=9)
    clock.advance(5)
    timer.write(INTSTATUS, 4, 1)
    clock.advance(9)
    assert not timer.irq["timer"].level
    clock.advance(1)
    assert timer.irq["timer"].level


def test_clearing_inten_does_not_lower_a_latched_interrupt(timer, clock):
    start(timer, value=1, reload=9)
    clock.advance(1)
    timer.write(CTRL, 4, EN)
    assert timer.irq["timer"].level


def test_a_reload_of_zero_stops_the_counter_at_zero_without_interrupts(timer, clock):
    start(timer, value=2, reload=0)
    clock.advance(2)
    timer.write(INTSTATUS, 4, 1)
    clock.advance(1000)
    assert timer.read(VALUE, 4) == 0
    assert timer.read(INTSTATUS, 4) == 0


def test_enabling_at_zero_reloads_first_without_an_interrupt(timer, clock):
    start(timer, value=0, reload=3)
    clock.advance(1)
    assert timer.read(VALUE, 4) == 3
    assert timer.read(INTSTATUS, 4) == 0
    clock.advance(3)
    assert timer.read(INTSTATUS, 4) == 1


def test_writing_value_while_running_restarts_the_count_from_it(timer, clock):
    start(timer, value=100, reload=100)
    clock.advance(10)
    timer.write(VALUE, 4, 50)
    assert values(timer, clock, 2) == [49, 48]


def test_writing_value_moves_the_next_interrupt(timer, clock):
    start(timer, value=100, reload=100)
    clock.advance(10)
    timer.write(VALUE, 4, 3)
    clock.advance(3)
    assert timer.irq["timer"].level


def test_a_new_reload_applies_at_the_next_reload(timer, clock):
    start(timer, value=3, reload=10)
    clock.advance(1)
    timer.write(RELOAD, 4, 5)
    assert values(timer, clock, 4) == [1, 0, 5, 4]


def test_disabling_freezes_the_value_and_enabling_resumes_it(timer, clock):
    start(timer, value=100, reload=100)
    clock.advance(10)
    timer.write(CTRL, 4, INTEN)
    clock.advance(500)
    assert timer.read(VALUE, 4) == 90
    timer.write(CTRL, 4, EN | INTEN)
    clock.advance(90)
    assert timer.irq["timer"].level


class FakeCpu:
    executed = 0


def test_the_interrupt_is_seen_at_its_cycle_even_before_the_event_fires():
    cpu = FakeCpu()
    timer = CmsdkTimer("timer0", Clock(25_000_000, source=cpu))
    start(timer, value=5, reload=100)
    cpu.executed = 5            # the CPU ran on; the run loop has not fired events yet
    assert timer.read(VALUE, 4) == 0
    assert timer.read(INTSTATUS, 4) == 1


def test_an_external_enable_counts_only_while_extin_is_high(timer, clock):
    start(timer, value=100, reload=100, ctrl=EN | SELEXTEN)
    clock.advance(10)
    assert timer.read(VALUE, 4) == 100
    timer.set_extin(True)
    clock.advance(10)
    timer.set_extin(False)
    clock.advance(10)
    assert timer.read(VALUE, 4) == 90


def test_an_external_clock_counts_one_per_rising_edge(timer, clock):
    start(timer, value=2, reload=5, ctrl=EN | SELEXTCLK | INTEN)
    for _ in range(2):
        timer.set_extin(True)
        clock.advance(100)
        timer.set_extin(False)
    assert timer.read(VALUE, 4) == 0
    assert timer.irq["timer"].level
    timer.set_extin(True)
    assert timer.read(VALUE, 4) == 5


def test_reset_stops_the_timer_and_drops_its_event(timer, clock):
    start(timer, value=5, reload=5)
    timer.reset()
    clock.advance(100)
    assert timer.read(VALUE, 4) == 0 and not timer.irq["timer"].level
    assert clock.next_deadline() is None


def test_a_snapshot_restores_the_count_and_the_next_interrupt(timer, clock):
    start(timer, value=50, reload=50)
    clock.advance(20)
    snap = timer.snapshot()
    timer.reset()
    other = CmsdkTimer("timer1", clock)
    other.restore(snap)
    assert other.read(VALUE, 4) == 30
    clock.advance(30)
    assert other.irq["timer"].level


def test_a_snapshot_taken_with_the_zero_due_but_not_yet_handled_still_interrupts(timer, clock):
    start(timer, value=50, reload=50)
    clock._base += 50   # the CPU ran past the deadline; the run loop has not fired it yet
    snap = timer.snapshot()
    timer.reset()
    other = CmsdkTimer("timer1", clock)
    other.restore(snap)
    assert clock.next_deadline() == clock.now
    clock.fire_due()
    assert other.irq["timer"].level


def test_access_to_an_undeclared_offset_is_logged_and_counted(timer, caplog):
    with caplog.at_level(logging.WARNING, logger="atoll.machine"):
        timer.read(0x010, 4)
        timer.read(0x010, 4)
    assert timer.unimplemented_accesses["offset 0x10"] == 2
    assert "timer0: read of unimplemented register offset 0x10" in caplog.text


def test_the_registry_resolves_cmsdk_apb_timer_to_this_model():
    assert PERIPHERAL_TYPES["cmsdk-apb-timer"] is CmsdkTimer
