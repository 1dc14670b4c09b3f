#!/usr/bin/env bash
# run_all.sh - the project's test command: a warnings-as-errors build and
# its tests, then the same tests again under AddressSanitizer and
# UndefinedBehaviorSanitizer; then the Python package, installed with pip
# into a virtual environment (build/venv), its pytest tests against the
# first build's CLI, and the README's tutorial; then a short libFuzzer
# smoke run of each parser (fuzz/; a few seconds each, with clang). Run
# from the repository root.
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

# The fuzz targets need clang's libFuzzer (setup.sh installs clang-14 and
# libclang-rt-14-dev); the library is rebuilt with coverage feedback, the
# Criterion tests are not built again.
cc=$(command -v clang-14 || command -v clang || true)
if [ -z "$cc" ]; then
  echo "run_all.sh: no clang: the fuzz smoke stage cannot run (bash setup.sh installs it)" >&2
  exit 1
fi
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER="$cc" -DHMN_WERROR=ON \
  -DHMN_FUZZ=ON -DHMN_TESTS=OFF
cmake --build build-fuzz -j "$jobs"
(cd build-fuzz && ctest -L fuzz --output-on-failure)
