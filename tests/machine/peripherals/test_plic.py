"""SiFive PLIC on a bare bus: priorities, gateways, threshold and claim/complete order."""

import inspect
import logging

import pytest

from machine.clock import Clock
from machine.peripherals import PERIPHERAL_TYPES
from machine.peripherals.plic import Plic

PENDING0, PENDING1 = 0x1000, 0x1004
ENABLE0, ENABLE1 = 0x2000, 0x2004
THRESHOLD, CLAIM = 0x200000, 0x200004


def priority(source: int) -> int:
    return 4 * source


@pytest.fixture
def plic():
    return Plic("plic", Clock(16_000_000))


def arm(plic, source, prio=1):
    """Give `source` a priority, enable it, and raise its line."""
    plic.write(priority(source), 4, prio)
    plic.set_enabled(source, True)
    plic.set_line(source, True)


def test_the_registry_resolves_sifive_plic_and_its_params_match_init():
    cls = PERIPHERAL_TYPES["sifive-plic"]
    assert cls is Plic
    assert list(inspect.signature(cls.__init__).parameters)[3:] == list(cls.PARAMS)


def test_registers_reset_to_zero(plic):
    regs = [priority(s) for s in range(1, 53)] + [PENDING0, PENDING1, ENABLE0, ENABLE1, THRESHOLD, CLAIM]
    assert [plic.read(off, 4) for off in regs] == [0] * len(regs)
    assert plic.num_lines == 53


def test_priorities_keep_three_bits(plic):
    plic.write(priority(52), 4, 0xFF)
    assert plic.read(priority(52), 4) == 7


def test_there_is_no_priority_register_for_source_0(plic, caplog):
    with caplog.at_level(logging.WARNING, logger="atoll.machine"):
        plic.write(0x0, 4, 1)
    assert plic.unimplemented_accesses["offset 0x0"] == 1
    assert "plic: write of unimplemented register offset 0x0" in caplog.text


def test_there_is_no_priority_register_past_source_52(plic):
    plic.read(priority(53), 4)
    assert plic.unimplemented_accesses["offset 0xd4"] == 1


def test_the_supervisor_context_is_declared_absent(plic, caplog):
    with caplog.at_level(logging.WARNING, logger="atoll.machine"):
        plic.write(0x201000, 4, 0)
        plic.read(0x201004, 4)
        plic.write(0x2080, 4, 1)
    assert plic.unimplemented_accesses == {"threshold_ctx1": 1, "claim_ctx1": 1, "enable0_ctx1": 1}
    assert "unimplemented register threshold_ctx1" in caplog.text


def test_a_raised_line_shows_in_the_read_only_pending_bits(plic):
    plic.set_line(3, True)
    plic.set_line(52, True)
    plic.write(PENDING0, 4, 0)
    assert plic.read(PENDING0, 4) == 1 << 3
    assert plic.read(PENDING1, 4) == 1 << 20


def test_enable_bits_exist_only_for_sources_1_to_52(plic):
    plic.write(ENABLE0, 4, 0xFFFF_FFFF)
    plic.write(ENABLE1, 4, 0xFFFF_FFFF)
    assert plic.read(ENABLE0, 4) == 0xFFFF_FFFE
    assert plic.read(ENABLE1, 4) == 0x1F_FFFF


def test_is_enabled_follows_the_enable_registers(plic):
    plic.write(ENABLE1, 4, 1 << 1)
    assert plic.is_enabled(33) and not plic.is_enabled(32)
    plic.set_enabled(33, False)
    assert plic.read(ENABLE1, 4) == 0


def test_a_disabled_source_is_pending_but_not_delivered(plic):
    plic.write(priority(4), 4, 1)
    plic.set_line(4, True)
    assert plic.read(PENDING0, 4) == 1 << 4
    assert plic.pending() == [] and plic.claim() is None


def test_a_source_of_priority_0_is_never_delivered(plic):
    arm(plic, 4, prio=0)
    assert plic.pending() == []


def test_only_priorities_above_the_threshold_are_delivered(plic):
    arm(plic, 1, prio=3)
    arm(plic, 2, prio=4)
    plic.write(THRESHOLD, 4, 3)
    assert plic.pending() == [2]
    plic.write(THRESHOLD, 4, 7)
    assert plic.pending() == []


