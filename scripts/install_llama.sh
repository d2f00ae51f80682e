#!/usr/bin/env bash
# Install llama-cpp-python, compiled so that it runs on ANY x86-64 CPU with AVX2, at the
# speed of the CPU it runs on.
#
# Why: pip's default build of llama.cpp uses -march=native (GGML_NATIVE), so the library
# uses every instruction the *build* machine advertises. A wheel built on a CPU that lists
# AMX or AVX-512 then dies with SIGILL ("Illegal instruction") on another CPU, or even on
# the same VM when the hypervisor advertises AMX it does not enable.
#
# So on x86-64 llama.cpp is built with GGML_BACKEND_DL + GGML_CPU_ALL_VARIANTS: its CPU
# code is compiled once per instruction-set level (x64, sse42, haswell = AVX2, skylakex /
# icelake / zen4 = AVX-512, ...) and ragqa loads the best one this CPU can run when it
# starts (app/llm/cpu_variant.py). The AMX variant (sapphirerapids) is deleted here and
# never loaded: AMX is exactly what a CPU may advertise and still fault on. An AVX-512
# machine gets AVX-512 prefill (about 45 % faster than AVX2 here, docs/PERFORMANCE.md
# section 8); an AVX2 laptop gets the haswell code.
#
# The wheel is built once per machine into a cache folder keyed by version AND flags
# (never pip's own cache, which is keyed by version only and would silently hand back a
# wheel from an earlier native build). RAGQA_REBUILD_LLAMA=1 forces a fresh compile;
# RAGQA_LLAMA_NATIVE=1 builds for this CPU only (opt-in, never the default).
#
# Usage: scripts/install_llama.sh [python]   (default: .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
py=${1:-.venv/bin/python}
version=0.3.36
flags="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF"
if [ "$(uname -m)" = x86_64 ]; then
  flags="$flags -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON"
fi
if [ "${RAGQA_LLAMA_NATIVE:-0}" = 1 ]; then
  # Opt-in: every instruction this CPU advertises (faster prefill where AVX-512 helps,
  # docs/PERFORMANCE.md section 8). The wheel is keyed by this CPU's flags too, and the
  # model check after set-up still proves it runs here.
  flags="-DGGML_NATIVE=ON -DLLAVA_BUILD=OFF"
  flags="$flags cpu:$(grep -m1 -E '^(flags|Features)' /proc/cpuinfo | sha1sum | cut -c1-12)"
fi
key=$(printf '%s %s' "$version" "$flags" | sha1sum | cut -c1-12)
root=${RAGQA_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ragqa/wheels}
cache="$root/llama-cpp-python-$version-portable-$key"
marker="$(dirname "$py")/../.llama-cpp-python-build"

if [ "${RAGQA_REBUILD_LLAMA:-0}" = 1 ]; then
  rm -rf "$cache" "$marker"
fi
if [ -f "$marker" ] && [ "$(cat "$marker")" = "$key" ]; then
  exit 0  # this venv already holds the portable build
fi

if ! ls "$cache"/*.whl >/dev/null 2>&1; then
  echo "ragqa: compiling llama.cpp (llama-cpp-python $version) with: ${flags% cpu:*}"
  echo "       This takes about 10-15 minutes on 2 cores (the CPU code is compiled once per"
  echo "       x86-64 level), once per machine; the wheel is kept"
  echo "       in $cache. Log: $root/build-$key.log"
  mkdir -p "$root"
  tmp=$(mktemp -d "$root/.build-$key.XXXXXX")
  if ! CMAKE_ARGS="${flags% cpu:*}" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
      "$py" -m pip wheel --no-cache-dir --no-deps --no-binary llama-cpp-python \
      "llama-cpp-python==$version" -w "$tmp" >"$root/build-$key.log" 2>&1; then
    tail -n 30 "$root/build-$key.log" >&2
    rm -rf "$tmp"
    echo "ragqa: compiling llama-cpp-python failed (log above; full log in $root/build-$key.log)." >&2
    echo "       It needs a C/C++ compiler and cmake: apt-get install build-essential cmake" >&2
    exit 1
  fi
  rm -rf "$cache"
  mv "$tmp" "$cache"
  echo "ragqa: llama.cpp compiled."
fi
wheel=$(ls "$cache"/*.whl | head -n 1)
# --force-reinstall: replace any llama-cpp-python already in the venv (a native build
# installed by hand, or an older one); then a plain install pulls its dependencies.
"$py" -m pip install -q --force-reinstall --no-deps "$wheel"
"$py" -m pip install -q "$wheel"
# The wheel puts the CPU variant modules in site-packages/bin/; ragqa loads them from
# llama_cpp/lib/, beside the libggml they plug into. AMX variants are removed (see above).
site=$("$py" -c 'import pathlib, llama_cpp; print(pathlib.Path(llama_cpp.__file__).parent.parent)')
if ls "$site"/bin/libggml-cpu-*.so >/dev/null 2>&1; then
  mv -f "$site"/bin/libggml-cpu-*.so "$site/llama_cpp/lib/"
fi
rm -f "$site"/llama_cpp/lib/libggml-cpu-sapphirerapids.so "$site"/llama_cpp/lib/libggml-cpu-graniterapids.so
echo "$key" >"$marker"
