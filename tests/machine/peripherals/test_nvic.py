"""Cortex-M3 NVIC on a bare bus: SCS registers and the InterruptController contract."""

import logging

import pytest

from machine.clock import Clock
from machine.peripherals import PERIPHERAL_TYPES
from machine.irq import IrqLine
from machine.peripherals.nvic import Nvic

ICTR, CPUID, STIR = 0x004, 0xD00, 0xF00
ISER, ICER, ISPR, ICPR, IABR, IPR = 0x100, 0x180, 0x200, 0x280, 0x300, 0x400


@pytest.fixture
def nvic():
    return Nvic("nvic", Clock(25_000_000))


@pytest.fixture
def calls(nvic):
    heard = []
    nvic.listener = lambda: heard.append(1)
    return heard


def test_cpuid_reads_cortex_m3_r2p1(nvic):
    assert nvic.read(CPUID, 4) == 0x412FC231


def test_cpuid_ignores_writes(nvic):
    nvic.write(CPUID, 4, 0)
    assert nvic.read(CPUID, 4) == 0x412FC231


@pytest.mark.parametrize("num_irq, lines", [(32, 0), (33, 1), (64, 1), (240, 7)])
def test_ictr_gives_the_number_of_32_line_blocks_minus_one(num_irq, lines):
    assert Nvic("nvic", Clock(1), num_irq=num_irq).read(ICTR, 4) == lines


@pytest.mark.parametrize("base", [ISER, ICER, ISPR, ICPR, IABR])
def test_enable_pending_and_active_words_reset_to_zero(nvic, base):
    assert [nvic.read(base + 4 * n, 4) for n in range(8)] == [0] * 8


def test_priorities_reset_to_zero(nvic):
    assert [nvic.read(IPR + 4 * n, 4) for n in range(60)] == [0] * 60


def test_iser_enables_and_both_iser_and_icer_read_the_enables(nvic):
    nvic.write(ISER, 4, 0x8000_0101)
    assert nvic.read(ISER, 4) == 0x8000_0101
    assert nvic.read(ICER, 4) == 0x8000_0101
    assert nvic.is_enabled(31) and nvic.is_enabled(8) and not nvic.is_enabled(1)


def test_writing_zeros_to_iser_changes_nothing(nvic):
    nvic.write(ISER, 4, 0b11)
    nvic.write(ISER, 4, 0)
    assert nvic.read(ISER, 4) == 0b11


def test_icer_disables_only_the_bits_written_as_one(nvic):
    nvic.write(ISER, 4, 0b111)
    nvic.write(ICER, 4, 0b010)
    assert nvic.read(ISER, 4) == 0b101


def test_bits_beyond_the_implemented_lines_read_as_zero(nvic):
    nvic.write(ISER + 4, 4, 0xFFFF_FFFF)
    nvic.write(ISPR + 4, 4, 0xFFFF_FFFF)
    assert nvic.read(ISER + 4, 4) == 0 and nvic.read(ISPR + 4, 4) == 0


def test_the_second_word_covers_lines_32_to_63():
    nvic = Nvic("nvic", Clock(1), num_irq=64)
    nvic.write(ISER + 4, 4, 1 << 3)
    assert nvic.is_enabled(35)


def test_ispr_sets_pending_and_icpr_clears_it(nvic):
    nvic.write(ISPR, 4, 0b1001)
    assert nvic.read(ISPR, 4) == 0b1001 and nvic.read(ICPR, 4) == 0b1001
    nvic.write(ICPR, 4, 0b0001)
    assert nvic.read(ISPR, 4) == 0b1000


def test_icpr_does_not_clear_a_line_whose_level_is_still_high(nvic):
    nvic.set_line(4, True)
    nvic.write(ICPR, 4, 1 << 4)
    assert nvic.read(ISPR, 4) == 1 << 4


def test_iabr_shows_claimed_lines_and_ignores_writes(nvic):
    nvic.set_enabled(6, True)
    nvic.set_line(6, True)
    nvic.claim()
    nvic.write(IABR, 4, 0xFFFF_FFFF)
    assert nvic.read(IABR, 4) == 1 << 6


