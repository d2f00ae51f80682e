"""Pick llama.cpp's CPU code for *this* CPU at run time, never its AMX variant.

``scripts/install_llama.sh`` builds llama.cpp with ``GGML_BACKEND_DL`` and
``GGML_CPU_ALL_VARIANTS``: the matrix code is compiled several times, once per x86-64
level (``x64``, ``sse42``, ``haswell`` = AVX2, ``skylakex``/``icelake``/``zen4`` =
AVX-512, …), each a ``libggml-cpu-<variant>.so`` module. Each module scores itself
against the CPU it runs on (CPUID), and the best is loaded. llama-cpp-python 0.3.36 does
not load any (its issue #2069: "no backends are loaded"), so ragqa does it here through
ctypes, before the first model.

Why not ``ggml_backend_load_all()``: it would pick the AMX variant (``sapphirerapids``)
on a CPU that *advertises* AMX, and a VM may advertise AMX that its processes cannot
run (SIGILL in ``tilezero``: issue 12). So ragqa scores the variants itself, with their own
``ggml_backend_score``, skips every AMX variant (set-up also deletes them), and loads the
best of the rest with ``ggml_backend_load``. A build without variants (a static build,
``RAGQA_LLAMA_NATIVE=1``) has nothing to load and is left as it is.
"""

from __future__ import annotations

import ctypes
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("ragqa.llm")

# Variants whose code uses AMX tile instructions: never loaded.
AMX_VARIANTS = frozenset({"sapphirerapids", "graniterapids"})
_VARIANT = re.compile(r"^libggml-cpu-([\w-]+)\.so$")
_lock = threading.Lock()
_loaded: CpuVariant | None = None
_done = False


@dataclass(frozen=True)
class CpuVariant:
    name: str
    path: Path
    score: int


def library_dir() -> Path:
    """Where llama-cpp-python keeps its shared libraries (``LLAMA_CPP_LIB_PATH`` wins)."""
    import llama_cpp.llama_cpp as binding

    return Path(binding._base_path)


def variants(lib_dir: Path) -> list[Path]:
    """The CPU variant modules of a ``GGML_BACKEND_DL`` build; none for a static build."""
    return sorted(p for p in lib_dir.glob("libggml-cpu-*.so") if _VARIANT.match(p.name))


def variant_name(path: Path) -> str:
    m = _VARIANT.match(path.name)
    return m.group(1) if m else path.name


def score(path: Path) -> int:
    """The module's own verdict on this CPU: 0 = cannot run here, higher = better."""
    try:
        lib = ctypes.CDLL(str(path), mode=ctypes.RTLD_LOCAL)
        fn = lib.ggml_backend_score
    except (OSError, AttributeError):
        return 0
    fn.restype = ctypes.c_int
    fn.argtypes = []
    return int(fn())


def best_variant(lib_dir: Path) -> CpuVariant | None:
    """The highest-scoring variant that runs on this CPU and is not an AMX one."""
    best: CpuVariant | None = None
    for path in variants(lib_dir):
        name = variant_name(path)
        if name in AMX_VARIANTS:
            continue
        s = score(path)
        if s > 0 and (best is None or s > best.score):
            best = CpuVariant(name, path, s)
    return best


def _loaded_ggml(lib_dir: Path) -> ctypes.CDLL:
    """The ggml library llama.cpp itself uses (its registry is the one that counts).

    A wheel stores ``libggml.so``, ``libggml.so.0`` and ``libggml.so.0.x`` as three copies
    (zip has no symbolic links), and libllama links the one named by its soname,
    ``libggml.so.0``; loading another copy would fill a registry llama.cpp never reads.
    Asking for the soname returns the copy already loaded."""
    for name in ("libggml.so.0", str(lib_dir / "libggml.so.0"), str(lib_dir / "libggml.so")):
        try:
            return ctypes.CDLL(name, mode=ctypes.RTLD_GLOBAL)
        except OSError:
            continue
    raise OSError(f"llama.cpp's ggml library is not in {lib_dir}")


def load_cpu_variant() -> CpuVariant | None:
    """Load the best non-AMX CPU variant into ggml's backend registry, once per process.

    Returns the variant loaded, or None for a static build (nothing to load). Raises
    OSError when the build has variants and none can run on this CPU.
    """
    global _loaded, _done
    with _lock:
        if _done:
            return _loaded
        lib_dir = library_dir()
        if not variants(lib_dir):
            _done = True
            return None
        chosen = best_variant(lib_dir)
        if chosen is None:
            raise OSError(
                f"none of llama.cpp's CPU variants in {lib_dir} runs on this CPU "
                "(x86-64 with AVX2 is the minimum ragqa supports)"
            )
        ggml = _loaded_ggml(lib_dir)
        ggml.ggml_backend_load.restype = ctypes.c_void_p
        ggml.ggml_backend_load.argtypes = [ctypes.c_char_p]
        if not ggml.ggml_backend_load(str(chosen.path).encode()):
            raise OSError(f"llama.cpp could not load its CPU variant {chosen.path}")
        log.info("llama.cpp CPU code: %s (score %d)", chosen.name, chosen.score)
        _loaded, _done = chosen, True
        return chosen
