"""The gpio server (servers/gpio) on both boards: blinky's period from the pin's edge
log, inputs the host drives, bad requests answered with errors, and edges awaited
through the pin interrupts."""

from __future__ import annotations

import pytest

from tests.boards import demo_pin
from tests.kernel.system_harness import BOARDS, System, guests  # noqa: F401  (fixture)

LED_PIN = {board: demo_pin(board, "blinky") for board in BOARDS}
GPIO_E_BAD_PIN, GPIO_E_BAD_ARGUMENT, GPIO_E_BAD_OPERATION = -100, -101, -103


@pytest.fixture(params=BOARDS)
def board(request):
    return request.param


def gpio_system(board, guests, client: str) -> tuple[System, object]:
    """The gpio server (GPIO0 at its physical address) and one client at slot 4."""
    system = System(board, guests)
    gpio0 = system.machine.peripheral("gpio0")
    base = system.machine.board.peripheral("gpio0").base
    server = system.add("gpio", priority=2, uses={"gpio0": base})
    app = system.add(client, priority=3)
    system.serve("gpio", server, clients={app: 4})
    return system, gpio0


def test_blinky_toggles_its_led_every_500_ms_of_virtual_time(board, guests):
    system, gpio0 = gpio_system(board, guests, "blinky")

    system.run(2.6)

    pin = LED_PIN[board]
    edges = [(cycle, level) for cycle, p, level in gpio0.edges if p == pin]
    assert [level for _, level in edges] == [True, False, True, False, True, False]
    hz = system.machine.clock.frequency_hz
    periods_us = [(b - a) * 1e6 / hz for (a, _), (b, _) in zip(edges, edges[1:])]
    assert all(abs(p - 500_000) < 5 for p in periods_us), periods_us
    assert edges[0][0] * 1e6 / hz < 1000   # the first toggle comes at once
    assert system.output("blinky") == [f"blinky: pin {pin} configured 0"]


def test_a_read_returns_the_level_the_host_drives_on_an_input_pin(board, guests):
    system, gpio0 = gpio_system(board, guests, "gpio_probe")
    gpio0.drive(3, True)

    system.run(0.015)        # reads at about 0 and 10 ms
    gpio0.drive(3, False)
    system.kernel.run_for(0.015)   # the read at 20 ms

    reads = [line for line in system.output("gpio_probe") if line.startswith("probe: read 3")]
    assert reads == ["probe: read 3 0 level 1", "probe: read 3 0 level 1", "probe: read 3 0 level 0"]
    assert "probe: input 3 0" in system.output("gpio_probe")


def test_an_output_pin_reads_back_what_was_written_and_drives_the_pad(board, guests):
    system, gpio0 = gpio_system(board, guests, "gpio_probe")

    system.run(0.005)

    assert "probe: output 6 0 0 0 level 1" in system.output("gpio_probe")
    assert gpio0.level(6) is True


def test_a_bad_pin_direction_edge_or_operation_is_answered_with_an_error(board, guests):
    system, _ = gpio_system(board, guests, "gpio_probe")

    system.run(0.005)

    out = system.output("gpio_probe")
    assert out[:4] == [
        f"probe: bad pin {GPIO_E_BAD_PIN} {GPIO_E_BAD_PIN} {GPIO_E_BAD_PIN} {GPIO_E_BAD_PIN}",
        f"probe: bad direction {GPIO_E_BAD_ARGUMENT}",
        f"probe: bad edge {GPIO_E_BAD_ARGUMENT}",
        f"probe: bad operation 0 {GPIO_E_BAD_OPERATION}",
    ]
    assert system.kernel.process("gpio").thread.state.value != "stopped"


def test_a_client_waiting_for_an_edge_is_answered_when_the_pin_changes(board, guests):
    system, gpio0 = gpio_system(board, guests, "gpio_probe")
    system.kernel.route_interrupt(system.kernel.process("gpio"), "gpio0", "pin5", 5)

    system.run(0.050)        # the probe now waits for a rising edge on pin 5
    assert not any("rising" in line for line in system.output("gpio_probe"))
    gpio0.drive(5, True)
    system.kernel.run_for(0.010)
    gpio0.drive(5, False)
    system.kernel.run_for(0.010)

    out = system.output("gpio_probe")
    rising = next(line for line in out if line.startswith("probe: rising"))
    falling = next(line for line in out if line.startswith("probe: falling"))
    assert rising.startswith("probe: rising 5 0 level 1 at ")
    assert falling.startswith("probe: falling 5 0 level 0 at ")
    assert 50_000 <= int(rising.split()[-2]) < 51_000
    assert 60_000 <= int(falling.split()[-2]) < 61_000


def test_blinky_keeps_blinking_when_the_gpio_server_is_restarted(board, guests):
    system, gpio0 = gpio_system(board, guests, "blinky")
    system.run(0.7)

    system.kernel.restart(system.kernel.process("gpio"))   # a new generation of the server
    system.kernel.run_for(1.5)

    pin = LED_PIN[board]
    edges = [(cycle, level) for cycle, p, level in gpio0.edges if p == pin]
    assert [level for _, level in edges] == [True, False, True, False, True]
    hz = system.machine.clock.frequency_hz
    periods_us = [(b - a) * 1e6 / hz for (a, _), (b, _) in zip(edges, edges[1:])]
    # the toggle after the restart pays for one DEAD_PEER and a new CONFIGURE
    assert all(abs(p - 500_000) < 200 for p in periods_us), periods_us
    assert system.output("blinky")[1] == "blinky: toggle -6, configuring again"
