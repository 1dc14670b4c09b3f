#!/usr/bin/env python3
"""peer_torch.py - the HMN step written in PyTorch the way a user would write it
(whole-tensor operations, float32, CPU), timed like `hmn bench`, so that hmn's
synaptic updates per second can be set against it on the same machine.

The step follows SPEC section 3 and host/src/ref.c equation by equation, with
every mechanism on as in `hmn bench` (delays, softmax local attention, cosine
global attention, astrocytes, inhibitory neurons, phase gate, stochastic
application). Random numbers come from torch's generator, not Philox: the
peer does the same work, not the same bits.

    python3 scripts/peer_torch.py                    # the default sizes, a table
    python3 scripts/peer_torch.py --size 1024x1024 --json

Exit status 3 when torch is not installed (pip install torch).
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

try:
    import torch
except ImportError:
    torch = None

# hmn bench's configuration: `hmn config --defaults` with astro_lambda 0.1 and
# inhibitory_fraction 0.2 (every mechanism doing work).
PARAMS = dict(
    n_mod=3, d_ctx=4, delay_len=4, dt=1.0, noise_sigma=0.01, ctx_rate=0.05, emb_rate=0.05,
    bias_rate=0.001, target_rate=0.1, inhibitory_fraction=0.2, tau_fast=5.0, tau_slow=50.0,
    rho_fast=1.0, rho_slow=1.0, beta_attn=1.0, beta_global=1.0, astro_lambda=0.1,
    astro_decay=0.9, astro_gain=0.1, astro_source=1, eta_local=0.001, eta_global=0.01,
    w_min=-1.0, w_max=1.0, w_init=0.1, phase0=0.0, osc_freq=0.1, beta_p=1000.0, theta_p=0.0005,
)
N_INPUTS = 8  # distinct input sets the steps cycle through, as in hmn bench


class HMNLayer:
    """One HMN layer; the state of SPEC section 2 as float32 tensors."""

    def __init__(self, n_in, n_out, p, gen):
        self.p = p
        self.n_in, self.n_out = n_in, n_out
        f32 = torch.float32
        d, k = p["delay_len"], p["n_mod"]
        self.w = (torch.rand(n_out, n_in, generator=gen) * 2 - 1) * p["w_init"]
        self.psi_f = torch.zeros(n_out, n_in)
        self.psi_s = torch.zeros(n_out, n_in)
        self.phi = torch.rand(n_out, n_in, generator=gen) * (2 * math.pi)
        self.tau = torch.randint(0, d, (n_out, n_in), generator=gen)
        self.x_hist = torch.zeros(d, n_in)
        self.b = torch.zeros(n_out)
        self.c = torch.zeros(n_out)
        self.h = torch.zeros(n_in)
        self.z = torch.zeros(n_out)
        self.kappa = torch.rand(k, p["d_ctx"], generator=gen) * 2 - 1
        self.w_k = torch.ones(k)
        self.sign = torch.where(torch.rand(n_out, generator=gen) < p["inhibitory_fraction"],
                                -1.0, 1.0).to(f32)
        self.astro = torch.zeros(n_out)
        self.lam_f = math.exp(-p["dt"] / p["tau_fast"])
        self.lam_s = math.exp(-p["dt"] / p["tau_slow"])
        self.t = 0
        self.gen = gen

    def step(self, x, e, ctx):
        p, t = self.p, self.t
        d = p["delay_len"]
        # 1. push x(t); xhat_ji = x_i(t - tau_ji)
        self.x_hist[t % d] = x
        xhat = torch.gather(self.x_hist, 0, torch.remainder(t - self.tau, d))
        # 2. a_j = sum_i w_ji xhat_ji + b_j + sigma eps_j; z = tanh(a)
        noise = p["noise_sigma"] * torch.randn(self.n_out, generator=self.gen)
        self.z = torch.tanh((self.w * xhat).sum(dim=1) + self.b + noise)
        # 3. contexts
        self.c = (1 - p["ctx_rate"]) * self.c + p["ctx_rate"] * self.z
        self.h = (1 - p["emb_rate"]) * self.h + p["emb_rate"] * x
        # 4. composite trace, Hebbian kappa_ji = xhat_ji z_j
        hebb = xhat * self.z[:, None]
        self.psi_f.mul_(self.lam_f).add_(hebb)
        self.psi_s.mul_(self.lam_s).add_(hebb)
        elig = p["rho_fast"] * self.psi_f + p["rho_slow"] * self.psi_s
        # 5. local attention: softmax over i of beta h_i c_j
        alpha = torch.softmax(p["beta_attn"] * self.c[:, None] * self.h[None, :], dim=1)
        # 6. global modulation (cosine similarity), astrocytes, signs
        r = torch.nn.functional.cosine_similarity(self.kappa, ctx[None, :], dim=1, eps=1e-30)
        gamma = torch.softmax(p["beta_global"] * r, dim=0)
        g = (gamma * self.w_k * e).sum()
        self.astro = p["astro_decay"] * self.astro + p["astro_gain"] * e[p["astro_source"]]
        g_j = self.sign * (g + p["astro_lambda"] * torch.tanh(self.astro))
        # 7. dw* = (eta_local + eta_global G_j) alpha e
        dw = (p["eta_local"] + p["eta_global"] * g_j)[:, None] * (alpha * elig)
        # 8. phase gate max(0, cos(Phi - phi))
        phase = p["phase0"] + 2 * math.pi * p["osc_freq"] * t * p["dt"]
        dw = dw * torch.clamp(torch.cos(phase - self.phi), min=0.0)
        # 9. stochastic application with p = sigmoid(beta_p (|dw| - theta_p))
        prob = torch.sigmoid(p["beta_p"] * (dw.abs() - p["theta_p"]))
        dw = torch.where(torch.rand(dw.shape, generator=self.gen) < prob, dw, 0.0)
        # 10. weights, clamped
        self.w = torch.clamp(self.w + dw, p["w_min"], p["w_max"])
        # 11. bias homeostasis; 12. t + 1
        self.b = self.b + p["bias_rate"] * (p["target_rate"] - self.c)
        self.t = t + 1


def make_inputs(n_in, p, gen):
    """hmn's stream task in spirit: 4 prototypes plus noise, E in [-1, 1], a
    one-hot context."""
    protos = torch.rand(4, n_in, generator=gen)
    out = []
    for k in range(N_INPUTS):
        x = protos[k % 4] + (torch.rand(n_in, generator=gen) * 0.2 - 0.1)
        e = torch.rand(p["n_mod"], generator=gen) * 2 - 1
        ctx = torch.zeros(p["d_ctx"])
        ctx[(k % 4) % p["d_ctx"]] = 1.0
        out.append((x, e, ctx))
    return out


def bench_size(n_in, n_out, args):
    gen = torch.Generator().manual_seed(1)
    layer = HMNLayer(n_in, n_out, PARAMS, gen)
    inputs = make_inputs(n_in, PARAMS, gen)

    def run(steps):
        for _ in range(steps):
            layer.step(*inputs[layer.t % N_INPUTS])

    run(args.warmup)
    steps = args.steps
    if steps == 0:  # double until a run lasts a fifth of the target, as hmn bench
        k = 1
        while True:
            t0 = time.perf_counter()
            run(k)
            dt = time.perf_counter() - t0
            if dt >= 0.2 * args.seconds or k >= 1 << 20:
                break
            k *= 2
        steps = max(1, math.ceil(args.seconds / (dt / k)))
    per_step = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        run(steps)
        per_step.append((time.perf_counter() - t0) / steps)
    median = statistics.median(per_step)
    sups = sorted(n_in * n_out / s for s in per_step)
    return {
        "backend": "torch",
        "device": "cpu, %d threads" % torch.get_num_threads(),
        "torch_version": torch.__version__,
        "n_in": n_in,
        "n_out": n_out,
        "synapses": n_in * n_out,
        "steps": steps,
        "repeats": args.repeats,
        "warmup_steps": args.warmup,
        "sups_median": n_in * n_out / median,
        "sups_min": sups[0],
        "sups_max": sups[-1],
        "seconds_per_step_median": median,
    }


def parse_size(text):
    a, _, b = text.lower().partition("x")
    n_in, n_out = int(a), int(b or a)
    if n_in < 1 or n_out < 1:
        raise argparse.ArgumentTypeError("size must be NxM with N, M >= 1")
    return n_in, n_out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=parse_size, action="append",
                    help="N_in x N_out, or N for N x N; repeatable "
                         "(default 256x256 1024x1024 2048x2048 4096x4096)")
    ap.add_argument("--steps", type=int, default=0, help="steps per repeat (default: automatic)")
    ap.add_argument("--seconds", type=float, default=0.5,
                    help="target seconds per repeat for automatic steps (default 0.5)")
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats (default 5)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    ap.add_argument("--threads", default="auto,1",
                    help="torch thread counts to try at each size, comma-separated; 'auto' is "
                         "torch's own choice (one per core). The fastest is reported, so the "
                         "peer gets its best setting (default: auto,1; on a busy machine one "
                         "thread can beat two that wait for each other)")
    ap.add_argument("--json", action="store_true", help="print a JSON array like hmn bench --json")
    args = ap.parse_args()
    if torch is None:
        print("peer_torch.py: PyTorch is not installed, so there is no peer to compare with.\n"
              "Install it with `pip install torch` (the CPU part is all this script uses).",
              file=sys.stderr)
        return 3
    auto_threads = torch.get_num_threads()
    try:
        threads = [auto_threads if t.strip() == "auto" else int(t) for t in args.threads.split(",")]
        if not threads or min(threads) < 1:
            raise ValueError
    except ValueError:
        ap.error("--threads takes a comma-separated list of 'auto' and positive integers")
    sizes = args.size or [(256, 256), (1024, 1024), (2048, 2048), (4096, 4096)]
    results = []
    with torch.inference_mode():
        for n_in, n_out in sizes:
            best = None
            for t in dict.fromkeys(threads):  # each count once, in order
                torch.set_num_threads(t)
                r = bench_size(n_in, n_out, args)
                print("peer_torch.py: %dx%d, %d threads: %d repeats of %d steps, %.3g SUPS"
                      % (n_in, n_out, t, r["repeats"], r["steps"], r["sups_median"]),
                      file=sys.stderr)
                if best is None or r["sups_median"] > best["sups_median"]:
                    best = r
            results.append(best)
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()
    else:
        print("PyTorch peer (torch %s on the CPU), full HMN step, float32" % torch.__version__)
        print("  %-11s %10s %9s  %s" % ("size", "SUPS", "ms/step", "best of threads " + args.threads))
        for r in results:
            print("  %-11s %10.3g %9.3f  %s" % ("%dx%d" % (r["n_in"], r["n_out"]), r["sups_median"],
                                                 1e3 * r["seconds_per_step_median"], r["device"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
