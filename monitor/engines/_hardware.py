"""What the machine offers a local engine: native bfloat16 on the CPU, and memory free for a batch.

Two choices the transformers engine makes for the user rest on these: the dtype (a CPU without native
bf16 emulates it: on a 2-core AVX2-only machine bf16 generation took 1.3-2.5x the wall time of float32,
while on 2 cores with AMX it took 0.74x: 16.9 s against 22.8 s, SmolLM2, batch 8) and the batch size
(on CPU a larger batch amortises the weight reads; the ceiling is memory).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

__all__ = ["available_memory_bytes", "cpu_has_native_bf16", "native_dtype"]

# CPU flags (x86 in /proc/cpuinfo "flags", aarch64 in "Features") that mean bf16 matmuls run in hardware.
_NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})


@functools.lru_cache(maxsize=8)
def cpu_has_native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when the processor computes bfloat16 natively (AVX512-BF16, AMX or Arm BF16).

    Read once per process (every engine and embedder asks; the flags do not change while it runs).
    """
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features") and _NATIVE_BF16_FLAGS & set(value.split()):
            return True
    return False


def native_dtype(device: str) -> str:
    """The dtype ``auto`` means on ``device``: bfloat16 on CUDA and on CPUs with native bf16, else float32."""
    return "bfloat16" if device.startswith("cuda") or cpu_has_native_bf16() else "float32"


def available_memory_bytes(torch: Any, device: str, meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """Bytes free for activations and the KV cache on ``device``; None when the platform does not say."""
    if device.startswith("cuda"):
        free, _total = torch.cuda.mem_get_info(torch.device(device))
        return int(free)
    try:
        for line in meminfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None
