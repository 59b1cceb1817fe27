"""Fixtures for the firmware tests: `qemu`, the runner of real QEMU (tests/firmware/qemu.py).

It is loaded by file path, found from this file's location, so it does not depend on
the working directory. `bare_firmware` comes from tests/conftest.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import load_by_path

qemu_helper = load_by_path("atoll_tests_qemu", Path(__file__).resolve().parent / "qemu.py")


@pytest.fixture(scope="session")
def qemu():
    """The QEMU runner (tests/firmware/qemu.py): ``require(board)``, ``run(board, elf, ...)``."""
    return qemu_helper
