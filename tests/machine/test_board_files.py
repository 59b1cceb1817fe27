"""Board files: the shipped boards load, and every rule has a bad fixture with its exact message.

Each file in `bad_boards/` is the minimal board below with one thing broken, named after
the error it triggers. A new rule in `machine/board.py` gets a fixture and a line in
`EXPECTED`; a fixture without a line (or a line without a fixture) fails the suite.
"""

import pathlib

import pytest

from machine.board import BOARDS_DIR, BoardError, BoardSpec, known_boards, load_board
from machine.memory import Perm
from machine.peripherals import PERIPHERAL_TYPES
from machine.peripherals.cmsdk_uart import CmsdkUart

BAD = pathlib.Path(__file__).resolve().parent / "bad_boards"
KNOWN_TYPES = ", ".join(sorted(PERIPHERAL_TYPES))

# The board every fixture starts from: one RAM region, a UART, an NVIC.
MINIMAL = """\
[board]
name = "tiny"
description = "the smallest board that passes every check"

[cpu]
isa = "armv7m"
model = "cortex-m3"
frequency_hz = 25_000_000
reset = "vector-table"
vector_table = 0x0000_0000

[[region]]
name = "ram"
base = 0x0000_0000
size = 0x0001_0000
kind = "ram"
access = "rwx"

[[peripheral]]
name = "uart0"
type = "cmsdk-apb-uart"
base = 0x4000_4000
size = 0x1000
irq = { rx = 0, tx = 1 }

[[peripheral]]
name = "nvic"
type = "armv7m-nvic"
base = 0xE000_E000
size = 0x1000
params = { num_irq = 32 }

[interrupts]
controller = "nvic"
"""

