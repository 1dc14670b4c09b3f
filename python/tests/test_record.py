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


def test_recorder_from_python(tmp_path):
    layer = hmn.Layer(backend="ref", n_in=8, n_out=3, seed=2)
    rng = np.random.default_rng(0)
    with hmn.Recorder(tmp_path / "r", ["W", "psi_f[0:1]", "eta"], 4, layer) as rec:
        rec.sample()
        for _ in range(12):
            layer.step(rng.random(8, dtype=np.float32))
            rec.sample()
        assert rec.count == 4
    w = np.load(tmp_path / "r" / "W.npy")
    assert w.shape == (4, 3, 8)
    assert np.array_equal(w[-1], layer.W)
    assert np.array_equal(np.load(tmp_path / "r" / "psi_f_0_1.npy")[-1], layer.read("psi_f")[0:1])
    with np.testing.assert_raises(hmn.HmnError):
        hmn.Recorder(tmp_path / "r2", "nonsense", 4, layer)
    layer.save(str(tmp_path / "l.ckpt"))
    hmn.ckpt_export(str(tmp_path / "l.ckpt"), str(tmp_path / "x"))
    assert np.array_equal(np.load(tmp_path / "x" / "W.npy"), layer.W)


def is_png(path):
    data = path.read_bytes()
    return data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000


def test_plots(tmp_path, hmn_bin):
    ckpt = tmp_path / "p.ckpt"
    for task in ("bandit", "stream"):
        png = tmp_path / f"{task}.png"
        out = run(hmn_bin, "run", "--task", task, "--backend", "ref", "--steps", "600", "--quiet",
                  "--plot", str(png), "--checkpoint", str(ckpt)).stdout
        assert is_png(png) and str(png) in out
    heat = tmp_path / "w.png"
    run(hmn_bin, "ckpt", "plot", str(ckpt), str(heat))
    assert is_png(heat)
    # No completed window: an error, not an empty figure.
    bad = subprocess.run([hmn_bin, "run", "--backend", "ref", "--steps", "10", "--quiet", "--plot",
                          str(tmp_path / "none.png")], capture_output=True, text=True)
    assert bad.returncode == 1 and "no window" in bad.stderr