def test_priorities_keep_only_the_implemented_top_bits(nvic):
    nvic.write(IPR, 4, 0xFFFF_FFFF)
    assert nvic.read(IPR, 4) == 0xE0E0_E0E0


def test_priority_bits_is_a_parameter():
    nvic = Nvic("nvic", Clock(1), priority_bits=4)
    nvic.write(IPR, 4, 0xFFFF_FFFF)
    assert nvic.read(IPR, 4) == 0xF0F0_F0F0


def test_priorities_are_byte_accessible(nvic):
    nvic.write(IPR + 5, 1, 0x40)
    assert nvic.read(IPR + 4, 4) == 0x0000_4000
    assert nvic.read(IPR + 5, 1) == 0x40
    assert nvic.priority(5) == 0x40


def test_priorities_of_missing_lines_read_as_zero(nvic):
    nvic.write(IPR + 4 * 8, 4, 0xFFFF_FFFF)   # lines 32-35 do not exist with 32 lines
    assert nvic.read(IPR + 4 * 8, 4) == 0


def test_stir_pends_the_line_it_names(nvic):
    nvic.write(STIR, 4, 17)
    assert nvic.read(ISPR, 4) == 1 << 17


def test_stir_reads_as_zero(nvic):
    nvic.write(STIR, 4, 17)
    assert nvic.read(STIR, 4) == 0


def test_a_rising_line_becomes_pending(nvic):
    nvic.set_line(2, True)
    assert nvic.is_pending(2)


def test_pending_stays_latched_when_the_line_drops(nvic):
    nvic.set_line(2, True)
    nvic.set_line(2, False)
    assert nvic.is_pending(2)


def test_pending_lists_only_enabled_lines(nvic):
    nvic.set_line(2, True)
    nvic.set_line(3, True)
    nvic.set_enabled(3, True)
    assert nvic.pending() == [3]


def test_pending_orders_by_priority_value_then_by_number(nvic):
    for line in (1, 2, 7, 9):
        nvic.set_enabled(line, True)
        nvic.set_line(line, True)
    nvic.write(IPR + 9, 1, 0x20)     # line 9: priority 0x20
    nvic.write(IPR + 1, 1, 0x40)     # line 1: priority 0x40
    assert nvic.pending() == [2, 7, 9, 1]


def test_claim_takes_the_most_urgent_line_and_makes_it_active(nvic):
    for line in (4, 5):
        nvic.set_enabled(line, True)
        nvic.set_line(line, True)
    nvic.write(IPR + 5, 1, 0x00)
    nvic.write(IPR + 4, 1, 0x80)
    assert nvic.claim() == 5
    assert nvic.is_active(5) and not nvic.is_pending(5)
    assert nvic.pending() == [4]


def test_claim_with_nothing_pending_gives_none(nvic):
    assert nvic.claim() is None


def test_a_line_held_high_while_active_is_not_pending(nvic):
    nvic.set_enabled(3, True)
    nvic.set_line(3, True)
    nvic.claim()
    assert nvic.pending() == []


def test_completing_a_line_still_high_makes_it_pending_again(nvic, calls):
    nvic.set_enabled(3, True)
    nvic.set_line(3, True)
    nvic.claim()
    calls.clear()
    nvic.complete(3)
    assert not nvic.is_active(3) and nvic.pending() == [3]
    assert calls == [1]


def test_completing_a_line_that_dropped_leaves_nothing_pending(nvic):
    nvic.set_enabled(3, True)
    nvic.set_line(3, True)
    nvic.claim()
    nvic.set_line(3, False)
    nvic.complete(3)
    assert nvic.pending() == [] and not nvic.is_active(3)


def test_a_new_rising_edge_while_active_pends_the_line(nvic):
    nvic.set_enabled(3, True)
    nvic.set_line(3, True)
    nvic.claim()
    nvic.set_line(3, False)
    nvic.set_line(3, True)
    assert nvic.is_pending(3) and nvic.is_active(3)


def test_the_listener_hears_an_enabled_line_becoming_pending(nvic, calls):
    nvic.set_enabled(1, True)
    nvic.set_line(1, True)
    assert calls == [1]


