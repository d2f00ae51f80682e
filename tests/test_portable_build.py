"""llama.cpp must run on any x86-64 CPU with AVX2, whatever CPU built it (issue 12).

The installed build is read instruction by instruction: no AMX (tile instructions) may be
in it, since a CPU may advertise AMX and still fault on it; the code every CPU runs holds no
AVX-512 either, and the matrix code comes in per-CPU variants of which ragqa loads the best
this CPU can run (:mod:`app.llm.cpu_variant`). Then both models decode a >= 256-token prompt in a child process, as set-up
does, and a child that dies is reported with the fix.
"""

from __future__ import annotations

import platform
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from app.llm import smoke

LIB_DIR = Path(__import__("llama_cpp").__file__).parent / "lib"


def _disassembly(lib: Path) -> str:
    return subprocess.run(
        ["objdump", "-d", "--no-show-raw-insn", str(lib)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


_AMX = re.compile(
    r"\b(?:tilezero|tileloadd|tileloaddt1|tilestored|tdpb[su]{2}d|tdpbf16ps|ldtilecfg)\b"
)
_AVX512 = re.compile(r"%zmm\d+|%k[1-7]\b")


def _variant_libs() -> list[Path]:
    from app.llm.cpu_variant import variants

    return variants(LIB_DIR)


@pytest.mark.skipif(platform.machine() != "x86_64", reason="x86-64 instruction sets only")
def test_no_installed_llama_cpp_library_holds_an_amx_instruction() -> None:
    assert shutil.which("objdump"), "objdump (binutils) is needed to read the build"
    libs = sorted(LIB_DIR.glob("lib*.so*"))
    assert any(p.name.startswith("libggml") for p in libs), f"no ggml libraries in {LIB_DIR}"
    for lib in libs:
        amx = _AMX.findall(_disassembly(lib))
        assert not amx, f"{lib.name} uses AMX ({len(amx)} tile instructions)"


@pytest.mark.skipif(platform.machine() != "x86_64", reason="x86-64 instruction sets only")
def test_the_code_every_cpu_runs_uses_no_avx512_and_an_avx2_variant_exists() -> None:
    """libllama, libggml and libggml-base run on every CPU, so they hold no AVX-512; the
    matrix code comes in variants, and an AVX2 machine has one made for it (haswell)."""
    variant_names = {p.name for p in _variant_libs()}
    assert variant_names, "llama.cpp was not built with its CPU variants (scripts/install_llama.sh)"
    shared = [p for p in LIB_DIR.glob("lib*.so*") if p.name not in variant_names]
    for lib in shared:
        zmm = _AVX512.findall(_disassembly(lib))
        assert not zmm, f"{lib.name} uses AVX-512 ({len(zmm)} zmm/mask operands)"
    haswell = _disassembly(LIB_DIR / "libggml-cpu-haswell.so")
    assert not _AVX512.findall(haswell), "the AVX2 variant uses AVX-512"
    assert len(re.findall(r"%ymm\d+", haswell)) > 1000, "the AVX2 variant should use AVX2"


@pytest.mark.skipif(platform.machine() != "x86_64", reason="x86-64 instruction sets only")
def test_the_variant_loaded_is_the_best_for_this_cpu_and_never_amx() -> None:
    from app.llm import cpu_variant

    names = [cpu_variant.variant_name(p) for p in _variant_libs()]
    assert not set(names) & cpu_variant.AMX_VARIANTS, "set-up must delete the AMX variants"
    best = cpu_variant.best_variant(LIB_DIR)
    assert best is not None and best.score > 0
    scores = {cpu_variant.variant_name(p): cpu_variant.score(p) for p in _variant_libs()}
    assert best.score == max(scores.values())
    flags = Path("/proc/cpuinfo").read_text().split()
    if "avx512f" in flags and "avx512bw" in flags and "avx512vl" in flags:
        # the speed this build exists for: an AVX-512 CPU gets AVX-512 code
        assert _AVX512.findall(_disassembly(best.path)), f"{best.name} has no AVX-512 code"


@pytest.mark.parametrize("model", ["tiny", pytest.param("default", marks=pytest.mark.slow)])
def test_a_256_token_prompt_runs_to_a_clean_exit_in_a_child_process(model: str) -> None:
    result = smoke.check_model(smoke.resolve(model), threads=2)
    assert result.ok, result.message
    assert result.prompt_tokens >= smoke.MIN_PROMPT_TOKENS
    assert result.completion_tokens > 0


@pytest.mark.unit
def test_a_child_killed_by_an_illegal_instruction_is_reported_with_the_fix(
    tmp_path: Path,
) -> None:
    crash = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGILL)"]
    result = smoke.check_model(tmp_path / "m.gguf", command=crash)
    assert not result.ok
    assert "SIGILL" in result.message and "illegal instruction" in result.message


@pytest.mark.unit
def test_set_up_stops_with_the_fix_command_when_the_check_fails(tmp_path: Path) -> None:
    bogus = tmp_path / "broken.gguf"
    bogus.write_bytes(b"GGUF" + b"\0" * 4096)
    done = subprocess.run(
        [sys.executable, "-m", "app.llm.smoke", str(bogus)], capture_output=True, text=True
    )
    assert done.returncode == 1
    assert "MODEL CHECK FAILED" in done.stderr
    assert smoke.FIX_COMMAND in done.stderr


@pytest.mark.unit
def test_signals_are_named_plainly() -> None:
    assert "SIGSEGV" in smoke._describe_death(-signal.SIGSEGV)
    assert "status 3" in smoke._describe_death(3)


def _fake_variant(folder: Path, name: str, score: int) -> None:
    """A shared library that scores itself like a ggml CPU variant module."""
    src = folder / f"{name}.c"
    src.write_text(f"int ggml_backend_score(void) {{ return {score}; }}\n")
    subprocess.run(
        ["cc", "-shared", "-fPIC", "-o", str(folder / f"libggml-cpu-{name}.so"), str(src)],
        check=True,
    )


@pytest.mark.unit
def test_the_best_cpu_variant_is_chosen_and_an_amx_one_never_is(tmp_path: Path) -> None:
    from app.llm import cpu_variant

    assert shutil.which("cc"), "a C compiler is needed (set-up installs build-essential)"
    for name, score in [("x64", 1), ("haswell", 40), ("zen4", 0), ("sapphirerapids", 99)]:
        _fake_variant(tmp_path, name, score)
    best = cpu_variant.best_variant(tmp_path)
    # sapphirerapids (AMX) scores highest and is skipped; zen4 scores 0 (cannot run here)
    assert best is not None and (best.name, best.score) == ("haswell", 40)
    assert [cpu_variant.variant_name(p) for p in cpu_variant.variants(tmp_path)] == [
        "haswell",
        "sapphirerapids",
        "x64",
        "zen4",
    ]


@pytest.mark.unit
def test_a_build_without_variants_has_none_to_choose(tmp_path: Path) -> None:
    from app.llm import cpu_variant

    (tmp_path / "libggml-cpu.so").write_bytes(b"")  # a static build's single CPU library
    assert cpu_variant.variants(tmp_path) == []
    assert cpu_variant.best_variant(tmp_path) is None
