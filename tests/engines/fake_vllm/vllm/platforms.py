"""``vllm.platforms.current_platform`` as the engine uses it."""

from __future__ import annotations


class _Platform:
    def get_device_name(self, device_id: int = 0) -> str:
        return "NVIDIA H100 80GB HBM3 (fake)"


current_platform = _Platform()
