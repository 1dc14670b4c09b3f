"""`hmn run --record` and `hmn ckpt export` write .npy files that NumPy
reads as they are, with the values the layer has."""

import subprocess

import numpy as np

import hmn

CONFIG = """\
[shape]
n_in = 16
n_out = 4
[run]
seed = 5
[meta]
meta_window = 100
"""


def run(hmn_bin, *args):
    return subprocess.run([hmn_bin, *args], check=True, capture_output=True, text=True)


def test_record_and_export(tmp_path, hmn_bin):
    ini = tmp_path / "run.ini"
    ini.write_text(CONFIG)
    rec = tmp_path / "rec"
    with_rec, without = tmp_path / "with.ckpt", tmp_path / "without.ckpt"
    run(hmn_bin, "run", "--config", str(ini), "--steps", "450", "--backend", "ref", "--quiet",
        "--checkpoint", str(with_rec), "--record", "W,W[2:4],z,c,eta,g_mean,reward",
        "--record-every", "50", "--record-dir", str(rec))
    run(hmn_bin, "run", "--config", str(ini), "--steps", "450", "--backend", "ref", "--quiet",
        "--checkpoint", str(without))

    t = np.load(rec / "t.npy")
    assert t.dtype == np.uint64 and list(t) == list(range(0, 451, 50))
    w = np.load(rec / "W.npy")
    assert w.shape == (10, 4, 16) and w.dtype == np.float32
    assert np.array_equal(np.load(rec / "W_2_4.npy"), w[:, 2:4, :])
    assert np.load(rec / "z.npy").shape == (10, 4)
    assert np.load(rec / "eta.npy").shape == (10, 2)
    reward = np.load(rec / "reward.npy")
    assert np.isnan(reward[0]) and np.all((reward[1:] >= 0) & (reward[1:] <= 1))

    # Recording does not change the run: the last sample is the final W,
    # and the checkpoint equals the one of the run without --record.
    final = hmn.Layer.load(str(with_rec)).W
    assert np.array_equal(w[-1], final)
    assert np.array_equal(hmn.Layer.load(str(without)).W, final)

    out = tmp_path / "export"
    run(hmn_bin, "ckpt", "export", str(with_rec), str(out))
    layer = hmn.Layer.load(str(with_rec))
    for name in hmn.ARRAYS:
        arr = np.load(out / f"{name}.npy")
        assert np.array_equal(arr, layer.read(name)), name
        assert arr.dtype == layer.read(name).dtype
    assert int(np.load(out / "t.npy")) == 450
    assert tuple(np.load(out / "eta.npy")) == layer.eta
