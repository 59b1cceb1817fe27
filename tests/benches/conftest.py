"""Set-up of the shipped test benches: the components they boot are built first.

The demo images name build/components/<isa>/<name>.elf and the bench images in
images/ name build/test-components/<isa>/<name>.elf; both builds are incremental
and locked, so parallel workers share them.
"""

from __future__ import annotations

import pytest

from firmware import components
from tests.conftest import ROOT

IMAGES = ROOT / "tests" / "benches" / "images"


@pytest.fixture(scope="session", autouse=True)
def built_components():
    """The demo's components, and the gpio server and probe of the button image."""
    components.build_all(ROOT / "build" / "components")
    folders = components.components()
    for isa in ("armv7m", "rv32imac"):
        components.build_component("gpio", folders["gpio"], isa, ROOT / "build" / "test-components")
        components.build_component("gpio_probe", ROOT / "tests" / "kernel" / "guest" / "gpio_probe", isa,
                                   ROOT / "build" / "test-components")
