#!/usr/bin/env bash
# run_all.sh - the project's test command: a warnings-as-errors build and
# its tests, then the same tests again under AddressSanitizer and
# UndefinedBehaviorSanitizer; then the Python package, installed with pip
# into a virtual environment (build/venv), and its pytest tests against the
# first build's CLI. Run from the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHMN_WERROR=ON
cmake --build build -j "$jobs"
(cd build && ctest --output-on-failure)

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DHMN_WERROR=ON -DHMN_SANITIZE=ON
cmake --build build-asan -j "$jobs"
(cd build-asan && ctest --output-on-failure)

# The Python package: `pip install .` as a user does, then its tests.
python3 -m venv build/venv
build/venv/bin/pip install --quiet --upgrade pip
build/venv/bin/pip install --quiet numpy pytest
build/venv/bin/pip install --quiet .
HMN_BIN="$PWD/build/hmn" HMN_CACHE_DIR="$PWD/build/kernel-cache" \
  build/venv/bin/python -m pytest -q python/tests

# The README's tutorial, every block as written, in a scratch copy.
bash tests/readme_tutorial.sh
