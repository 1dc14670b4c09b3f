"""ctypes declarations of libhmn's public API (hmn.h).

Only the structs that cross the boundary by value or as out-parameters are
mirrored here; hmn_config stays opaque (a buffer of hmn_config_size()
bytes, read and written through its keys), so that a new config key in the
C library needs no change here.
"""

import ctypes
import ctypes.util
import os

HMN_ERROR_MESSAGE_MAX = 1024
HMN_DEVICE_TEXT_MAX = 128


class Error(ctypes.Structure):
    _fields_ = [("status", ctypes.c_int), ("message", ctypes.c_char * HMN_ERROR_MESSAGE_MAX)]


class StepInput(ctypes.Structure):
    _fields_ = [
        ("x", ctypes.c_void_p),
        ("mod", ctypes.c_void_p),
        ("ctx", ctypes.c_void_p),
        ("phase", ctypes.c_void_p),
    ]


class LearnInput(ctypes.Structure):
    _fields_ = [
        ("mod", ctypes.c_void_p),
        ("ctx", ctypes.c_void_p),
        ("phase", ctypes.c_void_p),
        ("action", ctypes.c_int32),
    ]


class StepStats(ctypes.Structure):
    _fields_ = [
        ("t", ctypes.c_uint64),
        ("applied", ctypes.c_uint64),
        ("candidates", ctypes.c_uint64),
        ("g_mean", ctypes.c_float),
    ]


class DeviceInfo(ctypes.Structure):
    _fields_ = [
        ("index", ctypes.c_int),
        ("platform", ctypes.c_char * HMN_DEVICE_TEXT_MAX),
        ("name", ctypes.c_char * HMN_DEVICE_TEXT_MAX),
        ("type", ctypes.c_int),
        ("compute_units", ctypes.c_uint32),
        ("global_mem_bytes", ctypes.c_uint64),
        ("version", ctypes.c_char * HMN_DEVICE_TEXT_MAX),
        ("driver", ctypes.c_char * HMN_DEVICE_TEXT_MAX),
        ("compiler", ctypes.c_int),
    ]


class Window(ctypes.Structure):
    _fields_ = [
        ("t", ctypes.c_uint64),
        ("steps", ctypes.c_uint64),
        ("complete", ctypes.c_int),
        ("reward", ctypes.c_double),
        ("regret", ctypes.c_double),
        ("g_mean", ctypes.c_double),
        ("eta_local", ctypes.c_float),
        ("eta_global", ctypes.c_float),
        ("meta_iterations", ctypes.c_uint64),
    ]


class Feedback(ctypes.Structure):
    _fields_ = [
        ("action", ctypes.c_int32),
        ("reward", ctypes.c_float),
        ("expected", ctypes.c_float),
        ("best", ctypes.c_float),
        ("regret", ctypes.c_float),
    ]


class KeyInfo(ctypes.Structure):
    _fields_ = [
        ("section", ctypes.c_char_p),
        ("key", ctypes.c_char_p),
        ("type", ctypes.c_char_p),
        ("range", ctypes.c_char_p),
        ("meaning", ctypes.c_char_p),
    ]


class StepTraffic(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64)
                for name in ("synapses", "inputs", "neurons", "modulation", "total")]


class Bandwidth(ctypes.Structure):
    _fields_ = [
        ("where", ctypes.c_char * HMN_DEVICE_TEXT_MAX),
        ("array_bytes", ctypes.c_uint64),
        ("copy_gbps", ctypes.c_double),
        ("triad_gbps", ctypes.c_double),
        ("best_gbps", ctypes.c_double),
    ]


class Energy(ctypes.Structure):
    _fields_ = [
        ("joules", ctypes.c_double),
        ("seconds", ctypes.c_double),
        ("watts", ctypes.c_double),
        ("samples", ctypes.c_uint64),
    ]


def _find_library():
    """The libhmn to load: $HMN_LIBRARY, else the one installed inside this
    package (a wheel), else the system's (libhmn.so.0 from cmake --install)."""
    explicit = os.environ.get("HMN_LIBRARY")
    if explicit:
        return explicit
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "libhmn.so")
    if os.path.exists(here):
        return here
    found = ctypes.util.find_library("hmn")
    if found:
        return found
    raise OSError("libhmn not found: install the package with `pip install .`, "
                  "or set HMN_LIBRARY to the path of libhmn.so")


lib = ctypes.CDLL(_find_library())
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.free.argtypes = [ctypes.c_void_p]
libc.free.restype = None

_P = ctypes.c_void_p
_E = ctypes.POINTER(Error)
_S = ctypes.c_char_p
_I = ctypes.c_int
_SZ = ctypes.c_size_t
_U64 = ctypes.c_uint64
_F = ctypes.c_float

