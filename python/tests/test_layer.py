"""The Python layer over libhmn: configs, layers, state arrays, steps,
checkpoints, tasks, devices and errors."""

import numpy as np
import pytest

import hmn

SMALL = dict(n_in=12, n_out=5, seed=21)


def drive(layer, steps, offset=0):
    rng = np.random.default_rng(offset)
    for _ in range(steps):
        layer.step(rng.random(layer.n_in, dtype=np.float32),
                   mod=rng.standard_normal(layer.n_mod).astype(np.float32),
                   ctx=rng.standard_normal(layer.d_ctx).astype(np.float32))


def test_config_keys_and_values(tmp_path):
    cfg = hmn.Config(tau_fast=20, eta_local=0.002, activation="tanh")
    assert cfg["tau_fast"] == 20.0
    assert cfg["eta_local"] == pytest.approx(0.002)
    assert cfg["activation"] == "tanh"
    keys = {k["key"] for k in hmn.config_keys()}
    assert {"n_in", "n_out", "tau_fast", "eta_global"} <= keys
    path = tmp_path / "layer.ini"
    cfg.save(path)
    again = hmn.Config(path)
    assert again.as_dict() == cfg.as_dict()
    assert hmn.Config.from_ini("[shape]\nn_in = 7\n")["n_in"] == 7


def test_errors_carry_hmn_messages(tmp_path):
    with pytest.raises(hmn.HmnError) as info:
        hmn.Config(n_in=0)
    assert info.value.name == "ECONFIG" and "n_in" in info.value.message
    with pytest.raises(hmn.HmnError) as info:
        hmn.Config(no_such_key=1)
    assert "no_such_key" in str(info.value)
    with pytest.raises(hmn.HmnError) as info:
        hmn.Layer(backend="nonsense")
    assert info.value.name == "EBACKEND" and "nonsense" in info.value.message
    missing = tmp_path / "missing.ckpt"
    with pytest.raises(hmn.HmnError) as info:
        hmn.Layer.load(str(missing))
    assert str(missing) in info.value.message
    # A failed update sets none of its keys.
    cfg = hmn.Config()
    with pytest.raises(hmn.HmnError):
        cfg.update({"tau_fast": 9, "n_out": -3})
    assert cfg["tau_fast"] == hmn.Config()["tau_fast"]


def test_arrays_shapes_and_round_trip(backend):
    layer = hmn.Layer(backend=backend, **SMALL)
    assert layer.W.shape == (5, 12) and layer.W.dtype == np.float32
    assert layer.read("tau").dtype == np.uint8
    assert layer.read("x_hist").shape == (layer.delay_len, 12)
    assert layer.read("kappa").shape == (layer.n_mod, layer.d_ctx)
    new_w = np.linspace(-0.5, 0.5, 60, dtype=np.float32).reshape(5, 12)
    layer.W = new_w
    assert np.array_equal(layer.W, new_w)
    with pytest.raises(ValueError):
        layer.write("W", np.zeros(7))
    with pytest.raises(hmn.HmnError) as info:
        layer.write("tau", np.full((5, 12), 250, dtype=np.uint8))
    assert "tau" in info.value.message
    out = np.empty((5, 12), dtype=np.float32)
    assert layer.read("W", out=out) is out


def test_step_changes_state_and_counts(backend):
    layer = hmn.Layer(backend=backend, **SMALL)
    w0 = layer.W
    drive(layer, 30)
    assert layer.t == 30
    assert not np.array_equal(w0, layer.W)
    z = layer.output()
    assert z.shape == (5,) and np.array_equal(z, layer.z)
    assert layer.stats()["t"] == 30
    with pytest.raises(ValueError):
        layer.step(np.zeros(3))


def test_step_many_equals_steps(backend):
    rng = np.random.default_rng(5)
    xs = rng.random((20, 12), dtype=np.float32)
    mods = rng.standard_normal((20, 3)).astype(np.float32)
    one = hmn.Layer(backend=backend, **SMALL)
    many = hmn.Layer(backend=backend, **SMALL)
    for s in range(20):
        one.step(xs[s], mod=mods[s])
    many.step_many(xs, mod=mods)
    assert many.t == 20
    for name in hmn.ARRAYS:
        assert np.array_equal(one.read(name), many.read(name)), name


