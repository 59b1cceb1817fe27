"""Policy files: a valid one loads against its system, and every rule of sysdesc/policy.py has a bad
fixture with its exact message, alone and through the description that names it.

Each file in `bad_policies/` is `MINIMAL` below with one thing broken, named after the error it
triggers. Policies are checked against a system (its component names and the interfaces its
endpoints declare): `SYSTEM` below, written into a temporary folder with placeholder ELF files
and the shipped uart and gpio interface files next to it. A new rule gets a fixture and a line in
`EXPECTED`; a fixture without a line (or a line without a fixture) fails the suite.
"""

from __future__ import annotations

import pathlib
import shutil
import tomllib

import pytest

from kernel.rules import DEFAULT_RULE, Policy, Rule
from sysdesc.description import ImageError, SystemSpec, load_system
from sysdesc.interface import load_interface
from sysdesc.policy import RESERVED_RULE_NAMES, PolicyError, load_policy

ROOT = pathlib.Path(__file__).resolve().parents[2]
BAD = pathlib.Path(__file__).resolve().parent / "bad_policies"

# Four components: two servers with typed endpoints (the shipped uart and gpio interfaces), an
# untyped endpoint of the uart server, an app holding all three, and a component holding nothing.
SYSTEM = """\
[system]
name = "tiny"
board = "mps2-an385"

[[component]]
name = "uart"
elf = "elf/uart.elf"
priority = 1
stack = 1024

[[component]]
name = "gpio"
elf = "elf/gpio.elf"
priority = 1
stack = 1024

[[component]]
name = "app"
elf = "elf/app.elf"
priority = 2
stack = 1024

[[component]]
name = "idle"
elf = "elf/idle.elf"
priority = 7
stack = 1024

[[endpoint]]
name = "uart"
server = "uart"
server_slot = 1
interface = "uart.idl.toml"
clients = { app = 1 }

[[endpoint]]
name = "gpio"
server = "gpio"
server_slot = 1
interface = "gpio.idl.toml"
clients = { app = 2 }

[[endpoint]]
name = "raw"
server = "uart"
server_slot = 2
clients = { app = 3 }
"""

# The policy every fixture starts from.
MINIMAL = """\
[policy]
mode = "enforce"
audit = "denied"

[[rule]]
name = "the app talks on the uart"
action = "allow"
from = "app"
to = "uart"
methods = ["uart.write", "uart.read"]

[[rule]]
name = "the app drives the pins"
action = "allow"
from = ["app"]
to = "gpio"
methods = "gpio.*"

[[rule]]
name = "nothing else"
action = "deny"
from = "*"
to = "*"
methods = "*"
"""

