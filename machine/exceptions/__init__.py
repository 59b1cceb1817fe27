"""Guest exception models: what a privileged bare-metal program sees when it traps or is
interrupted (machine/exceptions/riscv.py for RISC-V machine mode). The kernel's path does
not use them: components trap to the Python kernel."""
