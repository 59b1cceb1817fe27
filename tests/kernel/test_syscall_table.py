"""The syscall table matches the ABI: one handler for every number of `abi.Sys`, checked at
import with a clear message, and the C header gives guests the count to draw numbers below."""

from __future__ import annotations

import pytest

from kernel import abi, syscalls
from kernel.abi import Sys


def test_every_syscall_number_of_the_abi_has_exactly_one_handler():
    assert set(syscalls.TABLE) == set(Sys)
    syscalls.check_table(syscalls.TABLE)


def test_a_table_missing_the_handler_of_some_number_is_refused_naming_it():
    table = {n: h for n, h in syscalls.TABLE.items() if n not in (Sys.PING, Sys.YIELD)}

    with pytest.raises(syscalls.TableError) as e:
        syscalls.check_table(table)

    assert str(e.value) == "syscalls without a handler: YIELD, PING"


def test_a_table_with_a_handler_for_a_number_the_abi_lacks_is_refused():
    table = dict(syscalls.TABLE)
    table[len(Sys)] = syscalls.sys_yield

    with pytest.raises(syscalls.TableError) as e:
        syscalls.check_table(table)

    assert str(e.value) == f"handlers for numbers abi.Sys does not have: [{len(Sys)}]"


def test_a_second_handler_for_a_number_is_refused():
    def sys_ping(k, t, a):
        pass

    with pytest.raises(syscalls.TableError) as e:
        syscalls.syscall(Sys.PING)(sys_ping)

    assert str(e.value) == "two handlers for PING: sys_ping and sys_ping"
    assert syscalls.TABLE[Sys.PING] is not sys_ping


def test_a_handler_named_after_another_syscall_is_refused():
    table = syscalls.TABLE
    number = Sys.PING
    del table[number]
    try:
        with pytest.raises(syscalls.TableError) as e:
            syscalls.syscall(number)(syscalls.sys_yield)
    finally:
        table[number] = syscalls.sys_ping

    assert str(e.value) == "the handler of PING is named sys_yield, not sys_ping"


def test_the_c_header_gives_the_count_of_syscall_numbers():
    assert f"\n#define ATL_SYSCALL_COUNT {len(Sys)}\n" in abi.c_header()
    assert sorted(Sys) == list(range(len(Sys)))   # the numbers are 0 to ATL_SYSCALL_COUNT - 1