EXPECTED = {
    "action_missing":
        "action_missing.toml: rule[0].action: missing",
    "action_not_a_string":
        "action_not_a_string.toml: rule[0].action: must be a string, not True",
    "action_unknown":
        "action_unknown.toml: rule[0].action: must be allow or deny, not 'permit'",
    "audit_not_a_string":
        "audit_not_a_string.toml: policy.audit: must be a string, not 2",
    "audit_unknown":
        "audit_unknown.toml: policy.audit: must be one of none, denied, all, not 'some'",
    "from_empty":
        'from_empty.toml: rule[1].from: must be a component name, "*" or an array of names, not []',
    "from_entry_not_a_string":
        'from_entry_not_a_string.toml: '
        "rule[1].from: must be a component name, \"*\" or an array of names, not ['app', 1]",
    "from_missing":
        "from_missing.toml: rule[0].from: missing",
    "from_not_a_name":
        'from_not_a_name.toml: rule[0].from: must be a component name, "*" or an array of names, not 3',
    "from_unknown_component":
        "from_unknown_component.toml: "
        "rule[0].from: 'shell' is not a component of the system (uart, gpio, app, idle)",
    "methods_empty":
        'methods_empty.toml: '
        'rule[0].methods: must be "interface.method", "interface.*", "*" or an array of them, not []',
    "methods_missing":
        "methods_missing.toml: rule[0].methods: missing",
    "methods_not_a_pattern":
        'methods_not_a_pattern.toml: '
        'rule[1].methods: must be "interface.method", "interface.*", "*" or an array of them, not 2',
    "methods_unknown_interface":
        "methods_unknown_interface.toml: "
        "rule[0].methods: 'spi.transfer' names no interface of the system (interfaces: gpio, uart)",
    "methods_unknown_method":
        "methods_unknown_method.toml: "
        "rule[0].methods: 'uart.flush': interface uart has no method 'flush' (write, read, stats)",
    "methods_with_empty_method":
        "methods_with_empty_method.toml: "
        "rule[1].methods: 'gpio.' must be written \"interface.method\" or \"interface.*\"",
    "methods_without_method":
        "methods_without_method.toml: "
        "rule[1].methods: 'gpio' must be written \"interface.method\" or \"interface.*\"",
    "mode_not_a_string":
        "mode_not_a_string.toml: policy.mode: must be a string, not True",
    "mode_unknown":
        "mode_unknown.toml: policy.mode: must be one of enforce, permissive, not 'strict'",
    "not_toml":
        "not_toml.toml: not valid TOML: Expected '=' after a key in a key/value pair (at line 3, column 6)",
    "not_utf8":
        "not_utf8.toml: not UTF-8 text (byte 364 is 0xe9)",
    "policy_not_a_table":
        "policy_not_a_table.toml: policy: must be a table, not 'enforce'",
    "policy_unknown_key":
        "policy_unknown_key.toml: policy.default: unknown key; expected one of: audit, mode",
    "rule_entry_not_a_table":
        "rule_entry_not_a_table.toml: rule[0]: must be a table, not 'allow everything'",
    "rule_name_default_used_twice":
        "rule_name_default_used_twice.toml: "
        "rule[2].name: missing, and the default name 'rule 3' is the name of an earlier rule",
    "rule_name_empty":
        "rule_name_empty.toml: rule[1].name: must not be empty",
    "rule_name_not_a_string":
        "rule_name_not_a_string.toml: rule[1].name: must be a string, not 2",
    "rule_name_reserved":
        "rule_name_reserved.toml: "
        "rule[2].name: 'default deny' is what the audit log calls a decision no rule made; choose another name",
    "rule_name_used_twice":
        "rule_name_used_twice.toml: rule[1].name: 'the app talks on the uart' is the name of an earlier rule",
    "rule_not_an_array":
        "rule_not_an_array.toml: rule: must be an array of tables, written [[rule]], not a single [rule] table",
    "rule_unknown_key":
        "rule_unknown_key.toml: rule[0].when: unknown key; expected one of: action, from, methods, name, to",
    "to_missing":
        "to_missing.toml: rule[0].to: missing",
    "to_not_a_name":
        'to_not_a_name.toml: '
        "rule[0].to: must be a component name, \"*\" or an array of names, not {'component': 'uart'}",
    "to_unknown_component":
        "to_unknown_component.toml: rule[1].to: 'leds' is not a component of the system (uart, gpio, app, idle)",
    "unknown_top_level_key":
        "unknown_top_level_key.toml: grant: unknown key; expected one of: policy, rule",
}


def write_system(folder: pathlib.Path, text: str = SYSTEM, policy: str | pathlib.Path | None = None,
                 name: str = "tiny.toml") -> pathlib.Path:
    """`text` as `folder/name`, with a placeholder for every ELF file it names and copies of the
    shipped uart and gpio interface files; `policy` (a policy's text, or a file to copy) becomes
    `folder/policy.toml`, named by `[system] policy`."""
    folder.mkdir(parents=True, exist_ok=True)
    for comp in tomllib.loads(text).get("component", []):
        elf = folder / comp["elf"]
        elf.parent.mkdir(parents=True, exist_ok=True)
        elf.write_bytes(b"\x7fELF placeholder for " + comp["name"].encode())
    for server in ("uart", "gpio"):
        shutil.copy(ROOT / "servers" / server / f"{server}.idl.toml", folder)
    if policy is not None:
        target = folder / (policy.name if isinstance(policy, pathlib.Path) else "policy.toml")
        if isinstance(policy, pathlib.Path):
            shutil.copy(policy, target)
        else:
            target.write_text(policy)
        text = text.replace('board = "mps2-an385"\n', f'board = "mps2-an385"\npolicy = "{target.name}"\n', 1)
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture
def system(tmp_path) -> SystemSpec:
    return load_system(write_system(tmp_path / "system"))


def check(path: pathlib.Path, system: SystemSpec) -> Policy:
    return load_policy(path, [c.name for c in system.components], system.interfaces)


# -- the bad fixtures ------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_each_bad_policy_fails_with_its_exact_message(fixture, system):
    with pytest.raises(PolicyError) as excinfo:
        check(BAD / f"{fixture}.toml", system)
    assert str(excinfo.value) == EXPECTED[fixture]


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_a_description_naming_a_bad_policy_reports_it_under_system_policy(fixture, tmp_path):
    path = write_system(tmp_path, policy=BAD / f"{fixture}.toml")
    with pytest.raises(ImageError) as excinfo:
        load_system(path)
    assert str(excinfo.value) == f"tiny.toml: system.policy: {EXPECTED[fixture]}"


def test_every_bad_policy_fixture_has_an_expected_message_and_every_message_a_fixture():
    assert sorted(p.name.removesuffix(".toml") for p in BAD.iterdir()) == sorted(EXPECTED)


def test_every_message_starts_with_the_file_name_and_is_one_line():
    for fixture, message in EXPECTED.items():
        assert message.startswith(f"{fixture}.toml: ")
        assert "\n" not in message


