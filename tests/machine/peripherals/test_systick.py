"""SysTick (ARMv7-M ARM B3.3) on a bare bus: the NVIC's SysTick registers with the guest exception
model attached, the clock advanced with the CPU idle."""

from __future__ import annotations

import pytest

from machine import Machine
from machine.exceptions.armv7m import SYSTICK, Armv7mExceptions

CSR, RVR, CVR, CALIB, ICSR = 0x010, 0x014, 0x018, 0x01C, 0xD04
ENABLE, TICKINT, CLKSOURCE, COUNTFLAG = 1, 2, 4, 1 << 16
PENDSTSET = 1 << 26


@pytest.fixture
def board():
    machine = Machine("mps2-an385")
    model = Armv7mExceptions(machine)
    return machine, machine.peripheral("nvic"), model


def test_the_counter_reloads_on_the_step_after_zero_so_a_period_is_rvr_plus_one(board):
    machine, scs, _ = board
    scs.write(RVR, 4, 99)
    scs.write(CVR, 4, 1234)
    scs.write(CSR, 4, ENABLE | CLKSOURCE)
    assert scs.read(CVR, 4) == 0                 # the write cleared it
    machine.clock.advance(1)
    assert scs.read(CVR, 4) == 99                # reloaded on the first step
    machine.clock.advance(99)
    assert scs.read(CVR, 4) == 0
    machine.clock.advance(1)
    assert scs.read(CVR, 4) == 99


def test_countflag_sets_at_the_step_to_zero_and_a_read_of_csr_clears_it(board):
    machine, scs, _ = board
    scs.write(RVR, 4, 9)
    scs.write(CSR, 4, ENABLE | CLKSOURCE)
    machine.clock.advance(10)
    assert scs.read(CSR, 4) == ENABLE | CLKSOURCE | COUNTFLAG
    assert scs.read(CSR, 4) == ENABLE | CLKSOURCE


def test_a_write_to_cvr_clears_countflag(board):
    machine, scs, _ = board
    scs.write(RVR, 4, 9)
    scs.write(CSR, 4, ENABLE | CLKSOURCE)
    machine.clock.advance(15)
    scs.write(CVR, 4, 0xFFFF)
    assert scs.read(CVR, 4) == 0 and not scs.read(CSR, 4) & COUNTFLAG


def test_tickint_pends_the_systick_exception_at_every_step_to_zero(board):
    machine, scs, model = board
    scs.write(RVR, 4, 49)
    scs.write(CSR, 4, ENABLE | TICKINT | CLKSOURCE)
    machine.clock.advance(49)
    assert not scs.read(ICSR, 4) & PENDSTSET
    machine.clock.advance(1)                      # 49 loaded at cycle 1, 0 at cycle 50
    assert scs.read(ICSR, 4) & PENDSTSET and model.sys_pending >> SYSTICK & 1
    scs.write(ICSR, 4, 1 << 25)                   # PENDSTCLR
    machine.clock.advance(50)
    assert scs.read(ICSR, 4) & PENDSTSET


def test_without_tickint_nothing_pends(board):
    machine, scs, _ = board
    scs.write(RVR, 4, 9)
    scs.write(CSR, 4, ENABLE | CLKSOURCE)
    machine.clock.advance(100)
    assert not scs.read(ICSR, 4) & PENDSTSET


def test_clksource_0_counts_the_1_mhz_reference_clock_and_calib_says_so(board):
    machine, scs, _ = board
    assert scs.read(CALIB, 4) == 0x0000270F        # NOREF 0, SKEW 0, TENMS 9999 (10 ms at 1 MHz)
    scs.write(RVR, 4, 1000)
    scs.write(CSR, 4, ENABLE)
    machine.clock.advance(25)                      # one microsecond at 25 MHz
    assert scs.read(CVR, 4) == 1000
    machine.clock.advance(25 * 10)
    assert scs.read(CVR, 4) == 990


def test_only_the_24_bits_of_rvr_are_kept(board):
    _, scs, _ = board
    scs.write(RVR, 4, 0xFFFF_FFFF)
    assert scs.read(RVR, 4) == 0xFF_FFFF


def test_a_snapshot_brings_back_the_count_and_the_next_tick(board):
    machine, scs, model = board
    scs.write(RVR, 4, 99)
    scs.write(CSR, 4, ENABLE | TICKINT | CLKSOURCE)
    machine.clock.advance(30)
    snap = machine.snapshot()
    machine.clock.advance(500)
    machine.restore(snap)
    assert scs.read(CVR, 4) == 70 and not model.sys_pending >> SYSTICK & 1
    machine.clock.advance(70)
    assert model.sys_pending >> SYSTICK & 1
