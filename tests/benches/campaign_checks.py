"""What the two fault-campaign test files (test_fault_campaign_uart.py and _gpio.py) check
alike: one board's campaign of `RUNS` seeded runs against one driver, and the checks that do
not depend on the driver. They are two files so that `--dist loadfile` runs them in parallel."""

from __future__ import annotations

from dataclasses import asdict

from bench.campaign import Campaign, Outcome, Settings, run_campaign

RUNS = 250
SEED = 1


def run_board(board: str, target: str):
    """One board's campaign against `target`: the booted Campaign and the results of its runs."""
    booted = Campaign(board)
    return booted, run_campaign(board, RUNS, SEED, targets=(target,), campaign=booted)


def describe(runs) -> str:
    return "\n".join(f"run {r.index} {r.kind}: {r.injection} -> {r.outcome}; {r.detail}; {r.bystander_detail}"
                     for r in runs[:10])


def assert_no_kernel_crash(result) -> None:
    crashes = [r for r in result.results if r.outcome == Outcome.KERNEL_CRASH]
    assert len(result.results) == RUNS
    assert not crashes, describe(crashes)


def assert_every_crash_restarted_and_recovered(result) -> None:
    crashed = [r for r in result.results if r.crashed]
    unrestarted = [r for r in crashed if not r.restarted or not r.recovered]
    assert len(crashed) >= 20                          # the campaign does crash the driver
    assert not unrestarted, describe(unrestarted)
    assert all(0 < r.recovery_ms <= Settings().recovery_bound * 1e3 for r in crashed)


def assert_no_silent_failure(result) -> None:
    """No run ends with the driver dead or hung and nobody noticing: every run that recovered
    neither by itself nor by a restart has a driver that still answers its heartbeats."""
    silent = [r for r in result.results if r.outcome == Outcome.SILENT]
    assert not silent, describe(silent)
    assert all(r.alive for r in result.results if r.outcome == Outcome.ALIVE)


def assert_kills_are_found_by_the_heartbeat(result, target: str) -> None:
    """A driver stopped with nobody told misses its next heartbeat: the kernel reports it as
    fault HUNG within `heartbeat_bound`, the supervisor restarts it and it answers again."""
    kills = [r for r in result.results if r.kind == "kill"]
    bound = Settings().heartbeat_bound * 1e3
    assert kills
    assert all(r.outcome == Outcome.RECOVERED and r.hung and r.restarted and 0 < r.latency_ms <= bound
               and r.detail.startswith(f"{target} ") and "last fault hung" in r.detail
               for r in kills), describe(kills)


def assert_recovered(result, at_least: float) -> None:
    recovered = sum(r.recovered for r in result.results) / len(result.results)
    assert recovered >= at_least, f"{recovered:.3f}"


def assert_replays_identically(booted, result, target: str) -> None:
    """The first run of each outcome and the first two runs, run again in reverse order, come
    out exactly as they did."""
    firsts = {r.outcome: r for r in reversed(result.results)}
    chosen = list(firsts.values()) + result.results[:2]
    again = [booted.run(target, r.index, SEED) for r in reversed(chosen)]
    assert [asdict(r) for r in reversed(again)] == [asdict(r) for r in chosen]
