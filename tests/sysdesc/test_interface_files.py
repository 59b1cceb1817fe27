"""Interface files: the shipped ones load, their C headers carry `id << 16 | number`, and every
rule of sysdesc/interface.py has a bad fixture with its exact message.

Each file in `bad_interfaces/` is `MINIMAL` below with one thing broken, named after the error
it triggers (`<rule>.idl.toml`). A new rule gets a fixture and a line in `EXPECTED`; a fixture
without a line (or a line without a fixture) fails the suite.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

from atoll.toolchain import COMMON_FLAGS, ISA_FLAGS, compiler_command
from kernel.abi import LEASE_READABLE, LEASE_WRITABLE
from kernel.rules import Interface, LeaseSpec, Method
from sysdesc.interface import InterfaceError, _c_constants, c_header, load_interface, main, write_header

ROOT = pathlib.Path(__file__).resolve().parents[2]
BAD = pathlib.Path(__file__).resolve().parent / "bad_interfaces"
SHIPPED = sorted(ROOT.glob("servers/*/*.idl.toml"))

# The interface every fixture starts from: a method with arguments, one with a reply and two
# leases (the second optional).
MINIMAL = """\
[interface]
name = "lamp"
id = 7
doc = "a lamp as a service"

[[method]]
name = "switch"
number = 1
args = 1
reply = 0
doc = "mr0 on (1) or off (0) -> status"

