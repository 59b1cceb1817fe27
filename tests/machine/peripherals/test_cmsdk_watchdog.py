"""CMSDK APB watchdog on a bare bus, against the CMSDK TRM: the lock, load/value/control, an
interrupt at the first timeout and a board reset request at the second."""

import pytest

from machine.clock import Clock
from machine.peripherals import PERIPHERAL_TYPES
from machine.peripherals.cmsdk_watchdog import CmsdkWatchdog

LOAD, VALUE, CONTROL, INTCLR, RIS, MIS, LOCK = 0x000, 0x004, 0x008, 0x00C, 0x010, 0x014, 0xC00
INTEN, RESEN = 1, 2
KEY = 0x1ACCE551


@pytest.fixture
def clock():
    return Clock(25_000_000)


@pytest.fixture
def resets():
    return []


@pytest.fixture
def wdog(clock, resets):
    w = CmsdkWatchdog("watchdog", clock)
    w.board_reset = resets.append
    return w


def test_the_board_file_type_name_gives_the_model():
    assert PERIPHERAL_TYPES["cmsdk-apb-watchdog"] is CmsdkWatchdog


def test_registers_reset_as_the_trm_says(wdog):
    assert wdog.read(LOAD, 4) == 0xFFFF_FFFF and wdog.read(VALUE, 4) == 0xFFFF_FFFF
    assert wdog.read(CONTROL, 4) == 0 and wdog.read(RIS, 4) == 0 and wdog.read(LOCK, 4) == 0


def test_id_registers_name_part_0x824(wdog):
    assert [wdog.read(o, 4) for o in (0xFE0, 0xFE4, 0xFE8)] == [0x24, 0xB8, 0x1B]


def test_the_counter_stands_until_inten_and_then_counts_down_from_load(wdog, clock):
    wdog.write(LOAD, 4, 1000)
    clock.advance(10)
    assert wdog.read(VALUE, 4) == 1000
    wdog.write(CONTROL, 4, INTEN)
    clock.advance(10)
    assert wdog.read(VALUE, 4) == 990


def test_the_first_timeout_interrupts_and_reloads(wdog, clock, resets):
    wdog.write(LOAD, 4, 100)
    wdog.write(CONTROL, 4, INTEN | RESEN)
    clock.advance(99)
    assert not wdog.irq["wdogint"].level
    clock.advance(1)
    assert wdog.irq["wdogint"].level and wdog.read(RIS, 4) == 1 and wdog.read(MIS, 4) == 1
    clock.advance(1)
    assert wdog.read(VALUE, 4) == 100 and resets == []


def test_a_second_timeout_with_the_interrupt_still_set_requests_a_board_reset(wdog, clock, resets):
    wdog.write(LOAD, 4, 100)
    wdog.write(CONTROL, 4, INTEN | RESEN)
    clock.advance(100 + 100)
    assert resets == []
    clock.advance(1)
    assert resets == ["watchdog"] and wdog.resets_requested == 1


def test_without_resen_the_second_timeout_requests_nothing(wdog, clock, resets):
    wdog.write(LOAD, 4, 100)
    wdog.write(CONTROL, 4, INTEN)
    clock.advance(1000)
    assert resets == [] and wdog.irq["wdogint"].level


def test_clearing_the_interrupt_in_time_feeds_the_dog(wdog, clock, resets):
    wdog.write(LOAD, 4, 100)
    wdog.write(CONTROL, 4, INTEN | RESEN)
    for _ in range(20):
        clock.advance(150)
        wdog.write(INTCLR, 4, 1)
    assert resets == [] and not wdog.irq["wdogint"].level
    assert wdog.read(VALUE, 4) == 100


def test_a_locked_watchdog_drops_writes_until_the_key_is_written(wdog, clock):
    wdog.write(LOCK, 4, 0)                 # any value but the key locks
    assert wdog.read(LOCK, 4) == 1
    wdog.write(LOAD, 4, 5)
    wdog.write(CONTROL, 4, INTEN)
    assert wdog.read(LOAD, 4) == 0xFFFF_FFFF and wdog.read(CONTROL, 4) == 0
    assert wdog.dropped_writes["write of WDOGLOAD while WDOGLOCK disables writes"] == 1
    wdog.write(LOCK, 4, KEY)
    assert wdog.read(LOCK, 4) == 0
    wdog.write(LOAD, 4, 5)
    assert wdog.read(LOAD, 4) == 5


def test_a_reset_request_reaches_the_machine_which_stops_and_can_reset():
    from machine.machine import Machine
    m = Machine("mps2-an385")
    wdog = m.peripheral("watchdog")
    wdog.write(LOAD, 4, 1000)
    wdog.write(CONTROL, 4, INTEN | RESEN)
    m.clock.advance(3000)
    assert m.reset_request == "watchdog"
    m.reset()
    assert m.reset_request is None and wdog.read(CONTROL, 4) == 0
