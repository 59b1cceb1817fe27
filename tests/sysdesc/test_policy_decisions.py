"""What a policy decides, asked without booting: rules in order (the first match decides, no match
denies), their patterns, and `SystemPolicy`'s answers about a whole system (`decide`,
`reachability`, `unused_rules`) on the shipped demo images and on small systems.

The demo descriptions name ELF files the build makes; here each is read with placeholder ELF
files instead (the description's own folder, policy and interface files are the shipped ones).
"""

from __future__ import annotations

import pathlib
import tomllib
from types import SimpleNamespace

import pytest

from kernel.abi import MESSAGE_REGISTERS
from kernel.monitor import Monitor
from kernel.process import Endpoint, Message
from kernel.rules import DEFAULT_RULE, Policy, Rule
from sysdesc.description import SystemSpec, load_system, parse_system
from sysdesc.policy import Decision, Edge, SystemPolicy
from tests.sysdesc.test_policy_files import MINIMAL, SYSTEM, write_system

ROOT = pathlib.Path(__file__).resolve().parents[2]
IMAGES = ROOT / "firmware" / "images"
BOARDS = ("hifive1", "mps2-an385")


def load_with_placeholder_elves(path: pathlib.Path, folder: pathlib.Path, policy: bool = True) -> SystemSpec:
    """The description at `path`, its ELF files replaced by placeholders in `folder`
    (without its policy when `policy` is false)."""
    data = tomllib.loads(path.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    for comp in data["component"]:
        elf = folder / f"{comp['name']}.elf"
        elf.write_bytes(b"\x7fELF placeholder")
        comp["elf"] = str(elf)
    if not policy:
        del data["system"]["policy"]
    return parse_system(data, path)


@pytest.fixture(scope="module", params=BOARDS)
def demo(request, tmp_path_factory) -> SystemPolicy:
    folder = tmp_path_factory.mktemp(f"demo-{request.param}")
    return SystemPolicy(load_with_placeholder_elves(IMAGES / f"demo-{request.param}.toml", folder))


@pytest.fixture(scope="module")
def demo_without_policy(tmp_path_factory) -> SystemPolicy:
    folder = tmp_path_factory.mktemp("demo-without-policy")
    return SystemPolicy(load_with_placeholder_elves(IMAGES / "demo-hifive1.toml", folder, policy=False))


def tiny(folder: pathlib.Path, policy: str | None) -> SystemPolicy:
    """The small system of test_policy_files (uart and gpio servers with typed endpoints, an
    untyped `raw` endpoint of the uart server, `app` holding all three, `idle` holding none)."""
    return SystemPolicy(load_system(write_system(folder, SYSTEM, policy)))


def rule(name: str, allow: bool, sources=("*",), destinations=("*",), methods=("*",)) -> Rule:
    return Rule(name, allow, tuple(sources), tuple(destinations), tuple(methods))


def policy_of(*rules: Rule) -> Policy:
    return Policy(pathlib.Path("test.policy.toml"), "enforce", "denied", rules)


# -- rules, in order ------------------------------------------------------------------------


def test_the_first_matching_rule_decides():
    policy = policy_of(rule("uart for the app", True, ["app"], ["uart"], ["uart.*"]),
                       rule("no writes", False, ["app"], ["uart"], ["uart.write"]))
    assert policy.decide("app", "uart", "uart.write") == (True, "uart for the app")


def test_a_deny_rule_before_an_allow_rule_wins():
    policy = policy_of(rule("no writes", False, ["app"], ["uart"], ["uart.write"]),
                       rule("uart for the app", True, ["app"], ["uart"], ["uart.*"]))
    assert policy.decide("app", "uart", "uart.write") == (False, "no writes")
    assert policy.decide("app", "uart", "uart.read") == (True, "uart for the app")


def test_a_request_no_rule_matches_is_denied_by_default():
    policy = policy_of(rule("uart for the app", True, ["app"], ["uart"], ["uart.*"]))
    assert policy.decide("app", "gpio", "gpio.write") == (False, DEFAULT_RULE)
    assert policy.decide("idle", "uart", "uart.write") == (False, "default deny")


def test_a_policy_without_rules_denies_everything():
    assert policy_of().decide("app", "uart", "uart.write") == (False, DEFAULT_RULE)


def test_a_rule_matches_only_its_sources_destinations_and_methods():
    r = rule("r", True, ["app", "shell"], ["uart"], ["uart.write"])
    assert r.matches("app", "uart", "uart.write") and r.matches("shell", "uart", "uart.write")
    assert not r.matches("idle", "uart", "uart.write")
    assert not r.matches("app", "gpio", "uart.write")
    assert not r.matches("app", "uart", "uart.read")
    assert not r.matches("app", "uart", "uart.writev")


def test_a_star_source_or_destination_matches_every_component():
    r = rule("r", True, ["*"], ["*"], ["gpio.write"])
    assert r.matches("app", "gpio", "gpio.write") and r.matches("idle", "uart", "gpio.write")


def test_an_interface_star_matches_each_of_its_methods_and_no_other_interfaces():
    r = rule("r", True, methods=["uart.*"])
    assert r.matches("app", "uart", "uart.write") and r.matches("app", "uart", "uart.stats")
    assert not r.matches("app", "uart", "gpio.write")
    assert not r.matches("app", "uart", "uartx.write")


def test_only_a_bare_star_matches_a_request_on_an_endpoint_without_an_interface():
    assert rule("any", True, methods=["*"]).matches("app", "uart", None)
    assert not rule("uart", True, methods=["uart.*"]).matches("app", "uart", None)
    assert not rule("write", True, methods=["uart.write"]).matches("app", "uart", None)


def test_a_star_among_method_patterns_matches_everything():
    r = rule("r", True, methods=["gpio.write", "*"])
    assert r.matches("app", "uart", "uart.read") and r.matches("app", "uart", None)


def test_rules_parsed_from_a_file_decide_like_the_minimal_policy_says(tmp_path):
    policy = tiny(tmp_path, MINIMAL).policy
    assert policy.decide("app", "uart", "uart.write") == (True, "the app talks on the uart")
    assert policy.decide("app", "uart", "uart.stats") == (False, "nothing else")
    assert policy.decide("app", "gpio", "gpio.wait_edge") == (True, "the app drives the pins")
    assert policy.decide("app", "uart", None) == (False, "nothing else")


# -- the demo system ------------------------------------------------------------------------


def test_blinky_calling_gpio_write_is_denied_by_default(demo):
    assert demo.decide("blinky", "gpio", "gpio.write") == Decision(False, DEFAULT_RULE)
    assert not demo.decide("blinky", "gpio", "gpio.write")


def test_blinky_calling_gpio_toggle_is_granted_by_its_rule(demo):
    assert demo.decide("blinky", "gpio", "gpio.toggle") == Decision(True, "blinky toggles the LED")


def test_shell_calling_gpio_write_is_granted(demo):
    assert demo.decide("shell", "gpio", "gpio.write") == Decision(True, "the shell switches the LED")


def test_shell_reading_the_uart_is_granted_but_its_statistics_are_not(demo):
    assert demo.decide("shell", "uart", "uart.read") == Decision(True, "the shell talks on the terminal")
    assert demo.decide("shell", "uart", "uart.stats") == Decision(False, DEFAULT_RULE)


def test_the_console_may_write_to_the_uart_but_not_read_it(demo):
    assert demo.decide("console", "uart", "uart.write").allowed
    assert not demo.decide("console", "uart", "uart.read").allowed


def test_a_component_without_a_capability_is_denied_whatever_the_rules(demo):
    decision = demo.decide("blinky", "uart", "uart.write")
    assert decision == Decision(False, "no capability",
                                "blinky holds no capability to an endpoint of uart serving uart")


def test_hello_calling_the_console_has_no_capability(demo):
    assert demo.decide("hello", "console", "console.log").rule == "no capability"


def test_a_method_the_interface_lacks_is_denied_as_no_such_method(demo):
    assert demo.decide("shell", "gpio", "gpio.blink") == Decision(False, "no such method",
                                                                  "gpio has no method 'blink'")


def test_an_interface_the_destination_does_not_serve_is_no_capability(demo):
    assert demo.decide("shell", "gpio", "uart.write").rule == "no capability"


def test_asking_about_a_component_the_system_lacks_is_a_key_error(demo):
    with pytest.raises(KeyError):
        demo.decide("shell", "lamp", "gpio.write")
    with pytest.raises(KeyError):
        demo.decide("intruder", "gpio", "gpio.write")


def test_hello_and_the_supervisor_can_reach_nothing(demo):
    sources = {edge.source for edge in demo.reachability()}
    assert "hello" not in sources and "supervisor" not in sources


def test_the_demo_reachability_lists_every_capability_with_the_methods_the_policy_allows(demo):
    assert demo.reachability() == [
        Edge("blinky", "console", "console", "call", ("console.log",), ()),
        Edge("blinky", "gpio", "gpio", "call", ("gpio.configure", "gpio.toggle"),
             ("gpio.write", "gpio.read", "gpio.wait_edge")),
        Edge("console", "uart", "uart", "call", ("uart.write",), ("uart.read", "uart.stats")),
        Edge("shell", "console", "console", "call", ("console.log",), ()),
        Edge("shell", "gpio", "gpio", "call", ("gpio.configure", "gpio.write"),
             ("gpio.toggle", "gpio.read", "gpio.wait_edge")),
        Edge("shell", "uart", "uart", "call", ("uart.write", "uart.read"), ("uart.stats",)),
    ]


def test_every_rule_of_the_demo_policy_decides_something(demo):
    assert demo.unused_rules() == []


def test_reachability_agrees_with_decide_for_every_method(demo):
    for edge in demo.reachability():
        for method in edge.allowed:
            assert demo.decide(edge.source, edge.destination, method).allowed
        for method in edge.denied:
            assert not demo.decide(edge.source, edge.destination, method).allowed


def test_the_monitor_decides_each_demo_request_as_decide_says(demo):
    # the kernel's monitor, given each request the capabilities make possible, in a well-formed
    # shape, delivers exactly what SystemPolicy.decide allows
    system = demo.system
    interfaces = {e.name: e.interface for e in system.endpoints}
    monitor = Monitor(system.policy, interfaces, now_us=lambda: 0)
    checked = 0
    for e in system.endpoints:
        endpoint = Endpoint(e.name, SimpleNamespace(name=e.server))
        for client in e.clients:
            for method in e.interface.methods:
                leases = tuple(SimpleNamespace(rights=spec.rights, length=1) for spec in method.leases
                               if not spec.optional)
                message = Message(e.interface.label(method.name), (0,) * MESSAGE_REGISTERS, leases=leases)
                delivered, _, _ = monitor.request(client, endpoint, message)
                assert delivered == demo.decide(client, e.server, f"{e.interface.name}.{method.name}").allowed
                checked += 1
    assert checked == 5 + 5 + 3 + 3 + 1 + 1


# -- without a policy -----------------------------------------------------------------------


def test_without_a_policy_every_request_a_capability_allows_is_granted(demo_without_policy):
    assert demo_without_policy.policy is None
    assert demo_without_policy.decide("blinky", "gpio", "gpio.write") == Decision(True, "no policy")


def test_without_a_policy_a_missing_capability_still_denies(demo_without_policy):
    assert demo_without_policy.decide("hello", "uart", "uart.write") == Decision(
        False, "no capability", "hello holds no capability to an endpoint of uart serving uart")


def test_without_a_policy_every_method_of_every_capability_is_reachable(demo_without_policy):
    edges = demo_without_policy.reachability()
    assert all(not edge.denied for edge in edges)
    assert [m for edge in edges if (edge.source, edge.destination) == ("blinky", "gpio") for m in edge.allowed] == [
        "gpio.configure", "gpio.write", "gpio.toggle", "gpio.read", "gpio.wait_edge"]


def test_without_a_policy_no_rule_is_unused(demo_without_policy):
    assert demo_without_policy.unused_rules() == []


# -- small systems --------------------------------------------------------------------------


ALLOW_UART_THEN_SHADOWED = """\
[[rule]]
name = "the app uses the uart"
action = "allow"
from = "app"
to = "uart"
methods = "uart.*"

[[rule]]
name = "no uart writes"
action = "deny"
from = "app"
to = "uart"
methods = "uart.write"

[[rule]]
name = "idle may write"
action = "allow"
from = "idle"
to = "uart"
methods = "uart.write"

[[rule]]
name = "the app writes pins"
action = "allow"
from = "app"
to = "gpio"
methods = ["gpio.write", "gpio.configure"]
"""


def test_a_rule_earlier_rules_decide_for_is_unused_as_shadowed(tmp_path):
    assert ("no uart writes", "earlier rules decide every request it matches") in tiny(
        tmp_path, ALLOW_UART_THEN_SHADOWED).unused_rules()


def test_a_rule_no_capability_makes_possible_is_unused_as_matching_nothing(tmp_path):
    assert ("idle may write", "no component holds a capability it would match") in tiny(
        tmp_path, ALLOW_UART_THEN_SHADOWED).unused_rules()


def test_only_the_rules_that_decide_nothing_are_unused(tmp_path):
    assert [name for name, _ in tiny(tmp_path, ALLOW_UART_THEN_SHADOWED).unused_rules()] == [
        "no uart writes", "idle may write"]


def test_moving_the_deny_rule_first_makes_every_app_rule_decide_something(tmp_path):
    blocks = ALLOW_UART_THEN_SHADOWED.split("\n\n")
    policy = "\n\n".join([blocks[1], blocks[0], blocks[3]])
    system = tiny(tmp_path, policy)
    assert system.unused_rules() == []
    assert system.decide("app", "uart", "uart.write") == Decision(False, "no uart writes")
    assert system.decide("app", "uart", "uart.read") == Decision(True, "the app uses the uart")


def test_an_endpoint_without_an_interface_shows_as_star_and_only_a_star_rule_reaches_it(tmp_path):
    edges = {e.endpoint: e for e in tiny(tmp_path, ALLOW_UART_THEN_SHADOWED).reachability()}
    assert edges["raw"] == Edge("app", "uart", "raw", "call", (), ("*",))
    star = ALLOW_UART_THEN_SHADOWED + '\n[[rule]]\nname = "anything raw"\naction = "allow"\nfrom = "app"\n' \
                                      'to = "uart"\nmethods = "*"\n'
    edges = {e.endpoint: e for e in tiny(tmp_path / "star", star).reachability()}
    assert edges["raw"] == Edge("app", "uart", "raw", "call", ("*",), ())


def test_the_small_system_reachability_lists_the_apps_three_capabilities(tmp_path):
    assert tiny(tmp_path, ALLOW_UART_THEN_SHADOWED).reachability() == [
        Edge("app", "gpio", "gpio", "call", ("gpio.configure", "gpio.write"),
             ("gpio.toggle", "gpio.read", "gpio.wait_edge")),
        Edge("app", "uart", "raw", "call", (), ("*",)),
        Edge("app", "uart", "uart", "call", ("uart.write", "uart.read", "uart.stats"), ()),
    ]


def test_a_notification_is_reachable_as_a_notify_edge(tmp_path):
    text = SYSTEM + '\n[[notification]]\nfrom = "uart"\nto = "app"\nslot = 3\nbits = 0x4\n'
    system = SystemPolicy(load_system(write_system(tmp_path, text)))
    assert Edge("uart", "app", "notification bits 0x4", "notify") in system.reachability()


def test_a_component_holding_nothing_can_reach_nothing(tmp_path):
    system = tiny(tmp_path, ALLOW_UART_THEN_SHADOWED)
    assert all(edge.source != "idle" for edge in system.reachability())
    assert system.decide("idle", "uart", "uart.write").rule == "no capability"


def test_a_star_rule_from_every_component_still_needs_a_capability(tmp_path):
    system = tiny(tmp_path, '[[rule]]\nname = "everything"\naction = "allow"\nfrom = "*"\nto = "*"\nmethods = "*"\n')
    assert system.decide("app", "gpio", "gpio.toggle") == Decision(True, "everything")
    assert system.decide("idle", "gpio", "gpio.toggle") == Decision(
        False, "no capability", "idle holds no capability to an endpoint of gpio serving gpio")


def test_reach_follows_allowed_calls_through_the_servers_they_reach(demo):
    reach = demo.reach()

    assert reach["shell"] == ["console", "gpio", "uart"]
    assert reach["blinky"] == ["console", "gpio", "uart"]   # the uart only through the console
    assert reach["console"] == ["uart"]
    assert reach["hello"] == [] and reach["uart"] == [] and reach["supervisor"] == []
