"""Proof by attack: a compromised light bulb cannot reach the lock (docs/smart-home.md).

The smart-home image runs a door lock, a light bulb that owns UART1 as its network link,
and the shell as the owner's keypad. The bulb holds a capability to the lock because it
legitimately reads the door's state (lock.status); its NAME packet parser overflows its
name buffer into the request it sends the lock. These benches show, on both boards:

- normal operation: packets switch the lamp, the keypad opens the door, the bulb's
  status polls are allowed and light its porch LED;
- the attack: an over-long NAME packet (and, as injected faults, words written straight
  into the bulb's memory) makes the bulb call lock.unlock, lock.set_code and worse; the
  monitor denies each one before the lock sees it, and the lock keeps working;
- the control experiment: the same attack under the same policy in permissive mode opens
  the door, so it is the monitor, not luck or the bulb's code, that keeps it shut.
"""

from __future__ import annotations

import re
import struct

import pytest

from atoll.testbench import Device
from kernel.abi import Error
from machine import read_elf, symbols
from sysdesc.interface import load_interface
from tests.boards import demo_pin
from tests.conftest import BOARDS, ROOT

pytestmark = pytest.mark.atoll(image="firmware/images/smart-home-{board}.toml", uarts=("uart0", "uart1"))

LOCK = load_interface(ROOT / "servers" / "lock" / "lock.idl.toml")
GPIO = load_interface(ROOT / "servers" / "gpio" / "gpio.idl.toml")
#: the lock's code at first boot (servers/lock/README.md)
FACTORY_CODE = 2468
#: bytes of the bulb's name buffer, which the request to the lock follows (firmware/apps/bulb/main.c)
NAME_SIZE = 16
LAMP_PIN = {board: demo_pin(board, "lamp") for board in BOARDS}
PORCH_PIN = {board: demo_pin(board, "porch") for board in BOARDS}
REPLY_LINE = re.compile(r"(?:OK|ERR)[^\r\n]*\r\n")


# -- helpers -----------------------------------------------------------------------------


def attack_packet(label: int, *mrs: int) -> bytes:
    """A NAME packet whose name runs over the bulb's buffer into its request to the lock:
    the request's label and MR0-MR3 become ours."""
    registers = [*mrs, *[0] * (4 - len(mrs))]
    name = b"A" * NAME_SIZE + struct.pack("<5I", label, *registers)
    assert b"\n" not in name and not name.endswith(b"\r"), "the packet must stay one line"
    return b"NAME " + name + b"\n"


def packet(dut, data: bytes | str) -> str:
    """Send one packet on the bulb's network link; its answer line, without the end of line."""
    link = dut.uarts["uart1"]
    link.write(data if isinstance(data, bytes) else data.encode() + b"\n")
    return link.expect(REPLY_LINE, timeout="100ms").group(0).rstrip()


def symbol(dut, component: str, name: str) -> int:
    elf = read_elf(dut.system.component(component).elf, dut.machine.board.cpu.isa)
    return symbols(elf)[name]


def read_bytes(dut, component: str, address: int, length: int) -> bytes:
    return b"".join(dut.read_word(component, address + i).to_bytes(4, "little") for i in range(0, length, 4))


def lock_requests_from_bulb(dut) -> list[dict]:
    return [r for r in dut.kernel.monitor.records
            if r["source"] == "bulb" and r["destination"] == "lock" and r["kind"] == "request"]


def lock_secrets(dut) -> tuple[int, bytes]:
    """(the unlock code, the device key) as they are in the lock's memory now. (Whether
    it is locked is asked through the keypad: the compiler keeps that flag as a bool of
    its own encoding.)"""
    return (dut.read_word("lock", symbol(dut, "lock", "unlock_code")),
            read_bytes(dut, "lock", symbol(dut, "lock", "secret_key"), 16))


def client(dut, name: str) -> int:
    """A component's index in the image: the badge the lock logs its calls with."""
    return dut.process(name).index


def lock_log(dut) -> list[str]:
    return [line for _, component, line in dut.debug_lines if component == "lock"]


def booted(dut):
    dut.expect("atoll> ")
    dut.run_until(lambda: any(c == "bulb" and "door locked" in line for _, c, line in dut.debug_lines),
                  timeout="50ms")


# -- normal operation ----------------------------------------------------------------------


def test_bulb_packets_switch_the_lamp_on_dim_and_off(dut, board):
    booted(dut)
    lamp = LAMP_PIN[board]
    assert not dut.gpio.level(lamp)

    assert packet(dut, "ON") == "OK ON 100"
    assert dut.gpio.level(lamp)
    assert packet(dut, "DIM 40") == "OK DIM 40"
    assert dut.gpio.level(lamp)
    assert packet(dut, "STATUS") == "OK STATUS ON 40 DOOR LOCKED"
    assert packet(dut, "OFF") == "OK OFF"
    assert not dut.gpio.level(lamp)
    assert packet(dut, "DIM 140") == "ERR DIM takes 0 to 100"
    assert packet(dut, "FLASH") == "ERR UNKNOWN"
    assert packet(dut, "NAME porch") == "OK NAME"
    assert packet(dut, b"X" * 80 + b"\n") == "ERR TOO LONG"
    assert not dut.gpio.level(lamp)
    assert [line for _, c, line in dut.debug_lines if c == "bulb" and line.startswith("bulb: light")] == [
        "bulb: light on (100%)", "bulb: light on (40%)", "bulb: light off (0%)"]