EXPECTED = {
    # the board file's register blocks (type "registers", machine/peripherals/register_block.py)
    'register_name_missing':
        "register_name_missing.toml: peripheral 'pll'.register[0].name: missing",
    'register_name_not_identifier':
        "register_name_not_identifier.toml: peripheral 'pll'.register[0].name: must be an identifier (letters, digits, _), not 'pll-cfg'",
    'register_name_used_twice':
        "register_name_used_twice.toml: peripheral 'pll'.register[1].name: 'a' is used twice",
    'register_not_a_table':
        "register_not_a_table.toml: peripheral 'pll'.register[0]: must be a table, not 1",
    'register_offset_misaligned':
        "register_offset_misaligned.toml: peripheral 'pll'.register[0].offset: must be a multiple of 4 (the register's width in bytes), not 0x6",
    'register_offset_missing':
        "register_offset_missing.toml: peripheral 'pll'.register[0].offset: missing",
    'register_offset_outside_window':
        "register_offset_outside_window.toml: peripheral 'pll'.register[0].offset: must be inside the peripheral's 0x1000-byte window, not 0x1000",
    'register_on_a_modelled_type':
        "register_on_a_modelled_type.toml: peripheral 'uart0'.register: only a peripheral of type 'registers' declares registers, not one of type 'cmsdk-apb-uart'",
    'register_overlaps_register':
        "register_overlaps_register.toml: peripheral 'pll'.register[1].offset: 0x2 overlaps register 'a' at 0x0",
    'register_read_only_not_an_integer':
        "register_read_only_not_an_integer.toml: peripheral 'pll'.register[0].read_only: must be an integer, not 'bit 31'",
    'register_reset_too_wide':
        "register_reset_too_wide.toml: peripheral 'pll'.register[0].reset: must fit in the register's 8 bits, not 0x100",
    'register_unknown_key':
        "register_unknown_key.toml: peripheral 'pll'.register[0].ready: unknown key; expected one of: name, offset, read_only, reset, width",
    'register_width_unknown':
        "register_width_unknown.toml: peripheral 'pll'.register[0].width: must be 8, 16 or 32, not 24",
    'registers_empty':
        "registers_empty.toml: peripheral 'pll'.register: must be a non-empty array of tables, written [[peripheral.register]], not []",
    'registers_missing':
        "registers_missing.toml: peripheral 'pll'.register: missing; a 'registers' peripheral declares its registers in [[peripheral.register]] entries",
    "access_empty":
        "access_empty.toml: region 'ram'.access: must give at least one of 'r', 'w', 'x', not ''",
    "access_letter_repeated":
        "access_letter_repeated.toml: region 'ram'.access: must be letters from 'rwx', each at most once, not 'rwr'",
    "access_letters_bad":
        "access_letters_bad.toml: region 'ram'.access: must be letters from 'rwx', each at most once, not 'rwz'",
    "board_description_not_a_string":
        "board_description_not_a_string.toml: board.description: must be a string, not ['tiny']",
    "board_name_missing":
        'board_name_missing.toml: board.name: missing',
    "board_name_not_a_string":
        'board_name_not_a_string.toml: board.name: must be a string, not 3',
    "board_not_a_table":
        "board_not_a_table.toml: board: must be a table, not 'tiny'",
    "board_unknown_key":
        'board_unknown_key.toml: board.vendor: unknown key; expected one of: description, name',
    "controller_missing":
        'controller_missing.toml: interrupts.controller: missing',
    "controller_not_a_controller":
        'controller_not_a_controller.toml: interrupts.controller: '
        "peripheral 'uart0' (cmsdk-apb-uart) is not an interrupt controller",
    "controller_not_a_string":
        'controller_not_a_string.toml: interrupts.controller: must be a string, not 1',
    "controller_unknown":
        "controller_unknown.toml: interrupts.controller: must name a peripheral of this board (uart0, nvic), not 'gic'",
    "cpu_isa_unknown":
        "cpu_isa_unknown.toml: cpu.isa: must be one of 'armv7m', 'rv32imac', not 'x86'",
    "cpu_model_not_of_isa":
        "cpu_model_not_of_isa.toml: cpu.model: must be one of 'cortex-m3' for armv7m, not 'sifive-e31'",
    "cpu_reset_unknown":
        "cpu_reset_unknown.toml: cpu.reset: must be 'vector-table' or 'entry', not 'rom'",
    "cpu_unknown_key":
        'cpu_unknown_key.toml: cpu.cores: unknown key; expected one of: frequency_hz, isa, model, reset, vector_table',
    "duplicate_peripheral_name":
        "duplicate_peripheral_name.toml: peripheral 'uart0'.name: is used twice",
    "frequency_not_an_integer":
        "frequency_not_an_integer.toml: cpu.frequency_hz: must be an integer, not '25 MHz'",
    "frequency_not_positive":
        'frequency_not_positive.toml: cpu.frequency_hz: must be a positive integer, not 0',
    "frequency_too_high":
        'frequency_too_high.toml: cpu.frequency_hz: must be at most 10_000_000_000 (10 GHz), '
        'not 9_223_372_036_854_775_807',
    "interrupts_unknown_key":
        'interrupts_unknown_key.toml: interrupts.priority: unknown key; expected one of: controller',
    "irq_array_too_long":
        "irq_array_too_long.toml: peripheral 'uart0'.irq: "
        'lists 4 lines but cmsdk-apb-uart has 3 interrupt outputs (rx, tx, overflow)',
    "irq_line_beyond_controller":
        "irq_line_beyond_controller.toml: peripheral 'uart0'.irq.tx: "
        "line 32 is beyond the 32 lines of controller 'nvic'",
    "irq_line_reserved":
        "irq_line_reserved.toml: peripheral 'uart0'.irq.irq: "
        "line 0 is reserved on controller 'plic'; its lines start at 1",
    "irq_line_negative":
        "irq_line_negative.toml: peripheral 'uart0'.irq.rx: must be a non-negative integer, not -1",
    "irq_line_not_an_integer":
        "irq_line_not_an_integer.toml: peripheral 'uart0'.irq.rx: must be a non-negative integer, not '0'",
    "irq_not_number_array_or_table":
        "irq_not_number_array_or_table.toml: peripheral 'uart0'.irq: must be an integer, an array or a table, not 'rx'",
    "irq_number_for_many_outputs":
        "irq_number_for_many_outputs.toml: peripheral 'uart0'.irq: "
        'cmsdk-apb-uart has 3 interrupt outputs (rx, tx, overflow); '
        'wire them by name in a table or in that order in an array',
    "irq_on_peripheral_without_outputs":
        "irq_on_peripheral_without_outputs.toml: peripheral 'nvic'.irq: armv7m-nvic has no interrupt outputs to wire",
    "irq_output_unknown":
        "irq_output_unknown.toml: peripheral 'uart0'.irq.txd: "
        "cmsdk-apb-uart has no interrupt output 'txd'; outputs: rx, tx, overflow",
    "irq_wired_without_controller":
        "irq_wired_without_controller.toml: peripheral 'uart0'.irq: "
        'is wired but the board names no [interrupts] controller',
    "missing_board_table":
        'missing_board_table.toml: board: missing; the file needs a [board] table',
    "missing_cpu_table":
        'missing_cpu_table.toml: cpu: missing; the file needs a [cpu] table',
    "not_toml":
        "not_toml.toml: not valid TOML: Expected '=' after a key in a key/value pair (at line 3, column 6)",
    "param_unknown":
        "param_unknown.toml: peripheral 'nvic'.params.num_cores: "
        'unknown parameter of armv7m-nvic; accepted: num_irq, priority_bits',
    "param_unknown_to_type_without_params":
        "param_unknown_to_type_without_params.toml: peripheral 'uart0'.params.baud: "
        'unknown parameter of cmsdk-apb-uart; accepted: none',
    "param_value_rejected":
        "param_value_rejected.toml: peripheral 'nvic'.params: num_irq must be an integer in 1..240, not 241",
    "param_wrong_type":
        "param_wrong_type.toml: peripheral 'nvic'.params.num_irq: must be an integer, not '32'",
    "params_not_a_table":
        "params_not_a_table.toml: peripheral 'nvic'.params: must be a table, not 32",
    "peripheral_base_not_page_aligned":
        "peripheral_base_not_page_aligned.toml: peripheral 'uart0'.base: "
        'must be a multiple of the page size 0x1000, not 0x40004800',
    "peripheral_entry_not_a_table":
        "peripheral_entry_not_a_table.toml: peripheral[0]: must be a table, not 'uart0'",
    "peripheral_name_missing":
        'peripheral_name_missing.toml: peripheral[0].name: missing',
    "peripheral_name_not_identifier":
        'peripheral_name_not_identifier.toml: peripheral[0].name: '
        "must be an identifier (letters, digits, _), not 'uart-0'",
    "peripheral_not_an_array":
        'peripheral_not_an_array.toml: peripheral: '
        'must be an array of tables, written [[peripheral]], not a single [peripheral] table',
    "peripheral_overlaps_peripheral":
        "peripheral_overlaps_peripheral.toml: peripheral 'uart0': "
        "0x40004000-0x40005000 overlaps peripheral 'nvic' at 0x40004000-0x40005000",
    "peripheral_passes_end_of_address_space":
        "peripheral_passes_end_of_address_space.toml: peripheral 'uart0'.size: "
        '0xfffff000+0x2000 passes the end of the 32-bit address space',
    "peripheral_size_smaller_than_window":
        "peripheral_size_smaller_than_window.toml: peripheral 'clint'.size: "
        'must be at least 0x10000, the window sifive-clint decodes, not 0x1000',
    "peripheral_unknown_key":
        "peripheral_unknown_key.toml: peripheral 'uart0'.clock: "
        'unknown key; expected one of: base, irq, name, params, register, size, type',
    "region_base_not_an_address":
        "region_base_not_an_address.toml: region 'ram'.base: must be a 32-bit address, not -0x1000",
    "region_base_not_page_aligned":
        "region_base_not_page_aligned.toml: region 'ram'.base: must be a multiple of the page size 0x1000, not 0x100",
    "region_empty":
        'region_empty.toml: region: is empty; a board needs at least one [[region]] of memory',
    "region_entry_not_a_table":
        'region_entry_not_a_table.toml: region[0]: must be a table, not 1',
    "region_kind_unknown":
        "region_kind_unknown.toml: region 'ram'.kind: must be 'ram' or 'flash', not 'rom'",
    "region_missing":
        'region_missing.toml: region: missing; a board needs at least one [[region]] of memory',
    "region_name_missing":
        'region_name_missing.toml: region[0].name: missing',
    "region_name_used_twice":
        "region_name_used_twice.toml: region 'ram'.name: is used twice",
    "region_not_an_array":
        'region_not_an_array.toml: region: must be an array of tables, written [[region]], not a single [region] table',
    "region_overlaps_peripheral":
        "region_overlaps_peripheral.toml: peripheral 'uart0': "
        "0x40004000-0x40005000 overlaps region 'ram2' at 0x40000000-0x40010000",
    "region_overlaps_region":
        "region_overlaps_region.toml: region 'ram2': 0xf000-0x1f000 overlaps region 'ram' at 0x0-0x10000",
    "region_passes_end_of_address_space":
        "region_passes_end_of_address_space.toml: region 'high'.size: "
        '0xfffff000+0x10000 passes the end of the 32-bit address space',
    "region_size_not_page_multiple":
        "region_size_not_page_multiple.toml: region 'ram'.size: "
        "must be a multiple of the page size 0x1000, not 0x10800",
    "region_size_not_positive":
        "region_size_not_positive.toml: region 'ram'.size: must be a positive integer, not 0",
    "region_unknown_key":
        "region_unknown_key.toml: region 'ram'.cached: unknown key; expected one of: access, base, kind, name, size",
    "unknown_peripheral_type":
        "unknown_peripheral_type.toml: peripheral 'uart0'.type: unknown type 'uart'; known types: " + KNOWN_TYPES,
    "unknown_top_level_key":
        'unknown_top_level_key.toml: memory: unknown key; expected one of: board, cpu, interrupts, peripheral, region',
    "vector_table_missing":
        "vector_table_missing.toml: cpu.vector_table: missing; reset = 'vector-table' needs the table's address",
    "vector_table_not_an_address":
        'vector_table_not_an_address.toml: cpu.vector_table: must be a 32-bit address, not 0x100000000',
    "vector_table_outside_memory":
        'vector_table_outside_memory.toml: cpu.vector_table: 0x10000000 is not inside a memory region',
    "vector_table_with_entry_reset":
        "vector_table_with_entry_reset.toml: cpu.vector_table: only goes with reset = 'vector-table', not 'entry'",
}


