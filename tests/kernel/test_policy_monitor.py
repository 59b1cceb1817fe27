"""The policy monitor on a booted system: every request and reply is checked against the
image's policy and the server's interface before anything is delivered.

A system from a description (gpio server, the shaper test server, a client and the
bystander) runs tests/kernel/guest/policy_client, which calls with requests the policy
allows, denies by a rule, denies by default, or that have the wrong shape; it prints the
status of each. The same system in permissive mode delivers everything and records
"would-deny" instead, so the checks below can tell the monitor's work from the servers'.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from kernel.abi import Error
from kernel.kernel import Kernel
from machine import Machine
from sysdesc.description import load_system
from scenario import BYSTANDER_PRIORITY, statuses
from system_harness import BOARDS, ISA_OF, ROOT, guests  # noqa: F401  (fixture)

HERE = pathlib.Path(__file__).resolve().parent
DENIED = int(Error.DENIED)

POLICY = """
[policy]
mode = "{mode}"
audit = "{audit}"

[[rule]]
name = "the client sets up and writes pins"
action = "allow"
from = "client"
to = "gpio"
methods = ["gpio.configure", "gpio.write"]

[[rule]]
name = "nobody toggles"
action = "deny"
from = "*"
to = "gpio"
methods = ["gpio.toggle"]

[[rule]]
name = "the client uses the shaper"
action = "allow"
from = "client"
to = "shaper"
methods = ["shaper.*"]
"""

DESCRIPTION = """
[system]
name = "policy-test"
board = "{board}"
policy = "test.policy.toml"

[[component]]
name = "gpio"
elf = "{gpio}"
priority = 1
stack = 2048
uses = ["gpio0"]

[[component]]
name = "shaper"
elf = "{shaper}"
priority = 1
stack = 2048

[[component]]
name = "client"
elf = "{client}"
priority = 3
stack = 2048

[[component]]
name = "bystander"
elf = "{bystander}"
priority = {bystander_priority}
stack = 2048

[[endpoint]]
name = "gpio"
server = "gpio"
server_slot = 1
clients = {{ client = 2 }}
interface = "{gpio_idl}"

