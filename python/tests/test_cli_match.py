"""The package and the CLI run the same thing: `hmn run` with a config
and a checkpoint, and hmn.Agent of that config stepped as far, leave W
with the same bits, on ref and on opencl."""

import subprocess

import numpy as np

import hmn

CONFIG = """\
[shape]
n_in = 16
n_out = 4
[run]
seed = 11
[meta]
meta_window = 100
"""


def test_python_w_matches_cli_checkpoint(tmp_path, backend, hmn_bin):
    ini = tmp_path / "run.ini"
    ini.write_text(CONFIG)
    ckpt = tmp_path / "cli.ckpt"
    subprocess.run([hmn_bin, "run", "--config", str(ini), "--steps", "250", "--backend", backend,
                    "--checkpoint", str(ckpt), "--quiet"], check=True, capture_output=True)

    agent = hmn.Agent(str(ini), backend=backend)
    agent.run(250)
    w_python = agent.layer.W

    # The checkpoint read by hmn ckpt export and NumPy, not by the package.
    subprocess.run([hmn_bin, "ckpt", "export", str(ckpt), str(tmp_path / "export")], check=True)
    w_cli = np.load(tmp_path / "export" / "W.npy")
    assert w_python.dtype == np.float32 and w_python.shape == (4, 16)
    # Bit for bit, not approximately.
    assert np.array_equal(w_python.view(np.uint32), w_cli.view(np.uint32))
    assert agent.layer.t == 250
