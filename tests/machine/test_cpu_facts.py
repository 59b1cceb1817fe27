"""What a CPU model tells the tools about its ISA, through one contract on both boards.

The debugger, the GDB stub and the kernel ask the `Cpu` for register names (GDB's
list, DWARF numbers, the syscall ABI) and for the difference between a code
address and a code pointer, instead of asking which ISA it is.
"""

from __future__ import annotations

import pytest

from machine import Machine, load_board

BOARDS = ["mps2-an385", "hifive1"]


@pytest.mark.parametrize("board", BOARDS)
def test_every_register_a_tool_names_is_one_the_cpu_reads_and_writes(board):
    cpu = Machine(load_board(board)).cpu
    for name in (*cpu.GDB_REGISTERS, *cpu.DWARF_REGISTERS):
        assert isinstance(cpu.read(name), int), name
    for value, name in enumerate((*cpu.ARG_REGISTERS, cpu.SYSCALL_NUMBER_REGISTER, cpu.RETURN_REGISTER,
                                  cpu.LINK_REGISTER), start=0x1000):
        cpu.write(name, value)
        assert cpu.read(name) == value, name
    assert cpu.DWARF_REGISTERS[cpu.dwarf_number("sp")] == "sp"
    assert cpu.GDB_REGISTERS.index("pc") == len(cpu.GDB_REGISTERS) - (2 if "xpsr" in cpu.GDB_REGISTERS else 1)


@pytest.mark.parametrize("board", BOARDS)
def test_an_unknown_register_name_is_refused_with_the_isa_and_the_name(board):
    machine = Machine(load_board(board))
    with pytest.raises(KeyError) as excinfo:
        machine.cpu.register_id("r99")
    assert excinfo.value.args[0] == f"{machine.isa} has no register named 'r99'"


@pytest.mark.parametrize("board", BOARDS)
def test_a_code_pointer_in_the_pc_reads_back_as_the_address_of_its_instruction(board):
    cpu = Machine(load_board(board)).cpu
    cpu.pc = cpu.code_pointer(0x10084)
    assert cpu.code_address(cpu.read("pc")) == 0x10084
    assert cpu.code_address(cpu.code_pointer(0x10084)) == 0x10084