[[method]]
name = "label"
number = 2
args = 0
reply = 1
leases = [{ rights = "read", max = 64 }, { rights = "write", max = 16, optional = true }]
doc = "lease 0 readable: the new text; lease 1 writable (optional): the old text -> status, mr0 bytes"
"""

EXPECTED = {
    "interface_doc_ends_comment":
        "interface_doc_ends_comment.idl.toml: "
        "interface.doc: must not contain '*/' (the generated C header quotes it in a comment)",
    "interface_doc_not_a_string":
        "interface_doc_not_a_string.idl.toml: interface.doc: must be a string, not ['a lamp', 'as a service']",
    "interface_id_missing":
        "interface_id_missing.idl.toml: interface.id: missing",
    "interface_id_not_an_integer":
        "interface_id_not_an_integer.idl.toml: interface.id: must be an integer, not '7'",
    "interface_id_too_large":
        "interface_id_too_large.idl.toml: interface.id: must be an integer from 1 to 65534, not 65535",
    "interface_id_zero":
        "interface_id_zero.idl.toml: interface.id: must be an integer from 1 to 65534, not 0",
    "interface_missing":
        "interface_missing.idl.toml: interface: missing; the file needs a [interface] table",
    "interface_name_missing":
        "interface_name_missing.idl.toml: interface.name: missing",
    "interface_name_not_a_string":
        "interface_name_not_a_string.idl.toml: interface.name: must be a string, not 7",
    "interface_name_not_identifier":
        "interface_name_not_identifier.idl.toml: "
        "interface.name: must be an identifier (letters, digits, _), not 'lamp-v2'",
    "interface_not_a_table":
        "interface_not_a_table.idl.toml: interface: must be a table, not 'lamp'",
    "interface_unknown_key":
        "interface_unknown_key.idl.toml: interface.version: unknown key; expected one of: doc, id, name",
    "lease_max_missing":
        "lease_max_missing.idl.toml: method 'label'.leases[0].max: missing",
    "lease_max_not_an_integer":
        "lease_max_not_an_integer.idl.toml: method 'label'.leases[0].max: must be an integer, not '64'",
    "lease_max_too_large":
        "lease_max_too_large.idl.toml: "
        "method 'label'.leases[0].max: must be an integer from 1 to 65536, not 65537",
    "lease_max_zero":
        "lease_max_zero.idl.toml: method 'label'.leases[0].max: must be an integer from 1 to 65536, not 0",
    "lease_not_a_table":
        "lease_not_a_table.idl.toml: method 'label'.leases[0]: must be a table, not 'read'",
    "lease_optional_not_a_boolean":
        "lease_optional_not_a_boolean.idl.toml: "
        "method 'label'.leases[1].optional: must be true or false, not 'yes'",
    "lease_required_after_optional":
        "lease_required_after_optional.idl.toml: "
        "method 'label'.leases[1].optional: a required lease cannot follow an optional one",
    "lease_rights_missing":
        "lease_rights_missing.idl.toml: method 'label'.leases[0].rights: missing",
    "lease_rights_not_a_string":
        "lease_rights_not_a_string.idl.toml: method 'label'.leases[0].rights: must be a string, not 1",
    "lease_rights_unknown":
        "lease_rights_unknown.idl.toml: "
        "method 'label'.leases[0].rights: must be one of read, write, read-write, not 'rw'",
    "lease_unknown_key":
        "lease_unknown_key.idl.toml: "
        "method 'label'.leases[0].length: unknown key; expected one of: max, optional, rights",
    "leases_not_an_array":
        "leases_not_an_array.idl.toml: "
        "method 'label'.leases: must be an array, not {'rights': 'read', 'max': 64}",
    "leases_too_many":
        "leases_too_many.idl.toml: method 'label'.leases: 5 leases, at most 4",
    "method_args_not_an_integer":
        "method_args_not_an_integer.idl.toml: method 'switch'.args: must be an integer, not True",
    "method_args_too_many":
        "method_args_too_many.idl.toml: method 'switch'.args: must be an integer from 0 to 4, not 5",
    "method_doc_ends_comment":
        "method_doc_ends_comment.idl.toml: "
        "method 'switch'.doc: must not contain '*/' (the generated C header quotes it in a comment)",
    "method_doc_not_a_string":
        "method_doc_not_a_string.idl.toml: method 'switch'.doc: must be a string, not 1",
    "method_empty":
        "method_empty.idl.toml: method: is empty; an interface needs at least one [[method]]",
    "method_entry_not_a_table":
        "method_entry_not_a_table.idl.toml: method[0]: must be a table, not 'switch'",
    "method_missing":
        "method_missing.idl.toml: method: missing; an interface needs at least one [[method]]",
    "method_name_differs_only_in_case":
        "method_name_differs_only_in_case.idl.toml: "
        "method 'SWITCH'.name: its C constant LAMP_SWITCH is also defined for method 'switch'",
    "method_name_missing":
        "method_name_missing.idl.toml: method[1].name: missing",
    "method_name_not_a_string":
        "method_name_not_a_string.idl.toml: method[1].name: must be a string, not 2",
    "method_name_not_identifier":
        "method_name_not_identifier.idl.toml: "
        "method[1].name: must be an identifier (letters, digits, _), not 'set label'",
    "method_name_same_c_constant_as_another":
        "method_name_same_c_constant_as_another.idl.toml: "
        "method 'switch_args'.name: its C constant LAMP_SWITCH_ARGS is also defined for method 'switch'",
    "method_name_same_c_constant_as_interface":
        "method_name_same_c_constant_as_interface.idl.toml: "
        "method 'interface'.name: its C constant LAMP_INTERFACE is also defined for the interface id",
    "method_name_used_twice":
        "method_name_used_twice.idl.toml: method 'switch'.name: is used twice",
    "method_not_an_array":
        "method_not_an_array.idl.toml: "
        "method: must be an array of tables, written [[method]], not a single [method] table",
    "method_number_missing":
        "method_number_missing.idl.toml: method 'label'.number: missing",
    "method_number_not_an_integer":
        "method_number_not_an_integer.idl.toml: method 'label'.number: must be an integer, not '2'",
    "method_number_too_large":
        "method_number_too_large.idl.toml: "
        "method 'label'.number: must be an integer from 1 to 65535, not 65536",
    "method_number_used_twice":
        "method_number_used_twice.idl.toml: method 'label'.number: 1 is already the number of method 'switch'",
    "method_number_zero":
        "method_number_zero.idl.toml: method 'label'.number: must be an integer from 1 to 65535, not 0",
    "method_reply_negative":
        "method_reply_negative.idl.toml: method 'label'.reply: must be an integer from 0 to 4, not -1",
    "method_reply_not_an_integer":
        "method_reply_not_an_integer.idl.toml: method 'label'.reply: must be an integer, not '1'",
    "method_reply_too_many":
        "method_reply_too_many.idl.toml: method 'label'.reply: must be an integer from 0 to 4, not 5",
    "method_unknown_key":
        "method_unknown_key.idl.toml: "
        "method 'switch'.size: unknown key; expected one of: args, doc, leases, name, number, reply",
    "not_toml":
        "not_toml.idl.toml: not valid TOML: Expected '=' after a key in a key/value pair (at line 3, column 6)",
    "not_utf8":
        "not_utf8.idl.toml: not UTF-8 text (byte 109 is 0xe9)",
    "unknown_top_level_key":
        "unknown_top_level_key.idl.toml: version: unknown key; expected one of: interface, method",
}


def fixture_path(name: str) -> pathlib.Path:
    return BAD / f"{name}.idl.toml"


def write_interface(folder: pathlib.Path, text: str = MINIMAL, name: str = "lamp.idl.toml") -> pathlib.Path:
    path = folder / name
    path.write_text(text)
    return path


def compile_including(tmp_path: pathlib.Path, include: pathlib.Path, body: str, isa: str = "riscv") -> str:
    """Compile `body` (C) with the project's compiler and flags, `include` on the include path;
    the compiler's complaints, or '' when it compiled."""
    source = tmp_path / "check.c"
    source.write_text(body)
    cc, style = compiler_command()
    argv = [*cc, *ISA_FLAGS[isa][style], *COMMON_FLAGS, f"-I{include}", "-c", str(source),
            "-o", str(tmp_path / "check.o")]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    return "" if proc.returncode == 0 else (proc.stderr + proc.stdout) or f"exit status {proc.returncode}"


