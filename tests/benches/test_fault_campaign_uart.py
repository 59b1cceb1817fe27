"""Fault injection into the uart driver of the demo, 250 seeded runs per board (bench/campaign.py;
with test_fault_campaign_gpio.py, 1,000 runs per `make test`).

Each run restores one booted demo, types an empty line, injects one fault into the uart driver (a
flipped bit in its code, data, live stack or saved registers, a fault through the kernel, a kill
nobody is told of, or its interrupt line stuck high for up to 2 ms) and probes the shell with
``echo`` until it answers or 30 ms of virtual time pass (from the injection, or from the driver's
latest fault). docs/fault-injection.md has the figures.

What holds in every run: the kernel never crashes; a driver that crashed is restarted by the
supervisor and the shell answers again; a killed driver misses its next heartbeat and is
restarted the same way; no run is a silent failure (a driver that does not answer its
heartbeats and that nobody restarted); no other component is left stopped; and the gpio side
(blinky toggling its LED through the gpio driver) keeps working in every run where the uart
driver crashed or shrugged the fault off. Where it stays alive but serves wrongly (a corrupted
ring pointer feeding the shell input without end) blinky can starve: the shell (priority 4)
runs ahead of it (priority 5).

Recovered fractions measured with seed 1 (250 runs a board): 95.2% on mps2-an385 and 97.6% on
hifive1; the rest are drivers alive but serving wrongly (docs/fault-injection.md says how). The
threshold below keeps about 3 points (8 runs) of margin, for changes of the drivers' code (a
rebuild moves which instructions the seeded flips hit).
"""

from __future__ import annotations

import pytest

from atoll.pytest_plugin import BOARDS
from atoll.testbench import Device
from bench.campaign import BLINKY_PIN, Outcome
from tests.benches import campaign_checks as check
from tests.benches.campaign_checks import RUNS, describe
from tests.conftest import ROOT

TARGET = "uart"
MIN_RECOVERED = 0.92                 # measured 0.952 and 0.976


@pytest.fixture(scope="module", params=BOARDS)
def campaign(request):
    """One board's campaign: the booted Campaign and the results of its runs."""
    return check.run_board(request.param, TARGET)


def test_no_injection_into_the_uart_driver_crashes_or_hangs_the_kernel(campaign):
    check.assert_no_kernel_crash(campaign[1])


def test_every_crash_of_the_uart_driver_ends_with_a_restart_and_the_shell_answering(campaign):
    check.assert_every_crash_restarted_and_recovered(campaign[1])


def test_the_gpio_side_keeps_working_whenever_the_uart_driver_crashed_or_shrugged_the_fault_off(campaign):
    _, result = campaign
    contained = [r for r in result.results
                 if r.outcome in (Outcome.NO_EFFECT, Outcome.DISTURBED, Outcome.RECOVERED)]
    starved = [r for r in contained if not r.bystander_check]

    assert len(contained) >= 0.8 * RUNS
    assert not starved, describe(starved)


def test_no_other_component_is_left_stopped_by_a_uart_fault(campaign):
    _, result = campaign
    down = [r for r in result.results if r.bystanders_down]

    assert not down, describe(down)


def test_a_killed_uart_driver_misses_its_next_heartbeat_and_is_restarted(campaign):
    check.assert_kills_are_found_by_the_heartbeat(campaign[1], TARGET)


def test_no_uart_fault_ends_in_a_silent_failure(campaign):
    check.assert_no_silent_failure(campaign[1])


def test_the_shell_answers_again_in_most_runs(campaign):
    check.assert_recovered(campaign[1], MIN_RECOVERED)


def test_the_campaign_replays_identically_from_its_seed_in_any_order(campaign):
    check.assert_replays_identically(*campaign, TARGET)


def test_blinky_keeps_toggling_after_the_uart_driver_was_killed():
    dut = Device(ROOT / "firmware" / "images" / "demo-hifive1.toml")
    dut.expect("atoll> ")
    dut.run_until(lambda: dut.now >= 0.45, timeout=1)
    toggles = len(dut.gpio.edges(BLINKY_PIN["hifive1"]))

    dut.kill("uart")
    dut.run_for("100ms")                   # blinky's toggle was due at 0.5 s

    assert len(dut.gpio.edges(BLINKY_PIN["hifive1"])) > toggles


@pytest.mark.parametrize("board", BOARDS)
def test_a_corrupted_uart_driver_cannot_crash_the_shell(board):
    dut = Device(ROOT / "firmware" / "images" / f"demo-{board}.toml")
    dut.expect("atoll> ")
    dut.run_until(lambda: dut.component("uart").state == "receiving", timeout="10ms")
    # Bit 10 of the waiting driver's pc: it resumes inside serve_waiting, with the registers of
    # the receive loop, and replies to the shell's held READ with a count taken from lr.
    context, pc = dut.process("uart").thread.context, dut.machine.cpu.REGISTERS["pc"]
    context.reg_write(pc, context.reg_read(pc) ^ 1 << 10 | (1 if board == "mps2-an385" else 0))
    dut.write("x")
    dut.run_for("30ms")
    if dut.fault_count("uart") != 1 or dut.restart_count("uart") != 1:
        pytest.fail("the flipped pc no longer crashes the uart driver: this test needs another injection")

    assert dut.fault_count("shell") == 0, dut.process("shell").last_fault