def test_claims_come_highest_priority_first_and_ties_by_lowest_id(plic):
    arm(plic, 5, prio=2)
    arm(plic, 9, prio=7)
    arm(plic, 3, prio=2)
    assert plic.pending() == [9, 3, 5]
    assert [plic.claim(), plic.claim(), plic.claim(), plic.claim()] == [9, 3, 5, None]


def test_reading_the_claim_register_claims_and_clears_pending(plic):
    arm(plic, 8)
    assert plic.read(CLAIM, 4) == 8
    assert plic.read(PENDING0, 4) == 0
    assert plic.read(CLAIM, 4) == 0


def test_a_claimed_source_does_not_pend_again_until_completed(plic):
    arm(plic, 8)
    plic.claim()
    plic.set_line(8, False)
    plic.set_line(8, True)
    assert plic.pending() == []
    plic.complete(8)
    assert plic.pending() == [8]


def test_a_completed_source_whose_line_fell_stays_idle(plic):
    arm(plic, 8)
    plic.claim()
    plic.set_line(8, False)
    plic.complete(8)
    assert plic.pending() == [] and plic.read(PENDING0, 4) == 0


def test_a_pending_source_stays_pending_when_its_line_falls_before_the_claim(plic):
    arm(plic, 8)
    plic.set_line(8, False)
    assert plic.claim() == 8


def test_writing_the_claim_register_completes_the_source(plic):
    arm(plic, 8)
    assert plic.read(CLAIM, 4) == 8
    plic.write(CLAIM, 4, 8)
    assert plic.pending() == [8]


def test_a_completion_for_a_source_not_enabled_is_ignored(plic):
    arm(plic, 8)
    plic.read(CLAIM, 4)
    plic.set_enabled(8, False)
    plic.write(CLAIM, 4, 8)
    plic.set_enabled(8, True)
    assert plic.pending() == []


def test_the_listener_is_called_when_a_source_becomes_deliverable(plic):
    calls = []
    plic.listener = lambda: calls.append(plic.pending())
    plic.write(priority(6), 4, 1)
    plic.set_line(6, True)
    assert calls == []
    plic.set_enabled(6, True)
    assert calls == [[6]]


def test_the_listener_is_called_when_a_completed_source_pends_again(plic):
    arm(plic, 6)
    plic.claim()
    calls = []
    plic.listener = lambda: calls.append(plic.pending())
    plic.complete(6)
    assert calls == [[6]]


def test_set_line_refuses_source_0_and_sources_past_52(plic):
    with pytest.raises(ValueError, match=r"plic: interrupt source must be an integer from 1 to 52, not 0"):
        plic.set_line(0, True)
    with pytest.raises(ValueError, match=r"not 53"):
        plic.set_line(53, True)


def test_num_sources_and_priority_bits_are_parameters():
    plic = Plic("plic", Clock(1), num_sources=100, priority_bits=5)
    plic.write(priority(100), 4, 0xFF)
    assert plic.read(priority(100), 4) == 0x1F
    plic.set_line(100, True)
    assert plic.read(0x100C, 4) == 1 << 4
    assert plic.num_lines == 101


def test_a_bad_parameter_is_refused_with_its_name():
    with pytest.raises(ValueError, match=r"plic: num_sources must be an integer from 1 to 1023, not 0"):
        Plic("plic", Clock(1), num_sources=0)


def test_a_snapshot_restores_pending_in_flight_and_configuration(plic):
    arm(plic, 5, prio=2)
    arm(plic, 7, prio=3)
    plic.claim()
    twin = Plic("plic", Clock(1))
    twin.restore(plic.snapshot())
    assert twin.pending() == [5]
    twin.complete(7)
    assert twin.pending() == [7, 5]


def test_reset_forgets_claims_and_pends_lines_that_are_still_high(plic):
    arm(plic, 5)
    plic.claim()
    plic.reset()
    assert plic.read(PENDING0, 4) == 1 << 5
    assert plic.read(priority(5), 4) == 0 and not plic.is_enabled(5)


def test_set_priority_makes_a_pending_source_deliverable_as_a_register_write_would():
    from machine.clock import Clock
    from machine.peripherals.plic import Plic

    plic = Plic("plic", Clock(16_000_000))
    plic.set_enabled(3, True)
    plic.set_line(3, True)
    assert plic.pending() == []

    plic.set_priority(3, 2)

    assert plic.pending() == [3]
    assert plic.read(4 * 3, 4) == 2  # source N's priority register is at 4 * N
