"""Helpers for the kernel's behaviour tests: a bystander component that must not notice
anything, and the "<prefix>: <step> <status>" lines the test guests print.

The bystander is tests/kernel/guest/sleeper under the name "bystander", the least urgent
component: it prints five lines 500 us apart and exits with code 7. Whatever another
component does to the kernel, those five lines and that exit code must come out.
"""

from __future__ import annotations

from kernel.process import State

BYSTANDER_PRIORITY = 5


def add_bystander(system) -> None:
    system.add("bystander", "sleeper", priority=BYSTANDER_PRIORITY)


def bystander_intact(system) -> bool:
    process = system.kernel.process("bystander")
    lines = [line.split(" at ")[0] for line in system.output("bystander")]
    return (lines == [f"sleeper {i}" for i in range(5)] and process.exit_code == 7
            and process.thread.state is State.EXITED and process.last_fault is None)


def statuses(system, component: str, prefix: str) -> dict[str, int]:
    """{step: status} from the component's lines "<prefix>: <step> <status>"."""
    out = {}
    for line in system.output(component):
        if line.startswith(prefix + ": "):
            step, _, status = line[len(prefix) + 2:].rpartition(" ")
            if status.lstrip("-").isdigit():
                out[step] = int(status)
    return out


def keeper_system(board: str, guests):
    """keeper_server (tests/kernel/guest/keeper_server) supervising its client keeper_client,
    plus the bystander, run for 50 ms; `steps` holds the server's "keeper: <step> <status>"."""
    from tests.kernel.system_harness import System  # the harness imports pytest fixtures

    system = System(board, guests)
    server = system.add("keeper_server", priority=2)
    client = system.add("keeper_client", priority=3)
    add_bystander(system)
    ep = system.serve("keeper", server, clients={client: 2})
    system.kernel.supervise(client, server, ep)
    system.run(0.05)
    system.steps = statuses(system, "keeper_server", "keeper")
    return system
