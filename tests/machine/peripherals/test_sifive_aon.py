"""FE310-G002 always-on block on a bare bus, against the manual: the watchdog (key, feed,
scale, comparator, zero-compare, reset), the RTC counting 32,768 Hz with its compare
interrupt, lfrosccfg, the backup registers and the PMU key."""

import pytest

from machine.clock import Clock
from machine.peripherals import PERIPHERAL_TYPES
from machine.peripherals.sifive_aon import SifiveAon

HZ = 16_000_000
LF = HZ // 32_768 + 1       # cycles that surely hold one low-frequency tick
WDOGCFG, WDOGCOUNT, WDOGS, WDOGFEED, WDOGKEY, WDOGCMP0 = 0x000, 0x008, 0x010, 0x018, 0x01C, 0x020
RTCCFG, RTCCOUNTLO, RTCCOUNTHI, RTCS, RTCCMP0 = 0x040, 0x048, 0x04C, 0x050, 0x060
LFROSCCFG, BACKUP0, PMUIE, PMUCAUSE, PMUSLEEP, PMUKEY = 0x070, 0x080, 0x140, 0x144, 0x148, 0x14C
KEY, FEED = 0x51F15E, 0xD09F00D
RSTEN, ZEROCMP, ENALWAYS, IP0 = 1 << 8, 1 << 9, 1 << 12, 1 << 28


@pytest.fixture
def clock():
    return Clock(HZ)


@pytest.fixture
def resets():
    return []


@pytest.fixture
def aon(clock, resets):
    a = SifiveAon("aon", clock)
    a.board_reset = resets.append
    return a


def unlocked(aon, offset, value):
    aon.write(WDOGKEY, 4, KEY)
    aon.write(offset, 4, value)


def seconds(clock, s):
    clock.advance(round(HZ * s))


def test_the_board_file_type_name_gives_the_model():
    assert PERIPHERAL_TYPES["sifive-aon"] is SifiveAon


def test_watchdog_writes_without_the_key_are_dropped(aon):
    aon.write(WDOGCFG, 4, ENALWAYS)
    assert aon.read(WDOGCFG, 4) == 0
    assert aon.read(WDOGKEY, 4) == 0


def test_the_key_unlocks_one_write_only(aon):
    aon.write(WDOGKEY, 4, KEY)
    assert aon.read(WDOGKEY, 4) == 1
    aon.write(WDOGCMP0, 4, 10)
    aon.write(WDOGCFG, 4, ENALWAYS)
    assert aon.read(WDOGCMP0, 4) == 10 and aon.read(WDOGCFG, 4) == 0 and aon.read(WDOGKEY, 4) == 0


def test_the_watchdog_counts_the_32768_hz_clock_and_scales_wdogs(aon, clock):
    unlocked(aon, WDOGCMP0, 0xFFFF)
    unlocked(aon, WDOGCFG, ENALWAYS | 4)
    seconds(clock, 1)
    assert aon.read(WDOGCOUNT, 4) == 32_768 and aon.read(WDOGS, 4) == 32_768 >> 4


def test_feeding_sets_the_count_to_zero(aon, clock):
    unlocked(aon, WDOGCMP0, 0xFFFF)
    unlocked(aon, WDOGCFG, ENALWAYS)
    seconds(clock, 0.5)
    unlocked(aon, WDOGFEED, FEED)
    assert aon.read(WDOGCOUNT, 4) == 0


def test_the_comparator_latches_wdogip0_and_raises_the_output(aon, clock):
    unlocked(aon, WDOGCMP0, 100)
    unlocked(aon, WDOGCFG, ENALWAYS)
    clock.advance(99 * HZ // 32_768)
    assert not aon.irq["wdogcmp"].level
    clock.advance(2 * LF)
    assert aon.irq["wdogcmp"].level and aon.read(WDOGCFG, 4) & IP0
    unlocked(aon, WDOGCFG, ENALWAYS)           # the comparator still fires: ip0 stays
    assert aon.irq["wdogcmp"].level
    unlocked(aon, WDOGFEED, FEED)
    unlocked(aon, WDOGCFG, ENALWAYS)           # fed, writing ip0 = 0 clears it
    assert not aon.irq["wdogcmp"].level


def test_zerocmp_makes_the_watchdog_a_periodic_timer(aon, clock):
    unlocked(aon, WDOGCMP0, 327)
    unlocked(aon, WDOGCFG, ENALWAYS | ZEROCMP)
    seconds(clock, 0.1)
    assert aon.read(WDOGCOUNT, 4) < 327 and aon.read(WDOGCFG, 4) & IP0


def test_with_rsten_the_comparator_requests_a_board_reset(aon, clock, resets):
    unlocked(aon, WDOGCMP0, 32)
    unlocked(aon, WDOGCFG, ENALWAYS | RSTEN)
    seconds(clock, 0.0009)
    assert resets == []
    seconds(clock, 0.0002)
    assert resets == ["aon"]


def test_the_rtc_counts_seconds_and_interrupts_at_rtccmp0(aon, clock):
    aon.write(RTCCMP0, 4, 3)
    aon.write(RTCCFG, 4, ENALWAYS | 15)        # rtcs counts seconds
    seconds(clock, 2.9)
    assert aon.read(RTCS, 4) == 2 and not aon.irq["rtccmp"].level
    seconds(clock, 0.2)
    assert aon.read(RTCS, 4) == 3 and aon.irq["rtccmp"].level and aon.read(RTCCFG, 4) & IP0
    aon.write(RTCCMP0, 4, 5)                   # a later compare value clears it
    assert not aon.irq["rtccmp"].level and not aon.read(RTCCFG, 4) & IP0


def test_the_rtc_count_is_48_bits_over_two_registers(aon, clock):
    aon.write(RTCCOUNTHI, 4, 0x1234)
    aon.write(RTCCOUNTLO, 4, 0xFFFF_FFFF)
    aon.write(RTCCFG, 4, ENALWAYS)
    clock.advance(LF)
    assert aon.read(RTCCOUNTHI, 4) == 0x1235 and aon.read(RTCCOUNTLO, 4) == 0


def test_a_stopped_rtc_holds_its_count(aon, clock):
    seconds(clock, 1)
    assert aon.read(RTCCOUNTLO, 4) == 0


def test_lfrosc_is_enabled_and_ready_at_reset(aon):
    assert aon.read(LFROSCCFG, 4) == 0xC010_0004


def test_backup_registers_keep_what_is_written(aon):
    for i in range(16):
        aon.write(BACKUP0 + 4 * i, 4, 0x1000 + i)
    assert [aon.read(BACKUP0 + 4 * i, 4) for i in range(16)] == [0x1000 + i for i in range(16)]


def test_pmu_writes_need_the_key_and_sleep_is_reported_not_taken(aon):
    aon.write(PMUIE, 4, 0b110)
    assert aon.read(PMUIE, 4) == 0
    aon.write(PMUKEY, 4, KEY)
    aon.write(PMUIE, 4, 0b110)
    assert aon.read(PMUIE, 4) == 0b110
    aon.write(PMUKEY, 4, KEY)
    aon.write(PMUSLEEP, 4, 1)
    assert aon.dropped_writes["write of pmusleep: sleep is not modelled, the core runs on"] == 1
    assert aon.read(PMUCAUSE, 4) == 0
