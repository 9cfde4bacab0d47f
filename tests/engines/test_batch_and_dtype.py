"""What the transformers engine picks for the user: batches packed by prompt length and memory, native dtype."""

from __future__ import annotations

from pathlib import Path

from monitor.engines import available_memory_bytes, cpu_has_native_bf16, native_dtype, pack_by_length


def test_batches_are_as_large_as_the_cap_allows_when_memory_is_plenty() -> None:
    sizes = pack_by_length([30] * 100, max_tokens=48, token_bytes=1000, row_bytes=0, budget_bytes=None, cap=32)
    assert sizes == [32, 32, 32, 4]


def test_long_prompts_get_smaller_batches_than_short_ones_under_one_budget() -> None:
    lengths = [20] * 40 + [2000] * 10  # sorted by length, as the engine sorts them
    budget = 4 * (2000 + 48) * 1000  # at 1000 bytes per token: 4 long rows fit, or 120 short ones
    sizes = pack_by_length(lengths, max_tokens=48, token_bytes=1000, row_bytes=0, budget_bytes=budget, cap=64)
    assert sizes == [40, 4, 4, 2]  # every short prompt in one batch, the long ones four at a time


def test_a_prompt_too_long_for_the_budget_still_gets_a_batch_of_one() -> None:
    assert pack_by_length([10, 10**6], max_tokens=8, token_bytes=10, row_bytes=0, budget_bytes=500, cap=8) == [1, 1]


def test_native_bf16_is_read_from_the_cpu_flags(tmp_path: Path) -> None:
    avx2 = tmp_path / "avx2"
    avx2.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n\nprocessor\t: 1\nflags\t\t: fpu avx2\n")
    sapphire = tmp_path / "spr"
    sapphire.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 amx_tile amx_bf16\n")
    graviton = tmp_path / "arm"
    graviton.write_text("processor\t: 0\nFeatures\t: fp asimd sve bf16 i8mm\n")
    assert not cpu_has_native_bf16(avx2)
    assert cpu_has_native_bf16(sapphire) and cpu_has_native_bf16(graviton)
    assert not cpu_has_native_bf16(tmp_path / "missing")


def test_auto_dtype_on_this_machine_follows_its_cpu() -> None:
    flags = Path("/proc/cpuinfo").read_text()
    expected = "bfloat16" if any(f in flags.split() for f in ("avx512_bf16", "amx_bf16", "bf16")) else "float32"
    assert native_dtype("cpu") == expected
    assert native_dtype("cuda:0") == "bfloat16"


def test_free_memory_comes_from_meminfo(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24000000 kB\nMemFree:  1000 kB\nMemAvailable:   2000000 kB\n")
    assert available_memory_bytes(None, "cpu", meminfo) == 2000000 * 1024
    live = available_memory_bytes(None, "cpu")
    assert live is not None and live > 0
