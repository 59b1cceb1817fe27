"""Peripheral models and the registry board files name them by.

A board file's `type = "..."` resolves here and nowhere else: adding a model means
writing its module and adding one line to `PERIPHERAL_TYPES`.
"""

from ..peripheral import Peripheral
from .clint import Clint
from .cmsdk_gpio import CmsdkGpio
from .cmsdk_timer import CmsdkTimer
from .cmsdk_uart import CmsdkUart
from .nvic import Nvic
from .plic import Plic
from .sifive_gpio import SifiveGpio
from .sifive_uart import SifiveUart

PERIPHERAL_TYPES: dict[str, type[Peripheral]] = {
    "cmsdk-apb-uart": CmsdkUart,
    "cmsdk-ahb-gpio": CmsdkGpio,
    "cmsdk-apb-timer": CmsdkTimer,
    "armv7m-nvic": Nvic,
    "sifive-uart0": SifiveUart,
    "sifive-gpio0": SifiveGpio,
    "sifive-plic": Plic,
    "sifive-clint": Clint,
}

__all__ = [
    "PERIPHERAL_TYPES",
    "Clint", "CmsdkGpio", "CmsdkTimer", "CmsdkUart", "Nvic", "Plic", "SifiveGpio", "SifiveUart",
]