[[endpoint]]
name = "shaper"
server = "shaper"
server_slot = 1
clients = {{ client = 3 }}
interface = "{shaper_idl}"
"""

#: what the client sees with the policy enforced: the reply label, or the kernel's status
ENFORCED = {
    "configure": 0, "write": 0,
    "toggle": DENIED,             # a deny rule
    "read": DENIED,               # no rule: default deny
    "extra-register": DENIED,     # mr2 set; gpio.write takes 2 argument registers
    "unknown-method": DENIED,     # not a method of gpio's interface
    "other-interface": DENIED,    # a shaper label on the gpio endpoint
    "echo-1": 7,
    "echo-3": DENIED,             # the reply has 3 registers set; shaper.echo replies with 2
    "take": 7, "take-two": 7,
    "no-lease": DENIED, "long-lease": DENIED, "wrong-rights": DENIED, "three-leases": DENIED,
    "done": 0,
}
#: the same requests delivered (permissive): what the servers themselves answer
PERMISSIVE = {**{step: 7 for step in ENFORCED if step.startswith(("echo", "take", "no-", "long", "wrong", "three"))},
              "configure": 0, "write": 0, "toggle": 0, "read": 0, "extra-register": 0,
              "unknown-method": -103, "other-interface": -103, "done": 0}


def boot(tmp_path: pathlib.Path, board: str, guests, mode: str = "enforce", audit: str = "denied"):
    isa = ISA_OF[board]
    (tmp_path / "test.policy.toml").write_text(POLICY.format(mode=mode, audit=audit))
    description = tmp_path / "policy-test.toml"
    description.write_text(DESCRIPTION.format(
        board=board, gpio=guests[isa, "gpio"], shaper=guests[isa, "shaper"], client=guests[isa, "policy_client"],
        bystander=guests[isa, "sleeper"], bystander_priority=BYSTANDER_PRIORITY,
        gpio_idl=ROOT / "servers" / "gpio" / "gpio.idl.toml", shaper_idl=HERE / "interfaces" / "shaper.idl.toml"))
    machine = Machine(board)
    kernel = Kernel(machine)
    lines: list[tuple[str, str]] = []
    kernel.on_debug_line = lambda component, text: lines.append((component, text))
    audit_lines: list[str] = []
    kernel.on_audit = lambda record: audit_lines.append(json.dumps(record))
    kernel.boot(load_system(description))
    kernel.run_for(0.05)

    class Run:
        pass
    run = Run()
    run.kernel, run.machine, run.lines, run.audit_lines = kernel, machine, lines, audit_lines
    run.output = lambda component: [text for c, text in lines if c == component]
    return run


@pytest.mark.parametrize("board", BOARDS)
def test_the_monitor_delivers_only_requests_and_replies_the_policy_and_the_interface_allow(tmp_path, board, guests):
    run = boot(tmp_path, board, guests)

    assert statuses(run, "client", "policy") == ENFORCED
    # the shaper answered echo-1, take and take-two; its reply to echo-3 was refused
    assert run.output("shaper") == ["shaper: reply 0", f"shaper: reply {DENIED}", "shaper: reply 0",
                                    "shaper: reply 0"]


@pytest.mark.parametrize("board", BOARDS)
def test_a_denied_request_reaches_no_server(tmp_path, board, guests):
    run = boot(tmp_path, board, guests)

    gpio0 = run.machine.peripheral("gpio0")
    assert [level for _, pin, level in gpio0.edges if pin == 6] == [True]   # written high; the toggle never came
    assert run.kernel.monitor.allowed > 0 and run.kernel.monitor.denied == 10


@pytest.mark.parametrize("board", BOARDS)
def test_each_denial_is_an_audit_record_naming_source_destination_method_and_rule(tmp_path, board, guests):
    run = boot(tmp_path, board, guests)

    records = list(run.kernel.monitor.records)
    assert [(r["kind"], r["method"], r["rule"]) for r in records] == [
        ("request", "gpio.toggle", "nobody toggles"),
        ("request", "gpio.read", "default deny"),
        ("request", "gpio.write", "shape"),
        ("request", "label 0x20009", "shape"),
        ("request", "label 0x400001", "shape"),
        ("reply", "shaper.echo", "shape"),
        ("request", "shaper.take", "shape"),
        ("request", "shaper.take", "shape"),
        ("request", "shaper.take", "shape"),
        ("request", "shaper.take", "shape"),
    ]
    toggle = records[0]
    assert set(toggle) == {"time_us", "source", "destination", "endpoint", "kind", "method", "decision", "rule",
                           "reason"}
    assert (toggle["source"], toggle["destination"], toggle["endpoint"], toggle["decision"]) == \
        ("client", "gpio", "gpio", "deny")
    assert 0 < toggle["time_us"] < 50_000
    assert [r["reason"] for r in records[2:]] == [
        "mr2 is 0x5; the method takes 2 argument register(s)",
        "label 0x20009 is no method of the endpoint's interface",
        "label 0x400001 is no method of the endpoint's interface",
        "mr2 is 0x1; shaper.echo replies with 2 register(s)",
        "lease 0 is missing",
        "lease 0 is 9 bytes; the method's limit is 8",
        "lease 0 has rights 0x2; the method's are 0x1",
        "3 lease(s); the method takes at most 2",
    ]
    # the kernel's on_audit got the same records as they were made
    assert [json.loads(line) for line in run.audit_lines] == records


@pytest.mark.parametrize("board", BOARDS)
def test_audit_all_records_allowed_requests_and_replies_too(tmp_path, board, guests):
    run = boot(tmp_path, board, guests, audit="all")

    decisions = [(r["kind"], r["method"], r["decision"]) for r in run.kernel.monitor.records]
    assert decisions[:4] == [("request", "gpio.configure", "allow"), ("reply", "gpio.configure", "allow"),
                             ("request", "gpio.write", "allow"), ("reply", "gpio.write", "allow")]
    assert sum(d == "deny" for _, _, d in decisions) == 10


@pytest.mark.parametrize("board", BOARDS)
def test_audit_none_records_nothing_and_still_denies(tmp_path, board, guests):
    run = boot(tmp_path, board, guests, audit="none")

    assert statuses(run, "client", "policy") == ENFORCED
    assert not run.kernel.monitor.records and not run.audit_lines


@pytest.mark.parametrize("board", BOARDS)
def test_permissive_mode_delivers_everything_and_records_would_deny(tmp_path, board, guests):
    run = boot(tmp_path, board, guests, mode="permissive")

    assert statuses(run, "client", "policy") == PERMISSIVE
    records = list(run.kernel.monitor.records)
    assert {r["decision"] for r in records} == {"would-deny"}
    requests = [r for r in records if r["kind"] == "request"]
    replies = [(r["method"], r["rule"]) for r in records if r["kind"] == "reply"]
    assert len(requests) == 9
    # each would-denied request's reply is recorded under the request's method, and the reply
    # to echo-3 for its own shape
    assert replies == [("gpio.toggle", "reply to a denied request"), ("gpio.read", "reply to a denied request"),
                       ("gpio.write", "reply to a denied request"), ("label 0x20009", "reply to a denied request"),
                       ("label 0x400001", "reply to a denied request"), ("shaper.echo", "shape"),
                       *[("shaper.take", "reply to a denied request")] * 4]
    gpio0 = run.machine.peripheral("gpio0")
    # the toggle went through, and so did the write with a stray register
    assert [level for _, pin, level in gpio0.edges if pin == 6] == [True, False, True]


@pytest.mark.parametrize("board", BOARDS)
def test_components_the_policy_does_not_concern_run_undisturbed(tmp_path, board, guests):
    from scenario import bystander_intact

    run = boot(tmp_path, board, guests)

    assert bystander_intact(run)


def test_the_json_lines_sink_writes_one_flushed_object_per_record():
    import io

    from kernel import JsonLinesSink

    class Stream(io.StringIO):
        flushes = 0

        def flush(self):
            self.flushes += 1
            super().flush()

    stream = Stream()
    sink = JsonLinesSink(stream)
    records = [{"time_us": 5, "source": "a", "decision": "deny"}, {"time_us": 9, "source": "b", "decision": "allow"}]
    for record in records:
        sink(record)

    assert [json.loads(line) for line in stream.getvalue().splitlines()] == records
    assert stream.getvalue().count("\n") == 2 and stream.flushes == 2
