"""System descriptions: valid ones load, and every rule has a bad fixture with its exact message.

Each file in `bad_images/` is the minimal description below with one thing broken, named after
the error it triggers. A new rule in `sysdesc/description.py` gets a fixture and a line in `EXPECTED`;
a fixture without a line (or a line without a fixture) fails the suite. ELF files are checked
last and only for existence, so the fixtures need none, except those for `system.policy` (read
after the ELF check), which name the placeholder files in `bad_images/placeholder_elf/`;
`bad_images/interfaces/` holds two valid interface files that clash with the shipped uart
interface. The valid descriptions here get small placeholder files in a temporary folder.
"""

import pathlib
import shutil
import tomllib

import pytest

from kernel.abi import Right
from kernel.rules import RestartPolicy
from machine import load_board
from sysdesc.description import ImageError, SystemSpec, load_system

BAD = pathlib.Path(__file__).resolve().parent / "bad_images"
ROOT = pathlib.Path(__file__).resolve().parents[2]

# The description every fixture starts from: three components on the MPS2 board, a driver with
# interrupts, a supervisor's fault endpoint, a client and a notification.
MINIMAL = """\
[system]
name = "tiny"
board = "mps2-an385"

[[component]]
name = "uart"
elf = "elf/uart.elf"
priority = 1
stack = 2048
uses = ["uart0"]
interrupts = { "uart0.rx" = 0, "uart0.tx" = 1 }
supervisor = "supervisor"

[[component]]
name = "supervisor"
elf = "elf/supervisor.elf"
priority = 0
stack = 1024

[[component]]
name = "console"
elf = "elf/console.elf"
priority = 2
stack = 1024

[[endpoint]]
name = "faults"
server = "supervisor"
server_slot = 1

[[endpoint]]
name = "uart"
server = "uart"
server_slot = 1
clients = { console = 1 }

[[notification]]
from = "uart"
to = "console"
slot = 2
bits = 0x1
"""

