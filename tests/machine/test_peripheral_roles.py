"""Peripherals are found by the role they play (machine/roles.py), on every board, with
what each plays read from the board file's peripheral types."""

from __future__ import annotations

import pytest

from machine import (
    Clock,
    GpioBlock,
    InterruptController,
    Machine,
    Peripheral,
    PriorityController,
    Uart,
    load_board,
)
from tests.boards import BOARDS


def names_of_type(board: str, word: str) -> set[str]:
    return {p.name for p in load_board(board).peripherals if word in p.type}


@pytest.mark.parametrize("board", BOARDS)
def test_the_machine_lists_its_uarts_and_gpio_blocks_by_name(board):
    machine = Machine(board)
    assert set(machine.uarts) == names_of_type(board, "uart")
    assert set(machine.gpio_blocks) == names_of_type(board, "gpio")
    assert all(isinstance(dev, Uart) for dev in machine.uarts.values())
    assert machine.playing(InterruptController) == {load_board(board).interrupt_controller: machine.interrupts}


@pytest.mark.parametrize("board", BOARDS)
def test_a_controller_with_priorities_says_so_by_its_role(board):
    machine = Machine(board)
    assert isinstance(machine.interrupts, PriorityController) == bool(names_of_type(board, "plic"))


@pytest.mark.parametrize("board", BOARDS)
def test_a_peripheral_asked_for_in_a_role_it_does_not_play_is_refused_by_name(board):
    machine = Machine(board)
    uart, gpio = sorted(machine.uarts)[0], sorted(machine.gpio_blocks)[0]
    assert machine.peripheral(uart, Uart) is machine.peripherals[uart]
    with pytest.raises(TypeError) as excinfo:
        machine.peripheral(uart, GpioBlock)
    assert str(excinfo.value) == f"peripheral {uart!r} is not a GPIO block"
    with pytest.raises(TypeError) as excinfo:
        machine.attach_uart(gpio, object())
    assert str(excinfo.value) == f"peripheral {gpio!r} is not a UART"
    with pytest.raises(KeyError) as excinfo:
        machine.peripheral("uart9", Uart)
    assert excinfo.value.args[0] == (f"board {board} has no peripheral 'uart9'; "
                                     f"it has: {', '.join(machine.peripherals)}")


def test_every_uart_backend_can_be_flushed_at_the_end_of_a_run():
    from machine import BufferBackend, UartBackend

    backend = BufferBackend()
    assert isinstance(backend, UartBackend)
    backend.flush()           # holds nothing back: nothing to write, no error
    assert backend.output == b""


def test_a_model_that_declares_a_role_without_its_methods_cannot_be_built():
    class HalfUart(Uart, Peripheral):
        def attach(self, backend) -> None:
            pass

    with pytest.raises(TypeError, match="feed"):
        HalfUart("half", Clock(1_000_000))