# -- the bad fixtures ------------------------------------------------------------------


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_each_bad_board_fails_with_its_exact_message(fixture):
    with pytest.raises(BoardError) as excinfo:
        load_board(BAD / f"{fixture}.toml")
    assert str(excinfo.value) == EXPECTED[fixture]


def test_every_bad_board_fixture_has_an_expected_message_and_every_message_a_fixture():
    assert sorted(p.stem for p in BAD.glob("*.toml")) == sorted(EXPECTED)


def test_every_message_starts_with_the_file_name():
    for fixture, message in EXPECTED.items():
        assert message.startswith(f"{fixture}.toml: ")


def test_the_minimal_board_the_fixtures_start_from_is_valid(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(MINIMAL)
    assert load_board(path).name == "tiny"


def test_a_bad_board_gives_the_same_message_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BoardError) as excinfo:
        load_board(BAD / "cpu_isa_unknown.toml")
    assert str(excinfo.value) == EXPECTED["cpu_isa_unknown"]


# -- the shipped boards ---------------------------------------------------------------------


def test_the_known_boards_are_the_files_in_the_boards_directory():
    assert known_boards() == sorted(path.stem for path in BOARDS_DIR.glob("*.toml"))
    assert {"hifive1", "mps2-an385"} <= set(known_boards())


