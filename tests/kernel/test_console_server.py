"""The console server (servers/console) over the uart server on both boards: the
banner, "[tag] text" lines from console_log/console_printf, the badge for untagged
text, whole lines from concurrent clients, and its errors."""

from __future__ import annotations

import re

import pytest

from kernel.abi import Error
from tests.kernel.system_harness import BOARDS, ROOT, ISA_OF, System, guests  # noqa: F401  (fixture)
from tests.kernel.test_uart_server import add_uart

HEADER = (ROOT / "servers" / "console" / "console.h").read_text()
CONSOLE_E_BAD_LABEL = int(re.search(r"#define CONSOLE_E_BAD_LABEL \((-\d+)\)", HEADER).group(1))


def console_system(board, guests, clients=("console_client",)):
    system = System(board, guests)
    uart, backend = add_uart(system)
    console = system.add("console", priority=2)
    procs = [system.add(name, "console_client", priority=3) for name in clients]
    system.serve("uart", uart, clients={console: 2})
    system.serve("console", console, clients={p: 2 for p in procs})
    return system, backend, procs


@pytest.fixture(params=BOARDS)
def board(request):
    return request.param


def test_the_console_prints_its_banner_first(board, guests):
    system, backend, _ = console_system(board, guests, clients=())
    system.run(0.05)

    assert backend.text == f"[console] Atoll console ready ({ISA_OF[board]})\n"


def test_lines_carry_the_clients_tag_or_its_badge(board, guests):
    system, backend, (client,) = console_system(board, guests)
    system.run(0.1)

    assert backend.text.splitlines() == [
        f"[console] Atoll console ready ({ISA_OF[board]})",
        "[console_client] hello from a client",
        "[console_client] answer=42 hex=beef name=atoll",
        "[console_client] first line",
        "[console_client] second line",
        f"[#{client.index}] untagged",
    ]
    out = system.output("console_client")
    assert out[:4] == ["client: log 19", "client: printf 29", "client: two lines 23", "client: raw 0 0 8"]


def test_a_bad_lease_and_an_unknown_label_are_errors(board, guests):
    system, _, _ = console_system(board, guests)
    system.run(0.1)

    out = system.output("console_client")
    assert f"client: bad lease {Error.BAD_ADDRESS}" in out
    assert f"client: label 7 0 {CONSOLE_E_BAD_LABEL}" in out


def test_lines_of_concurrent_clients_never_mix(board, guests):
    system, backend, procs = console_system(board, guests, clients=("client_a", "client_b", "client_c"))
    system.run(0.2)

    lines = backend.text.splitlines()[1:]
    assert len(lines) == 5 * 3
    for p in procs:
        assert f"[#{p.index}] untagged" in lines
    assert lines.count("[console_client] second line") == 3
    assert all(line.startswith(("[console_client] ", "[#")) for line in lines)