EXPECTED = {
    "board_file_bad":
        'board_file_bad.toml: '
        "system.board: cpu_isa_unknown.toml: cpu.isa: must be one of 'armv7m', 'rv32imac', not 'x86'",
    "board_file_missing":
        'board_file_missing.toml: '
        'system.board: no such file: boards/mine.toml (paths are relative to the folder of board_file_missing.toml)',
    "board_missing":
        'board_missing.toml: system.board: missing',
    "board_not_a_string":
        'board_not_a_string.toml: system.board: must be a string, not 385',
    "board_path_without_toml":
        'board_path_without_toml.toml: '
        "system.board: must be a shipped board's name or a path ending in .toml, not 'boards/mine'",
    "board_unknown":
        'board_unknown.toml: '
        "system.board: unknown board 'stm32f4'; known boards: hifive1, mps2-an385 (or give the path of a board file ending in .toml)",
    "component_entry_not_a_table":
        "component_entry_not_a_table.toml: component[0]: must be a table, not 'uart'",
    "component_missing":
        'component_missing.toml: component: missing; a system needs at least one [[component]]',
    "component_name_missing":
        'component_name_missing.toml: component[0].name: missing',
    "component_name_not_identifier":
        'component_name_not_identifier.toml: '
        "component[0].name: must be an identifier (letters, digits, _), not 'uart-0'",
    "component_name_used_twice":
        "component_name_used_twice.toml: component 'uart'.name: is used twice",
    "component_not_an_array":
        'component_not_an_array.toml: '
        'component: must be an array of tables, written [[component]], not a single [component] table',
    "component_unknown_key":
        'component_unknown_key.toml: '
        "component 'uart'.heap_size: unknown key; expected one of: elf, heap, interrupts, name, priority, restart, "
        "restart_limit, restart_then, restart_window_ms, stack, start, stdout, supervisor, uses",
    "elf_empty":
        "elf_empty.toml: component 'uart'.elf: must be the path of an ELF file, not ''",
    "elf_file_missing":
        'elf_file_missing.toml: '
        "component 'uart'.elf: no such file: elf/uart.elf (paths are relative to the folder of elf_file_missing.toml)",
    "elf_missing":
        "elf_missing.toml: component 'uart'.elf: missing",
    "elf_not_a_file":
        "elf_not_a_file.toml: component 'uart'.elf: not a file: ../../../machine/boards",
    "elf_not_a_string":
        "elf_not_a_string.toml: component 'uart'.elf: must be a string, not ['elf/uart.elf']",
    "endpoint_client_is_server":
        "endpoint_client_is_server.toml: endpoint 'uart'.clients.uart: is the server of this endpoint",
    "endpoint_client_slot_out_of_range":
        'endpoint_client_slot_out_of_range.toml: '
        "endpoint 'uart'.clients.console: must be an integer from 1 to 63 (slot 0 holds the reply capability), not 100",
    "endpoint_client_unknown":
        'endpoint_client_unknown.toml: '
        "endpoint 'uart'.clients.display: not a component; components: uart, supervisor, console",
    "endpoint_clients_not_a_table":
        "endpoint_clients_not_a_table.toml: endpoint 'uart'.clients: must be a table, not ['console']",
    "endpoint_entry_not_a_table":
        "endpoint_entry_not_a_table.toml: endpoint[0]: must be a table, not 'uart'",
    "endpoint_name_missing":
        'endpoint_name_missing.toml: endpoint[0].name: missing',
    "endpoint_name_not_identifier":
        'endpoint_name_not_identifier.toml: '
        "endpoint[0].name: must be an identifier (letters, digits, _), not 'faults.v1'",
    "endpoint_name_used_twice":
        "endpoint_name_used_twice.toml: endpoint 'uart'.name: is used twice",
    "endpoint_not_an_array":
        'endpoint_not_an_array.toml: '
        'endpoint: must be an array of tables, written [[endpoint]], not a single [endpoint] table',
    "endpoint_server_missing":
        "endpoint_server_missing.toml: endpoint 'uart'.server: missing",
    "endpoint_server_slot_missing":
        "endpoint_server_slot_missing.toml: endpoint 'uart'.server_slot: missing",
    "endpoint_server_slot_too_large":
        'endpoint_server_slot_too_large.toml: '
        "endpoint 'uart'.server_slot: must be an integer from 1 to 63 (slot 0 holds the reply capability), not 64",
    "endpoint_server_slot_zero":
        'endpoint_server_slot_zero.toml: '
        "endpoint 'uart'.server_slot: must be an integer from 1 to 63 (slot 0 holds the reply capability), not 0",
    "endpoint_server_unknown":
        'endpoint_server_unknown.toml: '
        "endpoint 'uart'.server: must name a component (uart, supervisor, console), not 'display'",
    "endpoint_unknown_key":
        'endpoint_unknown_key.toml: '
        "endpoint 'uart'.label: unknown key; expected one of: clients, interface, name, server, server_slot",
    "interface_empty":
        "interface_empty.toml: endpoint 'uart'.interface: must be the path of an interface file, not ''",
    "interface_file_bad":
        'interface_file_bad.toml: '
        "endpoint 'uart'.interface: interface_id_zero.idl.toml: interface.id: must be an integer from 1 to 65534, not 0",
    "interface_file_missing":
        'interface_file_missing.toml: '
        "endpoint 'uart'.interface: no such file: uart.idl.toml (paths are relative to the folder of interface_file_missing.toml)",
    "interface_id_used_twice":
        'interface_id_used_twice.toml: '
        "endpoint 'uart'.interface: interface id 1 is already that of interface 'serial' (endpoint 'faults')",
    "interface_name_from_two_files":
        'interface_name_from_two_files.toml: '
        "endpoint 'uart'.interface: endpoint 'faults' declares an interface named 'uart' already, from another file",
    "interface_not_a_string":
        "interface_not_a_string.toml: endpoint 'uart'.interface: must be a string, not 1",
    "interrupt_bit_not_an_integer":
        'interrupt_bit_not_an_integer.toml: '
        'component \'uart\'.interrupts."uart0.tx": must be an integer, not \'1\'',
    "interrupt_bit_out_of_range":
        'interrupt_bit_out_of_range.toml: '
        'component \'uart\'.interrupts."uart0.tx": must be an integer from 0 to 31, not 32',
    "interrupt_bit_used_twice":
        'interrupt_bit_used_twice.toml: '
        'component \'uart\'.interrupts."uart0.tx": bit 0 is given to "uart0.rx" already',
    "interrupt_given_to_two_components":
        'interrupt_given_to_two_components.toml: '
        'component \'console\'.interrupts."uart0.rx": is given to component \'uart\' already',
    "interrupt_line_shared_between_components":
        'interrupt_line_shared_between_components.toml: '
        'component \'console\'.interrupts."uart1.overflow": shares interrupt line 12 with "uart0.overflow", given to component \'uart\'',
    "uses_peripheral_sharing_an_owned_line":
        'uses_peripheral_sharing_an_owned_line.toml: '
        'component \'console\'.uses: uart1\'s output "overflow" shares interrupt line 12 with "uart0.overflow", given to component \'uart\'',
    "interrupt_output_not_wired":
        'interrupt_output_not_wired.toml: '
        'component \'uart\'.interrupts."gpio1.pin0": output \'pin0\' of \'gpio1\' is not wired on board mps2-an385',
    "interrupt_output_unknown":
        'interrupt_output_unknown.toml: '
        'component \'uart\'.interrupts."uart0.irq": cmsdk-apb-uart has no interrupt output \'irq\'; outputs: rx, tx, overflow',
    "interrupt_peripheral_not_in_uses":
        'interrupt_peripheral_not_in_uses.toml: '
        'component \'uart\'.interrupts."uart1.tx": peripheral \'uart1\' is not in this component\'s uses',
    "interrupt_without_output":
        'interrupt_without_output.toml: '
        'component \'uart\'.interrupts."uart0": must name an interrupt output as "peripheral.output"',
    "interrupts_not_a_table":
        'interrupts_not_a_table.toml: '
        'component \'uart\'.interrupts: must be a table of "peripheral.output" = bit, not [\'uart0.rx\']',
    "not_toml":
        "not_toml.toml: not valid TOML: Expected '=' after a key in a key/value pair (at line 3, column 6)",
    "notification_bits_overlap_interrupt":
        'notification_bits_overlap_interrupt.toml: '
        'notification[1].bits: bit 1 of component \'uart\' is given to interrupt "uart0.tx" already',
    "notification_bits_overlap_notification":
        'notification_bits_overlap_notification.toml: '
        "notification[1].bits: bit 0 of component 'console' is given to notification[0] (from 'uart') already",
    "notification_bits_too_wide":
        'notification_bits_too_wide.toml: '
        'notification[0].bits: must be a non-zero 32-bit mask, not 0x100000001',
    "notification_bits_zero":
        'notification_bits_zero.toml: notification[0].bits: must be a non-zero 32-bit mask, not 0x0',
    "notification_from_missing":
        'notification_from_missing.toml: notification[0].from: missing',
    "notification_from_unknown":
        'notification_from_unknown.toml: '
        "notification[0].from: must name a component (uart, supervisor, console), not 'timer'",
    "notification_not_an_array":
        'notification_not_an_array.toml: '
        'notification: must be an array of tables, written [[notification]], not a single [notification] table',
    "notification_slot_zero":
        'notification_slot_zero.toml: '
        'notification[0].slot: must be an integer from 1 to 63 (slot 0 holds the reply capability), not 0',
    "notification_to_itself":
        "notification_to_itself.toml: notification[0].to: is 'uart', the notifier itself",
    "notification_to_unknown":
        'notification_to_unknown.toml: '
        "notification[0].to: must name a component (uart, supervisor, console), not 'blinky'",
    "notification_unknown_key":
        'notification_unknown_key.toml: '
        'notification[0].badge: unknown key; expected one of: bits, from, slot, to',
    "policy_empty":
        "policy_empty.toml: system.policy: must be the path of a policy file, not ''",
    "policy_file_bad":
        'policy_file_bad.toml: '
        "system.policy: mode_unknown.toml: policy.mode: must be one of enforce, permissive, not 'strict'",
    "policy_file_missing":
        'policy_file_missing.toml: '
        'system.policy: no such file: tiny.policy.toml (paths are relative to the folder of policy_file_missing.toml)',
    "policy_for_another_system":
        'policy_for_another_system.toml: '
        "system.policy: demo.policy.toml: rule[0].methods: 'uart.write' names no interface of the system "
        "(interfaces: none: no endpoint names an interface file)",
    "policy_not_a_string":
        "policy_not_a_string.toml: system.policy: must be a string, not ['demo.policy.toml']",
    "priority_missing":
        "priority_missing.toml: component 'uart'.priority: missing",
    "priority_not_an_integer":
        "priority_not_an_integer.toml: component 'uart'.priority: must be an integer, not '1'",
    "priority_out_of_range":
        "priority_out_of_range.toml: component 'uart'.priority: must be an integer from 0 to 7, not 9",
    "restart_backoff_without_supervisor":
        'restart_backoff_without_supervisor.toml: '
        "component 'console'.restart: backoff is its supervisor's; a component without one can restart, hold or reboot",
    "restart_limit_not_an_integer":
        "restart_limit_not_an_integer.toml: component 'uart'.restart_limit: must be an integer, not '3'",
    "restart_limit_on_default_hold":
        'restart_limit_on_default_hold.toml: '
        "component 'uart'.restart_limit: limits restarts, but a component without a supervisor is held by "
        'default; set restart = "restart"',
    "restart_limit_too_large":
        'restart_limit_too_large.toml: '
        "component 'uart'.restart_limit: must be an integer from 1 to 1000, not 1001",
    "restart_limit_with_hold":
        'restart_limit_with_hold.toml: '
        "component 'uart'.restart_limit: limits restarts; restart = 'hold' restarts nothing",
    "restart_limit_with_reboot":
        'restart_limit_with_reboot.toml: '
        "component 'uart'.restart_limit: limits restarts; restart = 'reboot' restarts nothing",
    "restart_limit_zero":
        "restart_limit_zero.toml: component 'uart'.restart_limit: must be an integer from 1 to 1000, not 0",
    "restart_not_a_string":
        "restart_not_a_string.toml: component 'uart'.restart: must be a string, not 1",
    "restart_then_not_a_string":
        "restart_then_not_a_string.toml: component 'uart'.restart_then: must be a string, not True",
    "restart_then_unknown":
        "restart_then_unknown.toml: component 'uart'.restart_then: must be one of hold, reboot, not 'restart'",
    "restart_then_without_limit":
        "restart_then_without_limit.toml: component 'uart'.restart_then: needs restart_limit",
    "restart_unknown":
        'restart_unknown.toml: '
        "component 'uart'.restart: must be one of restart, backoff, hold, reboot, not 'retry'",
    "restart_window_not_an_integer":
        'restart_window_not_an_integer.toml: '
        "component 'uart'.restart_window_ms: must be an integer, not '10 s'",
    "restart_window_too_long":
        'restart_window_too_long.toml: '
        "component 'uart'.restart_window_ms: must be an integer from 1 to 86400000, not 86400001",
    "restart_window_without_limit":
        "restart_window_without_limit.toml: component 'uart'.restart_window_ms: needs restart_limit",
    "restart_window_zero":
        'restart_window_zero.toml: '
        "component 'uart'.restart_window_ms: must be an integer from 1 to 86400000, not 0",
    "slot_used_by_endpoint_and_notification":
        'slot_used_by_endpoint_and_notification.toml: '
        "notification[0].slot: slot 1 of component 'uart' holds the receive side of endpoint 'uart' already",
    "slot_used_by_two_endpoints":
        'slot_used_by_two_endpoints.toml: '
        "endpoint 'uart'.clients.console: slot 1 of component 'console' holds the send side of endpoint 'faults' already",
    "stack_missing":
        "stack_missing.toml: component 'uart'.stack: missing",
    "stack_not_multiple_of_8":
        'stack_not_multiple_of_8.toml: '
        "component 'uart'.stack: must be a multiple of 8 from 256 to 65536 bytes, not 2044",
    "stack_too_large":
        'stack_too_large.toml: '
        "component 'uart'.stack: must be a multiple of 8 from 256 to 65536 bytes, not 131072",
    "stack_too_small":
        'stack_too_small.toml: '
        "component 'uart'.stack: must be a multiple of 8 from 256 to 65536 bytes, not 128",
    "start_not_a_boolean":
        "start_not_a_boolean.toml: component 'console'.start: must be true or false, not 'no'",
    "supervisor_itself":
        'supervisor_itself.toml: '
        "component 'uart'.supervisor: is the component itself; faults need another component to go to",
    "supervisor_not_a_string":
        "supervisor_not_a_string.toml: component 'uart'.supervisor: must be a string, not ['supervisor']",
    "supervisor_serves_no_endpoint":
        'supervisor_serves_no_endpoint.toml: '
        "component 'uart'.supervisor: component 'console' serves no endpoint to receive faults on",
    "supervisor_unknown":
        'supervisor_unknown.toml: '
        "component 'uart'.supervisor: must name a component (uart, supervisor, console), not 'watchdog'",
    "system_missing":
        'system_missing.toml: system: missing; the file needs a [system] table',
    "system_name_bad":
        'system_name_bad.toml: '
        "system.name: must be letters, digits, '_', '-' and '.', starting with a letter or digit, not 'tiny demo'",
    "system_name_missing":
        'system_name_missing.toml: system.name: missing',
    "system_not_a_table":
        "system_not_a_table.toml: system: must be a table, not 'tiny'",
    "system_unknown_key":
        'system_unknown_key.toml: system.firmware: unknown key; expected one of: board, name, policy',
    "unknown_top_level_key":
        'unknown_top_level_key.toml: '
        'channel: unknown key; expected one of: component, endpoint, notification, system',
    "uses_address_not_an_integer":
        "uses_address_not_an_integer.toml: component 'uart'.uses.uart0: must be an integer, not '0x5000_0000'",
    "uses_address_not_page_aligned":
        'uses_address_not_page_aligned.toml: '
        "component 'uart'.uses.uart0: must be a page-aligned virtual address (a multiple of 0x1000), not 0x50000100",
    "uses_address_overlaps_another_mapping":
        'uses_address_overlaps_another_mapping.toml: '
        "component 'uart'.uses.timer0: timer0 at 0x50000000-0x50001000 overlaps peripheral 'uart0' at 0x50000000-0x50001000",
    "uses_address_overlaps_component_layout":
        'uses_address_overlaps_component_layout.toml: '
        "component 'uart'.uses.uart0: uart0 at 0x100000-0x101000 overlaps the component's code and data at 0x10000-0x1000000",
    "uses_address_overlaps_stack":
        'uses_address_overlaps_stack.toml: '
        "component 'uart'.uses.uart0: uart0 at 0x6ffff000-0x70000000 overlaps the component's stack window at 0x6fff0000-0x70000000",
    "uses_address_overlaps_heap":
        'uses_address_overlaps_heap.toml: '
        "component 'uart'.uses.uart0: uart0 at 0x60004000-0x60005000 overlaps the component's heap window at 0x60000000-0x61000000",
    "heap_not_whole_pages":
        "heap_not_whole_pages.toml: component 'uart'.heap: must be a multiple of 4096 from 0 to 16777216 bytes, not 1000",
    "stdout_not_a_client":
        'stdout_not_a_client.toml: '
        "component 'uart'.stdout: must be \"log\" or a console endpoint the component is a client of, not 'faults'",
    "uses_address_past_end":
        'uses_address_past_end.toml: '
        "component 'uart'.uses.clint: 0xfffff000+0x10000 passes the end of the 32-bit address space",
    "uses_entry_not_a_string":
        "uses_entry_not_a_string.toml: component 'uart'.uses: must be a string, not 1",
    "uses_interrupt_controller":
        'uses_interrupt_controller.toml: '
        "component 'uart'.uses: 'nvic' is the interrupt controller, which only the kernel drives",
    "uses_listed_twice":
        "uses_listed_twice.toml: component 'uart'.uses: lists 'uart0' twice",
    "uses_not_array_or_table":
        'uses_not_array_or_table.toml: '
        "component 'uart'.uses: must be an array of peripheral names or a table of peripheral = virtual address, not 'uart0'",
    "uses_unknown_peripheral":
        'uses_unknown_peripheral.toml: '
        "component 'uart'.uses: board mps2-an385 has no peripheral 'uart9'; it has: timer0, timer1, dualtimer, "
        "uart0, uart1, uart2, uart3, watchdog, uart4, gpio0, gpio1, gpio2, gpio3, fpgaio, scc",

}