@pytest.mark.parametrize("name", known_boards())
def test_every_shipped_board_loads_and_is_named_like_its_file(name):
    assert load_board(name).name == name


def test_mps2_an385_loads_as_a_cortex_m3_reset_from_its_vector_table():
    board = load_board("mps2-an385")
    assert (board.name, board.cpu.isa, board.cpu.model) == ("mps2-an385", "armv7m", "cortex-m3")
    assert (board.cpu.frequency_hz, board.cpu.reset, board.cpu.vector_table) == (25_000_000, "vector-table", 0)
    assert board.path == BOARDS_DIR / "mps2-an385.toml"


def test_mps2_an385_wires_the_uarts_as_the_an385_note_says():
    board = load_board("mps2-an385")
    uart0 = board.peripheral("uart0")
    assert (uart0.type, uart0.cls, uart0.base, uart0.size) == ("cmsdk-apb-uart", CmsdkUart, 0x4000_4000, 0x1000)
    assert uart0.irq == {"rx": 0, "tx": 1, "overflow": 12}
    assert board.interrupt_controller == "nvic"
    assert board.peripheral("nvic").params == {"num_irq": 32, "priority_bits": 3}


def test_mps2_an385_wires_an_irq_array_to_outputs_in_declared_order():
    gpio0 = load_board("mps2-an385").peripheral("gpio0")
    assert gpio0.irq["combined"] == 6
    assert gpio0.irq["pin0"] == 24 and gpio0.irq["pin7"] == 31


