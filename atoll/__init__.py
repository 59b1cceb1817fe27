"""atoll: the user-facing tools (CLI, image builder, debugger, GDB stub, test benches, guest toolchain)."""
