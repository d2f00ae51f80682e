"""llama-cpp-python's OpenAI-compatible server, with llama.cpp's CPU code loaded first.

ragqa's llama.cpp build keeps its CPU code in per-CPU variant modules
(:mod:`app.llm.cpu_variant`), and ``python -m llama_cpp.server`` alone loads none ("no
backends are loaded"). This runs the same server after loading the best variant:

    python -m app.llm.llama_server --model model.gguf --host 0.0.0.0 --port 8080
"""

from __future__ import annotations


def main() -> None:
    from app.llm.cpu_variant import load_cpu_variant

    load_cpu_variant()
    from llama_cpp.server.__main__ import main as serve

    serve()


if __name__ == "__main__":
    main()