def write_system(folder: pathlib.Path, text: str = MINIMAL, name: str = "tiny.toml") -> pathlib.Path:
    """`text` as `folder/name`, with a placeholder file for every ELF it names."""
    for comp in tomllib.loads(text).get("component", []):
        elf = folder / comp["elf"]
        elf.parent.mkdir(parents=True, exist_ok=True)
        elf.write_bytes(b"\x7fELF placeholder for " + comp["name"].encode())
    path = folder / name
    path.write_text(text)
    return path


# -- the bad fixtures ------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_each_bad_description_fails_with_its_exact_message(fixture):
    with pytest.raises(ImageError) as excinfo:
        load_system(BAD / f"{fixture}.toml")
    assert str(excinfo.value) == EXPECTED[fixture]


def test_every_bad_description_fixture_has_an_expected_message_and_every_message_a_fixture():
    assert sorted(p.stem for p in BAD.glob("*.toml")) == sorted(EXPECTED)


def test_every_message_starts_with_the_file_name_and_is_one_line():
    for fixture, message in EXPECTED.items():
        assert message.startswith(f"{fixture}.toml: ")
        assert "\n" not in message


def test_no_message_names_a_path_of_this_machine():
    root = str(pathlib.Path(__file__).resolve().parents[2])
    for message in EXPECTED.values():
        assert root not in message and " /" not in message