def static_asserts(interface: Interface) -> str:
    """C that checks every constant of the interface's header against the file's numbers."""
    up = interface.name.upper()
    lines = [f"#include <idl/{interface.name}.h>",
             f'_Static_assert({up}_INTERFACE == {interface.id}u, "interface id");']
    for m in interface.methods:
        name = f"{up}_{m.name.upper()}"
        lines += [
            f'_Static_assert({name} == ({up}_INTERFACE << 16 | {m.number}u), "{m.name} label");',
            f'_Static_assert({name}_ARGS == {m.args}, "{m.name} args");',
            f'_Static_assert({name}_REPLY == {m.reply}, "{m.name} reply");',
            f'_Static_assert({name}_LEASES == {len(m.leases)}, "{m.name} leases");',
            *(f'_Static_assert({name}_LEASE{j}_MAX == {lease.max}u, "{m.name} lease {j}");'
              for j, lease in enumerate(m.leases)),
        ]
    return "\n".join(lines) + "\n"


# -- the bad fixtures ------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_each_bad_interface_fails_with_its_exact_message(fixture):
    with pytest.raises(InterfaceError) as excinfo:
        load_interface(fixture_path(fixture))
    assert str(excinfo.value) == EXPECTED[fixture]


def test_every_bad_interface_fixture_has_an_expected_message_and_every_message_a_fixture():
    names = sorted(p.name.removesuffix(".idl.toml") for p in BAD.iterdir())
    assert names == sorted(EXPECTED)


def test_every_message_starts_with_the_file_name_and_is_one_line():
    for fixture, message in EXPECTED.items():
        assert message.startswith(f"{fixture}.idl.toml: ")
        assert "\n" not in message


def test_no_message_names_a_path_of_this_machine():
    for message in EXPECTED.values():
        assert str(ROOT) not in message and " /" not in message


def test_the_fixture_with_a_line_that_is_not_toml_is_otherwise_the_minimal_interface():
    text = fixture_path("not_toml").read_text()
    assert text.split("\n\n", 1)[1] == "this is not toml\n" + MINIMAL


def test_the_minimal_interface_the_fixtures_start_from_is_valid(tmp_path):
    lamp = load_interface(write_interface(tmp_path))
    assert (lamp.name, lamp.id, lamp.doc) == ("lamp", 7, "a lamp as a service")
    assert [(m.name, m.number, m.args, m.reply) for m in lamp.methods] == [("switch", 1, 1, 0), ("label", 2, 0, 1)]
    assert lamp.method("label").leases == (LeaseSpec(LEASE_READABLE, 64, False), LeaseSpec(LEASE_WRITABLE, 16, True))


def test_a_missing_interface_file_says_it_cannot_be_read(tmp_path):
    path = tmp_path / "nowhere.idl.toml"
    with pytest.raises(InterfaceError) as excinfo:
        load_interface(path)
    assert str(excinfo.value) == f"{path}: cannot read: No such file or directory"


def test_an_interface_error_is_a_value_error():
    assert issubclass(InterfaceError, ValueError)


# -- valid interfaces ------------------------------------------------------------------------


def test_optional_keys_default_to_no_arguments_no_reply_no_leases_and_no_doc(tmp_path):
    text = '[interface]\nname = "bare"\nid = 9\n\n[[method]]\nname = "ping"\nnumber = 3\n'
    bare = load_interface(write_interface(tmp_path, text))
    assert bare.doc == ""
    assert bare.methods == (Method("ping", 3, 0, 0, (), ""),)


