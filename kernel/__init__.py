"""kernel: the microkernel — objects, capabilities, syscalls, IPC, scheduling, faults.

It drives a `machine.Machine` through the machine's public names only and never
imports `atoll`.
"""