def test_the_fixture_with_only_its_elf_files_missing_is_the_minimal_description():
    text = (BAD / "elf_file_missing.toml").read_text()
    assert text.split("\n\n", 1)[1] == MINIMAL


def test_the_minimal_description_the_fixtures_start_from_is_valid(tmp_path):
    assert load_system(write_system(tmp_path)).name == "tiny"


def test_a_bad_description_gives_the_same_message_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for fixture in ("elf_file_missing", "board_file_bad", "priority_out_of_range"):
        with pytest.raises(ImageError) as excinfo:
            load_system(BAD / f"{fixture}.toml")
        assert str(excinfo.value) == EXPECTED[fixture]


# -- valid descriptions ----------------------------------------------------------------------


def test_a_valid_description_reads_into_frozen_specs(tmp_path):
    system = load_system(write_system(tmp_path))
    assert isinstance(system, SystemSpec)
    assert (system.name, system.path, system.board.name) == ("tiny", tmp_path / "tiny.toml", "mps2-an385")
    assert [c.name for c in system.components] == ["uart", "supervisor", "console"]
    with pytest.raises(AttributeError):
        system.name = "other"


def test_components_are_numbered_from_one_in_file_order(tmp_path):
    system = load_system(write_system(tmp_path))
    assert [c.index for c in system.components] == [1, 2, 3]