def test_forward_then_learn_equals_step(backend):
    rng = np.random.default_rng(9)
    fused = hmn.Layer(backend=backend, **SMALL)
    split = hmn.Layer(backend=backend, **SMALL)
    assert split.has_split
    for s in range(15):
        x = rng.random(12, dtype=np.float32)
        mod = rng.standard_normal(3).astype(np.float32)
        fused.step(x, mod=mod)
        z = split.forward(x)
        assert z.shape == (5,)
        split.learn(mod=mod)
        assert np.array_equal(z, fused.read("z")), s
    for name in hmn.ARRAYS:
        assert np.array_equal(fused.read(name), split.read(name)), name
    with pytest.raises(hmn.HmnError):
        split.learn()  # no forward of this step


def test_ref_view_is_zero_copy():
    layer = hmn.Layer(backend="ref", **SMALL)
    view = layer.view("W")
    drive(layer, 5)
    assert np.array_equal(view, layer.W)  # it follows the steps
    view[0, 0] = 0.25
    assert layer.W[0, 0] == np.float32(0.25)  # and writes are the state
    assert not layer.view("tau").flags.writeable
    del layer
    assert view.shape == (5, 12)  # the view keeps the layer alive


def test_opencl_view_unsupported():
    from conftest import opencl_available
    if not opencl_available():
        pytest.skip("no OpenCL device that builds kernels")
    layer = hmn.Layer(backend="opencl", **SMALL)
    with pytest.raises(hmn.HmnError) as info:
        layer.view("W")
    assert info.value.name == "EUNSUPPORTED"


def test_eta_and_snapshot(backend):
    layer = hmn.Layer(backend=backend, **SMALL)
    layer.eta = (0.004, 0.02)
    assert layer.eta == (np.float32(0.004), np.float32(0.02))
    drive(layer, 5)
    layer.snapshot_save()
    w = layer.W
    drive(layer, 5, offset=1)
    assert not np.array_equal(w, layer.W)
    layer.snapshot_restore()
    assert np.array_equal(w, layer.W) and layer.t == 5


def test_checkpoint_round_trip(tmp_path, backend):
    layer = hmn.Layer(backend=backend, **SMALL)
    drive(layer, 10)
    path = str(tmp_path / "l.ckpt")
    layer.save(path)
    back = hmn.Layer.load(path, backend="ref")
    assert back.t == 10
    for name in hmn.ARRAYS:
        assert np.array_equal(layer.read(name), back.read(name)), name
    drive(layer, 3, offset=2)
    layer.restore(path)
    assert layer.t == 10 and np.array_equal(layer.W, back.W)


def test_task_and_agent(tmp_path):
    assert hmn.task_names() == ["stream", "bandit"]
    task = hmn.Task("bandit", n_in=16)
    assert task.has_feedback
    inp = task.input(0)
    assert inp["x"].shape == (16,)
    fb = task.feedback(0, np.arange(16, dtype=np.float32)[:hmn.Config()["n_out"]])
    assert fb["reward"] in (0.0, 1.0)
    agent = hmn.Agent(backend="ref", n_in=16, meta_window=50, seed=4)
    windows = agent.run(120)
    assert [w["t"] for w in windows] == [50, 100, 120]
    assert windows[0]["complete"] and not windows[-1]["complete"]
    assert agent.layer.t == 120
    path = str(tmp_path / "a.ckpt")
    agent.save(path)
    again = hmn.Agent.load(path)
    assert np.array_equal(again.layer.W, agent.layer.W)


def test_devices_listed():
    for dev in hmn.devices():
        assert {"index", "name", "platform", "type", "compiler"} <= set(dev)
        assert dev["type"] in ("CPU", "GPU", "accelerator", "other")


def test_bench_and_measurement(backend):
    result = hmn.bench(n_in=32, n_out=8, steps=48, batch=16, repeats=2, backend=backend)
    assert result["backend"] == backend and result["steps"] == 48
    assert len(result["seconds"]) == 2 and all(s > 0 for s in result["seconds"])
    assert result["sups_median"] > 0
    traffic = hmn.step_traffic(n_in=32, n_out=8)
    # 29 bytes per synapse (SPEC section 9), and the parts add up.
    assert traffic["synapses"] == 29 * 32 * 8
    assert traffic["total"] == sum(traffic[k] for k in ("synapses", "inputs", "neurons", "modulation"))
    assert result["bytes_per_step"] == traffic["total"]


def test_meter_reports_why_it_cannot_read(tmp_path, monkeypatch):
    # An empty sysfs tree: no RAPL zone, and the reason in the error.
    monkeypatch.setenv("HMN_SYSFS_ROOT", str(tmp_path))
    with pytest.raises(hmn.HmnError) as info:
        hmn.Meter("rapl")
    assert info.value.message
    result = hmn.bench(n_in=8, n_out=4, steps=16, repeats=1, meter="rapl")
    assert result["joules"] is None and result["energy_error"]
