"""The CLI for people: --version, help CMD, "did you mean", the config
origin in the run header, and config files that reproduce runs."""

import subprocess

import hmn


def cli(hmn_bin, *args, check=True):
    return subprocess.run([hmn_bin, *args], check=check, capture_output=True, text=True)


def test_version_and_help(hmn_bin):
    out = cli(hmn_bin, "--version").stdout
    assert out.strip() == f"hmn {hmn.__version__}"
    assert cli(hmn_bin, "help", "run").stdout == cli(hmn_bin, "run", "--help").stdout
    assert "usage: hmn ckpt" in cli(hmn_bin, "help", "ckpt").stdout


def test_did_you_mean(hmn_bin):
    bad = cli(hmn_bin, "rnu", check=False)
    assert bad.returncode == 2 and "did you mean 'run'?" in bad.stderr
    far = cli(hmn_bin, "xyzzy", check=False)
    assert far.returncode == 2 and "did you mean" not in far.stderr
    for argv, near in ((["run", "--stpes", "5"], "--steps"), (["run", "--recrod=W"], "--record"),
                       (["config", "--defualts"], "--defaults"), (["devices", "--jsno"], "--json")):
        bad = cli(hmn_bin, *argv, check=False)
        assert bad.returncode == 2 and f"did you mean '{near}'?" in bad.stderr, bad.stderr
    bad = cli(hmn_bin, "run", "--zzzzzzzz", check=False)
    assert bad.returncode == 2 and "did you mean" not in bad.stderr


def test_config_files_reproduce_runs(tmp_path, hmn_bin):
    defaults = cli(hmn_bin, "config", "--defaults").stdout
    assert "eta_local = 0.001\n" in defaults and "00000" not in defaults
    phase0 = tmp_path / "phase0.ini"
    phase0.write_text(cli(hmn_bin, "config", "--phase0").stdout)
    a, b = tmp_path / "a.ckpt", tmp_path / "b.ckpt"
    head = cli(hmn_bin, "run", "--backend", "ref", "--steps", "300", "--quiet",
               "--checkpoint", str(a)).stdout
    assert "the Phase-0 preset (hmn config --phase0)" in head
    head = cli(hmn_bin, "run", "--backend", "ref", "--steps", "300", "--quiet",
               "--config", str(phase0), "--checkpoint", str(b)).stdout
    assert str(phase0) in head
    assert a.read_bytes() == b.read_bytes()


def test_json_outputs(tmp_path, hmn_bin):
    import json
    run = json.loads(cli(hmn_bin, "run", "--backend", "ref", "--steps", "400", "--quiet",
                         "--json", "--checkpoint", str(tmp_path / "j.ckpt")).stdout)
    assert run["command"] == "run" and run["version"] == hmn.__version__
    assert run["steps"] == 400 and run["t_end"] == 400 and run["backend"] == "ref"
    assert run["config"] == "defaults+phase0" and 0.0 <= run["reward"] <= 1.0
    assert run["checkpoint"] == str(tmp_path / "j.ckpt") and run["csv"] is None
    stream = json.loads(cli(hmn_bin, "run", "--task", "stream", "--backend", "ref", "--steps",
                            "200", "--quiet", "--json").stdout)
    assert stream["reward"] is None and stream["config"] == "defaults"
    devices = json.loads(cli(hmn_bin, "devices", "--json").stdout)
    assert [d["name"] for d in devices["opencl"]] == [d["name"] for d in hmn.devices()]
    assert isinstance(devices["xrt"]["ready"], bool)


def test_ablate_needs_two_seeds_for_a_spread(hmn_bin):
    # One seed has no spread and no paired test: refused, not printed as +- 0.
    one = cli(hmn_bin, "ablate", "--seeds", "1", "--steps", "200", "--backend", "ref", "--quiet",
              "--set", "n_in=8", "--set", "meta_window=100", check=False)
    assert one.returncode == 2 and "--seeds must be at least 2" in one.stderr, one.stderr
    assert "+-" not in one.stdout and "±" not in one.stdout
    two = cli(hmn_bin, "ablate", "--seeds", "2", "--steps", "200", "--backend", "ref", "--quiet",
              "--set", "n_in=8", "--set", "meta_window=100").stdout
    assert "full rule (paper)" in two
    assert "+-" in two