def test_a_component_reads_with_its_elf_path_next_to_the_description(tmp_path):
    uart = load_system(write_system(tmp_path)).component("uart")
    assert uart.elf == tmp_path / "elf" / "uart.elf"
    assert (uart.priority, uart.stack, uart.supervisor, uart.start) == (1, 2048, "supervisor", True)


def test_a_peripheral_listed_in_uses_is_mapped_at_its_physical_address(tmp_path):
    uart = load_system(write_system(tmp_path)).component("uart")
    assert uart.uses == {"uart0": 0x4000_4000}


def test_a_peripheral_given_an_address_in_uses_is_mapped_there(tmp_path):
    text = MINIMAL.replace('uses = ["uart0"]', "uses = { uart0 = 0x5000_0000, gpio0 = 0x5000_1000 }")
    uart = load_system(write_system(tmp_path, text)).component("uart")
    assert uart.uses == {"uart0": 0x5000_0000, "gpio0": 0x5000_1000}


def test_interrupts_read_as_peripheral_and_output_to_bit(tmp_path):
    uart = load_system(write_system(tmp_path)).component("uart")
    assert uart.interrupts == {("uart0", "rx"): 0, ("uart0", "tx"): 1}


def test_optional_keys_default_to_no_peripherals_no_interrupts_no_supervisor_and_started(tmp_path):
    console = load_system(write_system(tmp_path)).component("console")
    assert (console.uses, console.interrupts, console.supervisor, console.start) == ({}, {}, None, True)


