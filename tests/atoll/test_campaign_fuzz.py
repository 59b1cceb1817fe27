"""The IPC fuzzer finds the bug planted in the ledger test server (tests/atoll/campaign/ledger),
on both boards, within `RUNS` runs, and every finding replays with one command.

The ledger's `note` method checks its length field against 64 (the lease's largest size)
instead of 32 (its buffer), so a note of 37 bytes or more overwrites the callback after the
buffer, and calling it jumps to the lent bytes. Only that label with that length reaches it.
Measured with seed 1: found at run 11 on both boards; the bound leaves room for changes of
the fuzzer's mutations.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from atoll.campaign.executor import LocalExecutor
from atoll.campaign.fuzz import fuzz
from atoll.campaign.fuzz_inputs import from_json
from atoll.campaign.images import ImageRef
from atoll.cli import main
from tests.atoll.campaign.build import ledger_image
from tests.boards import BOARDS

RUNS = 200                     #: the planted bug must be found within this many runs
NOTE = 90 << 16 | 3            #: the ledger's note label (interface 90, method 3)


@pytest.fixture(scope="module", params=BOARDS)
def campaign(request, tmp_path_factory):
    """One board's fuzzing campaign through the CLI: its output folder and its results."""
    out = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    assert main(["campaign", "fuzz", str(ledger_image(request.param)), "--runs", str(RUNS), "--workers", "1",
                 "--engine", "local", "--seed", "1", "--out", str(out)]) == 0
    return out, json.loads((out / "results.json").read_text())


def test_the_fuzzer_finds_the_planted_out_of_bounds_write_within_the_stated_runs(campaign):
    out, results = campaign
    findings = [json.loads((out / name).read_text()) for name in results["findings"]]

    crashes = [f for f in findings if f["kind"] == "crash" and f["server"] == "ledger"]
    assert crashes, results
    assert min(f["run"] for f in crashes) < RUNS
    assert results["outcomes"]["hang"] == 0


def test_a_finding_is_minimised_to_one_note_longer_than_the_buffer_before_the_callback(campaign):
    out, results = campaign
    finding = json.loads((out / results["findings"][0]).read_text())

    (message,) = from_json(finding["minimised"])
    assert message.label == NOTE
    assert 37 <= message.mrs[0] <= 64          # over the 32-byte text and the 4-byte length, up to the bad bound
    assert len(finding["input"]) >= 1


def test_every_finding_carries_its_seed_image_digest_and_snapshot_and_replays_with_one_command(campaign):
    out, results = campaign
    path = out / results["findings"][0]
    finding = json.loads(path.read_text())
    assert finding["seed"] == 1
    assert finding["image_digest"] == results["image_digest"]
    assert finding["snapshot"] == results["snapshot"]

    replayed = subprocess.run([sys.executable, "-m", "atoll.cli", "replay", str(path)],
                              capture_output=True, text=True, timeout=120)

    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.startswith(f"reproduced: expected {finding['signature']}, saw {finding['signature']}")


def test_the_campaign_writes_a_summary_a_plot_of_findings_and_coverage_and_its_image(campaign):
    out, results = campaign
    svg = (out / "plot.svg").read_text()

    assert svg.startswith("<svg") and "findings" in svg and "coverage (edges)" in svg
    assert (out / "summary.txt").read_text().startswith(f"fuzzed ledger (ledger): {RUNS} runs in ")
    assert (out / results["image"]).is_file()
    assert results["coverage_edges"] > 50
    assert [t[0] for t in results["timeline"]][-1] == RUNS


def test_the_same_seed_gives_the_same_findings_and_coverage_with_one_worker_or_two():
    image = ImageRef.load(ledger_image("hifive1"))
    with LocalExecutor(1) as one:
        a = fuzz(image, 64, 7, one, batch=16)
    with LocalExecutor(2) as two:
        b = fuzz(image, 64, 7, two, batch=16)

    assert [(f.run, f.signature, f.minimised) for f in a.findings] == \
        [(f.run, f.signature, f.minimised) for f in b.findings]
    assert a.edges == b.edges and a.corpus == b.corpus
