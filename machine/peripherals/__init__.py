"""Peripheral models and the registry board files name them by.

A board file's `type = "..."` resolves here and nowhere else: adding a model means
writing its module and adding one line to `PERIPHERAL_TYPES`.
"""

from ..peripheral import Peripheral
from .an385_fpgaio import An385FpgaIo
from .an385_scc import An385Scc
from .clint import Clint
from .cmsdk_dualtimer import CmsdkDualTimer
from .cmsdk_gpio import CmsdkGpio
from .cmsdk_timer import CmsdkTimer
from .cmsdk_uart import CmsdkUart
from .cmsdk_watchdog import CmsdkWatchdog
from .nvic import Nvic
from .plic import Plic
from .register_block import RegisterBlock, RegisterDecl
from .sifive_aon import SifiveAon
from .sifive_gpio import SifiveGpio
from .sifive_prci import SifivePrci
from .sifive_pwm import SifivePwm
from .sifive_spi import SifiveSpi
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
    "cmsdk-apb-dualtimer": CmsdkDualTimer,
    "cmsdk-apb-watchdog": CmsdkWatchdog,
    "mps2-fpgaio": An385FpgaIo,
    "mps2-scc": An385Scc,
    "sifive-prci": SifivePrci,
    "sifive-aon": SifiveAon,
    "sifive-spi0": SifiveSpi,
    "sifive-pwm0": SifivePwm,
    "registers": RegisterBlock,
}

__all__ = [
    "PERIPHERAL_TYPES",
    "Clint", "CmsdkGpio", "CmsdkTimer", "CmsdkUart", "Nvic", "Plic", "SifiveGpio", "SifiveUart",
    "An385FpgaIo", "An385Scc", "CmsdkDualTimer", "CmsdkWatchdog", "RegisterBlock", "RegisterDecl",
    "SifiveAon", "SifivePrci", "SifivePwm", "SifiveSpi",
]
