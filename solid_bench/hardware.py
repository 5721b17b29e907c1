"""What the machine can do, without importing torch."""

from __future__ import annotations


def cpu_has_native_bf16() -> bool:
    """True when the CPU computes bf16 natively (Linux /proc/cpuinfo flags avx512_bf16 or amx_bf16);
    elsewhere bf16 would be emulated and slower, so False."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False
