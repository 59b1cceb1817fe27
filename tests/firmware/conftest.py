"""Fixtures for the bare-metal firmware tests: the firmware built once per session, and QEMU.

``bare_firmware`` builds every program in firmware/bare for every board (through firmware/build.py
and atoll.toolchain) into a session temporary directory and maps ``(board, program)`` to the ELF.
``qemu`` is the helper module tests/firmware/qemu.py. Both are loaded by file path, found from this
file's location, so neither depends on the working directory or on import-path tricks.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def _load(name: str, path: Path):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


firmware_build = _load("atoll_firmware_build", REPO / "firmware" / "build.py")
qemu_helper = _load("atoll_tests_qemu", HERE / "qemu.py")


@pytest.fixture(scope="session")
def bare_firmware(tmp_path_factory) -> dict[tuple[str, str], Path]:
    """Every bare-metal program built for every board: ``{(board, program): elf}``."""
    return firmware_build.build_all(tmp_path_factory.mktemp("bare-firmware"))


@pytest.fixture(scope="session")
def qemu():
    """The QEMU runner (tests/firmware/qemu.py): ``require(board)``, ``run(board, elf, ...)``."""
    return qemu_helper