def test_no_message_names_a_path_of_this_machine():
    for message in EXPECTED.values():
        assert str(ROOT) not in message and " /" not in message


def test_the_fixture_with_a_line_that_is_not_toml_is_otherwise_the_minimal_policy():
    text = (BAD / "not_toml.toml").read_text()
    assert text.split("\n\n", 1)[1] == "this is not toml\n" + MINIMAL


def test_a_method_pattern_in_a_system_without_interfaces_says_there_are_none():
    with pytest.raises(PolicyError) as excinfo:
        load_policy(BAD / "methods_unknown_interface.toml", ["uart", "gpio", "app", "idle"], {})
    assert str(excinfo.value) == ("methods_unknown_interface.toml: rule[0].methods: 'uart.write' names no "
                                  "interface of the system (interfaces: none: no endpoint names an interface file)")


@pytest.mark.parametrize("name", RESERVED_RULE_NAMES)
def test_no_rule_may_take_a_name_the_audit_log_gives_decisions_no_rule_made(name, tmp_path, system):
    path = tmp_path / "reserved.toml"
    path.write_text(MINIMAL.replace('name = "nothing else"', f'name = "{name}"'))
    with pytest.raises(PolicyError) as excinfo:
        check(path, system)
    assert str(excinfo.value) == (f"reserved.toml: rule[2].name: {name!r} is what the audit log calls a "
                                  f"decision no rule made; choose another name")


def test_a_missing_policy_file_says_it_cannot_be_read(tmp_path, system):
    path = tmp_path / "nowhere.toml"
    with pytest.raises(PolicyError) as excinfo:
        check(path, system)
    assert str(excinfo.value) == f"{path}: cannot read: No such file or directory"


def test_a_policy_error_is_a_value_error():
    assert issubclass(PolicyError, ValueError)


# -- valid policies --------------------------------------------------------------------------


def test_the_minimal_policy_the_fixtures_start_from_is_valid(tmp_path, system):
    path = tmp_path / "policy.toml"
    path.write_text(MINIMAL)
    policy = check(path, system)
    assert (policy.path, policy.mode, policy.audit, policy.permissive) == (path, "enforce", "denied", False)
    assert policy.rules == (
        Rule("the app talks on the uart", True, ("app",), ("uart",), ("uart.write", "uart.read")),
        Rule("the app drives the pins", True, ("app",), ("gpio",), ("gpio.*",)),
        Rule("nothing else", False, ("*",), ("*",), ("*",)))


def test_a_description_naming_a_policy_carries_it(tmp_path):
    system = load_system(write_system(tmp_path, policy=MINIMAL))
    assert system.policy is not None
    assert system.policy.path == tmp_path / "policy.toml"
    assert [r.name for r in system.policy.rules] == ["the app talks on the uart", "the app drives the pins",
                                                     "nothing else"]


def test_a_description_without_a_policy_has_none(system):
    assert system.policy is None


def test_the_policy_table_and_every_rule_name_are_optional(tmp_path, system):
    path = tmp_path / "bare.toml"
    path.write_text('[[rule]]\naction = "allow"\nfrom = "*"\nto = "*"\nmethods = "*"\n\n'
                    '[[rule]]\naction = "deny"\nfrom = "idle"\nto = "uart"\nmethods = "uart.*"\n')
    policy = check(path, system)
    assert (policy.mode, policy.audit) == ("enforce", "denied")
    assert [r.name for r in policy.rules] == ["rule 1", "rule 2"]


def test_a_policy_without_rules_denies_everything(tmp_path, system):
    path = tmp_path / "empty.toml"
    path.write_text('[policy]\nmode = "permissive"\naudit = "all"\n')
    policy = check(path, system)
    assert (policy.rules, policy.permissive, policy.audit) == ((), True, "all")
    assert policy.decide("app", "uart", "uart.write") == (False, DEFAULT_RULE)


def test_the_shipped_demo_policy_loads_against_its_components_and_interfaces():
    interfaces = {n: load_interface(ROOT / "servers" / n / f"{n}.idl.toml") for n in ("uart", "gpio", "console")}
    components = ["supervisor", "uart", "gpio", "console", "shell", "blinky", "hello"]
    policy = load_policy(ROOT / "firmware" / "images" / "demo.policy.toml", components, interfaces)
    assert (policy.mode, policy.audit, len(policy.rules)) == ("enforce", "denied", 5)
    assert all(rule.allow for rule in policy.rules)


def test_the_shipped_demo_policy_does_not_fit_a_system_without_its_components(system):
    with pytest.raises(PolicyError) as excinfo:
        check(ROOT / "firmware" / "images" / "demo.policy.toml", system)
    assert str(excinfo.value) == ("demo.policy.toml: rule[0].from: 'console' is not a component of the system "
                                  "(uart, gpio, app, idle)")
