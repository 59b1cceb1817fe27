"""Per-component restart policies (the image's `restart` keys) on both boards: restart at
once, backoff (the supervisor's), hold for inspection, reboot the system, and a limit per
time window past which a component is held or the system rebooted. A failing supervisor
does not take the kernel with it; what happens to it is its own policy.

tests/kernel/guest/failer exits with code 3 after 15 ms; crasher faults at once.
"""

from __future__ import annotations

import pytest

from kernel.process import State
from kernel.rules import RestartPolicy
from machine import Fault, FaultKind
from scenario import add_bystander, bystander_intact
from system_harness import BOARDS, System, guests  # noqa: F401  (fixture)
from test_supervisor import gaps, starts_ms, supervised


@pytest.fixture(params=BOARDS)
def board(request):
    return request.param


def failing(board, guests, policy: RestartPolicy | None, supervisor: bool = True) -> System:
    system = System(board, guests)
    system.add("failer", priority=3, restart=policy)
    add_bystander(system)
    if supervisor:
        supervised(system, "failer")
    return system


def test_restart_brings_a_component_back_at_once_with_no_backoff(board, guests):
    system = failing(board, guests, RestartPolicy("restart"))
    system.run(0.1)

    starts = starts_ms(system, "failer", "failer: start")
    assert len(starts) == 7 and max(gaps(starts)) < 15.5
    # told by the FAULT message's ATL_FAULT_RESTART_AT_ONCE bit, the supervisor skips its backoff
    index = system.kernel.process("failer").index
    assert system.output("supervisor")[0] == f"supervisor: component {index} exited with code 3, restarting in 0 ms"


def test_backoff_is_the_default_for_a_supervised_component(board, guests):
    system = failing(board, guests, None)
    system.run(0.1)

    # exits at 15 ms, back after 10 ms; at 40 ms, back after 20; at 75 ms, back after 40
    assert gaps(starts_ms(system, "failer", "failer: start")) == pytest.approx([25, 35], abs=0.5)


def test_hold_leaves_a_failed_component_stopped_and_its_supervisor_uninformed(board, guests):
    system = failing(board, guests, RestartPolicy("hold"))
    system.run(0.1)

    failer = system.kernel.process("failer")
    assert failer.thread.state is State.EXITED and failer.restarts == 0 and failer.exit_code == 3
    assert system.output("supervisor") == []
    assert bystander_intact(system)


def test_past_its_limit_a_component_is_held(board, guests):
    system = failing(board, guests, RestartPolicy("restart", limit=3, window_ms=1000, then="hold"))
    system.run(0.2)

    failer = system.kernel.process("failer")
    assert failer.restarts == 3 and failer.thread.state is State.EXITED
    assert len(starts_ms(system, "failer", "failer: start")) == 4
    assert bystander_intact(system)


def test_failures_older_than_the_window_do_not_count_toward_the_limit(board, guests):
    # a failure every ~15 ms: never more than 2 within 20 ms
    system = failing(board, guests, RestartPolicy("restart", limit=2, window_ms=20, then="hold"))
    system.run(0.2)

    assert system.kernel.process("failer").restarts >= 12


def test_past_its_limit_a_component_reboots_the_system(board, guests):
    system = failing(board, guests, RestartPolicy("restart", limit=2, window_ms=1000, then="reboot"))
    system.run(0.05)

    assert system.kernel.stats.reboots == 1
    bystander = system.kernel.process("bystander")
    assert bystander.generation == 1          # every component came back, the bystander too
    assert system.kernel.process("supervisor").generation == 1
    # the bystander started over: its first line printed twice, at boot and after the reboot
    assert sum(line.startswith("sleeper 0 ") for line in system.output("bystander")) == 2


def test_reboot_restarts_every_component_at_the_first_failure(board, guests):
    system = failing(board, guests, RestartPolicy("reboot"))
    system.run(0.02)

    assert system.kernel.stats.reboots == 1
    assert all(p.generation == 1 for p in system.kernel.processes)
    assert system.output("supervisor") == []        # the kernel's doing, not the supervisor's
    assert len(starts_ms(system, "failer", "failer: start")) == 2


def test_without_a_supervisor_restart_is_the_kernels(board, guests):
    system = failing(board, guests, RestartPolicy("restart"), supervisor=False)
    system.run(0.1)

    assert len(starts_ms(system, "failer", "failer: start")) == 7
    assert bystander_intact(system)


def test_a_clean_exit_is_final_whatever_the_policy(board, guests):
    for policy in (RestartPolicy("restart"), RestartPolicy("reboot"), RestartPolicy("hold")):
        system = System(board, guests)
        system.add("quitter", priority=3, restart=policy)
        supervised(system, "quitter")
        system.run(0.05)
        quitter = system.kernel.process("quitter")
        assert quitter.restarts == 0 and system.kernel.stats.reboots == 0, policy


def test_a_failed_supervisor_held_stops_alone_and_the_others_faults_wait_for_it(board, guests):
    system = failing(board, guests, None)
    system.kernel.start()
    system.kernel.run_for(0.001)
    supervisor = system.kernel.process("supervisor")
    system.kernel.fault(supervisor, Fault(FaultKind.UNMAPPED, 0x1000, "supervisor", address=0x00F0_0000))
    system.kernel.run_for(0.1)

    assert supervisor.thread.state is State.STOPPED
    failer = system.kernel.process("failer")
    assert failer.thread.state is State.EXITED and failer.restarts == 0
    assert len(system.kernel.endpoints["faults"].kernel_messages) == 1   # waiting for a supervisor
    assert bystander_intact(system)


def test_a_failed_supervisor_with_restart_comes_back_and_handles_the_faults_that_waited(board, guests):
    system = System(board, guests)
    system.add("failer", priority=3)
    add_bystander(system)
    sup = system.add("supervisor", priority=0, restart=RestartPolicy("restart"))
    system.serve("faults", sup)
    system.kernel.process("failer").supervisor = sup
    system.kernel.start()
    system.kernel.run_for(0.001)
    system.kernel.fault(sup, Fault(FaultKind.UNMAPPED, 0x1000, "supervisor", address=0x00F0_0000))
    system.kernel.run_for(0.1)

    assert sup.generation == 1 and sup.thread.state is not State.STOPPED
    assert system.kernel.process("failer").restarts >= 1
    assert bystander_intact(system)
