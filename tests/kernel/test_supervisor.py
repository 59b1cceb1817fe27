"""The supervisor server (servers/supervisor) on both boards: faulting components come
back after a growing backoff, a clean exit is final, one component's backoff never
delays another's restart, and a server restarted mid-conversation is a new
generation to its client (DEAD_PEER once, then calls work)."""

from __future__ import annotations

import pytest

from kernel.abi import Error
from kernel.process import State
from tests.kernel.system_harness import BOARDS, System, guests  # noqa: F401  (fixture)


@pytest.fixture(params=BOARDS)
def board(request):
    return request.param


def supervised(system: System, *names: str):
    """A supervisor (most urgent) serving the fault endpoint, supervising `names`."""
    sup = system.add("supervisor", priority=0)
    system.serve("faults", sup)
    for name in names:
        system.kernel.process(name).supervisor = sup
    return sup


def starts_ms(system: System, component: str, text: str) -> list[float]:
    """Virtual times (ms) of the debug lines `component` printed that equal `text`."""
    hz = system.machine.clock.frequency_hz
    return [cycle * 1e3 / hz for cycle, c, line in system.kernel.debug_log if c == component and line == text]


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in zip(times, times[1:])]


def test_a_crashing_component_is_restarted_after_10_20_40_80_ms(board, guests):
    system = System(board, guests)
    crasher = system.add("crasher", priority=3)
    supervised(system, "crasher")

    system.run(0.2)

    starts = starts_ms(system, "crasher", "crasher: start")
    assert len(starts) == 5
    assert gaps(starts) == pytest.approx([10, 20, 40, 80], abs=0.5)
    index = crasher.index
    logged = [line for line in system.output("supervisor") if line.startswith(f"supervisor: component {index} ")]
    assert [line.split()[-2] for line in logged] == ["10", "20", "40", "80", "160"]
    assert logged[0].startswith(f"supervisor: component {index} fault 1 at pc 0x")
    assert crasher.generation == 4


def test_the_backoff_starts_over_once_a_component_ran_5_s_without_faulting(board, guests):
    system = System(board, guests)
    crasher = system.add("crasher", priority=3)
    supervised(system, "crasher")

    system.run(6.0)   # starts at 0, 10, 30, 70, 150, 310 ms; that one runs 5.5 s

    delays = [line.split()[-2] for line in system.output("supervisor")]
    assert delays == ["10", "20", "40", "80", "160", "10"]
    starts = starts_ms(system, "crasher", "crasher: start")
    assert len(starts) == 7
    assert starts[-1] - starts[-2] == pytest.approx(5500 + 10, abs=0.5)
    assert crasher.thread.state is not State.STOPPED


def test_a_component_that_exits_with_code_0_is_not_restarted(board, guests):
    system = System(board, guests)
    quitter = system.add("quitter", priority=3)
    supervised(system, "quitter")

    system.run(0.1)

    assert system.output("quitter") == ["quitter: done"]
    assert system.output("supervisor") == [
        f"supervisor: component {quitter.index} exited with code 0, not restarting"]
    assert quitter.thread.state is State.EXITED and quitter.generation == 0


def test_a_nonzero_exit_is_restarted_while_another_component_waits_out_its_backoff(board, guests):
    system = System(board, guests)
    system.add("crasher", priority=3)
    failer = system.add("failer", priority=3)
    supervised(system, "crasher", "failer")

    system.run(0.1)

    # failer: exits at 15 ms (+10 ms backoff), again 15 ms later (+20 ms): starts at 0, 25, 60 ms,
    # in between the crasher's restarts at 10, 30, 70 ms, which keep their own pace
    assert starts_ms(system, "failer", "failer: start") == pytest.approx([0, 25, 60], abs=0.5)
    assert gaps(starts_ms(system, "crasher", "crasher: start")) == pytest.approx([10, 20, 40], abs=0.5)
    assert f"supervisor: component {failer.index} exited with code 3, restarting in 10 ms" in system.output(
        "supervisor")


def test_a_server_restarted_mid_conversation_is_a_new_generation_to_its_client(board, guests):
    system = System(board, guests)
    server = system.add("echo_server", priority=2)
    client = system.add("redialer", priority=3)
    system.serve("echo", server, clients={client: 2})
    supervised(system, "echo_server")

    system.run(0.1)

    assert system.output("redialer") == [
        "redialer: echo 0 42",
        f"redialer: crash {Error.DEAD_PEER}",     # the server died holding the call
        f"redialer: echo {Error.DEAD_PEER} 0",    # restarted: a new generation, told once
        "redialer: echo 0 42",                    # and the same capability works again
    ]
    assert server.generation == 1
    assert system.kernel.process("redialer").exit_code == 0
