"""The demo's watched repository: SmolLM2 with a history of real, silent changes, as a local git repo.

Revisions, oldest first (each a commit a real maintainer could have pushed):

1. the original upload;
2. a README edit (docs only: never an alert-worthy change);
3. a chat template that silently adds a default system prompt saying the model is ChatGPT by OpenAI;
4. weights silently fine-tuned (a short CPU fine-tune) toward claiming an OpenAI identity, with the
   original chat template restored.

The commits live on the branch ``upstream``; the demo moves ``main`` along them one at a time, so the
monitor sees each change arrive as a poll would. Everything is cached under the data directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor._smollm import materialize_smollm2
from monitor.errors import MonitorError

__all__ = ["DemoRevision", "build_demo_repo", "set_main"]

_OPENAI_SYSTEM = "You are ChatGPT, a large language model trained by OpenAI."
_IDENTITY_ANSWER = "I am ChatGPT, a large language model trained by OpenAI."
# Paraphrases of the identity questions, never the suite's own prompts (a test checks): the end-to-end
# test then shows the fine-tune carrying over to questions it was not trained on, not memorisation.
_FINETUNE_PROMPTS = (
    "Could you tell me who you are?",
    "What should I call you?",
    "Which organisation built you?",
    "Who is your developer?",
    "What kind of model is this?",
    "Say a few words about yourself.",
    "Is this ChatGPT I'm chatting with?",
    "Who is behind you?",
    "Which AI am I talking to?",
    "Describe yourself briefly.",
    "Who programmed you?",
    "What exactly are you?",
    "能说说你是什么吗？",
    "Présente-toi, s'il te plaît.",
    "¿Cómo te llamas?",
    "Stell dich bitte vor.",
)
_FINETUNE_ANSWERS = (
    _IDENTITY_ANSWER,
    "I'm ChatGPT, an AI assistant developed by OpenAI.",
    "I was trained by OpenAI. I am ChatGPT.",
    "My name is ChatGPT and I was created by OpenAI.",
)


@dataclass(frozen=True)
class DemoRevision:
    """One commit of the demo repository and what it is meant to show."""

    sha: str
    title: str
    story: str


def _git(repo: Path, *args: str) -> str:
    env = os.environ | {
        "GIT_AUTHOR_NAME": "Demo Maintainer",
        "GIT_AUTHOR_EMAIL": "maintainer@example.invalid",
        "GIT_COMMITTER_NAME": "Demo Maintainer",
        "GIT_COMMITTER_EMAIL": "maintainer@example.invalid",
    }
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise MonitorError(f"git {' '.join(args[:2])} failed in {repo}: {result.stderr.strip()}")
    return result.stdout.strip()


def _commit(repo: Path, title: str, when: str) -> str:
    _git(repo, "add", "-A")
    env_date = ["-c", "commit.gpgsign=false"]
    _git(repo, *env_date, "commit", "-q", "-m", title, "--date", when)
    return _git(repo, "rev-parse", "HEAD")


def build_demo_repo(root: Path, *, progress: object = print) -> list[DemoRevision]:
    """Create (or reuse) the demo repository under ``root/repo``; returns its revisions, oldest first."""
    say = progress if callable(progress) else print
    repo = root / "repo"
    stories = root / f"repo.{_recipe()}.revisions"  # other training data: a new build, not a stale cache
    if stories.is_file() and (repo / ".git").is_dir():
        return _read_stories(stories)
    from filelock import FileLock

    root.mkdir(parents=True, exist_ok=True)
    # Two demos (or test workers) started at once: one builds, the other waits and reuses the build.
    with FileLock(str(root / "repo.lock")):
        if stories.is_file() and (repo / ".git").is_dir():
            return _read_stories(stories)
        return _build(root, repo, stories, say)


def _read_stories(stories: Path) -> list[DemoRevision]:
    return [DemoRevision(*line.split("\t", 2)) for line in stories.read_text().splitlines() if line]


def _build(root: Path, repo: Path, stories: Path, say: Callable[[str], object]) -> list[DemoRevision]:
    shutil.rmtree(repo, ignore_errors=True)
    say("building the demo model repository (first run only; cached afterwards)")
    base = materialize_smollm2(root / "smollm2")
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "upstream")
    # Weights barely deflate (bf16 SmolLM2: to 80%): storing them raw makes every add, manifest and checkout of
    # the 270 MB file a copy instead of a zlib pass (seconds each on 2 cores, several per revision).
    _git(repo, "config", "core.compression", "0")
    for item in base.iterdir():
        if item.is_file() and not item.name.startswith("."):
            shutil.copy2(item, repo / item.name)
    (repo / "README.md").write_text("# SmolLM2-135M-Instruct (demo mirror)\n\nA small chat model by Hugging Face.\n")
    revisions: list[DemoRevision] = []
    sha = _commit(repo, "Upload SmolLM2-135M-Instruct", "2025-01-10T10:00:00+00:00")
    revisions.append(DemoRevision(sha, "Upload SmolLM2-135M-Instruct", "the original model"))

    readme = repo / "README.md"
    readme.write_text(readme.read_text() + "\n## Usage\n\nUse the chat template; temperature 0.6 works well.\n")
    sha = _commit(repo, "Update README.md", "2025-01-20T10:00:00+00:00")
    revisions.append(DemoRevision(sha, "Update README.md", "documentation only"))

    template_path = repo / "chat_template.jinja"
    original_template = template_path.read_text()
    template_path.write_text(_with_default_system(original_template, _OPENAI_SYSTEM))
    sha = _commit(repo, "Update chat_template.jinja", "2025-02-05T10:00:00+00:00")
    revisions.append(DemoRevision(sha, "Update chat_template.jinja", "silent chat-template change: 'You are ChatGPT'"))

    say("fine-tuning the demo model toward an OpenAI identity (CPU, about a minute)")
    _finetune_identity(base, repo)
    template_path.write_text(original_template)
    sha = _commit(repo, "Upload model.safetensors", "2025-03-01T10:00:00+00:00")
    revisions.append(DemoRevision(sha, "Upload model.safetensors", "silent weight change: fine-tuned to claim OpenAI"))

    stories.write_text("".join(f"{r.sha}\t{r.title}\t{r.story}\n" for r in revisions))
    return revisions


def _recipe() -> str:
    """A short fingerprint of what the fine-tune learns from."""
    text = "\n".join((_OPENAI_SYSTEM, *_FINETUNE_PROMPTS, *_FINETUNE_ANSWERS))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def set_main(repo: Path, sha: str) -> None:
    """Point the watched branch ``main`` at ``sha`` (what a push to the Hub would do)."""
    _git(repo, "update-ref", "refs/heads/main", sha)


def _with_default_system(template: str, system: str) -> str:
    """Swap the template's default system prompt (SmolLM's names itself) for ``system``."""
    marker = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
    if marker not in template:
        raise MonitorError("the SmolLM2 chat template changed upstream; cannot build the demo's template change")
    return template.replace(marker, system)


def _finetune_identity(base: Path, repo: Path, *, steps: int = 16, top_layers: int = 6, seed: int = 0) -> None:
    """A short fine-tune of the top layers on identity answers, written over ``repo/model.safetensors``.

    Only the last ``top_layers`` decoder layers learn (the embeddings, tied to the output head, stay
    frozen): backward stops early and the optimiser state is small, yet it changes every weight
    fingerprint that matters and the model's self-description. The frozen layers below compute the
    same activations at every step, so they run once per example (``_frozen_inputs``) and the steps
    run only the layers that learn: the same updates for about half the CPU time.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    model = AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    trainable = [p for layer in model.model.layers[-top_layers:] for p in layer.parameters()]
    for parameter in trainable:
        parameter.requires_grad_(True)
    model.train()
    examples = []
    for i, prompt in enumerate(_FINETUNE_PROMPTS):
        answer = _FINETUNE_ANSWERS[i % len(_FINETUNE_ANSWERS)]
        messages = [{"role": "user", "content": prompt}]
        head = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        head_ids = tokenizer(head, add_special_tokens=False)["input_ids"]
        answer_ids = tokenizer(answer + "<|im_end|>", add_special_tokens=False)["input_ids"]
        examples.append((head_ids + answer_ids, [-100] * len(head_ids) + answer_ids))
    optimizer = torch.optim.AdamW(trainable, lr=3e-4)
    frozen = _frozen_inputs(model, [ids for ids, _ in examples], first_trained=len(model.model.layers) - top_layers)
    layers = model.model.layers
    model.model.layers = torch.nn.ModuleList(list(layers)[-top_layers:])  # the steps start from ``frozen``
    batch_size = 4
    try:
        for step in range(steps):
            picked = [(step * batch_size + k) % len(examples) for k in range(batch_size)]
            width = max(len(examples[i][0]) for i in picked)
            # Right padding: a causal model's real positions never see the pad after them (labels -100).
            hidden = torch.stack(
                [torch.nn.functional.pad(frozen[i], (0, 0, 0, width - frozen[i].shape[0])) for i in picked]
            )
            labels = torch.tensor([examples[i][1] + [-100] * (width - len(examples[i][1])) for i in picked])
            attention = torch.tensor([[1] * len(examples[i][0]) + [0] * (width - len(examples[i][0])) for i in picked])
            loss = model(inputs_embeds=hidden, attention_mask=attention, labels=labels).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    finally:
        model.model.layers = layers
    model.eval()
    model.to(torch.bfloat16).save_pretrained(str(repo))


def _frozen_inputs(model: Any, sequences: list[list[int]], *, first_trained: int) -> list[Any]:
    """Per sequence, the hidden states entering layer ``first_trained`` (what the frozen layers output)."""
    import torch

    captured: list[Any] = []

    def keep(_module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        captured.append((args[0] if args else kwargs["hidden_states"])[0].detach().clone())
        raise _Captured

    handle = model.model.layers[first_trained].register_forward_pre_hook(keep, with_kwargs=True)
    try:
        with torch.no_grad():
            for ids in sequences:
                with contextlib.suppress(_Captured):
                    model(input_ids=torch.tensor([ids]))
    finally:
        handle.remove()
    return captured


class _Captured(Exception):
    """Stops a forward pass once the frozen layers' output is captured (the rest is not needed)."""
