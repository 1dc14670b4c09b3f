"""hmn - layers of Hybrid Modulated Neurons from Python.

A thin layer over libhmn (the C library; see hmn.h for every call): layers
on the ``ref`` (golden model) and ``opencl`` backends, their state arrays
as NumPy arrays, checkpoints, OpenCL devices, the built-in tasks and the
closed-loop agent. Every failure raises :class:`HmnError` carrying
libhmn's message.

>>> import hmn
>>> layer = hmn.Layer(backend="ref", n_in=8, n_out=4)
>>> layer.step([0.5] * 8)
>>> layer.W.shape
(4, 8)
"""

import ctypes

import numpy as np

from . import _lib
from ._lib import lib

__version__ = "0.1.0"

__all__ = [
    "HmnError", "Config", "Layer", "Agent", "Task", "Recorder", "Meter", "devices", "task_names",
    "config_keys", "ckpt_export", "step_traffic", "bandwidth", "bench", "ARRAYS", "__version__",
]


class HmnError(Exception):
    """A libhmn call failed: ``status`` is the hmn_status code (negative),
    ``name`` its name ("ECONFIG"), ``message`` what libhmn said."""

    def __init__(self, status, message):
        self.status = int(status)
        self.name = lib.hmn_status_name(self.status).decode()
        self.message = message
        super().__init__(f"{message} [{self.name}]")


def _check(rc, err):
    if rc != 0:
        text = err.message.decode(errors="replace") or lib.hmn_status_string(rc).decode()
        raise HmnError(rc, text)


def _b(text):
    return None if text is None else str(text).encode()


def _array_names():
    names = []
    while True:
        name = lib.hmn_array_name(len(names)).decode()
        if name == "unknown":
            return names
        names.append(name)


ARRAYS = tuple(_array_names())
"""Names of the state arrays, in hmn_array order ("W", "psi_f", ...)."""

_U8 = 1  # HMN_U8 in hmn_elem_type