def test_the_keypad_unlocks_with_the_right_code_and_the_bulb_sees_it_through_allowed_polls(dut, board):
    booted(dut)
    porch = PORCH_PIN[board]

    assert "door locked, 0 wrong code(s) in a row" in dut.command("lock status")
    assert "wrong code" in dut.command("lock unlock 1111")
    assert "door unlocked" in dut.command(f"lock unlock {FACTORY_CODE}")
    dut.run_until(lambda: dut.gpio.level(porch), timeout="300ms")   # the bulb's next poll
    assert packet(dut, "DOOR") == "OK DOOR UNLOCKED"
    assert "door locked" in dut.command("lock lock")
    dut.run_until(lambda: not dut.gpio.level(porch), timeout="300ms")

    shell = client(dut, "shell")
    assert lock_log(dut) == ["lock: ready, door locked", f"lock: wrong code from client {shell} (1 in a row)",
                             f"lock: unlocked by client {shell}", f"lock: locked by client {shell}"]
    polls = lock_requests_from_bulb(dut)
    assert len(polls) >= 3
    assert {(r["method"], r["decision"], r["rule"]) for r in polls} == {
        ("lock.status", "allow", "the bulb reads the door's state")}
    assert not [r for r in dut.kernel.monitor.records if r["decision"] != "allow"]


def test_three_wrong_codes_lock_the_keypad_out_until_the_lockout_ends(dut):
    booted(dut)
    for attempt in (1, 2, 3):
        assert "wrong code" in dut.command(f"lock unlock {1000 + attempt}")
    assert "locked out" in dut.command(f"lock unlock {FACTORY_CODE}")
    assert re.search(r"door locked, 3 wrong code\(s\) in a row, locked out for \d+ ms", dut.command("lock status"))

    dut.run_for("5s")
    assert "door unlocked" in dut.command(f"lock unlock {FACTORY_CODE}")
    assert "lock: locked out for 5000 ms" in lock_log(dut)


def test_the_keypad_changes_the_code_and_only_the_new_one_opens(dut):
    booted(dut)
    assert "wrong code" in dut.command("lock code 1111 1357")
    assert "code changed" in dut.command(f"lock code {FACTORY_CODE} 1357")
    assert "wrong code" in dut.command(f"lock unlock {FACTORY_CODE}")
    assert "door unlocked" in dut.command("lock unlock 1357")
    assert dut.read_word("lock", symbol(dut, "lock", "unlock_code")) == 1357
    assert "usage: lock status|unlock CODE|lock|code OLD NEW" in dut.command("lock unlock 12x")


@pytest.mark.atoll(image="firmware/images/demo-{board}.toml")
def test_the_lock_command_answers_no_lock_in_an_image_without_one(dut):
    dut.expect("atoll> ")
    assert "lock status|unlock CODE|lock" in dut.command("help")
    assert dut.command("lock status") == "lock status\r\nno lock\r\n"
    assert dut.command(f"lock unlock {FACTORY_CODE}") == f"lock unlock {FACTORY_CODE}\r\nno lock\r\n"
    assert "up " in dut.command("uptime")


# -- the attack ------------------------------------------------------------------------------


@pytest.mark.parametrize("method, arguments", [("unlock", (FACTORY_CODE,)), ("set_code", (FACTORY_CODE, 1337))],
                         ids=["unlock", "set_code"])
def test_an_overlong_name_packet_hijacks_the_bulbs_request_and_the_monitor_denies_it(dut, board, method,
                                                                                     arguments):
    booted(dut)
    query = symbol(dut, "bulb", "bulb") + NAME_SIZE   # the request the bulb sends the lock
    assert dut.read_word("bulb", query) == LOCK.label("status")
    before = lock_secrets(dut)
    assert before[0] == FACTORY_CODE

    assert packet(dut, attack_packet(LOCK.label(method), *arguments)) == "OK NAME"
    assert dut.read_word("bulb", query) == LOCK.label(method)             # the overflow landed
    assert dut.read_word("bulb", query + 4) == arguments[0]
    assert packet(dut, "DOOR") == f"ERR DOOR {Error.DENIED:d}"
    dut.run_for("600ms")                                                 # and the polls after it

    denied = [r for r in lock_requests_from_bulb(dut) if r["decision"] != "allow"]
    assert len(denied) >= 3
    for r in denied:
        assert (r["endpoint"], r["method"], r["decision"], r["rule"]) == ("lock", f"lock.{method}", "deny",
                                                                          "default deny")
    assert dut.kernel.monitor.denied == len(denied)
    # the lock never saw a request: still locked, no wrong code counted, its secrets intact
    assert lock_secrets(dut) == before
    assert lock_log(dut) == ["lock: ready, door locked"]
    assert "door locked, 0 wrong code(s) in a row" in dut.command("lock status")
    secret = before[1]
    assert secret not in dut.uart.output and secret not in dut.uarts["uart1"].output
    # and it keeps working for the keypad
    assert "door unlocked" in dut.command(f"lock unlock {FACTORY_CODE}")
    assert lock_log(dut)[-1] == f"lock: unlocked by client {client(dut, 'shell')}"
    assert dut.fault_count() == 0