def test_read_write_lease_rights_are_both_bits(tmp_path):
    text = MINIMAL.replace('rights = "read", max = 64', 'rights = "read-write", max = 64')
    lease = load_interface(write_interface(tmp_path, text)).method("label").leases[0]
    assert lease.rights == LEASE_READABLE | LEASE_WRITABLE


def test_the_largest_id_and_method_number_are_accepted(tmp_path):
    text = MINIMAL.replace("id = 7", "id = 0xFFFE").replace("number = 2", "number = 0xFFFF")
    lamp = load_interface(write_interface(tmp_path, text))
    assert lamp.label("label") == 0xFFFE_FFFF


def test_a_label_is_the_interface_id_above_the_method_number(tmp_path):
    lamp = load_interface(write_interface(tmp_path))
    assert lamp.label("switch") == 7 << 16 | 1
    assert lamp.label("label") == 0x0007_0002


def test_a_label_names_its_method_and_nothing_else(tmp_path):
    lamp = load_interface(write_interface(tmp_path))
    assert lamp.by_label(0x0007_0002).name == "label"
    assert lamp.by_label(0x0007_0003) is None       # no method 3
    assert lamp.by_label(0x0008_0002) is None       # another interface's method 2


def test_an_interface_asked_for_a_method_it_lacks_says_so(tmp_path):
    lamp = load_interface(write_interface(tmp_path))
    with pytest.raises(KeyError) as excinfo:
        lamp.method("dim")
    assert excinfo.value.args[0] == "interface lamp has no method 'dim'"


# -- the shipped interface files -------------------------------------------------------------


def test_the_uart_gpio_and_console_servers_have_interface_files():
    found = {p.relative_to(ROOT).as_posix() for p in SHIPPED}
    assert {"servers/console/console.idl.toml", "servers/gpio/gpio.idl.toml", "servers/uart/uart.idl.toml"} <= found


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.parent.name)
def test_each_shipped_interface_file_loads_under_its_folders_name(path):
    interface = load_interface(path)
    assert interface.name == path.parent.name == path.name.removesuffix(".idl.toml")
    assert interface.methods


def test_the_shipped_interfaces_have_distinct_names_and_ids():
    interfaces = [load_interface(p) for p in SHIPPED]
    assert len({i.name for i in interfaces}) == len({i.id for i in interfaces}) == len(interfaces)
    assert {i.name: i.id for i in interfaces if i.name in ("uart", "gpio", "console")} == {
        "uart": 1, "gpio": 2, "console": 3}


def test_the_shipped_gpio_interface_declares_its_methods_and_shapes():
    gpio = load_interface(ROOT / "servers" / "gpio" / "gpio.idl.toml")
    assert [(m.name, m.number, m.args, m.reply, m.leases) for m in gpio.methods] == [
        ("configure", 1, 2, 0, ()), ("write", 2, 2, 0, ()), ("toggle", 3, 1, 0, ()),
        ("read", 4, 1, 1, ()), ("wait_edge", 5, 2, 1, ())]


def test_the_shipped_console_log_method_takes_a_text_and_an_optional_tag():
    log = load_interface(ROOT / "servers" / "console" / "console.idl.toml").method("log")
    assert log.leases == (LeaseSpec(LEASE_READABLE, 65536, False), LeaseSpec(LEASE_READABLE, 64, True))


# -- the generated C header ------------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.parent.name)
def test_each_label_constant_in_the_header_is_the_id_above_the_method_number(path):
    interface = load_interface(path)
    up = interface.name.upper()
    text = c_header(interface)
    assert f"#define {up}_INTERFACE {interface.id}u\n" in text
    for m in interface.methods:
        assert f"#define {up}_{m.name.upper()} 0x{interface.id:04X}{m.number:04X}u\n" in text


def test_the_header_of_the_gpio_interface_has_gpio_write_as_0x00020002():
    text = c_header(load_interface(ROOT / "servers" / "gpio" / "gpio.idl.toml"))
    assert "#define GPIO_WRITE 0x00020002u\n#define GPIO_WRITE_ARGS 2\n#define GPIO_WRITE_REPLY 0\n" in text
    assert text.startswith("/* Generated from gpio.idl.toml by the build; do not edit. */\n#ifndef ATOLL_IDL_GPIO_H\n")


def test_the_header_of_the_minimal_interface_gives_each_lease_its_limit(tmp_path):
    text = c_header(load_interface(write_interface(tmp_path)))
    assert "#define LAMP_LABEL_LEASES 2\n#define LAMP_LABEL_LEASE0_MAX 64u\n#define LAMP_LABEL_LEASE1_MAX 16u\n" in text


