"""A crashed or killed driver is restarted by the supervisor and the shell answers again."""

from __future__ import annotations

import pytest

from machine import Perm

pytestmark = pytest.mark.atoll(image="firmware/images/demo-{board}.toml")


def test_a_faulted_uart_driver_is_restarted_and_the_shell_answers_again(dut):
    dut.expect("atoll> ")

    dut.fault("uart")
    assert dut.component("uart").state == "stopped"
    dut.run_until(lambda: dut.restart_count("uart") == 1, timeout="100ms")

    assert dut.fault_count("uart") == 1
    assert any(c == "supervisor" and "restart" in line for _, c, line in dut.debug_lines)
    assert "still here\r\n" in dut.command("echo still here")


def test_a_corrupted_instruction_crashes_the_driver_which_then_recovers(dut, board):
    dut.expect("atoll> ")
    uart = dut.process("uart")
    code = next(m for m in uart.space.mappings if m.perms & Perm.X)
    # an undefined instruction over the whole of the driver's code: whatever runs next faults
    bad = 0xDEFEDEFE if board == "mps2-an385" else 0x00000000
    originals = {a: dut.corrupt("uart", a, bad) for a in range(code.vbase, code.vbase + code.size, 4)}

    dut.write("x")
    dut.run_until(lambda: dut.fault_count("uart") >= 1, timeout="50ms")
    assert dut.process("uart").last_fault.kind.value in ("undefined-instruction", "illegal-state", "cpu-error")
    # the restart reloads the image into the same pages: the corruption is gone
    dut.run_until(lambda: dut.restart_count("uart") >= 1, timeout="100ms")
    assert dut.read_word("uart", code.vbase) == originals[code.vbase]
    ready_again = lambda: any(c == "uart" and line == "uart: ready" for t, c, line in dut.debug_lines if t > 0.001)
    dut.run_until(ready_again, timeout="50ms")


def test_the_shell_answers_again_after_the_driver_crashed_on_corrupted_code(dut, board):
    dut.expect("atoll> ")
    code = next(m for m in dut.process("uart").space.mappings if m.perms & Perm.X)
    bad = 0xDEFEDEFE if board == "mps2-an385" else 0x00000000
    for address in range(code.vbase, code.vbase + code.size, 4):
        dut.corrupt("uart", address, bad)
    dut.write("x")
    dut.run_until(lambda: dut.restart_count("uart") >= 1, timeout="100ms")

    assert "fine\r\n" in dut.command("echo fine")


def test_a_killed_driver_misses_its_next_heartbeat_and_the_shell_answers_again(dut):
    dut.expect("atoll> ")

    dut.kill("uart")
    dut.run_until(lambda: dut.restart_count("uart") == 1, timeout="100ms")

    assert dut.fault_count("uart") == 1
    assert dut.process("uart").last_fault.kind.value == "hung"
    assert any(c == "supervisor" and "missed its heartbeat" in line for _, c, line in dut.debug_lines)
    assert "again\r\n" in dut.command("echo again")


def test_a_spurious_uart_interrupt_is_absorbed(dut, board):
    dut.expect("atoll> ")
    output = "rx" if board == "mps2-an385" else "irq"
    interrupts = dut.stats.interrupts

    dut.raise_interrupt("uart0", output)
    dut.run_for("10ms")

    assert dut.stats.interrupts > interrupts
    assert dut.fault_count() == 0
    assert "ok\r\n" in dut.command("echo ok")


def test_a_driver_in_an_interrupt_storm_answers_its_heartbeats_and_is_not_restarted(dut, board):
    dut.expect("atoll> ")
    output = "rx" if board == "mps2-an385" else "irq"

    dut.raise_interrupt("uart0", output, stuck=True)   # a notification bit waits at every RECV
    dut.run_for("100ms")
    heard = dut.process("uart").answered_at
    dut.release_interrupt("uart0", output)

    assert heard is not None and heard > dut.cycles - dut.machine.clock.cycles(0.02)
    assert dut.fault_count() == 0 and dut.restart_count("uart") == 0
    assert "ok\r\n" in dut.command("echo ok")
