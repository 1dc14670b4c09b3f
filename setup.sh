#!/usr/bin/env bash
# setup.sh - install hmn's build and test dependencies from Debian 12 packages.
# Run as root. Each package and why:
#   cmake gcc pkg-config           the build
#   g++                            the HLS C-simulation and front-end check of the FPGA kernel
#   ocl-icd-opencl-dev opencl-headers  OpenCL ICD loader and headers
#   pocl-opencl-icd                OpenCL on the CPU (development, CI)
#   clinfo                         lists OpenCL platforms when debugging devices
#   librandom123-dev               Philox4x32-10 counter-based RNG (host and kernels)
#   zlib1g-dev                     CRC32 for checkpoint sections
#   libinih-dev                    INI config parser
#   libjansson-dev                 JSON: hmn bench --json, the bitstream manifest
#   libcriterion-dev               unit tests
#   oclgrind                       OpenCL kernel checker (data races, uninitialised reads)
#   gnuplot-nox                    benchmark figures
#   libxrt-dev uuid-dev            XRT (Alveo cards): its xclbin.h checks bitstreams, its C
#                                  API runs the xrt backend; xclbin.h includes uuid/uuid.h.
#                                  Optional (cmake -DHMN_XRT=AUTO builds without it), but CI
#                                  needs it for the bitstream and no-card tests.
#   clang-14 libclang-rt-14-dev    libFuzzer (clang -fsanitize=fuzzer) for the fuzz targets of
#                                  fuzz/ and the fuzz smoke stage of tests/run_all.sh; gcc
#                                  has no coverage-guided fuzzer
#   python3 python3-venv           the Python package (pip install . in a venv; its
#                                  build backend, NumPy and pytest come from PyPI)
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: run as root (it installs Debian packages)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
  cmake make gcc g++ libc6-dev pkg-config \
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo \
  librandom123-dev zlib1g-dev libinih-dev libjansson-dev \
  libcriterion-dev oclgrind gnuplot-nox \
  libxrt-dev uuid-dev \
  clang-14 libclang-rt-14-dev \
  python3 python3-venv
