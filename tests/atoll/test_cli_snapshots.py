"""`atoll boot --save-snapshot FILE --at TIME` and `--from-snapshot FILE`, run as a user runs them.

A run from a snapshot goes on exactly as the run that saved it: the summary line (virtual
time, instructions, context switches, IPC) of a 1 s run equals that of a run started from
its snapshot at 0.6 s, UART input typed before the snapshot included. Every wrong file
is one line naming it, exit status 2.
"""

from __future__ import annotations

import json

import pytest

from firmware import components
from tests.atoll.test_cli import ROOT, atoll
from tests.boards import BOARDS


@pytest.fixture(scope="module")
def built():
    return components.build_all(ROOT / "build" / "components")


def image(board: str) -> str:
    return str(ROOT / "firmware" / "images" / f"demo-{board}.toml")


@pytest.mark.parametrize("board", BOARDS)
def test_a_run_from_a_saved_snapshot_goes_on_as_the_run_that_saved_it(board, built, tmp_path):
    snap = tmp_path / "s.json"
    whole = atoll("boot", image(board), "--for", "1s", "--save-snapshot", str(snap), "--at", "600ms",
                  input=b"help\r")
    assert whole.returncode == 0, whole.stderr
    assert b"commands: help" in whole.stdout
    saved = json.loads(snap.read_text())
    assert saved["format"] == "atoll-snapshot" and saved["inputs"], saved

    resumed = atoll("boot", image(board), "--for", "400ms", "--from-snapshot", str(snap), input=b"")

    assert resumed.returncode == 0, resumed.stderr
    assert b"commands: help" not in resumed.stdout     # what came before the snapshot is not said again
    assert resumed.stderr.splitlines()[-1] == whole.stderr.splitlines()[-1]


def test_wrong_snapshot_files_and_options_are_one_line_naming_them(built, tmp_path):
    snap = tmp_path / "s.json"
    assert atoll("boot", image("hifive1"), "--for", "200ms", "--save-snapshot", str(snap), "--at", "100ms",
                 input=b"").returncode == 0
    data = json.loads(snap.read_text())

    def refused(path, text, board="hifive1", *more):
        result = atoll("boot", image(board), "--for", "100ms", "--from-snapshot", str(path), *more, input=b"")
        assert result.returncode == 2, result.stderr
        assert result.stderr == f"atoll: {text}\n"

    junk = tmp_path / "junk.json"
    junk.write_bytes(b"\x00\x01 not json")
    refused(junk, f"{junk}: not a snapshot file (not JSON text); write one with --save-snapshot")
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": "something-else"}))
    refused(other, f"{other}: not a snapshot file (no \"format\": \"atoll-snapshot\")")
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({**data, "version": 9}))
    refused(newer, f"{newer}: snapshot version 9; this atoll reads version 1")
    holed = tmp_path / "holed.json"
    holed.write_text(json.dumps({k: v for k, v in data.items() if k != "cycle"}))
    refused(holed, f"{holed}: field 'cycle' missing or not a whole number")
    refused(snap, f"{snap}: a snapshot of another image (demo-hifive1.toml, sha256 {data['image']['sha256'][:16]}...), "
                  "not of demo-mps2-an385.toml", "mps2-an385")
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps({**data, "state": "0" * 64}))
    refused(tampered, f"{tampered}: replaying it did not reach the saved state at cycle {data['cycle']}: "
                      "the file was changed, or the image's programs were")
    refused(tmp_path / "none.json", f"{tmp_path / 'none.json'}: cannot read: No such file or directory")

    for args, text in [(["--at", "1s"], "--at needs --save-snapshot FILE"),
                       (["--save-snapshot", str(tmp_path / "x.json")],
                        "--save-snapshot needs --at TIME (the virtual time to take it at)"),
                       (["--save-snapshot", str(tmp_path / "x.json"), "--at", "1s", "--gdb", "0"],
                        "--save-snapshot does not go with --gdb (in GDB: monitor snapshot save NAME)")]:
        result = atoll("boot", image("hifive1"), "--for", "100ms", *args, input=b"")
        assert (result.returncode, result.stderr) == (2, f"atoll: {text}\n")
