"""Builds what the campaign tests boot: the ledger test server (ledger/, with its planted bug)
and the IPC fuzzer's client (firmware/apps/ipc_fuzz), for both ISAs, into
build/test-components (incremental and locked, so parallel workers share it), and names
the images in images/."""

from __future__ import annotations

from firmware import components
from tests.conftest import ROOT

HERE = ROOT / "tests" / "atoll" / "campaign"
OUT = ROOT / "build" / "test-components"


def ledger_image(board: str):
    """The ledger image for `board`, its two ELF files built first."""
    for isa in ("armv7m", "rv32imac"):
        components.build_component("ledger", HERE / "ledger", isa, OUT)
        components.build_component("ipc_fuzz", ROOT / "firmware" / "apps" / "ipc_fuzz", isa, OUT)
    return HERE / "images" / f"ledger-{board}.toml"


def demo_image(board: str):
    """The demo image for `board` (the fault campaign's), its components built first."""
    components.build_all(ROOT / "build" / "components")
    return ROOT / "firmware" / "images" / f"demo-{board}.toml"