def test_requests_corrupted_straight_into_the_bulbs_memory_are_denied_before_the_lock(dut, board):
    booted(dut)
    query = symbol(dut, "bulb", "bulb") + NAME_SIZE
    before = lock_secrets(dut)
    cases = [  # label, registers, the audit record's rule, the reason's start
        (LOCK.label("unlock"), (FACTORY_CODE,), "default deny", ""),
        (LOCK.label("set_code"), (FACTORY_CODE, 1), "default deny", ""),
        (LOCK.label("lock"), (), "default deny", ""),
        (LOCK.id << 16 | 0x63, (), "shape", "label 0x100063 is no method"),
        (GPIO.label("write"), (PORCH_PIN[board], 1), "shape", "label 0x20002 is no method"),
        (LOCK.label("status"), (0, FACTORY_CODE), "shape",                            # a smuggled register
         f"mr1 is {FACTORY_CODE:#x}; the method takes 0 argument register(s)"),
        (0xFFFF_FF01, (), "kernel label", "labels from"),                               # a forged FAULT label
    ]
    for label, registers, rule, reason in cases:
        for i, word in enumerate([label, *registers, *[0] * (4 - len(registers))]):
            dut.corrupt("bulb", query + 4 * i, word)
        seen = len(dut.kernel.monitor.records)
        answer = packet(dut, "DOOR")
        new = [r for r in list(dut.kernel.monitor.records)[seen:] if r["source"] == "bulb"]
        refused = Error.BAD_ARGUMENT if rule == "kernel label" else Error.DENIED   # the kernel's own check
        assert answer == f"ERR DOOR {refused:d}", hex(label)
        assert new, hex(label)
        for r in new:   # the DOOR packet's query, and a poll if one fell in between
            assert (r["destination"], r["kind"], r["decision"], r["rule"]) == ("lock", "request", "deny", rule), r
            assert r["reason"].startswith(reason), r
    assert lock_secrets(dut) == before
    assert lock_log(dut) == ["lock: ready, door locked"]
    assert not dut.gpio.level(PORCH_PIN[board])

    # the same memory put back as built: the bulb's status query goes through again
    for i, word in enumerate([LOCK.label("status"), 0, 0, 0, 0]):
        dut.corrupt("bulb", query + 4 * i, word)
    assert packet(dut, "DOOR") == "OK DOOR LOCKED"


@pytest.mark.parametrize("board", BOARDS)
def test_in_permissive_mode_the_same_attack_opens_the_door_so_the_monitor_is_what_keeps_it_shut(board, tmp_path):
    images = ROOT / "firmware" / "images"
    policy = (images / "smart-home.policy.toml").read_text()
    assert policy.count('mode = "enforce"') == 1
    (tmp_path / "permissive.policy.toml").write_text(policy.replace('mode = "enforce"', 'mode = "permissive"'))
    description = (images / f"smart-home-{board}.toml").read_text()
    assert description.count('policy = "smart-home.policy.toml"') == 1
    description = description.replace('policy = "smart-home.policy.toml"', 'policy = "permissive.policy.toml"')
    description = description.replace('"../../', f'"{ROOT.as_posix()}/')   # the same ELF and interface files
    (tmp_path / "smart-home-permissive.toml").write_text(description)
    dut = Device(tmp_path / "smart-home-permissive.toml", uarts=("uart0", "uart1"))
    assert dut.kernel.monitor.permissive
    booted(dut)

    # change the code behind the owner's back, then open the door with it
    assert packet(dut, attack_packet(LOCK.label("set_code"), FACTORY_CODE, 1337)) == "OK NAME"
    assert packet(dut, "DOOR") == "OK DOOR UNLOCKED"      # the bulb reads an empty reply as unlocked
    assert packet(dut, attack_packet(LOCK.label("unlock"), 1337)) == "OK NAME"
    assert packet(dut, "DOOR") == "OK DOOR UNLOCKED"

    would = [r for r in lock_requests_from_bulb(dut) if r["decision"] != "allow"]
    assert {(r["method"], r["decision"], r["rule"]) for r in would} == {
        ("lock.set_code", "would-deny", "default deny"), ("lock.unlock", "would-deny", "default deny")}
    bulb = client(dut, "bulb")
    assert f"lock: code changed by client {bulb}" in lock_log(dut)
    assert f"lock: unlocked by client {bulb}" in lock_log(dut)
    assert lock_secrets(dut)[0] == 1337
    assert "door unlocked" in dut.command("lock status")
    assert "wrong code" in dut.command(f"lock unlock {FACTORY_CODE}")   # the owner's code no longer works
