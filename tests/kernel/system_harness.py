"""Build the test components (tests/kernel/guest/<name>/) and run small systems.

`guests` (session fixture) builds every guest for both ISAs once. `System` puts
components on a board with the kernel's own API (create_process, grant, ...),
collects their DEBUG_PUTC lines, and runs in virtual time.
"""

from __future__ import annotations

import pathlib

import pytest

from kernel.abi import Right
from kernel.caps import CapKind
from kernel.kernel import Kernel
from machine import Machine
from firmware import components

ROOT = pathlib.Path(__file__).resolve().parents[2]
GUEST = pathlib.Path(__file__).resolve().parent / "guest"
from tests.boards import BOARDS, ISA_OF  # noqa: E402,F401



@pytest.fixture(scope="session")
def guests(tmp_path_factory) -> dict[tuple[str, str], pathlib.Path]:
    """{(isa, name): elf} for every test guest and every shipped component."""
    # shared by test workers and kept between runs; builds are skipped when nothing changed
    out = ROOT / "build" / "test-components"
    folders = {p.name: p for p in GUEST.iterdir() if p.is_dir()}
    folders.update(components.components())  # servers/ and firmware/apps/
    built = {}
    for name, folder in sorted(folders.items()):
        for isa in ("armv7m", "rv32imac"):
            built[isa, name] = components.build_component(name, folder, isa, out)
    return built


class System:
    def __init__(self, board: str, guests: dict) -> None:
        self.board = board
        self.isa = ISA_OF[board]
        self.guests = guests
        self.machine = Machine(board)
        self.kernel = Kernel(self.machine)
        self.lines: list[tuple[str, str]] = []
        self.kernel.on_debug_line = lambda c, text: self.lines.append((c, text))

    def add(self, name: str, program: str | None = None, priority: int = 4, stack: int = 4096, **kw):
        return self.kernel.create_process(name, self.guests[self.isa, program or name], priority, stack, **kw)

    def serve(self, endpoint: str, server, slot: int = 1, clients: dict | None = None):
        ep = self.kernel.create_endpoint(endpoint, server)
        self.kernel.grant(server, slot, CapKind.ENDPOINT, ep, Right.RECV | Right.SEND)
        for client, client_slot in (clients or {}).items():
            self.kernel.grant(client, client_slot, CapKind.ENDPOINT, ep, Right.SEND | Right.GRANT,
                              badge=client.index)
        return ep

    def run(self, seconds: float):
        self.kernel.start()
        return self.kernel.run_for(seconds)

    def output(self, component: str) -> list[str]:
        return [text for c, text in self.lines if c == component]