def test_start_false_is_kept(tmp_path):
    text = MINIMAL.replace("stack = 1024\n\n[[endpoint]]", "stack = 1024\nstart = false\n\n[[endpoint]]")
    assert load_system(write_system(tmp_path, text)).component("console").start is False


def test_endpoints_and_notifications_read_in_file_order(tmp_path):
    system = load_system(write_system(tmp_path))
    assert [(e.name, e.server, e.server_slot, e.clients) for e in system.endpoints] == [
        ("faults", "supervisor", 1, {}), ("uart", "uart", 1, {"console": 1})]
    assert [(n.source, n.target, n.slot, n.bits) for n in system.notifications] == [("uart", "console", 2, 1)]


def test_a_component_holds_the_capabilities_the_description_grants_by_slot(tmp_path):
    system = load_system(write_system(tmp_path))
    assert system.capabilities_of("uart") == [
        (1, "endpoint-recv", "uart", Right.RECV, 0),
        (2, "notification", "console", Right.SEND, 0x1)]
    assert system.capabilities_of("supervisor") == [(1, "endpoint-recv", "faults", Right.RECV, 0)]


def test_a_client_send_capability_is_badged_with_the_client_index(tmp_path):
    system = load_system(write_system(tmp_path))
    assert system.capabilities_of("console") == [(1, "endpoint-send", "uart", Right.SEND | Right.GRANT, 3)]


