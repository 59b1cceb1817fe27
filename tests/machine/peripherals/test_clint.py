"""SiFive CLINT on a bare bus: mtime at the RTC rate, the timer compare, and msip."""

import inspect
import logging

import pytest

from machine.clock import Clock
from machine.peripherals import PERIPHERAL_TYPES
from machine.peripherals.clint import Clint

MSIP, MTIMECMP_LO, MTIMECMP_HI, MTIME_LO, MTIME_HI = 0x0, 0x4000, 0x4004, 0xBFF8, 0xBFFC
HZ = 16_000_000


@pytest.fixture
def clock():
    return Clock(HZ)


@pytest.fixture
def clint(clock):
    return Clint("clint", clock)


def set_mtimecmp(clint, value):
    clint.write(MTIMECMP_HI, 4, 0xFFFF_FFFF)   # never below mtime half-way through
    clint.write(MTIMECMP_LO, 4, value & 0xFFFF_FFFF)
    clint.write(MTIMECMP_HI, 4, value >> 32)


def test_the_registry_resolves_sifive_clint_and_its_params_match_init():
    cls = PERIPHERAL_TYPES["sifive-clint"]
    assert cls is Clint
    assert list(inspect.signature(cls.__init__).parameters)[3:] == list(cls.PARAMS)


def test_registers_reset_msip_to_0_mtimecmp_to_all_ones_and_mtime_to_0(clint):
    assert [clint.read(off, 4) for off in (MSIP, MTIMECMP_LO, MTIMECMP_HI, MTIME_LO, MTIME_HI)] == \
        [0, 0xFFFF_FFFF, 0xFFFF_FFFF, 0, 0]
    assert clint.irq["timer"].level is False and clint.irq["software"].level is False


def test_mtime_counts_32768_ticks_per_second_of_virtual_time(clint, clock):
    clock.advance(HZ)
    assert clint.read(MTIME_LO, 4) == 32768


def test_mtime_rounds_down_between_ticks(clint, clock):
    clock.advance(488)          # 16 MHz / 32768 Hz = 488.28 cycles per tick
    assert clint.read(MTIME_LO, 4) == 0
    clock.advance(1)
    assert clint.read(MTIME_LO, 4) == 1


def test_writing_mtime_moves_the_count_and_it_keeps_counting(clint, clock):
    clock.advance(1000)
    clint.write(MTIME_LO, 4, 5000)
    assert clint.read(MTIME_LO, 4) == 5000
    clock.advance(HZ)
    assert clint.read(MTIME_LO, 4) == 5000 + 32768


def test_mtime_hi_holds_the_upper_word(clint, clock):
    clint.write(MTIME_HI, 4, 3)
    clint.write(MTIME_LO, 4, 0xFFFF_FFFF)
    clock.advance(489)
    assert (clint.read(MTIME_HI, 4), clint.read(MTIME_LO, 4)) == (4, 0)
    assert clint.mtime == 4 << 32


def test_mtimecmp_keeps_what_is_written(clint):
    set_mtimecmp(clint, 0x1234_5678_9ABC_DEF0)
    assert (clint.read(MTIMECMP_HI, 4), clint.read(MTIMECMP_LO, 4)) == (0x1234_5678, 0x9ABC_DEF0)


def test_the_timer_line_rises_at_the_exact_cycle_mtime_reaches_mtimecmp(clint, clock):
    set_mtimecmp(clint, 10)       # tick 10 begins at ceil(10 * 16e6 / 32768) = 4883
    clock.advance(4882)
    assert clint.irq["timer"].level is False
    clock.advance(1)
    assert clint.irq["timer"].level is True
    assert clint.read(MTIME_LO, 4) == 10


def test_the_timer_line_rises_at_once_when_mtimecmp_is_not_ahead(clint, clock):
    clock.advance(HZ)
    set_mtimecmp(clint, 32768)
    assert clint.irq["timer"].level is True


def test_moving_mtimecmp_ahead_lowers_the_timer_line(clint, clock):
    set_mtimecmp(clint, 0)
    assert clint.irq["timer"].level is True
    set_mtimecmp(clint, 1)
    assert clint.irq["timer"].level is False
    clock.advance(489)
    assert clint.irq["timer"].level is True


def test_writing_mtime_reschedules_the_timer(clint, clock):
    set_mtimecmp(clint, 100)
    clint.write(MTIME_LO, 4, 95)
    clock.advance(5 * 488)
    assert clint.irq["timer"].level is False
    clock.advance(3)
    assert clint.irq["timer"].level is True


def test_writing_mtime_back_below_mtimecmp_lowers_the_timer_line(clint, clock):
    set_mtimecmp(clint, 1)
    clock.advance(489)
    clint.write(MTIME_LO, 4, 0)
    assert clint.irq["timer"].level is False


def test_msip_drives_the_software_line_and_keeps_only_bit_0(clint):
    clint.write(MSIP, 4, 0xFFFF_FFFF)
    assert clint.read(MSIP, 4) == 1 and clint.irq["software"].level is True
    clint.write(MSIP, 4, 0)
    assert clint.irq["software"].level is False


def test_timebase_hz_is_a_parameter(clock):
    clint = Clint("clint", clock, timebase_hz=1_000_000)
    clock.advance(16)
    assert clint.read(MTIME_LO, 4) == 1


def test_a_bad_timebase_is_refused_with_its_name(clock):
    with pytest.raises(ValueError, match=r"clint: timebase_hz must be a positive integer, not 0"):
        Clint("clint", clock, timebase_hz=0)


def test_an_access_to_another_harts_msip_is_logged_by_offset(clint, caplog):
    with caplog.at_level(logging.WARNING, logger="atoll.machine"):
        clint.write(0x4, 4, 1)
    assert clint.unimplemented_accesses["offset 0x4"] == 1
    assert "clint: write of unimplemented register offset 0x4" in caplog.text


def test_a_snapshot_restores_the_mtime_offset_and_the_compare(clint, clock):
    clint.write(MTIME_LO, 4, 1000)
    set_mtimecmp(clint, 1001)
    twin = Clint("clint", clock)
    twin.restore(clint.snapshot())
    assert twin.read(MTIME_LO, 4) == 1000
    clock.advance(489)
    assert twin.irq["timer"].level is True


def test_reset_restores_mtimecmp_and_msip(clint, clock):
    set_mtimecmp(clint, 0)
    clint.write(MSIP, 4, 1)
    clint.reset()
    assert clint.irq["timer"].level is False and clint.irq["software"].level is False
    assert clint.read(MTIMECMP_LO, 4) == 0xFFFF_FFFF
