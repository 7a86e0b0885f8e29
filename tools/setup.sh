#!/usr/bin/env bash
# make setup: install what cmref needs on a fresh Debian machine. Idempotent; a few
# seconds when everything is present. Nothing here is done by hand elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PKGS=(
  wabt                    # wast2json, spectest-interp, wasm-interp: core front-end and reference speed
  libjansson-dev          # C JSON library for the interpreter's value boundary
  clang lld               # the interpreter build, sanitizers, libFuzzer, wasm32 benchmarks
  libclang-rt-14-dev      # the sanitizer and libFuzzer runtimes (make sanitize, make fuzz-smoke)
  python3-venv python3-pytest python3-pytest-xdist python3-pytest-timeout
  python3-jinja2 python3-matplotlib
  binaryen                # wasm-opt -ttf for differential fuzzing
  chromium                # headless browser: the HTML report's rendering test
)
# node and npm: the component text encoder and the node / jco engines. Any install that
# provides the commands will do (Debian's nodejs/npm when absent).
command -v node >/dev/null || DEBIAN_PKGS+=(nodejs)
command -v npm >/dev/null || DEBIAN_PKGS+=(npm)

missing=()
for p in "${DEBIAN_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Pinned node tools (package-lock.json is the pin).
if [ ! -f tools/node_modules/.package-lock.json ] || [ tools/package-lock.json -nt tools/node_modules/.package-lock.json ]; then
  echo "setup: npm ci (tools/)"
  (cd tools && npm ci --no-audit --no-fund --loglevel=error)
fi

# Python: Debian's interpreter, Debian's libraries, the harness installed editable.
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  /usr/bin/python3 -m venv --system-site-packages .venv
fi
if ! .venv/bin/python -c 'import importlib.metadata as m; m.distribution("cmref")' 2>/dev/null; then
  .venv/bin/pip install -q --no-deps --no-build-isolation -e .
fi
