"""The board file's register blocks (type "registers"): declared registers on a bare bus, loaded
from a board file, and named once in the log when the guest first reads or writes each."""

import logging
import pathlib

import pytest

from machine.board import load_board
from machine.clock import Clock
from machine.peripherals import PERIPHERAL_TYPES, RegisterBlock, RegisterDecl

BOARD = """
[board]
name = "pll-board"

[cpu]
isa = "rv32imac"
model = "sifive-e31"
frequency_hz = 16_000_000
reset = "entry"

[[region]]
name = "ram"
base = 0x8000_0000
size = 0x1_0000
kind = "ram"
access = "rwx"

[[peripheral]]
name = "pll"
type = "registers"
base = 0x1000_8000
size = 0x1000
[[peripheral.register]]
name = "cfg"
offset = 0x0
[[peripheral.register]]
name = "status"
offset = 0x4
reset = 0x8000_0001
read_only = 0x8000_0000
[[peripheral.register]]
name = "trim"
offset = 0x8
width = 8
reset = 0x10
"""


@pytest.fixture
def block():
    return RegisterBlock("pll", Clock(1), registers=(
        RegisterDecl("cfg", 0x0), RegisterDecl("status", 0x4, reset=0x8000_0001, read_only=0x8000_0000),
        RegisterDecl("trim", 0x8, width=8, reset=0x10)))


@pytest.fixture
def board_file(tmp_path) -> pathlib.Path:
    path = tmp_path / "pll-board.toml"
    path.write_text(BOARD)
    return path


def test_the_board_file_type_name_gives_the_block():
    assert PERIPHERAL_TYPES["registers"] is RegisterBlock


def test_registers_start_at_their_reset_values(block):
    assert [block.read(o, 4) for o in (0x0, 0x4)] == [0, 0x8000_0001] and block.read(0x8, 1) == 0x10


def test_writes_are_kept_and_read_back(block):
    block.write(0x0, 4, 0xDEAD_BEEF)
    assert block.read(0x0, 4) == 0xDEAD_BEEF


def test_read_only_bits_keep_their_reset_value(block):
    block.write(0x4, 4, 0)
    assert block.read(0x4, 4) == 0x8000_0000
    block.write(0x4, 4, 0x7FFF_FFFF)
    assert block.read(0x4, 4) == 0xFFFF_FFFF


def test_a_byte_register_keeps_eight_bits(block):
    block.write(0x8, 1, 0x1FF)
    assert block.read(0x8, 1) == 0xFF


def test_each_register_is_named_in_the_log_at_its_first_read_and_first_write(block, caplog):
    with caplog.at_level(logging.WARNING, logger="atoll.machine"):
        for _ in range(3):
            block.read(0x4, 4)
            block.write(0x0, 4, 1)
    assert [r.getMessage() for r in caplog.records] == [
        "pll: read of register status, declared in the board file (no model behind it)",
        "pll: write of register cfg, declared in the board file (no model behind it)"]
    assert block.accesses == {"read status": 3, "write cfg": 3}


def test_an_undeclared_offset_is_reported_as_unimplemented(block):
    block.write(0x100, 4, 1)
    assert block.read(0x100, 4) == 0 and block.unimplemented_accesses["offset 0x100"] == 2


def test_reset_restores_the_declared_values(block):
    block.write(0x0, 4, 5)
    block.reset()
    assert block.read(0x0, 4) == 0


def test_a_board_file_declares_the_block_and_the_machine_builds_it(board_file):
    from machine.machine import Machine
    spec = load_board(board_file).peripheral("pll")
    assert spec.type == "registers"
    assert [d.name for d in spec.params["registers"]] == ["cfg", "status", "trim"]
    m = Machine(board_file)
    m.write_physical(0x1000_8000, (7).to_bytes(4, "little"))
    assert int.from_bytes(m.read_physical(0x1000_8004, 4), "little") == 0x8000_0001
    assert m.peripheral("pll").read(0x0, 4) == 7
