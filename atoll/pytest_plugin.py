"""The pytest plugin of Atoll's test benches: the `dut` and `board` fixtures.

Registered through the `pytest11` entry point of the package (or `-p atoll.pytest_plugin`).

    @pytest.mark.atoll(image="firmware/images/demo-{board}.toml")
    def test_the_shell_answers(dut):
        dut.expect("atoll> ")
        assert "hi" in dut.command("echo hi")

- `dut` is an `atoll.testbench.Device`, booted fresh for each test. The image comes from
  the `atoll` marker (closest wins: test, class, module `pytestmark`) or from
  `--atoll-image`; `{board}` in it is replaced by the board. A relative path is taken
  from the rootdir. Marker keywords `uarts` and `gpio` are passed to `Device`.
- `board` is the board's name. Tests that use `dut` or `board` are parametrized over
  boards: the marker's `boards=[...]`, else its `board=`, else `--atoll-board`, else
  every shipped board when the image has `{board}` in it, else the image's own board.
- When a test that used `dut` fails, the report gets a section with the device's UART
  transcript, its debug lines and the virtual time.

Each test boots its own device in its own process memory and a UART is a buffer, never
a port, so benches run in parallel under pytest-xdist without clashes.
"""

from __future__ import annotations

import pathlib
import re

import pytest

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the plugin loads with pytest; the machine and kernel only when a bench runs,
    from .testbench import Device  # so coverage (started after plugins load) sees them import

#: the shipped boards, the default parametrization of a `{board}` image
BOARDS = ("mps2-an385", "hifive1")

_DEVICE_KEY = pytest.StashKey[object]()
_TRACE_KEY = pytest.StashKey[tuple]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("atoll", "Atoll test benches")
    group.addoption("--atoll-image", default=None,
                    help="system description or packed image for `dut` ({board} is replaced by the board)")
    group.addoption("--atoll-board", default=None,
                    help="run `dut` benches on this board only (default: every board the image allows)")
    group.addoption("--atoll-trace", action="store_true", default=False,
                    help="record a Chrome/Perfetto trace of each bench and keep it when the bench fails")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "atoll(image=None, board=None, boards=None, uarts=('uart0',), gpio='gpio0', trace=False): "
        "the image and boards the `dut` fixture boots")


def _settings(node, config: pytest.Config) -> dict:
    marker = node.get_closest_marker("atoll")
    kwargs = dict(marker.kwargs) if marker is not None else {}
    if marker is not None and marker.args:
        kwargs.setdefault("image", marker.args[0])
    if kwargs.get("image") is None:
        kwargs["image"] = config.getoption("atoll_image")
    return kwargs


def _boards_for(settings: dict, config: pytest.Config) -> list:
    if settings.get("boards"):
        boards = list(settings["boards"])
        only = config.getoption("atoll_board")
        return [b for b in boards if b == only] if only else boards
    if settings.get("board"):
        return [settings["board"]]
    if config.getoption("atoll_board"):
        return [config.getoption("atoll_board")]
    image = settings.get("image")
    if image is not None and "{board}" in str(image):
        return list(BOARDS)
    return [None]


def _parametrized_by_hand(metafunc: pytest.Metafunc, name: str) -> bool:
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", "")
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",")]
        if name in names:
            return True
    return False


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    uses_bench = "dut" in metafunc.fixturenames or metafunc.definition.get_closest_marker("atoll")
    if not uses_bench or "board" not in metafunc.fixturenames or _parametrized_by_hand(metafunc, "board"):
        return
    defs = metafunc._arg2fixturedefs.get("board", ())
    if defs and getattr(defs[-1].func, "__module__", None) != __name__:   # the test's own `board`
        return
    boards = _boards_for(_settings(metafunc.definition, metafunc.config), metafunc.config)
    if boards == [None]:
        return
    metafunc.parametrize("board", boards, ids=[str(b) for b in boards], scope="function")


@pytest.fixture
def board(request: pytest.FixtureRequest) -> str | None:
    """The board this bench runs on (None when the image alone decides it)."""
    return getattr(request, "param", None)


@pytest.fixture
def dut(request: pytest.FixtureRequest, board: str | None) -> Device:
    """A device booted from the bench's image on `board`, fresh for this test."""
    settings = _settings(request.node, request.config)
    image = settings.get("image")
    if image is None:
        raise pytest.UsageError(
            f"{request.node.nodeid}: `dut` needs an image: @pytest.mark.atoll(image=...) or --atoll-image")
    image = str(image)
    if "{board}" in image:
        if board is None:
            raise pytest.UsageError(f"{request.node.nodeid}: image {image!r} needs a board")
        image = image.replace("{board}", board)
    path = pathlib.Path(image)
    if not path.is_absolute():
        path = request.config.rootpath / path
    options = {k: settings[k] for k in ("uarts", "gpio") if k in settings}
    from .testbench import Device
    from .trace import TraceRecorder

    device = Device(path, board, **options)
    request.node.stash[_DEVICE_KEY] = device
    if (settings.get("trace") or request.config.getoption("atoll_trace")) and device.kernel is not None:
        request.node.stash[_TRACE_KEY] = (TraceRecorder(device.kernel), request.node)
    return device


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    device = item.stash.get(_DEVICE_KEY, None)
    if device is None:
        return
    report.sections.append(
        (f"atoll transcript: {device.image.name} on {device.board}, {device.now:.6f} s virtual",
         device.transcript()))
    traced = item.stash.get(_TRACE_KEY, None)
    if traced is not None:
        recorder, node = traced
        folder = item.config._tmp_path_factory.mktemp("atoll-trace", numbered=True)
        path = folder / (re.sub(r"[^\w.-]+", "_", node.name) + ".json")
        recorder.write(path)
        report.sections.append(("atoll trace", f"{path} (open it in ui.perfetto.dev)"))
