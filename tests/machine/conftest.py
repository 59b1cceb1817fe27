"""Fixtures of the machine tests: the probe program built for both ISAs, and a
`probe` on each board (see probe_harness.py)."""

from __future__ import annotations

import pathlib

import pytest

from atoll.toolchain import build
from tests.machine.probe_harness import BOARDS, GUEST, ISA_OF, Probe


@pytest.fixture(scope="session")
def probe_elves(tmp_path_factory) -> dict[str, pathlib.Path]:
    out = tmp_path_factory.mktemp("probe")
    return {isa: build([GUEST / "probe.c"], out / f"probe-{isa}.elf", isa, GUEST / "probe.ld")
            for isa in ("armv7m", "rv32imac")}


@pytest.fixture(params=BOARDS)
def board(request) -> str:
    return request.param


@pytest.fixture
def probe(board, probe_elves) -> Probe:
    return Probe(board, probe_elves[ISA_OF[board]])
