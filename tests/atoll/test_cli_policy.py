"""The policy from the command line: `atoll policy check` (reachability, unused rules, a
Graphviz graph) and `atoll boot --audit FILE [--permissive]`, run as a user runs them."""

from __future__ import annotations

import json
import pathlib
import re

import pytest

from tests.atoll.test_cli_boot_systems import atoll, built  # noqa: F401  (fixture)
from tests.conftest import ROOT

IMAGES = ROOT / "firmware" / "images"
POLICY = (IMAGES / "demo.policy.toml").read_text()
BLINKY_RULE = '''[[rule]]
name = "blinky toggles the LED"
action = "allow"
from = "blinky"
to = "gpio"
methods = ["gpio.configure", "gpio.toggle"]
'''


def demo_copy(tmp_path: pathlib.Path, board: str, policy: str) -> pathlib.Path:
    """The demo description in tmp_path with its own policy (paths into the repository made absolute)."""
    text = (IMAGES / f"demo-{board}.toml").read_text().replace('"../../', f'"{ROOT.as_posix()}/')
    (tmp_path / "demo.policy.toml").write_text(policy)
    path = tmp_path / f"demo-{board}.toml"
    path.write_text(text)
    return path


def test_policy_check_lists_what_each_demo_component_may_call_and_whom_it_reaches(built):
    code, out, err = atoll("policy", "check", IMAGES / "demo-hifive1.toml")

    assert code == 0, err
    text = out.decode()
    assert text.startswith("demo-hifive1: policy demo.policy.toml (enforce, audit denied), 5 rules, default deny\n")
    assert "  blinky -> gpio     gpio.configure, gpio.toggle; denied: gpio.write, gpio.read, gpio.wait_edge  " \
           "[endpoint gpio]\n" in text
    assert "  console -> uart    uart.write; denied: uart.read, uart.stats  [endpoint uart]\n" in text
    assert "  shell: console, gpio, uart\n" in text and "  hello: nobody\n" in text
    assert text.endswith("unused rules: none\n")


def test_policy_check_reports_rules_that_decide_nothing_and_strict_fails_on_them(tmp_path, built):
    extra = '''
[[rule]]
name = "hello may log"
action = "allow"
from = "hello"
to = "console"
methods = ["console.log"]

[[rule]]
name = "blinky again"
action = "deny"
from = "blinky"
to = "gpio"
methods = ["gpio.toggle"]
'''
    path = demo_copy(tmp_path, "hifive1", POLICY + extra)

    code, out, _ = atoll("policy", "check", path)
    assert code == 0
    assert out.decode().endswith("unused rules:\n"
                                 "  'hello may log': no component holds a capability it would match\n"
                                 "  'blinky again': earlier rules decide every request it matches\n")
    code, _, _ = atoll("policy", "check", path, "--strict")
    assert code == 1


def test_policy_check_writes_the_reachability_graph_for_graphviz(tmp_path, built):
    dot = tmp_path / "demo.dot"
    code, _, err = atoll("policy", "check", IMAGES / "demo-mps2-an385.toml", "--dot", dot)

    assert code == 0 and err == f"atoll: wrote {dot}\n"
    text = dot.read_text()
    assert text.startswith('digraph "demo-mps2-an385" {')
    assert '"shell" -> "gpio" [label="gpio.configure\\ngpio.write"];' in text


def test_policy_check_of_a_bad_policy_is_one_line_naming_the_file_and_rule(tmp_path, built):
    path = demo_copy(tmp_path, "hifive1", POLICY.replace('methods = ["uart.write"]', 'methods = ["uart.send"]'))
    dot = tmp_path / "kept.dot"
    dot.write_text("kept")

    code, out, err = atoll("policy", "check", path, "--dot", dot)

    assert code == 2 and out == b""
    assert err == ("atoll: demo-hifive1.toml: system.policy: demo.policy.toml: rule[0].methods: 'uart.send': "
                   "interface uart has no method 'send' (write, read, stats)\n")
    assert dot.read_text() == "kept"


@pytest.mark.parametrize("board", ["mps2-an385", "hifive1"])
def test_boot_audit_writes_each_denial_as_a_json_line(tmp_path, board, built):
    path = demo_copy(tmp_path, board, POLICY.replace(BLINKY_RULE, ""))
    audit = tmp_path / "audit.jsonl"

    code, _, err = atoll("boot", path, "--for", "1200ms", "--uart", f"file:{tmp_path / 'uart.log'}",
                         "--audit", audit)

    assert code == 0, err
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    # blinky configures its pin and toggles it, configuring again after a failed toggle, every
    # 500 ms; all of it is denied (no rule is left for blinky)
    assert [(r["source"], r["destination"], r["method"], r["decision"], r["rule"]) for r in records[:3]] == [
        ("blinky", "gpio", "gpio.configure", "deny", "default deny"),
        ("blinky", "gpio", "gpio.toggle", "deny", "default deny"),
        ("blinky", "gpio", "gpio.configure", "deny", "default deny"),
    ]
    assert len(records) == 10 and {r["source"] for r in records} == {"blinky"}
    assert [r["time_us"] for r in records] == sorted(r["time_us"] for r in records)
    assert f"atoll: wrote {audit}\n" in err
    assert re.search(rf", {len(records)} denied\n", err), err
    assert "[blinky] blinky: pin" in err and "configured -11" in err   # the component saw ATL_E_DENIED