def test_every_constant_the_header_defines_is_one_the_parser_checks_for_clashes(tmp_path):
    for interface in [*map(load_interface, SHIPPED), load_interface(write_interface(tmp_path))]:
        up = interface.name.upper()
        defined = re.findall(r"^#define (\w+)", c_header(interface), re.MULTILINE)
        checked = [f"ATOLL_IDL_{up}_H", f"{up}_INTERFACE", *(c for m in interface.methods for c in _c_constants(up, m))]
        assert sorted(defined) == sorted(checked)


@pytest.mark.parametrize("isa", sorted(ISA_FLAGS))
def test_the_shipped_headers_compile_and_their_constants_match_the_files(tmp_path, isa):
    include = tmp_path / "include"
    interfaces = [load_interface(p) for p in SHIPPED] + [load_interface(write_interface(tmp_path))]
    body = ""
    for interface in interfaces:
        write_header(interface, include)
        body += static_asserts(interface)
    assert compile_including(tmp_path, include, body, isa) == ""


def test_a_wrong_constant_fails_the_compile_check(tmp_path):
    # the check above can fail: a header whose label is off by one does not pass it
    include = tmp_path / "include"
    gpio = load_interface(ROOT / "servers" / "gpio" / "gpio.idl.toml")
    write_header(gpio, include)
    header = include / "idl" / "gpio.h"
    header.write_text(header.read_text().replace("0x00020002u", "0x00020003u"))
    assert "write label" in compile_including(tmp_path, include, static_asserts(gpio))


@pytest.mark.parametrize("methods, doc", [
    ((Method("switch", 1, 1, 0, (), ""), Method("switch_args", 2, 0, 0, (), "")), "lamp"),
    ((Method("switch", 1, 1, 0, (), ""),), "a lamp */ as a service"),
], ids=["constant-clash", "comment-ended-by-doc"])
def test_a_header_for_what_the_parser_refuses_would_not_compile(tmp_path, methods, doc):
    include = tmp_path / "include"
    write_header(Interface("lamp", 7, doc, methods, tmp_path / "lamp.idl.toml"), include)
    assert compile_including(tmp_path, include, "#include <idl/lamp.h>\n") != ""


def test_write_header_puts_the_header_under_idl_and_leaves_an_unchanged_one_alone(tmp_path):
    lamp = load_interface(write_interface(tmp_path))
    path = write_header(lamp, tmp_path / "include")
    assert path == tmp_path / "include" / "idl" / "lamp.h"
    assert path.read_text() == c_header(lamp)
    stamp = 1_000_000_000
    os.utime(path, ns=(stamp, stamp))
    write_header(lamp, tmp_path / "include")
    assert path.stat().st_mtime_ns == stamp


# -- python -m sysdesc.interface FILE INCLUDE_DIR ----------------------------------------------


def run_module(*args: str | pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sysdesc.interface", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("fixture", ["interface_id_zero", "not_toml", "lease_required_after_optional"])
def test_the_module_given_a_bad_file_exits_2_with_its_message_as_the_last_line(tmp_path, fixture):
    proc = run_module(fixture_path(fixture), tmp_path / "include")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.endswith(f"\nerror: {EXPECTED[fixture]}\n") or proc.stderr == f"error: {EXPECTED[fixture]}\n"
    assert not (tmp_path / "include").exists()


def test_the_module_given_a_bad_file_prints_only_its_one_line_message(tmp_path):
    proc = run_module(fixture_path("interface_id_zero"), tmp_path / "include")
    assert proc.stderr == f"error: {EXPECTED['interface_id_zero']}\n"


def test_the_module_given_a_good_file_writes_its_header_and_exits_0(tmp_path):
    proc = run_module(ROOT / "servers" / "uart" / "uart.idl.toml", tmp_path / "include")
    assert (proc.returncode, proc.stdout) == (0, "")
    assert "error" not in proc.stderr
    header = tmp_path / "include" / "idl" / "uart.h"
    assert header.read_text() == c_header(load_interface(ROOT / "servers" / "uart" / "uart.idl.toml"))


def test_the_module_given_wrong_arguments_prints_its_usage_and_returns_2(capsys):
    assert main([]) == 2
    assert main(["one", "two", "three"]) == 2
    assert capsys.readouterr().err == "usage: python -m sysdesc.interface FILE.idl.toml INCLUDE_DIR\n" * 2
