"""FE310-G002 PRCI on a bare bus, against the manual's clock-generation chapter: reset values,
the ready bits firmware spins on, the PLL lock after its lock time, and the implied core clock."""

import pytest

from machine.clock import Clock
from machine.peripherals import PERIPHERAL_TYPES
from machine.peripherals.sifive_prci import SifivePrci

HZ = 16_000_000
HFROSCCFG, HFXOSCCFG, PLLCFG, PLLOUTDIV, PROCMONCFG = 0x00, 0x04, 0x08, 0x0C, 0xF0
RDY = LOCK = 1 << 31
PLLSEL, PLLREFSEL, PLLBYPASS = 1 << 16, 1 << 17, 1 << 18


@pytest.fixture
def clock():
    return Clock(HZ)


@pytest.fixture
def prci(clock):
    return SifivePrci("prci", clock)


def pll(r, f, q):
    return r | f << 4 | q << 10


def test_the_board_file_type_name_gives_the_model():
    assert PERIPHERAL_TYPES["sifive-prci"] is SifivePrci


def test_registers_reset_as_the_manual_says(prci):
    assert prci.read(HFROSCCFG, 4) == 0xC010_0004      # div 4, trim 16, enabled and ready
    assert prci.read(HFXOSCCFG, 4) == 0xC000_0000      # enabled and ready
    assert prci.read(PLLCFG, 4) == 0x0006_0DF1         # r 1, f 0x1F, q 3, refsel, bypass; not locked
    assert prci.read(PLLOUTDIV, 4) == 0x100


def test_an_oscillator_is_ready_while_enabled(prci):
    prci.write(HFXOSCCFG, 4, 0)
    assert prci.read(HFXOSCCFG, 4) == 0
    prci.write(HFXOSCCFG, 4, 1 << 30)
    assert prci.read(HFXOSCCFG, 4) & RDY


def test_ready_and_lock_bits_ignore_writes(prci):
    prci.write(PLLCFG, 4, PLLBYPASS | LOCK)
    assert not prci.read(PLLCFG, 4) & LOCK


def test_the_pll_locks_100_us_after_it_is_configured_unbypassed(prci, clock):
    prci.write(PLLCFG, 4, PLLSEL | PLLREFSEL | pll(1, 31, 1))
    clock.advance(clock.cycles(100e-6) - 1)
    assert not prci.read(PLLCFG, 4) & LOCK
    clock.advance(1)
    assert prci.read(PLLCFG, 4) & LOCK


def test_changing_the_pll_dividers_loses_lock(prci, clock):
    prci.write(PLLCFG, 4, PLLREFSEL | pll(1, 31, 1))
    clock.advance(HZ)
    prci.write(PLLCFG, 4, PLLREFSEL | pll(1, 20, 1))
    assert not prci.read(PLLCFG, 4) & LOCK
    prci.write(PLLCFG, 4, PLLREFSEL | PLLSEL | pll(1, 20, 1))   # selecting it does not restart the lock time
    clock.advance(HZ)
    assert prci.read(PLLCFG, 4) & LOCK


def test_the_implied_core_clock_follows_the_manual_formula(prci):
    assert prci.hfclk_hz() == 72_000_000 // 5                  # HFROSC / (4 + 1) at reset
    prci.write(PLLCFG, 4, PLLSEL | PLLREFSEL | pll(1, 31, 1))   # 16 MHz / 2 * 64 / 2 = 256 MHz
    assert prci.hfclk_hz() == 256_000_000
    prci.write(PLLOUTDIV, 4, 1)                                 # / (2 * (1 + 1))
    assert prci.hfclk_hz() == 64_000_000
    prci.write(PLLCFG, 4, PLLSEL | PLLREFSEL | PLLBYPASS)
    prci.write(PLLOUTDIV, 4, 0x100)
    assert prci.hfclk_hz() == 16_000_000


def test_procmoncfg_keeps_its_fields(prci):
    prci.write(PROCMONCFG, 4, 0xFFFF_FFFF)
    assert prci.read(PROCMONCFG, 4) == 0x0301_1F1F
