"""Findings as files, and their replay: `atoll replay FINDING.json`.

A finding is one JSON object (`FORMAT`, `VERSION`) that holds everything a replay needs:
the campaign kind (`fault`, `fuzz`, `matrix`), the packed image's file (relative to the finding, written next to the
campaign's results) and its SHA-256, the board, the seed, the snapshot id the run started
from, and what was done: for `fault`, the driver and the run index (the run is rebuilt
from the seed); for `fuzz`, the server and the input, both as found and minimised; for
`matrix`, the seed (the run boots the image again, its snapshot id is "boot"). It also
holds what was seen (`outcome` or `signature`, and a detail line) so a replay can say
whether it saw the same.

`replay` checks the file (a wrong one is a `FindingError`, one line naming the file and the
key), checks the image's bytes against the digest, boots it in this process, does the
run and returns a `Replay`: what it saw, and whether that is what the finding says.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
from dataclasses import asdict, dataclass

from .fault_tasks import snapshot_id
from .faults import Campaign
from .fuzz_inputs import as_json, from_json
from .fuzz_target import FuzzTarget
from .images import ImageRef
from .matrix import MatrixTask, run_one

FORMAT = "atoll-finding"
VERSION = 1


class FindingError(ValueError):
    """A finding file that cannot be replayed; one line naming the file and the problem."""


@dataclass
class Replay:
    expected: str
    seen: str
    detail: str
    snapshot_ok: bool

    @property
    def reproduced(self) -> bool:
        return self.expected == self.seen


def fault_finding(image_file: str, image, seed: int, snapshot: str, run) -> dict:
    return {"format": FORMAT, "version": VERSION, "campaign": "fault", "image": image_file,
            "image_digest": image.digest, "board": image.board, "seed": seed, "snapshot": snapshot,
            "target": run.target, "run": run.index, "kind": run.kind, "injection": run.injection,
            "outcome": run.outcome, "detail": run.detail, "result": asdict(run)}


def fuzz_finding(image_file: str, image, seed: int, snapshot: str, server: str, finding) -> dict:
    return {"format": FORMAT, "version": VERSION, "campaign": "fuzz", "image": image_file,
            "image_digest": image.digest, "board": image.board, "seed": seed, "snapshot": snapshot,
            "server": server, "run": finding.run, "kind": finding.kind, "signature": finding.signature,
            "detail": finding.detail, "input": as_json(finding.input),
            "minimised": as_json(finding.minimised or finding.input)}


def matrix_finding(image_file: str, image, run) -> dict:
    return {"format": FORMAT, "version": VERSION, "campaign": "matrix", "image": image_file,
            "image_digest": image.digest, "board": image.board, "seed": run.seed, "snapshot": "boot",
            "outcome": _matrix_outcome(run), "detail": run.error or f"faults {run.faults}", "result": asdict(run)}


def _matrix_outcome(run) -> str:
    if run.error:
        return f"kernel error {run.error.split(':')[0]}"
    return "faults " + ", ".join(f"{name} {count}" for name, count in sorted(run.faults.items())) if run.faults \
        else "no finding"


def _load(path: pathlib.Path) -> dict:
    if not path.is_file():
        raise FindingError(f"{path}: no such file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FindingError(f"{path}: not a finding (not JSON: {e})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise FindingError(f"{path}: not a finding (no \"format\": \"{FORMAT}\")")
    if data.get("version") != VERSION:
        raise FindingError(f"{path}: finding version {data.get('version')!r} is not {VERSION}")
    keys = {"fault": ("image", "image_digest", "seed", "snapshot", "target", "run", "outcome"),
            "fuzz": ("image", "image_digest", "seed", "snapshot", "server", "signature", "minimised"),
            "matrix": ("image", "image_digest", "seed", "outcome")}
    if data.get("campaign") not in keys:
        raise FindingError(f"{path}: campaign must be one of {', '.join(keys)}, not {data.get('campaign')!r}")
    for key in keys[data["campaign"]]:
        if key not in data:
            raise FindingError(f"{path}: missing key {key!r}")
    return data


def _image(path: pathlib.Path, data: dict) -> pathlib.Path:
    image = (path.parent / str(data["image"])).resolve()
    if not image.is_file():
        raise FindingError(f"{path}: image: {data['image']}: no such file")
    if hashlib.sha256(image.read_bytes()).hexdigest() != data["image_digest"]:
        raise FindingError(f"{path}: image: {data['image']} does not match image_digest (it changed)")
    return image


def replay(path: str | pathlib.Path) -> Replay:
    """Replay the finding at `path` in this process (see the module's text)."""
    path = pathlib.Path(path)
    data = _load(path)
    image = _image(path, data)
    if data["campaign"] == "fault":
        return _replay_fault(image, data)
    if data["campaign"] == "matrix":
        run = run_one(MatrixTask(ImageRef.load(image), int(data["seed"])))
        return Replay(str(data["outcome"]), _matrix_outcome(run), run.error or f"faults {run.faults}", True)
    return _replay_fuzz(path, image, data)


def _replay_fault(image: pathlib.Path, data: dict) -> Replay:
    ref = ImageRef.load(image)
    campaign = Campaign(ref.board, image=image)
    snapshot = snapshot_id(ref, campaign)
    run = campaign.run(str(data["target"]), int(data["run"]), int(data["seed"]))
    return Replay(str(data["outcome"]), run.outcome, f"{run.kind}: {run.injection}; {run.detail}",
                  snapshot == data["snapshot"])


def _replay_fuzz(path: pathlib.Path, image: pathlib.Path, data: dict) -> Replay:
    try:
        messages = from_json(data["minimised"])
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise FindingError(f"{path}: minimised: not an input ({e})") from None
    target = FuzzTarget(image)
    if target.server != data["server"]:
        raise FindingError(f"{path}: server {data['server']!r} is not the image's fuzzed server {target.server!r}")
    outcome = target.run(messages)
    return Replay(str(data["signature"]), outcome.signature or "no finding", outcome.detail,
                  target.snapshot_id == data["snapshot"])
