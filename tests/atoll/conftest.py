"""Fixtures for every test of the tools: in-process GDB stubs end with their test."""

import pytest


@pytest.fixture(autouse=True)
def _stubs_end_with_their_test():
    yield
    from tests.atoll.test_gdb_stub import stop_serving
    stop_serving()
