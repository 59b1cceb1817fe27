"""`atoll campaign` and `atoll replay`: a wrong argument or file is one line on stderr and exit
status 2, before any run; a finding that no longer reproduces exits 1."""

from __future__ import annotations

import json
import shutil

import pytest

from atoll.cli import main
from tests.atoll.campaign.build import demo_image, ledger_image


def _error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err.strip()


def test_a_missing_image_is_named_in_one_line(capsys, tmp_path):
    assert _error(capsys, ["campaign", "fuzz", str(tmp_path / "nope.toml"), "--runs", "5"]) == \
        f"atoll: {tmp_path / 'nope.toml'}: no such file"


def test_runs_must_be_a_positive_number(capsys):
    image = str(ledger_image("hifive1"))
    assert _error(capsys, ["campaign", "fuzz", image, "--runs", "0"]) == \
        "atoll campaign: argument --runs: must be at least 1, not 0"
    assert _error(capsys, ["campaign", "fuzz", image, "--runs", "many"]) == \
        "atoll campaign: argument --runs: not a number: 'many'"


def test_an_unknown_campaign_kind_is_refused(capsys):
    assert _error(capsys, ["campaign", "stress", str(ledger_image("hifive1")), "--runs", "5"]).startswith(
        "atoll campaign: argument kind: invalid choice: 'stress'")


def test_a_fault_campaign_needs_the_demos_drivers_and_takes_one_image(capsys):
    image = ledger_image("hifive1")
    assert _error(capsys, ["campaign", "fault", str(image), "--runs", "5"]) == \
        (f"atoll: {image}: a fault campaign needs the demo's components (uart, gpio, shell, blinky, supervisor); "
         "missing: uart, gpio, shell, blinky, supervisor")
    demo = str(demo_image("hifive1"))
    assert _error(capsys, ["campaign", "fault", demo, demo, "--runs", "5"]) == \
        "atoll: campaign fault takes one image, not 2"


def test_fuzzing_needs_an_image_with_the_fuzz_client(capsys):
    image = demo_image("hifive1")
    assert _error(capsys, ["campaign", "fuzz", str(image), "--runs", "5"]) == \
        (f"atoll: {image}: no component 'fuzz' holding a client capability to an endpoint (add "
         "firmware/apps/ipc_fuzz as 'fuzz', start = false; docs/campaigns.md)")


def test_a_cluster_needs_the_ray_engine(capsys):
    assert _error(capsys, ["campaign", "fuzz", str(ledger_image("hifive1")), "--runs", "5", "--engine", "local",
                           "--cluster", "127.0.0.1:1"]) == "atoll: --cluster needs the ray engine"


def test_replay_refuses_what_is_not_a_finding(capsys, tmp_path):
    missing = tmp_path / "missing.json"
    assert _error(capsys, ["replay", str(missing)]) == f"atoll: {missing}: no such file"
    text = tmp_path / "notes.json"
    text.write_text("not json\n")
    assert _error(capsys, ["replay", str(text)]).startswith(f"atoll: {text}: not a finding (not JSON: ")
    other = tmp_path / "other.json"
    other.write_text('{"format": "something-else"}')
    assert _error(capsys, ["replay", str(other)]) == \
        f'atoll: {other}: not a finding (no "format": "atoll-finding")'
    partial = tmp_path / "partial.json"
    partial.write_text('{"format": "atoll-finding", "version": 1, "campaign": "fuzz", "image": "x.atoll"}')
    assert _error(capsys, ["replay", str(partial)]) == f"atoll: {partial}: missing key 'image_digest'"


@pytest.fixture(scope="module")
def finding(tmp_path_factory):
    """A fuzzing campaign's first finding, in a folder of its own."""
    out = tmp_path_factory.mktemp("found")
    assert main(["campaign", "fuzz", str(ledger_image("hifive1")), "--runs", "32", "--engine", "local",
                 "--workers", "1", "--out", str(out)]) == 0
    return out / json.loads((out / "results.json").read_text())["findings"][0]


def test_replay_refuses_a_finding_whose_image_changed(capsys, finding, tmp_path):
    copy = tmp_path / "findings" / finding.name
    copy.parent.mkdir()
    shutil.copy(finding, copy)
    data = json.loads(finding.read_text())
    (tmp_path / data["image"].removeprefix("../")).write_bytes(b"PK\x05\x06" + bytes(18))

    assert _error(capsys, ["replay", str(copy)]) == \
        f"atoll: {copy}: image: {data['image']} does not match image_digest (it changed)"


def test_a_finding_whose_input_no_longer_crashes_the_server_is_not_reproduced(capsys, finding, tmp_path):
    data = json.loads(finding.read_text())
    data["minimised"][0]["mrs"][0] = "0x4"                # a note that fits
    copy = finding.parent / "fixed.json"
    copy.write_text(json.dumps(data))

    assert main(["replay", str(copy)]) == 1
    assert capsys.readouterr().out.startswith(f"NOT reproduced: expected {data['signature']}, saw no finding")
