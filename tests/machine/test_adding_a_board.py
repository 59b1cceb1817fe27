"""Adding a board is one data file: a copy of a shipped board file under a new name,
named by path from a system description, boots the demo with no other change.

The copy lives in a temporary folder (a board is loaded from any path ending in .toml:
`load_board(path)`, or `board = "<path>"` in a system description, relative to it).
"""

from __future__ import annotations

import pathlib
import re

import pytest

from firmware import components
from kernel import Kernel
from sysdesc import load_system
from machine import BufferBackend, Machine, known_boards, load_board
from tests.conftest import ROOT

IMAGES = ROOT / "firmware" / "images"


@pytest.fixture(scope="module")
def demo_elves():
    # the descriptions name build/components/<isa>/<name>.elf, relative to themselves
    return components.build_all(ROOT / "build" / "components")


def copy_board(shipped: str, folder: pathlib.Path, new_name: str) -> pathlib.Path:
    """The shipped board's file, saved in `folder` under `new_name` (its [board] name too)."""
    text = load_board(shipped).path.read_text()
    text, count = re.subn(r'(?m)^name = "[^"]*"', f'name = "{new_name}"', text, count=1)
    assert count == 1
    path = folder / f"{new_name}.toml"
    path.write_text(text)
    return path


def demo_description_on(shipped: str, board_file: pathlib.Path, folder: pathlib.Path) -> pathlib.Path:
    """The shipped demo description for `shipped`, with its board named by `board_file`'s path
    and every other file it names made absolute (so that it can live in `folder`)."""
    text = (IMAGES / f"demo-{shipped}.toml").read_text()
    text = text.replace('"../../', f'"{ROOT.as_posix()}/')
    text = text.replace('policy = "demo.policy.toml"', f'policy = "{(IMAGES / "demo.policy.toml").as_posix()}"')
    text, count = re.subn(r'(?m)^board = "[^"]*"', f'board = "{board_file.relative_to(folder).as_posix()}"', text)
    assert count == 1
    path = folder / f"demo-{board_file.stem}.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("shipped", known_boards())
def test_a_board_file_copied_under_a_new_name_boots_the_demo(shipped, demo_elves, tmp_path):
    (tmp_path / "boards").mkdir()
    board_file = copy_board(shipped, tmp_path / "boards", f"copy-of-{shipped}")
    system = load_system(demo_description_on(shipped, board_file, tmp_path))
    assert system.board.name == f"copy-of-{shipped}"
    assert system.board.path == board_file

    machine = Machine(system.board)
    kernel = Kernel(machine)
    uart = BufferBackend()
    machine.attach_uart(next(iter(machine.uarts)), uart)
    kernel.boot(system)
    stop = kernel.run_until(lambda: b"atoll> " in uart.output, 1.0)
    assert stop.reason == "condition", f"no prompt; UART said {uart.text[-300:]!r}"
    assert "Atoll shell ready; type help" in uart.text

    mark = len(uart.output)
    uart.send("uptime\r")
    kernel.run_until(lambda: b"atoll> " in uart.output[mark + len("uptime"):], 1.0)
    assert re.search(r"up \d+\.\d{6} s", uart.output[mark:].decode())


def test_a_board_is_loaded_from_a_path_under_the_name_its_file_gives(tmp_path):
    for shipped in known_boards():
        board = load_board(copy_board(shipped, tmp_path, f"renamed-{shipped}"))
        assert board.name == f"renamed-{shipped}"
        assert board == load_board(shipped).__class__(**{**vars(load_board(shipped)), "name": board.name,
                                                         "path": board.path})