# name: (restype, argtypes)
_SIGNATURES = {
    "hmn_status_name": (_S, [_I]),
    "hmn_status_string": (_S, [_I]),
    "hmn_config_size": (_SZ, []),
    "hmn_config_defaults": (None, [_P]),
    "hmn_config_set": (_I, [_P, _S, _S, _E]),
    "hmn_config_load_file": (_I, [_P, _S, _E]),
    "hmn_config_load_string": (_I, [_P, _S, _S, _E]),
    "hmn_config_validate": (_I, [_P, _E]),
    "hmn_config_to_string": (_I, [_P, ctypes.POINTER(_P), _E]),
    "hmn_config_key_count": (_SZ, []),
    "hmn_config_key_at": (ctypes.POINTER(KeyInfo), [_SZ]),
    "hmn_array_name": (_S, [_I]),
    "hmn_array_length": (_SZ, [_P, _I]),
    "hmn_array_type": (_I, [_I]),
    "hmn_layer_create": (_I, [_P, _S, ctypes.POINTER(_P), _E]),
    "hmn_layer_destroy": (None, [_P]),
    "hmn_layer_config": (_P, [_P]),
    "hmn_layer_backend": (_S, [_P]),
    "hmn_layer_device": (_S, [_P]),
    "hmn_layer_step_count": (_U64, [_P]),
    "hmn_layer_step": (_I, [_P, ctypes.POINTER(StepInput), _E]),
    "hmn_layer_step_many": (_I, [_P, ctypes.POINTER(StepInput), _SZ, _E]),
    "hmn_layer_forward": (_I, [_P, _P, _P, _E]),
    "hmn_layer_learn": (_I, [_P, ctypes.POINTER(LearnInput), _E]),
    "hmn_layer_has_split": (_I, [_P]),
    "hmn_layer_output": (_I, [_P, _P, _E]),
    "hmn_layer_stats": (_I, [_P, ctypes.POINTER(StepStats), _E]),
    "hmn_layer_read": (_I, [_P, _I, _P, _SZ, _E]),
    "hmn_layer_write": (_I, [_P, _I, _P, _SZ, _E]),
    "hmn_layer_host_array": (_I, [_P, _I, ctypes.POINTER(_P), _E]),
    "hmn_layer_get_eta": (_I, [_P, ctypes.POINTER(_F), ctypes.POINTER(_F), _E]),
    "hmn_layer_set_eta": (_I, [_P, _F, _F, _E]),
    "hmn_layer_snapshot_save": (_I, [_P, _E]),
    "hmn_layer_snapshot_restore": (_I, [_P, _E]),
    "hmn_layer_save": (_I, [_P, _S, _E]),
    "hmn_layer_load": (_I, [_S, _S, ctypes.POINTER(_P), _E]),
    "hmn_layer_restore": (_I, [_P, _S, _E]),
    "hmn_device_type_name": (_S, [_I]),
    "hmn_opencl_devices": (_I, [ctypes.POINTER(DeviceInfo), _SZ, ctypes.POINTER(_SZ), _E]),
    "hmn_task_names": (ctypes.POINTER(_S), []),
    "hmn_task_create": (_I, [_S, _P, ctypes.POINTER(_P), _E]),
    "hmn_task_destroy": (None, [_P]),
    "hmn_task_name": (_S, [_P]),
    "hmn_task_input": (_I, [_P, _U64, ctypes.POINTER(StepInput), _E]),
    "hmn_task_has_feedback": (_I, [_P]),
    "hmn_task_feedback": (_I, [_P, _U64, _P, ctypes.POINTER(Feedback), _E]),
    "hmn_agent_create": (_I, [_P, _S, ctypes.POINTER(_P), _E]),
    "hmn_agent_load": (_I, [_S, _S, ctypes.POINTER(_P), _E]),
    "hmn_agent_save": (_I, [_P, _S, _E]),
    "hmn_agent_destroy": (None, [_P]),
    "hmn_agent_layer": (_P, [_P]),
    "hmn_agent_task": (_P, [_P]),
    "hmn_agent_meta_active": (_I, [_P]),
    "hmn_agent_probe_steps": (_U64, [_P]),
    "hmn_agent_run": (_I, [_P, _U64, ctypes.POINTER(Window), _E]),
    "hmn_ckpt_export": (_I, [_S, _S, _E]),
    "hmn_step_traffic_of": (None, [_P, ctypes.POINTER(StepTraffic)]),
    "hmn_bandwidth_probe": (_I, [_P, _U64, _I, ctypes.POINTER(Bandwidth), _E]),
    "hmn_meter_open": (_I, [_S, _S, ctypes.POINTER(_P), _E]),
    "hmn_meter_close": (None, [_P]),
    "hmn_meter_source": (_S, [_P]),
    "hmn_meter_start": (_I, [_P, _E]),
    "hmn_meter_stop": (_I, [_P, ctypes.POINTER(Energy), _E]),
    "hmn_recorder_open": (_I, [_S, _S, _U64, _P, ctypes.POINTER(_P), _E]),
    "hmn_recorder_steps_to_next": (_U64, [_P, _U64]),
    "hmn_recorder_sample": (_I, [_P, _P, ctypes.c_double, _E]),
    "hmn_recorder_count": (_U64, [_P]),
    "hmn_recorder_close": (_I, [_P, _E]),
}

for _name, (_res, _args) in _SIGNATURES.items():
    _fn = getattr(lib, _name)
    _fn.restype = _res
    _fn.argtypes = _args

# The forward/learn split, where this libhmn has it, is bound by hmn/__init__.py
# only once its declarations are in hmn.h and mirrored above.
