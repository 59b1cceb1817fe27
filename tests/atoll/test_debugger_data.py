"""`atoll debug` as a GDB user types at it: print over DWARF types, frames, conditions, display, set var.

Each test boots a system on each board and types commands at `Debugger.execute` as a
person does at the prompt. The programs are real ELF files from the project's
compiler (-O2 -g): the demo's uart server (its `stats` struct, its rings) and
tests/atoll/guest/inventory, a small component with nested structs, arrays,
pointers, an enum, a union and bit fields.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from atoll.debugger import Debugger
from firmware import components
from tests.boards import BOARDS, ISA_OF
from tests.conftest import ROOT

GUEST = ROOT / "tests" / "atoll" / "guest"


@pytest.fixture(scope="module")
def built():
    return components.build_all(ROOT / "build" / "components")


@pytest.fixture(scope="module")
def inventory_elves():
    out = ROOT / "build" / "test-components"
    return {isa: components.build_component("inventory", GUEST / "inventory", isa, out) for isa in set(ISA_OF.values())}


@pytest.fixture(scope="module")
def unoptimized_elves(tmp_path_factory):
    """The inventory guest built at -O0, where clang keeps variables on the frame (DW_OP_fbreg)."""
    out = tmp_path_factory.mktemp("o0")
    folder = GUEST / "inventory"
    return {isa: components.build_component("inventory", folder, isa, out, flags=["-O0", "-fno-sanitize=undefined"])
            for isa in set(ISA_OF.values())}


def inventory_system(board: str, elf, folder) -> Debugger:
    path = folder / "inventory.toml"
    path.write_text(f'[system]\nname = "inventory"\nboard = "{board}"\n\n'
                    f'[[component]]\nname = "inventory"\nelf = "{elf}"\npriority = 1\nstack = 2048\n')
    return Debugger.from_image(path)


@pytest.fixture(params=BOARDS)
def demo(request, built) -> Debugger:
    return Debugger.from_image(ROOT / "firmware" / "images" / f"demo-{request.param}.toml")


@pytest.fixture(params=BOARDS)
def inventory(request, inventory_elves, tmp_path) -> Debugger:
    return inventory_system(request.param, inventory_elves[ISA_OF[request.param]], tmp_path)


def in_restock(d: Debugger) -> str:
    assert d.execute("break restock").startswith("Breakpoint 1 at ")
    out = d.execute("continue 1s")
    assert out.startswith("Breakpoint 1, inventory: "), out
    return out


def stop_in_uart(d: Debugger) -> None:
    d.execute("break servers/uart/main.c:17 uart")
    out = d.execute("continue 1s")
    assert out.startswith("Breakpoint 1, uart: "), out


# -- print -------------------------------------------------------------------------------------

def test_p_prints_a_variable_rather_than_running_ps_by_prefix(demo):
    stop_in_uart(demo)
    out = demo.execute("p stats")
    assert out == "$1 = {rx_bytes = 0, rx_dropped = 0, overruns = 0, tx_bytes = 0}\n", out
    assert demo.execute("p stats.tx_bytes") == "$2 = 0\n"
    assert demo.execute("p/x stats.rx_bytes + 255") == "$3 = 0xff\n"
    assert demo.execute("p $2 + 1") == "$4 = 1\n"


def test_a_word_that_begins_two_commands_is_ambiguous_not_the_first_one(demo):
    assert demo.execute("se uart") == "ambiguous command 'se': select, set\n"
    assert demo.execute("pr 1 + 2") == "$1 = 3\n"                 # a prefix of print alone
    assert demo.execute("ps").startswith(" ID NAME")


def test_print_reads_the_selected_components_address_space(demo):
    stop_in_uart(demo)
    uart = demo.kernel.process("uart")
    address = demo.symbols["uart"].symbols["stats"][0]
    demo.machine.write_virtual(uart.space, address + 12, (1234).to_bytes(4, "little"))
    assert demo.execute("p stats.tx_bytes") == "$1 = 1234\n"
    assert demo.execute("p &stats") == f"$2 = (struct uart_stats *) {address:#x} <stats>\n"
    demo.execute("select console")                               # no `stats` there
    assert demo.execute("p stats") == "no symbol 'stats' in current context\n"


def test_structs_arrays_strings_enums_unions_and_bit_fields_print_as_gdb_prints_them(inventory):
    in_restock(inventory)
    out = inventory.execute("p shop.items[0]")
    assert out == ('$1 = {name = "apple\\000\\000", count = 12, where = {aisle = 3, bay = 1 \'\\001\'}, '
                   "state = SHELF_LOW, fragile = 0, grade = 2}\n"), out
    assert inventory.execute("p shop.items[1].where.aisle") == "$2 = -4\n"
    assert inventory.execute("p shop.deltas") == "$3 = {-1, 2, -3, 4}\n"
    assert inventory.execute("p/x shop.tag") == "$4 = {value = 0x11223344, bytes = {0x44, 0x33, 0x22, 0x11}}\n"
    assert inventory.execute("p zeros") == "$5 = {0 <repeats 16 times>}\n"
    assert inventory.execute("p shop.label") == f'$6 = {inventory.execute("p/x shop.label")[5:-1]} "corner shop"\n'
    assert inventory.execute("p shop.items[2].state == SHELF_FULL") == "$8 = 1\n"
    assert inventory.execute("p shop.items[1].fragile + shop.items[1].grade") == "$9 = 6\n"
    assert inventory.execute("p shop.featured->name") == '$10 = "plum\\000\\000\\000"\n'
    assert inventory.execute("p *shop.featured->name@2") == '$11 = "pl"\n'
    assert inventory.execute("p (char)shop.items[0].name[1]") == "$12 = 112 'p'\n"
    assert inventory.execute("p shop.featured - &shop.items[0]") == "$13 = 2\n"
    assert inventory.execute("whatis shop.featured") == "type = struct item *\n"
    assert inventory.execute("whatis shop.items") == "type = struct item [3]\n"


def test_bad_expressions_get_one_clear_message(inventory):
    in_restock(inventory)
    cases = {
        "p nosuch": "no symbol 'nosuch' in current context",
        "p shop.": "syntax error in 'shop.' at column 6: expected a member name after '.'",
        "p shop.items[0] +": "syntax error in 'shop.items[0] +' at column 16: expected an expression after '+'",
        "p 1 # 2": "syntax error in '1 # 2' at column 3: unexpected '#'",
        "p shop.nothing": "there is no member named 'nothing' in struct store",
        "p shop.deltas[0].x": "cannot take member 'x' of a value of type int32_t (not a struct or union)",
        "p shop.tag.bytes[0].x": "cannot take member 'x' of a value of type uint8_t (not a struct or union)",
        "p shop.items + shop.items": "cannot apply '+' to struct item * and struct item *",
        "p 1 / 0": "division by zero",
        "p (struct nothing *)0": "no struct nothing in current context",
        "p/q 1": "print: undefined format /q (formats: /x, /d, /u, /o, /t, /c, /a, /z)",
        "p restock(1)": "syntax error in 'restock(1)' at column 8: calling functions is not supported",
        "p *(uint32_t *)0": "cannot read 4 bytes at 0x0 in inventory",
    }
    for command, message in cases.items():
        assert inventory.execute(command) == message + "\n", command


# -- frames, locals, args --------------------------------------------------------------------

def test_info_args_locals_and_up_select_the_frame_print_looks_in(inventory):
    in_restock(inventory)
    args = inventory.execute("info args")
    assert re.fullmatch(r"it = 0x[0-9a-f]+ <shop\+\d+>\namount = 1\n", args), args
    assert inventory.execute("p it->name") == '$1 = "apple\\000\\000"\n'
    assert inventory.execute("p *it == shop.items[0]") == "cannot apply '==' to a value of type struct item\n"
    out = inventory.execute("up")
    assert re.match(r"inventory:\n#1  0x[0-9a-f]{8} in main \(\) at tests/atoll/guest/inventory/main.c:\d+\n", out), out
    assert inventory.execute("p amount") == "no symbol 'amount' in current context\n"
    assert re.search(r"^round = 0$", inventory.execute("info locals"), re.M)
    assert inventory.execute("up 50").startswith("inventory:\n#")      # as far out as the stack goes
    assert inventory.execute("up") == "Initial frame selected; you cannot go up.\n"
    assert inventory.execute("frame 0").startswith("inventory:\n#0  ")
    assert inventory.execute("p amount") == "$2 = 1\n"
    assert inventory.execute("down") == "Bottom (innermost) frame selected; you cannot go down.\n"
    inventory.execute("up")
    inventory.execute("next")                                # running again selects frame 0
    assert "amount" in inventory.execute("info args")


def test_regs_names_one_register_and_info_registers_too(inventory):
    in_restock(inventory)
    pc = inventory.session.pc(inventory.kernel.process("inventory"))
    assert re.fullmatch(rf"pc\s+{pc:#010x}\s+{pc}\s+<restock(\+\d+)?>\n", inventory.execute("regs pc"))
    assert inventory.execute("info registers pc") == inventory.execute("regs $pc")
    assert inventory.execute("regs nothing").startswith("no register 'nothing' (registers: ")


# -- changing data ---------------------------------------------------------------------------

def test_set_var_writes_memory_and_registers_of_the_right_component(inventory):
    in_restock(inventory)
    assert inventory.execute("set var shop.items[1].count = 99") == ""
    assert inventory.execute("p shop.items[1].count") == "$1 = 99\n"
    assert inventory.execute("set var shop.items[1].grade = 3") == ""
    assert inventory.execute("p shop.items[1]").endswith("fragile = 1, grade = 3}\n")
    assert inventory.execute("set var amount = 30") == ""
    assert inventory.execute("p amount") == "$3 = 30\n"
    out = inventory.execute("finish")
    assert "Value returned: 42 (0x2a)" in out, out         # 12 + 30
    assert inventory.execute("p shop.items[0].state") == "$4 = SHELF_FULL\n"
    assert inventory.execute("set var 3 = 4") == "left operand of assignment is not an lvalue\n"
    assert inventory.execute("set var shop") == "set var: expected NAME = EXPRESSION, not 'shop'\n"


# -- watch, conditions, display --------------------------------------------------------------

def test_watch_on_a_struct_member_stops_at_the_write_to_that_member_only(inventory):
    in_restock(inventory)
    inventory.execute("delete")
    address = inventory.symbols["inventory"].symbols["shop"][0]
    out = inventory.execute("watch shop.items[1].count")
    m = re.fullmatch(r"Watchpoint 2: shop.items\[1\].count \((0x[0-9a-f]{8}), 4 bytes\) in inventory\n", out)
    assert m is not None, out
    assert int(m.group(1), 16) == address + 4 + 1 * 24 + 8      # label, items[1], name
    out = inventory.execute("continue 1s")                    # rounds 0 (items[0]) runs by; round 1 writes
    assert out.startswith("Watchpoint 2: write at "), out
    assert "shop.items[1].count: Old value = 0, New value = 2\n" in out
    assert inventory.execute("p shop.items[0].count") == "$1 = 13\n"
    out = inventory.execute("watch shop.items[2].where.bay")       # an element's member: 1 byte
    assert re.fullmatch(rf"Watchpoint 3: shop.items\[2\].where.bay \({address + 4 + 2 * 24 + 14:#010x}, 1 bytes\) "
                        r"in inventory\n", out), out
    out = inventory.execute("watch shop.deltas[3]")
    assert re.fullmatch(rf"Watchpoint 4: shop.deltas\[3\] \({address + 4 + 3 * 24 + 4 + 12:#010x}, 4 bytes\) "
                        r"in inventory\n", out), out


def test_a_conditional_breakpoint_stops_only_when_its_condition_holds(inventory):
    out = inventory.execute("break restock if amount == 3")
    assert re.fullmatch(r"Breakpoint 1 at 0x[0-9a-f]{8} \(restock\) in inventory if amount == 3\n", out), out
    out = inventory.execute("continue 1s")
    assert out.startswith("Breakpoint 1, inventory: "), out
    assert inventory.execute("p amount") == "$1 = 3\n"
    assert inventory.execute("condition 1 it->count > 10 && it != &shop.items[2]") == ""
    assert inventory.execute("continue 1s").startswith("Breakpoint 1, ")
    assert inventory.execute("p amount") == "$2 = 4\n"             # round 3: items[0] has 13
    assert re.search(r"^1\s+breakpoint .* 2  restock if it->count > 10 && it != &shop.items\[2\]$",
                     inventory.execute("info breakpoints"), re.M)
    assert inventory.execute("condition 1") == "Breakpoint 1 now unconditional.\n"
    assert inventory.execute("break restock if amount ==") .startswith("syntax error in 'amount ==' at column")


def test_a_condition_on_a_server_global_is_tested_in_that_servers_memory(demo):
    demo.execute("select console")                            # which has no `stats`
    demo.execute("break servers/uart/main.c:19 uart if stats.tx_bytes >= 20")
    out = demo.execute("continue 2s")
    assert re.match(r"Breakpoint \d+, uart: ", out), out
    assert demo.execute("p stats.tx_bytes") == "$1 = 20\n"
    demo.execute("select console")
    address = demo.symbols["uart"].symbols["stats"][0]
    out = demo.execute("watch stats.rx_bytes uart")
    assert re.fullmatch(rf"Watchpoint \d+: stats.rx_bytes \({address:#010x}, 4 bytes\) in uart\n", out), out


def test_a_watch_given_a_length_and_a_component_watches_that_many_bytes_of_that_component(demo):
    demo.execute("select console")                            # which has no `stats`
    tx_bytes = demo.symbols["uart"].symbols["stats"][0] + 12     # struct uart_stats: its fourth word
    out = demo.execute("watch stats.tx_bytes 2 uart")
    assert out == f"Watchpoint 1: stats.tx_bytes ({tx_bytes:#010x}, 2 bytes) in uart\n"
    out = demo.execute("continue 1s")
    assert out.startswith(f"Watchpoint 1: write at {tx_bytes:#010x}"), out
    # a number that is part of the expression is not taken for a length
    assert demo.execute("watch &stats.tx_bytes - 1 uart") == \
        f"Watchpoint 2: &stats.tx_bytes - 1 ({tx_bytes - 4:#010x}, 4 bytes) in uart\n"


def test_display_shows_its_expressions_after_every_command_that_runs(inventory):
    in_restock(inventory)
    assert inventory.execute("display amount") == "1: amount = 1\n"
    assert inventory.execute("display/x shop.tag.value") == "2: /x shop.tag.value = 0x11223344\n"
    out = inventory.execute("continue 1s")
    assert "\n1: amount = 2\n2: /x shop.tag.value = 0x11223344\n" in out, out
    assert inventory.execute("p 1") == "$1 = 1\n"                  # a command that does not run
    assert inventory.execute("undisplay 2") == ""
    out = inventory.execute("continue 1s")
    assert "\n1: amount = 3\n[inventory]" in out, out
    assert inventory.execute("info display") == "Auto-display expressions now in effect:\nNum Enb Expression\n1:   y  amount\n"


def test_a_variable_the_compiler_dropped_at_the_pc_says_optimized_out(demo):
    stop_in_uart(demo)
    demo.execute("up")
    out = demo.execute("info args")
    assert re.search(r"^req = (<optimized out>|0x[0-9a-f]+)$", out, re.M), out
    assert demo.execute("p *$nothing").startswith("no register $nothing")


@pytest.mark.parametrize("board", BOARDS)
def test_an_unoptimized_build_has_its_variables_on_the_frame_and_a_function_breakpoint_is_past_the_prologue(
        board, unoptimized_elves, tmp_path):
    d = inventory_system(board, unoptimized_elves[ISA_OF[board]], tmp_path)
    out = in_restock(d)
    assert " in restock at tests/atoll/guest/inventory/main.c:53\n" in out, out   # past `{`, at the first line
    address = d.symbols["inventory"].symbols["shop"][0]
    assert d.execute("info args") == f"it = {address + 4:#x} <shop+4>\namount = 1\n"
    assert d.execute("p it->where") == "$1 = {aisle = 3, bay = 1 '\\001'}\n"
    d.execute("next")
    assert d.execute("info locals") == "before = 12\n"
    assert d.execute("set var before = 100") == ""                   # memory on the stack, at fbreg
    assert d.execute("p before + amount") == "$2 = 101\n"
    assert d.execute("up").startswith("inventory:\n#1  ")
    assert d.execute("info locals") == "total = 0\nround = 0\n"
    assert "Value returned: 101 (0x65)" in d.execute("finish")


@pytest.mark.parametrize("board", BOARDS)
def test_at_the_atoll_debug_prompt_p_prints_and_up_selects_the_callers_frame(board, built):
    image = ROOT / "firmware" / "images" / f"demo-{board}.toml"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    commands = "break hw_tx uart\ncontinue 1s\np/x stats\np byte\nup\ninfo locals\np tx_ring.tail > 0\nquit\n"
    done = subprocess.run([sys.executable, "-m", "atoll.cli", "debug", str(image)], input=commands,
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "(atoll) $1 = {rx_bytes = 0x0, rx_dropped = 0x0, overruns = 0x0, tx_bytes = 0x0}\n" in done.stdout
    assert "(atoll) $2 = 91 '['\n" in done.stdout, done.stdout          # the first byte of "[console] ..."
    assert re.search(r"\(atoll\) uart:\n#1  0x[0-9a-f]{8} in tx_pump \(\) at servers/uart/main\.c:18\n", done.stdout)
    assert "(atoll) $3 = 1\n" in done.stdout
