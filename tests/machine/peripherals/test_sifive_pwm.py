"""FE310-G002 PWM on a bare bus, against the manual's PWM chapter: the counter and its scale,
zero-compare periods, one-shot runs, comparator interrupts with sticky ip bits, and duty cycles."""

import pytest

from machine.clock import Clock
from machine.peripherals import PERIPHERAL_TYPES
from machine.peripherals.sifive_pwm import SifivePwm

CFG, COUNT, S = 0x00, 0x08, 0x10
CMP = [0x20, 0x24, 0x28, 0x2C]
STICKY, ZEROCMP, ENALWAYS, ENONESHOT = 1 << 8, 1 << 9, 1 << 12, 1 << 13
IP = [1 << (28 + n) for n in range(4)]


@pytest.fixture
def clock():
    return Clock(16_000_000)


@pytest.fixture
def pwm(clock):
    return SifivePwm("pwm1", clock)


def test_the_board_file_type_name_gives_the_model():
    assert PERIPHERAL_TYPES["sifive-pwm0"] is SifivePwm


def test_comparator_width_other_than_8_or_16_is_refused():
    with pytest.raises(ValueError, match=r"pwm0: comparator_bits must be 8 \(PWM0\) or 16 \(PWM1, PWM2\), not 12"):
        SifivePwm("pwm0", Clock(1), comparator_bits=12)


def test_everything_resets_to_zero_and_stands(pwm, clock):
    clock.advance(1000)
    assert [pwm.read(o, 4) for o in (CFG, COUNT, S, *CMP)] == [0] * 7


def test_the_counter_counts_cycles_and_pwms_is_it_scaled(pwm, clock):
    pwm.write(CFG, 4, ENALWAYS | 3)
    clock.advance(1000)
    assert pwm.read(COUNT, 4) == 1000 and pwm.read(S, 4) == 1000 >> 3


def test_comparators_are_as_wide_as_the_block_says(clock):
    pwm0 = SifivePwm("pwm0", clock, comparator_bits=8)
    pwm0.write(CMP[1], 4, 0x1234)
    assert pwm0.read(CMP[1], 4) == 0x34


def test_zerocmp_makes_comparator_0_the_period(pwm, clock):
    pwm.write(CMP[0], 4, 99)
    pwm.write(CFG, 4, ENALWAYS | ZEROCMP)
    clock.advance(99)
    assert pwm.read(COUNT, 4) == 99
    clock.advance(1)
    assert pwm.read(COUNT, 4) == 0
    clock.advance(100 * 7 + 5)
    assert pwm.read(COUNT, 4) == 5


def test_a_comparator_reached_sets_its_ip_bit_and_output(pwm, clock):
    pwm.write(CMP[0], 4, 99)
    pwm.write(CMP[2], 4, 40)
    pwm.write(CFG, 4, ENALWAYS | ZEROCMP)
    clock.advance(39)
    assert not pwm.irq["cmp2"].level
    clock.advance(1)
    assert pwm.irq["cmp2"].level and pwm.read(CFG, 4) & IP[2] and not pwm.irq["cmp0"].level
    clock.advance(60)
    assert pwm.irq["cmp0"].level


def test_writing_pwmcfg_clears_ip_bits_unless_sticky(pwm, clock):
    pwm.write(CMP[0], 4, 9)
    pwm.write(CFG, 4, ENALWAYS | ZEROCMP)
    clock.advance(10)
    pwm.write(CFG, 4, ENALWAYS | ZEROCMP)
    assert not pwm.irq["cmp0"].level
    clock.advance(10)
    pwm.write(CFG, 4, ENALWAYS | ZEROCMP | STICKY)
    assert pwm.irq["cmp0"].level


def test_interrupts_come_once_a_period_when_the_handler_clears_them(pwm, clock):
    pwm.write(CMP[0], 4, 999)
    pwm.write(CFG, 4, ENALWAYS | ZEROCMP)
    fired = 0
    for _ in range(10_000):
        clock.advance(1)
        if pwm.irq["cmp0"].level:
            fired += 1
            pwm.write(CFG, 4, ENALWAYS | ZEROCMP)
    assert fired == 10


def test_a_one_shot_run_stops_at_zero_after_one_period(pwm, clock):
    pwm.write(CMP[0], 4, 49)
    pwm.write(CFG, 4, ENONESHOT | ZEROCMP)
    clock.advance(1000)
    assert pwm.read(COUNT, 4) == 0 and not pwm.read(CFG, 4) & ENONESHOT
    assert pwm.read(CFG, 4) & IP[0]


@pytest.mark.parametrize("cmp1, duty", [(0, 1.0), (25, 0.75), (75, 0.25), (100, 0.0)])
def test_duty_cycle_is_the_share_of_the_period_at_or_above_the_comparator(pwm, cmp1, duty):
    pwm.write(CMP[0], 4, 99)
    pwm.write(CMP[1], 4, cmp1)
    pwm.write(CFG, 4, ENALWAYS | ZEROCMP)
    assert pwm.duty_cycle(1) == pytest.approx(duty)


def test_without_zerocmp_the_period_is_the_comparator_range(clock):
    pwm0 = SifivePwm("pwm0", clock, comparator_bits=8)
    pwm0.write(CMP[3], 4, 64)
    pwm0.write(CFG, 4, ENALWAYS)
    assert pwm0.duty_cycle(3) == pytest.approx(0.75)
    clock.advance(64)
    assert pwm0.irq["cmp3"].level
