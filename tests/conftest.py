"""Shared test set-up.

The repository root is importable whatever the working directory, the bench plugin
(atoll.pytest_plugin) is registered when no installed entry point does it, and the
bare-metal firmware (firmware/bare, built by firmware/build.py with the project's
toolchain) is built once per session for every board: `bare_firmware` maps
`(board, program)` to its ELF.
"""

from __future__ import annotations

import importlib.metadata
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The bench plugin (tests/benches) comes through the package's pytest11 entry point when
# Atoll is installed; from a plain checkout it is registered here instead.
if not any(ep.value == "atoll.pytest_plugin" for ep in importlib.metadata.entry_points(group="pytest11")):
    pytest_plugins = ["atoll.pytest_plugin"]

from machine import known_boards  # noqa: E402

#: every board, from the board files (tests/boards.py has what the tests know about each)
BOARDS = tuple(known_boards())

# helpers that hold assertions shared by several test files
pytest.register_assert_rewrite("tests.benches.campaign_checks")

from firmware import build as firmware_build  # noqa: E402  (after the path is set)


@pytest.fixture(scope="session")
def bare_firmware(tmp_path_factory) -> dict[tuple[str, str], pathlib.Path]:
    """Every bare-metal program built for every board: ``{(board, program): elf}``."""
    return firmware_build.build_all(tmp_path_factory.mktemp("bare-firmware"))