def test_faults_go_to_the_first_endpoint_the_supervisor_serves(tmp_path):
    system = load_system(write_system(tmp_path))
    assert system.fault_endpoint_of("uart").name == "faults"
    assert system.fault_endpoint_of("console") is None


def test_a_system_asked_for_a_component_it_lacks_says_so(tmp_path):
    system = load_system(write_system(tmp_path))
    with pytest.raises(KeyError) as excinfo:
        system.component("shell")
    assert excinfo.value.args[0] == "system tiny has no component 'shell'"


def test_a_description_for_hifive1_maps_its_uart_and_gets_its_single_interrupt(tmp_path):
    text = (MINIMAL.replace('board = "mps2-an385"', 'board = "hifive1"')
            .replace('interrupts = { "uart0.rx" = 0, "uart0.tx" = 1 }', 'interrupts = { "uart0.irq" = 4 }'))
    system = load_system(write_system(tmp_path, text))
    assert system.board.cpu.isa == "rv32imac"
    assert system.component("uart").uses == {"uart0": 0x1001_3000}
    assert system.component("uart").interrupts == {("uart0", "irq"): 4}


def test_outputs_sharing_a_line_may_go_to_one_component(tmp_path):
    text = MINIMAL.replace('uses = ["uart0"]', 'uses = ["uart0", "uart1"]').replace(
        '"uart0.tx" = 1', '"uart0.tx" = 1, "uart0.overflow" = 2, "uart1.overflow" = 3')
    uart = load_system(write_system(tmp_path, text)).component("uart")
    assert uart.interrupts[("uart1", "overflow")] == 3


def test_a_board_file_is_found_relative_to_the_description(tmp_path, monkeypatch):
    (tmp_path / "boards").mkdir()
    shutil.copy(load_board("hifive1").path, tmp_path / "boards" / "myboard.toml")
    text = (MINIMAL.replace('board = "mps2-an385"', 'board = "boards/myboard.toml"')
            .replace('interrupts = { "uart0.rx" = 0, "uart0.tx" = 1 }', ""))
    path = write_system(tmp_path, text)
    monkeypatch.chdir("/")
    system = load_system(path)
    assert system.board.path == tmp_path / "boards" / "myboard.toml"


def test_an_elf_path_outside_the_description_folder_is_named_relative_to_it(tmp_path):
    (tmp_path / "images").mkdir()
    path = write_system(tmp_path / "images", MINIMAL)
    path.write_text(MINIMAL.replace('elf = "elf/uart.elf"', 'elf = "../build/uart.elf"'))
    with pytest.raises(ImageError) as excinfo:
        load_system(path.resolve())
    assert str(excinfo.value) == ("tiny.toml: component 'uart'.elf: no such file: ../build/uart.elf "
                                  "(paths are relative to the folder of tiny.toml)")


def test_the_placeholder_elf_files_exist_and_the_minimal_descriptions_elf_files_do_not():
    assert sorted(p.name for p in (BAD / "placeholder_elf").iterdir()) == ["console.elf", "supervisor.elf", "uart.elf"]
    assert not (BAD / "elf").exists()


# -- restart policies, interfaces and the policy -----------------------------------------------


def test_a_supervised_component_backs_off_and_an_unsupervised_one_is_held_by_default(tmp_path):
    system = load_system(write_system(tmp_path))
    assert system.component("uart").restart == RestartPolicy("backoff", 10, 60_000, "hold")
    assert system.component("console").restart == RestartPolicy("hold", None)


def test_a_component_that_restarts_is_held_by_default_after_its_11th_failure_within_60_s(tmp_path):
    text = MINIMAL.replace('supervisor = "supervisor"\n\n', 'supervisor = "supervisor"\nrestart = "restart"\n\n', 1)
    assert load_system(write_system(tmp_path, text)).component("uart").restart == RestartPolicy(
        "restart", 10, 60_000, "hold")


def test_a_restart_limit_reads_with_its_window_and_what_follows(tmp_path):
    text = MINIMAL.replace('supervisor = "supervisor"\n\n',
                           'supervisor = "supervisor"\nrestart = "restart"\nrestart_limit = 5\n'
                           'restart_window_ms = 10000\nrestart_then = "reboot"\n\n', 1)
    assert load_system(write_system(tmp_path, text)).component("uart").restart == RestartPolicy(
        "restart", 5, 10_000, "reboot")