def _value_text(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        # repr is the shortest text that reads back as this double; the
        # library rounds it to the nearest float, as for a config file.
        return repr(value)
    return str(value)


def config_keys():
    """The config keys: a list of dicts with section, key, type, range and
    meaning (what ``hmn config --keys`` prints)."""
    out = []
    for i in range(lib.hmn_config_key_count()):
        info = lib.hmn_config_key_at(i).contents
        out.append({f: getattr(info, f).decode() for f in ("section", "key", "type", "range", "meaning")})
    return out


_KEY_TYPES = {k["key"]: k["type"] for k in config_keys()}


class Config:
    """An hmn_config: the defaults, then an INI file (``path``), then
    ``keys`` (``tau_fast=20``). Read and set keys as items
    (``cfg["tau_fast"]``); values come back typed (int, float, or the
    enum's name)."""

    def __init__(self, path=None, **keys):
        self._buf = ctypes.create_string_buffer(lib.hmn_config_size())
        lib.hmn_config_defaults(self._buf)
        if path is not None:
            err = _lib.Error()
            _check(lib.hmn_config_load_file(self._buf, _b(path), err), err)
        self.update(keys)

    @classmethod
    def _from_pointer(cls, pointer):
        cfg = cls()
        ctypes.memmove(cfg._buf, pointer, len(cfg._buf))
        return cfg

    @classmethod
    def from_ini(cls, text, origin="<string>"):
        """A config from INI text over the defaults."""
        cfg = cls()
        err = _lib.Error()
        _check(lib.hmn_config_load_string(cfg._buf, _b(text), _b(origin), err), err)
        return cfg

    def copy(self):
        return Config._from_pointer(self._buf)

    def set(self, key, value):
        err = _lib.Error()
        _check(lib.hmn_config_set(self._buf, _b(key), _b(_value_text(value)), err), err)

    def update(self, keys):
        """Set several keys at once; on an error none of them is set."""
        trial = ctypes.create_string_buffer(self._buf.raw, len(self._buf))
        err = _lib.Error()
        for key, value in keys.items():
            _check(lib.hmn_config_set(trial, _b(key), _b(_value_text(value)), err), err)
        ctypes.memmove(self._buf, trial, len(self._buf))

    def validate(self):
        """Check every rule, including those between keys."""
        err = _lib.Error()
        _check(lib.hmn_config_validate(self._buf, err), err)

    def to_ini(self):
        """The whole config as INI text (loads back unchanged)."""
        pointer = ctypes.c_void_p()
        err = _lib.Error()
        _check(lib.hmn_config_to_string(self._buf, ctypes.byref(pointer), err), err)
        pointer = pointer.value
        try:
            return ctypes.string_at(pointer).decode()
        finally:
            _lib.libc.free(pointer)

    def save(self, path):
        with open(path, "w", encoding="utf-8") as out:
            out.write(self.to_ini())

    def as_dict(self):
        values = {}
        for line in self.to_ini().splitlines():
            line = line.strip()
            if not line or line[0] in "[;#" or "=" not in line:
                continue
            key, text = (part.strip() for part in line.split("=", 1))
            values[key] = _typed(key, text)
        return values

    def __getitem__(self, key):
        values = self.as_dict()
        if key not in values:
            raise KeyError(key)
        return values[key]

    def __setitem__(self, key, value):
        self.set(key, value)

    def __repr__(self):
        return f"hmn.Config({self.as_dict()!r})"


def _typed(key, text):
    kind = _KEY_TYPES.get(key)
    if kind in ("int", "uint64"):
        return int(text)
    if kind == "float":
        return float(text)
    return text


def _as_config(config, keys):
    if isinstance(config, Config):
        cfg = config.copy()
        cfg.update(keys)
    else:
        cfg = Config(config, **keys)
    return cfg


def _f32(values, count, what):
    """A C-contiguous float32 array of `count` values (no copy when it is
    one already)."""
    arr = np.ascontiguousarray(values, dtype=np.float32)
    if arr.size != count:
        raise ValueError(f"{what}: {arr.size} values, expected {count}")
    return arr


class Layer:
    """A layer of HMN neurons on a backend ("ref", "opencl",
    "opencl:SEL", "opencl-fpga", "xrt"). ``config`` is a :class:`Config`,
    an INI file's path or None (the defaults); ``keys`` override it."""

    def __init__(self, config=None, backend="ref", **keys):
        cfg = _as_config(config, keys)
        handle = ctypes.c_void_p()
        err = _lib.Error()
        _check(lib.hmn_layer_create(cfg._buf, _b(backend), ctypes.byref(handle), err), err)
        self._init(handle, owner=None)

    def _init(self, handle, owner):
        self._h = handle
        self._owner = owner  # an Agent whose layer this is, kept alive
        cfg = Config._from_pointer(lib.hmn_layer_config(self._h))
        self._dims = {k: cfg[k] for k in ("n_in", "n_out", "n_mod", "d_ctx", "delay_len")}

    @classmethod
    def _borrow(cls, handle, owner):
        layer = cls.__new__(cls)
        layer._init(ctypes.c_void_p(handle), owner)
        return layer

    @classmethod
    def load(cls, path, backend="ref"):
        """A new layer from a checkpoint file."""
        handle = ctypes.c_void_p()
        err = _lib.Error()
        _check(lib.hmn_layer_load(_b(path), _b(backend), ctypes.byref(handle), err), err)
        layer = cls.__new__(cls)
        layer._init(handle, owner=None)
        return layer

    def close(self):
        if getattr(self, "_h", None) and self._owner is None:
            lib.hmn_layer_destroy(self._h)
        self._h = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _handle(self):
        if not self._h:
            raise ValueError("the layer is closed")
        return self._h

    # -- description -------------------------------------------------
    @property
    def config(self):
        """A copy of the layer's config."""
        return Config._from_pointer(lib.hmn_layer_config(self._handle()))

    @property
    def backend(self):
        return lib.hmn_layer_backend(self._handle()).decode()

    @property
    def device(self):
        return lib.hmn_layer_device(self._handle()).decode()

    @property
    def t(self):
        """Steps taken so far."""
        return int(lib.hmn_layer_step_count(self._handle()))

    n_in = property(lambda self: self._dims["n_in"])
    n_out = property(lambda self: self._dims["n_out"])
    n_mod = property(lambda self: self._dims["n_mod"])
    d_ctx = property(lambda self: self._dims["d_ctx"])
    delay_len = property(lambda self: self._dims["delay_len"])

    # -- stepping ----------------------------------------------------
    def _inputs(self, x, mod, ctx, phase, keep):
        d = self._dims
        xa = _f32(x, d["n_in"], "x")
        ma = _f32(np.zeros(d["n_mod"]) if mod is None else mod, d["n_mod"], "mod")
        ca = _f32(np.zeros(d["d_ctx"]) if ctx is None else ctx, d["d_ctx"], "ctx")
        keep.extend((xa, ma, ca))
        pa = None
        if phase is not None:
            pa = np.array([phase], dtype=np.float32)
            keep.append(pa)
        return _lib.StepInput(xa.ctypes.data, ma.ctypes.data, ca.ctypes.data,
                              None if pa is None else pa.ctypes.data)

    def step(self, x, mod=None, ctx=None, phase=None):
        """One step with input x (n_in values), modulators mod (n_mod;
        None: zeros), global context ctx (d_ctx; None: zeros) and the
        oscillator phase (None: the built-in oscillator)."""
        keep = []
        inp = self._inputs(x, mod, ctx, phase, keep)
        err = _lib.Error()
        _check(lib.hmn_layer_step(self._handle(), ctypes.byref(inp), err), err)

    @property
    def has_split(self):
        """True where the backend runs the step in two halves (forward, learn)."""
        return bool(lib.hmn_layer_has_split(self._handle()))

    def forward(self, x):
        """The first half of step t (docs/spec.md section 3): push x(t) and
        compute z(t), returned as a NumPy array; the state is unchanged
        until learn() completes the step."""
        keep = []
        inp = self._inputs(x, None, None, None, keep)
        z = np.empty(self._dims["n_out"], dtype=np.float32)
        err = _lib.Error()
        _check(lib.hmn_layer_forward(self._handle(), inp.x, z.ctypes.data, err), err)
        return z

    def learn(self, mod=None, ctx=None, phase=None, action=-1):
        """The second half of step t, with the modulators, context and
        phase of the outcome and the action taken from z (rule 'policy'
        needs it; -1 for none). forward() then learn() gives the bits of
        step() with the same inputs."""
        keep = []
        d = self._dims
        inp = self._inputs(np.zeros(d["n_in"]), mod, ctx, phase, keep)
        learn = _lib.LearnInput(inp.mod, inp.ctx, inp.phase, int(action))
        err = _lib.Error()
        _check(lib.hmn_layer_learn(self._handle(), ctypes.byref(learn), err), err)

    def step_many(self, x, mod=None, ctx=None, phase=None):
        """len(x) steps, row s of x (and of mod, ctx, phase where they
        have one row per step; one row is used for every step) the inputs
        of step s: the same result as that many calls of step()."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2:
            raise ValueError("step_many: x must have shape (steps, n_in)")
        count = x.shape[0]

        def rows(values):
            if values is None:
                return [None] * count
            arr = np.asarray(values, dtype=np.float32)
            if arr.ndim == 2 or (arr.ndim == 1 and phase is values):
                if len(arr) != count:
                    raise ValueError("step_many: inputs of different step counts")
                return list(arr)
            return [arr] * count

        keep = []
        mods, ctxs = rows(mod), rows(ctx)
        phases = [None] * count if phase is None else list(np.broadcast_to(
            np.asarray(phase, dtype=np.float32), (count,)))
        inputs = (_lib.StepInput * max(count, 1))()
        for s in range(count):
            inputs[s] = self._inputs(x[s], mods[s], ctxs[s], phases[s], keep)
        err = _lib.Error()
        _check(lib.hmn_layer_step_many(self._handle(), inputs, count, err), err)

    def output(self):
        """The last activation z (n_out values)."""
        z = np.empty(self.n_out, dtype=np.float32)
        err = _lib.Error()
        _check(lib.hmn_layer_output(self._handle(), z.ctypes.data, err), err)
        return z

    def stats(self):
        """Counters of the last step: t, applied, candidates, g_mean."""
        st = _lib.StepStats()
        err = _lib.Error()
        _check(lib.hmn_layer_stats(self._handle(), ctypes.byref(st), err), err)
        return {"t": st.t, "applied": st.applied, "candidates": st.candidates,
                "g_mean": st.g_mean}

    # -- state arrays ------------------------------------------------
    def _shape(self, index):
        d = self._dims
        name = ARRAYS[index]
        if name in ("W", "psi_f", "psi_s", "phi", "tau"):
            return (d["n_out"], d["n_in"])
        if name == "x_hist":
            return (d["delay_len"], d["n_in"])
        if name == "kappa":
            return (d["n_mod"], d["d_ctx"])
        cfg = lib.hmn_layer_config(self._handle())
        return (int(lib.hmn_array_length(cfg, index)),)

    def _index(self, name):
        try:
            return ARRAYS.index(name)
        except ValueError:
            raise KeyError(f"no state array '{name}' (arrays: {', '.join(ARRAYS)})") from None

    @staticmethod
    def _dtype(index):
        return np.uint8 if lib.hmn_array_type(index) == _U8 else np.float32

    def read(self, name, out=None):
        """A copy of state array `name` (W, psi_f, ... see ARRAYS), shaped
        (n_out, n_in) for the synapse arrays; into `out` when given."""
        index = self._index(name)
        shape, dtype = self._shape(index), self._dtype(index)
        if out is None:
            out = np.empty(shape, dtype=dtype)
        elif out.dtype != dtype or out.size != int(np.prod(shape)) or not out.flags.c_contiguous:
            raise ValueError(f"read: out must be a C-contiguous {np.dtype(dtype).name} array "
                             f"of {int(np.prod(shape))} elements")
        err = _lib.Error()
        _check(lib.hmn_layer_read(self._handle(), index, out.ctypes.data, out.nbytes, err), err)
        return out

    def write(self, name, values):
        """Replace state array `name` with `values` (same element count)."""
        index = self._index(name)
        shape, dtype = self._shape(index), self._dtype(index)
        arr = np.ascontiguousarray(values, dtype=dtype)
        if arr.size != int(np.prod(shape)):
            raise ValueError(f"write: '{name}' has {int(np.prod(shape))} elements, got {arr.size}")
        err = _lib.Error()
        _check(lib.hmn_layer_write(self._handle(), index, arr.ctypes.data, arr.nbytes, err), err)

    def view(self, name):
        """State array `name` as a NumPy array over the layer's own memory,
        without a copy: it changes as the layer steps, and writing to it
        changes the layer. Only where the state is in host memory (ref);
        other backends raise HmnError (EUNSUPPORTED): use read(). tau's
        view is read-only (its values must stay below delay_len). The
        view keeps the layer alive."""
        index = self._index(name)
        pointer = ctypes.c_void_p()
        err = _lib.Error()
        _check(lib.hmn_layer_host_array(self._handle(), index, ctypes.byref(pointer), err), err)
        shape, dtype = self._shape(index), self._dtype(index)
        count = int(np.prod(shape))
        ctype = ctypes.c_uint8 if dtype == np.uint8 else ctypes.c_float
        buffer = (ctype * count).from_address(pointer.value)
        buffer._hmn_layer = self  # the memory lives as long as the layer
        arr = np.ctypeslib.as_array(buffer).reshape(shape)
        if name == "tau":
            arr.flags.writeable = False
        return arr

    def __getitem__(self, name):
        return self.read(name)

    def __setitem__(self, name, values):
        self.write(name, values)

    @property
    def W(self):
        """The weights, (n_out, n_in) float32 (a copy)."""
        return self.read("W")

    @W.setter
    def W(self, values):
        self.write("W", values)

    @property
    def z(self):
        return self.read("z")

    @property
    def eta(self):
        """(eta_local, eta_global), the two meta-learned learning rates."""
        lo, gl = ctypes.c_float(), ctypes.c_float()
        err = _lib.Error()
        _check(lib.hmn_layer_get_eta(self._handle(), ctypes.byref(lo), ctypes.byref(gl), err), err)
        return (lo.value, gl.value)

    @eta.setter
    def eta(self, pair):
        err = _lib.Error()
        _check(lib.hmn_layer_set_eta(self._handle(), float(pair[0]), float(pair[1]), err), err)

    # -- snapshots and checkpoints -------------------------------------
    def snapshot_save(self):
        err = _lib.Error()
        _check(lib.hmn_layer_snapshot_save(self._handle(), err), err)

    def snapshot_restore(self):
        err = _lib.Error()
        _check(lib.hmn_layer_snapshot_restore(self._handle(), err), err)

    def save(self, path):
        """Write a checkpoint (atomically)."""
        err = _lib.Error()
        _check(lib.hmn_layer_save(self._handle(), _b(path), err), err)

    def restore(self, path):
        """Replace the state with a checkpoint's (unchanged on error)."""
        err = _lib.Error()
        _check(lib.hmn_layer_restore(self._handle(), _b(path), err), err)

    def __repr__(self):
        if not self._h:
            return "<hmn.Layer closed>"
        return (f"<hmn.Layer {self.n_in}x{self.n_out} on {self.backend} ({self.device}), "
                f"t={self.t}>")


def devices():
    """The OpenCL devices: a list of dicts (index, platform, name, type,
    compute_units, global_mem_bytes, version, driver, compiler)."""
    count = ctypes.c_size_t()
    err = _lib.Error()
    _check(lib.hmn_opencl_devices(None, 0, ctypes.byref(count), err), err)
    infos = (_lib.DeviceInfo * max(count.value, 1))()
    _check(lib.hmn_opencl_devices(infos, count.value, ctypes.byref(count), err), err)
    out = []
    for info in infos[:count.value]:
        out.append({
            "index": info.index, "platform": info.platform.decode(), "name": info.name.decode(),
            "type": lib.hmn_device_type_name(info.type).decode(),
            "compute_units": info.compute_units, "global_mem_bytes": info.global_mem_bytes,
            "version": info.version.decode(), "driver": info.driver.decode(),
            "compiler": bool(info.compiler),
        })
    return out


def task_names():
    """The built-in tasks ("stream", "bandit")."""
    names, table, i = [], lib.hmn_task_names(), 0
    while table[i] is not None:
        names.append(table[i].decode())
        i += 1
    return names


def _window(win):
    return {"t": win.t, "steps": win.steps, "complete": bool(win.complete),
            "reward": win.reward, "regret": win.regret, "g_mean": win.g_mean,
            "eta_local": win.eta_local, "eta_global": win.eta_global,
            "meta_iterations": win.meta_iterations}


class Task:
    """A built-in task (task_names()) for a config: its inputs for step t
    and, for the bandit, the action and reward for an output z."""

    def __init__(self, name, config=None, **keys):
        cfg = _as_config(config, keys)
        self._cfg = cfg
        handle = ctypes.c_void_p()
        err = _lib.Error()
        _check(lib.hmn_task_create(_b(name), cfg._buf, ctypes.byref(handle), err), err)
        self._h = handle
        self._dims = {k: cfg[k] for k in ("n_in", "n_out", "n_mod", "d_ctx")}

    def close(self):
        if getattr(self, "_h", None):
            lib.hmn_task_destroy(self._h)
        self._h = None

    def __del__(self):
        self.close()

    @property
    def name(self):
        return lib.hmn_task_name(self._h).decode()

    @property
    def has_feedback(self):
        return bool(lib.hmn_task_has_feedback(self._h))

    def input(self, t):
        """The inputs of step t: a dict of x, mod, ctx (copies) and phase
        (None: the layer's oscillator)."""
        inp = _lib.StepInput()
        err = _lib.Error()
        _check(lib.hmn_task_input(self._h, t, ctypes.byref(inp), err), err)

        def copy(pointer, count):
            if not pointer:
                return None
            return np.ctypeslib.as_array((ctypes.c_float * count).from_address(pointer)).copy()

        d = self._dims
        phase = copy(inp.phase, 1)
        return {"x": copy(inp.x, d["n_in"]), "mod": copy(inp.mod, d["n_mod"]),
                "ctx": copy(inp.ctx, d["d_ctx"]),
                "phase": None if phase is None else float(phase[0])}

    def feedback(self, t, z):
        """The action taken at step t from output z and its reward."""
        za = _f32(z, self._dims["n_out"], "z")
        fb = _lib.Feedback()
        err = _lib.Error()
        _check(lib.hmn_task_feedback(self._h, t, za.ctypes.data, ctypes.byref(fb), err), err)
        return {"action": fb.action, "reward": fb.reward, "expected": fb.expected,
                "best": fb.best, "regret": fb.regret}


class Agent:
    """The closed loop of ``hmn run``: a layer driven by its configured
    task, with the neuromodulator sources and the meta-learner of
    eta_local, eta_global."""

    def __init__(self, config=None, backend="ref", **keys):
        cfg = _as_config(config, keys)
        handle = ctypes.c_void_p()
        err = _lib.Error()
        _check(lib.hmn_agent_create(cfg._buf, _b(backend), ctypes.byref(handle), err), err)
        self._h = handle

    @classmethod
    def load(cls, path, backend="ref"):
        """An agent from a checkpoint written by save() or ``hmn run
        --checkpoint``."""
        handle = ctypes.c_void_p()
        err = _lib.Error()
        _check(lib.hmn_agent_load(_b(path), _b(backend), ctypes.byref(handle), err), err)
        agent = cls.__new__(cls)
        agent._h = handle
        return agent

    def close(self):
        if getattr(self, "_h", None):
            lib.hmn_agent_destroy(self._h)
        self._h = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def layer(self):
        """The agent's layer (valid while the agent lives)."""
        return Layer._borrow(lib.hmn_agent_layer(self._h), owner=self)

    @property
    def meta_active(self):
        return bool(lib.hmn_agent_meta_active(self._h))

    @property
    def probe_steps(self):
        return int(lib.hmn_agent_probe_steps(self._h))

    def run_window(self, max_steps):
        """Up to max_steps live steps, stopping at the end of the current
        window; returns the window (a dict)."""
        win = _lib.Window()
        err = _lib.Error()
        _check(lib.hmn_agent_run(self._h, max_steps, ctypes.byref(win), err), err)
        return _window(win)

    def run(self, steps):
        """Exactly `steps` live steps; returns the windows completed on the
        way (and the one in progress, if any, last)."""
        windows, left = [], int(steps)
        while left > 0:
            before = self.layer.t
            win = self.run_window(left)
            ran = self.layer.t - before
            if ran <= 0:
                raise HmnError(-1, "agent made no progress")
            left -= ran
            if win["complete"] or left == 0:
                windows.append(win)
        return windows

    def save(self, path):
        err = _lib.Error()
        _check(lib.hmn_agent_save(self._h, _b(path), err), err)


def ckpt_export(path, directory):
    """Write a checkpoint's state arrays as .npy files into `directory`
    (``hmn ckpt export``)."""
    err = _lib.Error()
    _check(lib.hmn_ckpt_export(_b(path), _b(directory), err), err)


class Recorder:
    """Records variables of a layer every `every` steps into .npy files in
    `directory` (see ``hmn run --record``): ``vars`` is a list or a
    comma-separated string of state arrays (``"W[0:2]"`` for rows), eta,
    g_mean, reward. Call sample() after steps; it records at multiples of
    `every` only."""

    def __init__(self, directory, vars, every, layer):
        if not isinstance(vars, str):
            vars = ",".join(vars)
        handle = ctypes.c_void_p()
        err = _lib.Error()
        _check(lib.hmn_recorder_open(_b(directory), _b(vars), every, layer._handle(),
                                     ctypes.byref(handle), err), err)
        self._h = handle
        self._layer = layer

    def steps_to_next(self):
        return int(lib.hmn_recorder_steps_to_next(self._h, self._layer.t))

    def sample(self, reward=float("nan")):
        err = _lib.Error()
        _check(lib.hmn_recorder_sample(self._h, self._layer._handle(), float(reward), err), err)

    @property
    def count(self):
        return int(lib.hmn_recorder_count(self._h))

    def close(self):
        if getattr(self, "_h", None):
            err = _lib.Error()
            handle, self._h = self._h, None
            _check(lib.hmn_recorder_close(handle, err), err)

    def __del__(self):
        try:
            self.close()
        except HmnError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# -- measurement ----------------------------------------------------------

def step_traffic(config=None, **keys):
    """Bytes one step must move for a config (hmn_step_traffic_of): a dict
    of synapses, inputs, neurons, modulation and total."""
    cfg = _as_config(config, keys)
    out = _lib.StepTraffic()
    lib.hmn_step_traffic_of(cfg._buf, ctypes.byref(out))
    return {name: getattr(out, name) for name, _ in _lib.StepTraffic._fields_}


def bandwidth(layer, array_bytes=0, repeats=3):
    """STREAM-style memory bandwidth where `layer` runs (GB/s): a dict of
    where, array_bytes, copy_gbps, triad_gbps, best_gbps."""
    out = _lib.Bandwidth()
    err = _lib.Error()
    _check(lib.hmn_bandwidth_probe(layer._handle(), array_bytes, repeats, ctypes.byref(out), err),
           err)
    return {"where": out.where.decode(), "array_bytes": out.array_bytes,
            "copy_gbps": out.copy_gbps, "triad_gbps": out.triad_gbps, "best_gbps": out.best_gbps}


class Meter:
    """A real energy meter: "rapl", "nvml[:INDEX]" or "xmc[:PCI]". Opening
    one that cannot be read raises HmnError saying why."""

    def __init__(self, spec, device=None):
        handle = ctypes.c_void_p()
        err = _lib.Error()
        _check(lib.hmn_meter_open(_b(spec), _b(device), ctypes.byref(handle), err), err)
        self._h = handle

    @property
    def source(self):
        return lib.hmn_meter_source(self._h).decode()

    def start(self):
        err = _lib.Error()
        _check(lib.hmn_meter_start(self._h, err), err)

    def stop(self):
        """End the interval: a dict of joules, seconds, watts, samples."""
        out = _lib.Energy()
        err = _lib.Error()
        _check(lib.hmn_meter_stop(self._h, ctypes.byref(out), err), err)
        return {"joules": out.joules, "seconds": out.seconds, "watts": out.watts,
                "samples": out.samples}

    def close(self):
        if getattr(self, "_h", None):
            lib.hmn_meter_close(self._h)
        self._h = None

    def __del__(self):
        self.close()


def bench(n_in=256, n_out=256, steps=256, backend="ref", batch=16, repeats=3, meter=None,
          seed=1, **keys):
    """Synaptic updates per second of a layer (SPEC section 9): `repeats`
    timed passes of `steps` steps on random inputs, `batch` steps to a
    call (step_many), after one untimed pass that builds and warms up.
    SUPS = n_in * n_out * steps / seconds. With `meter` (a spec such as
    "rapl"), energy per pass from that meter; if it cannot be read, energy
    is None and `energy_error` says why. Returns a dict. (The CLI's
    `hmn bench` adds the roofline and a peer; timings measured on a busy
    machine say little.)"""
    import statistics
    import time

    layer = Layer(backend=backend, n_in=n_in, n_out=n_out, seed=seed, **keys)
    rng = np.random.default_rng(seed)
    xs = rng.random((steps, n_in), dtype=np.float32)
    mods = rng.standard_normal((steps, layer.n_mod)).astype(np.float32)
    batch = max(1, min(int(batch), steps))

    def one_pass():
        for start in range(0, steps, batch):
            layer.step_many(xs[start:start + batch], mod=mods[start:start + batch])
        layer.output()  # waits for the device

    m, energy_error = None, None
    if meter is not None:
        try:
            m = Meter(meter, device=layer.device)
        except HmnError as e:
            energy_error = e.message
    one_pass()
    seconds, joules = [], []
    for _ in range(int(repeats)):
        if m is not None:
            m.start()
        t0 = time.perf_counter()
        one_pass()
        seconds.append(time.perf_counter() - t0)
        if m is not None:
            joules.append(m.stop()["joules"])
    if m is not None:
        m.close()
    median = statistics.median(seconds)
    sups = [n_in * n_out * steps / s for s in seconds]
    return {
        "backend": layer.backend, "device": layer.device, "n_in": n_in, "n_out": n_out,
        "steps": steps, "batch": batch, "repeats": int(repeats), "seconds": seconds,
        "sups_median": n_in * n_out * steps / median, "sups": sups,
        "bytes_per_step": step_traffic(layer.config)["total"],
        "joules": joules if m is not None else None,
        "sups_per_watt": (statistics.median(n_in * n_out * steps / j for j in joules)
                          if joules and all(j > 0 for j in joules) else None),
        "energy_error": energy_error,
    }