def test_the_listener_hears_nothing_for_a_disabled_line(nvic, calls):
    nvic.set_line(1, True)
    assert calls == []


def test_the_listener_hears_a_pending_line_being_enabled(nvic, calls):
    nvic.set_line(1, True)
    nvic.write(ISER, 4, 1 << 1)
    assert calls == [1]


def test_the_listener_hears_a_software_pend_through_stir(nvic, calls):
    nvic.set_enabled(12, True)
    nvic.write(STIR, 4, 12)
    assert calls == [1]


def test_set_enabled_masks_and_unmasks_a_line(nvic):
    nvic.set_line(0, True)
    nvic.set_enabled(0, True)
    nvic.set_enabled(0, False)
    assert nvic.pending() == [] and nvic.read(ISER, 4) == 0


def test_an_irq_line_wired_to_the_nvic_pends_its_input(nvic):
    line = IrqLine("uart0.rx")
    line.connect(nvic, 0)
    nvic.set_enabled(0, True)
    line.set(True)
    assert nvic.pending() == [0]


def test_a_line_number_out_of_range_is_refused(nvic):
    with pytest.raises(ValueError, match=r"nvic: interrupt line must be an integer in 0\.\.31, not 32"):
        nvic.set_line(32, True)


@pytest.mark.parametrize("params, message", [
    ({"num_irq": 0}, r"nvic: num_irq must be an integer in 1\.\.240, not 0"),
    ({"num_irq": 241}, r"nvic: num_irq must be an integer in 1\.\.240, not 241"),
    ({"priority_bits": 9}, r"nvic: priority_bits must be an integer in 1\.\.8, not 9"),
])
def test_bad_parameters_are_refused_with_their_range(params, message):
    with pytest.raises(ValueError, match=message):
        Nvic("nvic", Clock(1), **params)


def test_num_lines_follows_num_irq():
    assert Nvic("nvic", Clock(1), num_irq=48).num_lines == 48


def test_params_declares_its_keyword_parameters():
    assert Nvic.PARAMS == {"num_irq": int, "priority_bits": int}


def test_reset_clears_enables_and_active_but_keeps_high_lines_pending(nvic):
    nvic.set_enabled(2, True)
    nvic.set_line(2, True)
    nvic.set_line(5, True)
    nvic.set_line(5, False)
    nvic.claim()
    nvic.reset()
    assert nvic.read(ISER, 4) == 0 and nvic.read(IABR, 4) == 0
    assert nvic.read(ISPR, 4) == 1 << 2


def test_a_snapshot_restores_enables_pending_active_and_priorities(nvic):
    nvic.set_enabled(2, True)
    nvic.set_line(2, True)
    nvic.set_line(9, True)
    nvic.write(IPR + 9, 1, 0xA0)
    nvic.claim()
    other = Nvic("other", Clock(1))
    other.restore(nvic.snapshot())
    assert other.read(IABR, 4) == 1 << 2 and other.read(ISPR, 4) == 1 << 9
    assert other.priority(9) == 0xA0 and other.is_enabled(2)


@pytest.mark.parametrize("offset, name", [(0x008, "ACTLR"), (0xD30, "DFSR"), (0xD3C, "AFSR"),
                                          (0xD94, "MPU_CTRL"), (0xDF0, "DHCSR")])
def test_access_to_an_unmodelled_scs_register_is_logged_by_name(nvic, caplog, offset, name):
    with caplog.at_level(logging.WARNING, logger="atoll.machine"):
        assert nvic.read(offset, 4) == 0
        nvic.write(offset, 4, 1)
    assert nvic.unimplemented_accesses[name] == 2
    assert f"nvic: read of unimplemented register {name}" in caplog.text


def test_access_to_an_undeclared_scs_offset_is_logged_by_offset(nvic, caplog):
    with caplog.at_level(logging.WARNING, logger="atoll.machine"):
        nvic.read(0xE00, 4)
    assert nvic.unimplemented_accesses["offset 0xe00"] == 1


def test_the_registry_resolves_armv7m_nvic_to_this_model():
    assert PERIPHERAL_TYPES["armv7m-nvic"] is Nvic
