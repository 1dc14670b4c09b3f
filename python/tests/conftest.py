"""Shared fixtures: the hmn CLI of the C build ($HMN_BIN, else build/hmn
of the repository), an OpenCL device that can build kernels (else the
OpenCL tests skip), and a kernel cache of the test session's own."""

import os
import pathlib

import pytest

import hmn

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def hmn_bin():
    path = pathlib.Path(os.environ.get("HMN_BIN", ROOT / "build" / "hmn"))
    if not path.exists():
        pytest.fail(f"the hmn CLI is not built ({path}); set HMN_BIN or build the C project")
    return str(path)


@pytest.fixture(scope="session", autouse=True)
def kernel_cache(tmp_path_factory):
    # The CLI and the package build the same kernels: one cache, so the
    # second build is a cache hit, and the user's cache is left alone.
    if "HMN_CACHE_DIR" not in os.environ:
        os.environ["HMN_CACHE_DIR"] = str(tmp_path_factory.mktemp("kernel-cache"))
    return os.environ["HMN_CACHE_DIR"]


def opencl_available():
    return any(d["compiler"] for d in hmn.devices())


@pytest.fixture(params=["ref", "opencl"])
def backend(request):
    if request.param == "opencl" and not opencl_available():
        pytest.skip("no OpenCL device that builds kernels")
    return request.param