def test_a_restart_limit_alone_holds_after_a_minute(tmp_path):
    text = MINIMAL.replace('supervisor = "supervisor"\n\n', 'supervisor = "supervisor"\nrestart_limit = 2\n\n', 1)
    assert load_system(write_system(tmp_path, text)).component("uart").restart == RestartPolicy(
        "backoff", 2, 60_000, "hold")


@pytest.mark.parametrize("action", ["restart", "hold", "reboot"])
def test_a_component_without_a_supervisor_may_restart_hold_or_reboot(tmp_path, action):
    text = MINIMAL.replace("priority = 2\nstack = 1024\n", f'priority = 2\nstack = 1024\nrestart = "{action}"\n')
    assert load_system(write_system(tmp_path, text)).component("console").restart.action == action


def with_interfaces(folder: pathlib.Path, faults: str, uart: str) -> str:
    """MINIMAL with the endpoints' interface files (copied into `folder`; '' for none)."""
    text = MINIMAL
    for endpoint, name in (("faults", faults), ("uart", uart)):
        if name:
            shutil.copy(ROOT / "servers" / name / f"{name}.idl.toml", folder)
            where = f'name = "{endpoint}"\n'
            text = text.replace(where + "server =", where + f'interface = "{name}.idl.toml"\nserver =', 1)
    return text


def test_an_endpoint_carries_the_interface_its_file_declares(tmp_path):
    system = load_system(write_system(tmp_path, with_interfaces(tmp_path, "", "uart")))
    assert system.endpoints[0].interface is None
    uart = system.endpoints[1].interface
    assert (uart.name, uart.id, uart.path) == ("uart", 1, tmp_path / "uart.idl.toml")
    assert system.interfaces == {"uart": uart}


def test_two_endpoints_may_declare_the_same_interface_file(tmp_path):
    system = load_system(write_system(tmp_path, with_interfaces(tmp_path, "uart", "uart")))
    assert [e.interface.name for e in system.endpoints] == ["uart", "uart"]


def test_two_endpoints_may_declare_different_interfaces(tmp_path):
    system = load_system(write_system(tmp_path, with_interfaces(tmp_path, "gpio", "uart")))
    assert sorted(system.interfaces) == ["gpio", "uart"]


def test_two_endpoints_naming_one_interface_file_in_two_ways_is_one_interface(tmp_path):
    text = with_interfaces(tmp_path, "uart", "uart").replace('interface = "uart.idl.toml"',
                                                             'interface = "sub/../uart.idl.toml"', 1)
    (tmp_path / "sub").mkdir()
    assert load_system(write_system(tmp_path, text)).interfaces["uart"].name == "uart"


def test_a_policy_is_read_against_the_description_it_belongs_to(tmp_path):
    (tmp_path / "tiny.policy.toml").write_text(
        '[policy]\nmode = "permissive"\n\n[[rule]]\nname = "the console may use the uart"\naction = "allow"\n'
        'from = "console"\nto = "uart"\nmethods = "uart.*"\n')
    text = with_interfaces(tmp_path, "", "uart").replace('board = "mps2-an385"\n',
                                                         'board = "mps2-an385"\npolicy = "tiny.policy.toml"\n')
    policy = load_system(write_system(tmp_path, text)).policy
    assert (policy.path, policy.mode, [r.name for r in policy.rules]) == (
        tmp_path / "tiny.policy.toml", "permissive", ["the console may use the uart"])


def test_a_bad_policy_is_reported_before_missing_elf_files(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(MINIMAL.replace('board = "mps2-an385"\n', 'board = "mps2-an385"\npolicy = ""\n'))
    with pytest.raises(ImageError) as excinfo:
        load_system(path)
    assert str(excinfo.value) == "tiny.toml: system.policy: must be the path of a policy file, not ''"


# -- reading the file ------------------------------------------------------------------------


def test_a_missing_description_says_it_cannot_be_read(tmp_path):
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ImageError) as excinfo:
        load_system(path)
    assert str(excinfo.value) == f"{path}: cannot read: No such file or directory"


def test_a_description_that_is_not_utf8_names_the_first_bad_byte(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(MINIMAL.replace('"tiny"', '"t\xe4ny"').encode("latin-1"))
    with pytest.raises(ImageError) as excinfo:
        load_system(path)
    at = MINIMAL.index('"tiny"') + 2
    assert str(excinfo.value) == f"latin1.toml: not UTF-8 text (byte {at} is 0xe4)"


def test_an_image_error_is_a_value_error():
    assert issubclass(ImageError, ValueError)
