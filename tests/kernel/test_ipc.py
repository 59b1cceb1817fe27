"""IPC between real C components on both boards: call/reply with message registers,
leases checked on every byte range, errors as status codes, and a restarted peer."""

from __future__ import annotations

import pytest

from kernel.abi import Error
from tests.kernel.system_harness import BOARDS, System, guests  # noqa: F401  (fixture)


@pytest.fixture(params=BOARDS)
def echo(request, guests):
    system = System(request.param, guests)
    server = system.add("echo_server", priority=2)
    client = system.add("echo_client", priority=3)
    system.serve("echo", server, clients={client: 2})
    return system


def test_a_call_carries_the_label_and_message_registers_and_the_reply_comes_back(echo):
    echo.run(0.05)

    assert "client: echo 0 42" in echo.output("echo_client")
    client_index = echo.kernel.process("echo_client").index
    assert echo.output("echo_server")[0] == f"server: label 1 from badge {client_index}"


def test_leases_let_the_server_read_and_write_the_callers_memory(echo):
    echo.run(0.05)

    assert "client: shout 0 0 13 HELLO, LEASES" in echo.output("echo_client")


def test_a_lease_outside_the_callers_memory_is_refused_before_the_call(echo):
    echo.run(0.05)

    assert f"client: bad lease {Error.BAD_ADDRESS}" in echo.output("echo_client")
    assert f"client: read-only lease {Error.BAD_ADDRESS}" in echo.output("echo_client")
    # the refused calls never reached the server
    assert echo.output("echo_server").count("server: label 2 from badge 2") == 1


def test_a_call_through_an_empty_slot_is_a_bad_slot_error(echo):
    echo.run(0.05)

    assert f"client: empty slot {Error.BAD_SLOT}" in echo.output("echo_client")


def test_a_caller_whose_server_dies_gets_dead_peer_instead_of_hanging(echo):
    echo.run(0.05)

    out = echo.output("echo_client")
    assert f"client: crash call {Error.DEAD_PEER}" in out
    assert echo.kernel.process("echo_server").last_fault is not None
    # with no supervisor the server stays stopped, and calls keep failing cleanly
    assert out[-1] == f"client: after crash {Error.DEAD_PEER} 0" or out[-1].startswith(f"client: after crash {Error.DEAD_PEER}")
    assert echo.kernel.process("echo_client").exit_code == 0
