"""What one run's task asks of the cluster, from its engine: the scheduler packs GPUs by these numbers."""

from __future__ import annotations

from typing import Any

from monitor.engines import EngineSpec

__all__ = ["task_resources"]


def task_resources(spec: EngineSpec, *, cpus_per_task: float = 1.0) -> dict[str, Any]:
    """Ray resources for a task running ``spec``.

    vLLM takes ``tensor_parallel_size`` GPUs (its workers share the task's node); transformers takes one
    GPU unless told ``device = "cpu"``, then only CPUs; the OpenAI engine calls a server and takes one
    CPU slot and no GPU.
    """
    options = spec.options
    if spec.kind == "vllm":
        return {"num_gpus": int(options.get("tensor_parallel_size", 1) or 1), "num_cpus": cpus_per_task}
    if spec.kind == "transformers":
        if str(options.get("device", "auto")).startswith("cpu"):
            return {"num_gpus": 0, "num_cpus": max(cpus_per_task, 1.0)}
        return {"num_gpus": 1, "num_cpus": cpus_per_task}
    return {"num_gpus": 0, "num_cpus": cpus_per_task}