def test_hifive1_loads_as_an_e31_started_at_the_elf_entry():
    board = load_board("hifive1")
    assert (board.name, board.cpu.isa, board.cpu.model) == ("hifive1", "rv32imac", "sifive-e31")
    assert (board.cpu.frequency_hz, board.cpu.reset) == (16_000_000, "entry")
    assert board.interrupt_controller == "plic"


def test_hifive1_regions_are_flash_and_ram_with_their_permissions():
    board = load_board("hifive1")
    flash, dtim = board.regions
    assert (flash.name, flash.base, flash.size, flash.kind, flash.perms) == (
        "flash", 0x2000_0000, 0x0100_0000, "flash", Perm.R | Perm.X)
    assert (dtim.name, dtim.base, dtim.size, dtim.kind, dtim.perms) == (
        "dtim", 0x8000_0000, 0x0010_0000, "ram", Perm.R | Perm.W | Perm.X)
    assert board.region_at(0x8000_0000, 4) is dtim
    assert board.region_at(0x9000_0000) is None


def test_hifive1_wires_a_single_irq_number_to_the_uarts_only_output():
    board = load_board("hifive1")
    assert board.peripheral("uart0").irq == {"irq": 3}
    assert board.peripheral("uart1").irq == {"irq": 4}


def test_a_board_asked_for_a_peripheral_it_lacks_says_so():
    with pytest.raises(KeyError) as excinfo:
        load_board("hifive1").peripheral("uart9")
    assert excinfo.value.args[0] == "board hifive1 has no peripheral 'uart9'"


def test_a_board_loads_by_name_whatever_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hifive1").write_text("not a board")   # a bare name never means a file here
    assert load_board("hifive1").path == BOARDS_DIR / "hifive1.toml"


# -- finding the file ------------------------------------------------------------------------


def test_an_unknown_board_name_lists_the_known_boards():
    with pytest.raises(BoardError) as excinfo:
        load_board("stm32f4")
    assert str(excinfo.value) == (f"unknown board 'stm32f4'; known boards: {', '.join(known_boards())} "
                                  "(or give the path of a board file ending in .toml)")


def test_a_user_board_given_by_path_loads(tmp_path):
    path = tmp_path / "myboard.toml"
    path.write_text(MINIMAL.replace('name = "tiny"', 'name = "myboard"'))
    board = load_board(path)
    assert isinstance(board, BoardSpec)
    assert (board.name, board.path, board.cpu.isa) == ("myboard", path, "armv7m")
    assert [p.name for p in board.peripherals] == ["uart0", "nvic"]


def test_a_user_board_given_by_a_path_string_loads(tmp_path):
    path = tmp_path / "myboard.toml"
    path.write_text(MINIMAL)
    assert load_board(str(path)).name == "tiny"


def test_a_user_board_given_by_a_relative_path_loads_from_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "boards").mkdir()
    (tmp_path / "boards" / "mine.toml").write_text(MINIMAL)
    monkeypatch.chdir(tmp_path)
    assert load_board("boards/mine.toml").name == "tiny"


def test_a_missing_board_file_says_it_cannot_be_read(tmp_path):
    path = tmp_path / "nowhere.toml"
    with pytest.raises(BoardError) as excinfo:
        load_board(path)
    assert str(excinfo.value) == f"{path}: cannot read: No such file or directory"


def test_a_board_file_that_is_not_utf8_names_the_first_bad_byte(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(MINIMAL.replace("smallest", "sm\xe4llest").encode("latin-1"))
    with pytest.raises(BoardError) as excinfo:
        load_board(path)
    at = MINIMAL.index("smallest") + 2
    assert str(excinfo.value) == f"latin1.toml: not UTF-8 text (byte {at} is 0xe4)"


def test_a_board_error_is_a_value_error():
    assert issubclass(BoardError, ValueError)
