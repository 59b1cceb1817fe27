"""Fault injection into the gpio driver of the demo, 250 seeded runs per board (bench/campaign.py;
with test_fault_campaign_uart.py, 1,000 runs per `make test`).

Each run restores one booted demo, injects one fault into the gpio driver (a flipped bit in its
code, data, live stack or saved registers, a fault through the kernel, a kill nobody is told of,
or one of its pin interrupt lines stuck high for up to 2 ms: the demo routes none of them, so the
controller never delivers it), types an empty line at the shell and probes with ``led on`` /
``led off`` until the shell reports success with the LED at that level, or 30 ms of virtual time
pass (from the injection, or from the driver's latest fault); a recovered driver must also get
blinky's next toggle through. docs/fault-injection.md has the figures.

What holds in every run: the kernel never crashes; a driver that crashed is restarted by the
supervisor, answers the shell and toggles blinky's LED again; a killed driver misses its next
heartbeat and is restarted the same way; no run is a silent failure (a driver that does not
answer its heartbeats and that nobody restarted); the uart side keeps working (the shell
answers the empty line with its prompt within 20 ms of the injection, while the gpio driver is
down or confused); no other component faults.

Recovered fractions measured with seed 1 (250 runs a board): 99.2% on mps2-an385 and 97.2% on
hifive1; the rest are drivers alive but serving wrongly (docs/fault-injection.md says how). The
threshold below keeps about 3 points (8 runs) of margin, for changes of the driver's code (a
rebuild moves which instructions the seeded flips hit).
"""

from __future__ import annotations

import pytest

from atoll.pytest_plugin import BOARDS
from bench.campaign import Outcome
from tests.benches import campaign_checks as check
from tests.benches.campaign_checks import describe

TARGET = "gpio"
MIN_RECOVERED = 0.94                 # measured 0.992 and 0.972


@pytest.fixture(scope="module", params=BOARDS)
def campaign(request):
    """One board's campaign: the booted Campaign and the results of its runs."""
    return check.run_board(request.param, TARGET)


def test_no_injection_into_the_gpio_driver_crashes_or_hangs_the_kernel(campaign):
    check.assert_no_kernel_crash(campaign[1])


def test_every_crash_of_the_gpio_driver_ends_with_a_restart_and_the_leds_answering_again(campaign):
    check.assert_every_crash_restarted_and_recovered(campaign[1])


def test_the_shell_answers_an_empty_line_during_every_gpio_fault(campaign):
    _, result = campaign
    silent = [r for r in result.results if not r.bystander_check]

    assert not silent, describe(silent)


def test_no_other_component_faults_or_stops_because_of_a_gpio_fault(campaign):
    _, result = campaign
    hurt = [r for r in result.results if r.bystander_faults or r.bystanders_down]

    assert not hurt, describe(hurt)


def test_a_killed_gpio_driver_misses_its_next_heartbeat_and_is_restarted(campaign):
    check.assert_kills_are_found_by_the_heartbeat(campaign[1], TARGET)


def test_no_gpio_fault_ends_in_a_silent_failure(campaign):
    check.assert_no_silent_failure(campaign[1])


def test_a_stuck_pin_interrupt_that_is_not_routed_has_no_effect(campaign):
    _, result = campaign
    stuck = [r for r in result.results if r.kind == "stuck-irq"]

    assert stuck
    assert all(r.outcome == Outcome.NO_EFFECT for r in stuck), describe(stuck)


def test_the_leds_answer_again_in_most_runs(campaign):
    check.assert_recovered(campaign[1], MIN_RECOVERED)


def test_the_campaign_replays_identically_from_its_seed_in_any_order(campaign):
    check.assert_replays_identically(*campaign, TARGET)
