"""Fixtures for the firmware tests: `qemu`, the runner of real QEMU (tests/firmware/qemu.py).

`bare_firmware` comes from tests/conftest.py.
"""

from __future__ import annotations


import pytest

from tests.firmware import qemu as qemu_helper


@pytest.fixture(scope="session")
def qemu():
    """The QEMU runner (tests/firmware/qemu.py): ``require(board)``, ``run(board, elf, ...)``."""
    return qemu_helper