def test_boot_permissive_delivers_and_records_would_deny(tmp_path, built):
    path = demo_copy(tmp_path, "hifive1", POLICY.replace(BLINKY_RULE, ""))
    audit = tmp_path / "audit.jsonl"

    code, _, err = atoll("boot", path, "--for", "700ms", "--uart", f"file:{tmp_path / 'uart.log'}",
                         "--audit", audit, "--permissive")

    assert code == 0, err
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    # configure, the first toggle, and the one at 500 ms: delivered, so no retries; each reply
    # is recorded as the reply to a request the policy would deny
    assert [(r["kind"], r["method"]) for r in records] == [
        ("request", "gpio.configure"), ("reply", "gpio.configure"), ("request", "gpio.toggle"),
        ("reply", "gpio.toggle"), ("request", "gpio.toggle"), ("reply", "gpio.toggle")]
    assert {r["decision"] for r in records} == {"would-deny"}
    assert {r["rule"] for r in records if r["kind"] == "reply"} == {"reply to a denied request"}
    assert "configured 0" in err and ", 6 would deny\n" in err


def test_a_packed_image_keeps_its_policy_and_interfaces(tmp_path, built):
    path = demo_copy(tmp_path, "hifive1", POLICY.replace(BLINKY_RULE, ""))
    image = tmp_path / "demo.atoll"
    assert atoll("build", path, "-o", image)[0] == 0
    audits = []
    for source in (path, image):
        audit = tmp_path / f"audit-{source.suffix[1:]}.jsonl"
        code, _, err = atoll("boot", source, "--for", "700ms", "--uart", f"file:{tmp_path / 'uart.log'}",
                             "--audit", audit)
        assert code == 0, err
        audits.append(audit.read_text())

    assert audits[0] == audits[1] and audits[0].count("\n") == 7   # the same denials at the same times
    code, out, _ = atoll("policy", "check", image)
    assert code == 0 and b"blinky -> gpio     nothing; denied: gpio.configure" in out


def test_audit_needs_a_system_with_a_policy(tmp_path, built):
    text = (IMAGES / "demo-hifive1.toml").read_text().replace('"../../', f'"{ROOT.as_posix()}/')
    path = tmp_path / "open.toml"
    path.write_text(text.replace('policy = "demo.policy.toml"\n', ""))

    code, out, err = atoll("boot", path, "--for", "10ms", "--audit", tmp_path / "a.jsonl")
    assert (code, out) == (2, b"")
    assert err == 'atoll: --audit: open.toml has no policy (add [system] policy = "NAME.policy.toml")\n'
    code, _, err = atoll("boot", path, "--for", "10ms", "--permissive")
    assert code == 2 and err.startswith("atoll: --permissive: open.toml has no policy")


@pytest.mark.parametrize("board,isa", [("mps2-an385", "armv7m"), ("hifive1", "rv32imac")])
def test_boot_audit_writes_at_most_its_rate_of_records_and_says_how_many_it_dropped(tmp_path, board, isa):
    from firmware import components
    from kernel.monitor import AUDIT_RATE

    guest, out = ROOT / "tests" / "kernel" / "guest", ROOT / "build" / "test-components"
    echo = components.build_component("echo_server", guest / "echo_server", isa, out)
    flood = components.build_component("label_flood", guest / "label_flood", isa, out)
    (tmp_path / "flood.policy.toml").write_text(
        '[policy]\nmode = "enforce"\naudit = "denied"\n\n[[rule]]\nname = "nobody calls echo"\naction = "deny"\n'
        'from = "*"\nto = "echo"\nmethods = ["*"]\n')
    path = tmp_path / "flood.toml"
    path.write_text(f'''
[system]
name = "label-flood"
board = "{board}"
policy = "flood.policy.toml"

[[component]]
name = "echo"
elf = "{echo.as_posix()}"
priority = 2
stack = 2048

[[component]]
name = "flood"
elf = "{flood.as_posix()}"
priority = 3
stack = 2048

[[endpoint]]
name = "echo"
server = "echo"
server_slot = 1
clients = {{ flood = 1 }}
''')
    audit = tmp_path / "audit.jsonl"

    code, _, err = atoll("boot", path, "--for", "20ms", "--uart", f"file:{tmp_path / 'uart.log'}", "--audit", audit)

    assert code == 0, err
    summary = err.strip().splitlines()[-1]
    denied = int(re.search(r", (\d+) denied", summary).group(1))
    assert denied > AUDIT_RATE
    assert summary.endswith(f", {denied} denied, {denied - AUDIT_RATE} audit records not written (rate limit)")
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    assert len(records) == AUDIT_RATE + 1
    assert {(r["source"], r["decision"]) for r in records[:-1]} == {("flood", "deny")}
    assert (records[-1]["kind"], records[-1]["dropped"]) == ("dropped", denied - AUDIT_RATE)
