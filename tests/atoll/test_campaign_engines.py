"""`atoll campaign` gives the same findings for the same seeds on every engine: a local process
pool (the default without Ray), a local Ray instance, and a Ray cluster of a head and one
worker node started on this machine's loopback (`ray start --head` plus `ray start
--address`, with unique ports and a private token; stopped again, through the process groups
this test started, even when a test fails).

A fuzzing campaign against the ledger and a short fault campaign against the demo's uart
driver run on each; their findings (run, signature or outcome, the minimised input) and
snapshot ids must match the process pool's.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from atoll.campaign import executor
from atoll.cli import main
from tests.atoll.campaign.build import demo_image, ledger_image

FUZZ_RUNS = 64
FAULT_RUNS = 20                 #: two tasks of 10 runs
BOARD = "hifive1"
RAY = Path(sys.executable).with_name("ray")


def _campaign(out: Path, kind: str, image: Path, runs: int, *extra: str) -> dict:
    args = ["campaign", kind, str(image), "--runs", str(runs), "--seed", "1", "--out", str(out), *extra]
    if kind == "fault":
        args += ["--target", "uart"]
    assert main(args) == 0
    return json.loads((out / "results.json").read_text())


def _findings(out: Path, results: dict) -> list:
    keep = ("run", "kind", "signature", "minimised", "target", "outcome", "injection", "snapshot", "image_digest")
    return [{k: v for k, v in json.loads((out / name).read_text()).items() if k in keep}
            for name in results["findings"]]


@pytest.fixture(scope="module")
def local_results(tmp_path_factory):
    """Both campaigns on the process pool, with Ray taken for not installed."""
    out = tmp_path_factory.mktemp("local")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(executor, "ray_installed", lambda: False)
        mp.delenv("RAY_ADDRESS", raising=False)
        fuzz = _campaign(out / "fuzz", "fuzz", ledger_image(BOARD), FUZZ_RUNS, "--workers", "2")
        fault = _campaign(out / "fault", "fault", demo_image(BOARD), FAULT_RUNS, "--workers", "2")
    return {"fuzz": (out / "fuzz", fuzz), "fault": (out / "fault", fault)}


def test_without_ray_a_campaign_runs_on_the_local_process_pool(local_results):
    for out, results in local_results.values():
        assert results["engine"] == "local" and results["workers"] == 2
    out, fuzz = local_results["fuzz"]
    assert fuzz["runs"] == FUZZ_RUNS and _findings(out, fuzz)
    out, fault = local_results["fault"]
    assert fault["runs"] == FAULT_RUNS and len(fault["results"]) == FAULT_RUNS


def test_a_fault_finding_replays_from_its_seed_and_snapshot_with_one_command(local_results, capsys):
    out, fault = local_results["fault"]
    assert fault["findings"] == ["findings/fault-uart-1.json", "findings/fault-uart-14.json"]  # alive, wrong
    capsys.readouterr()

    assert main(["replay", str(out / fault["findings"][0])]) == 0

    assert capsys.readouterr().out.startswith(
        "reproduced: expected alive, serving wrongly, saw alive, serving wrongly\n  register-flip: register s4 bit 8")


def test_a_local_ray_instance_gives_the_same_findings_as_the_process_pool(local_results, tmp_path):
    pytest.importorskip("ray")
    for kind, image, runs in (("fuzz", ledger_image(BOARD), FUZZ_RUNS), ("fault", demo_image(BOARD), FAULT_RUNS)):
        results = _campaign(tmp_path / kind, kind, image, runs, "--engine", "ray", "--workers", "2")
        assert results["engine"] == "ray"
        assert _findings(tmp_path / kind, results) == _findings(*local_results[kind])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(log: Path, text: str, process: subprocess.Popen, seconds: float = 90) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if text in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"ray did not start:\n{log.read_text(errors='replace')[-2000:]}")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process group this test started, then SIGKILL if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


@pytest.fixture
def ray_cluster(tmp_path, monkeypatch):
    """A head node and one worker node on 127.0.0.1 (one CPU each); yields the head's address."""
    if not RAY.exists():
        pytest.skip("ray is not installed")
    token = tmp_path / "token"
    token.write_text(secrets.token_hex(32))
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(token))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    env = dict(os.environ, PATH=f"{RAY.parent}{os.pathsep}{os.environ['PATH']}")
    port = _free_port()
    sessions = tempfile.mkdtemp(prefix="atoll-ray-")   # short: Ray's socket paths must fit in 107 bytes
    common = ["--node-ip-address=127.0.0.1", "--num-cpus=1", "--disable-usage-stats", "--block"]
    started = []
    try:
        for name, args in (("head", ["--head", f"--port={port}", "--include-dashboard=false",
                                     f"--temp-dir={sessions}"]),
                           ("worker", [f"--address=127.0.0.1:{port}"])):
            log = tmp_path / f"{name}.log"
            started.append(subprocess.Popen([str(RAY), "start", *args, *common], env=env, start_new_session=True,
                                            stdout=log.open("w"), stderr=subprocess.STDOUT))
            _wait_for(log, "Ray runtime started", started[-1])
        yield f"127.0.0.1:{port}"
    finally:
        for process in reversed(started):      # the worker first: it drains through the head
            _stop(process)
        shutil.rmtree(sessions, ignore_errors=True)


def test_a_ray_cluster_on_loopback_gives_the_same_findings_as_the_process_pool(local_results, ray_cluster, tmp_path):
    for kind, image, runs in (("fuzz", ledger_image(BOARD), FUZZ_RUNS), ("fault", demo_image(BOARD), FAULT_RUNS)):
        # the command as a user runs it, in a process of its own (Ray keeps per-process state)
        command = [sys.executable, "-m", "atoll.cli", "campaign", kind, str(image), "--runs", str(runs),
                   "--seed", "1", "--out", str(tmp_path / kind), "--cluster", ray_cluster]
        if kind == "fault":
            command += ["--target", "uart"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        results = json.loads((tmp_path / kind / "results.json").read_text())
        assert results["engine"] == "ray" and results["workers"] == 2     # the head's CPU and the worker's
        assert _findings(tmp_path / kind, results) == _findings(*local_results[kind])
