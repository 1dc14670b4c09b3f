#!/usr/bin/env python3
"""Independent model of the HMN step (SPEC section 3) for the ref tests.

It shares no code with libhmn: Philox4x32-10 is written again here from
its published definition, and every equation again from SPEC. It runs a
3-input, 2-neuron layer with every mechanism on for a few steps from a
hand-set state and writes the results as a C header:

    python3 tests/ref_expected.py > tests/ref_expected.h

The header is committed, so the tests need no Python.
"""
import math

MASK = 0xFFFFFFFF


def philox4x32_10(ctr, key):
    c = list(ctr)
    k0, k1 = key
    for rnd in range(10):
        if rnd > 0:
            k0 = (k0 + 0x9E3779B9) & MASK
            k1 = (k1 + 0xBB67AE85) & MASK
        p0 = 0xD2511F53 * c[0]
        p1 = 0xCD9E8D57 * c[2]
        hi0, lo0 = p0 >> 32, p0 & MASK
        hi1, lo1 = p1 >> 32, p1 & MASK
        c = [hi1 ^ c[1] ^ k0, lo1, hi0 ^ c[3] ^ k1, lo0]
    return c


def draw(seed, t, index, stream):
    return philox4x32_10([t & MASK, index, stream, t >> 32], [seed & MASK, seed >> 32])


def uniform(r):
    return (r >> 8) * 2.0 ** -24


NOISE, STOCHASTIC = 0, 1

# ---- the layer ----
N_IN, N_OUT, K, DC, D = 3, 2, 2, 2, 2
SEED = 0x1234567890ABCDEF
cfg = dict(dt=1.0, noise_sigma=0.1, ctx_rate=0.2, emb_rate=0.3, bias_rate=0.05,
           target_rate=0.1, tau_fast=2.0, tau_slow=20.0, rho_fast=1.0, rho_slow=0.5,
           beta_attn=1.5, beta_global=2.0, astro_lambda=0.5, astro_decay=0.9,
           astro_gain=0.2, astro_source=1, eta_local=0.05, eta_global=0.2,
           w_min=-0.6, w_max=0.6, beta_p=40.0, theta_p=0.01)

state = dict(
    W=[0.1, -0.2, 0.3, 0.4, 0.5, -0.55],
    psi_f=[0.05, 0.0, -0.1, 0.2, 0.0, 0.1],
    psi_s=[0.1, 0.2, 0.0, -0.05, 0.3, 0.0],
    phi=[0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
    tau=[0, 1, 1, 0, 1, 0],
    x_hist=[0.5, -0.5, 1.0, 0.25, 0.75, -1.0],
    b=[0.05, -0.05],
    c=[0.2, -0.1],
    h=[0.3, 0.1, -0.2],
    z=[0.0, 0.0],
    kappa=[1.0, 0.5, -0.5, 1.0],
    w_k=[1.0, 0.8],
    sign=[1.0, -1.0],
    astro=[0.1, -0.2],
)
T0 = 5  # the hand-set state is at step 5

inputs = [
    dict(x=[1.0, 0.5, -0.5], E=[0.8, -0.3], C=[1.0, 0.5], phase=0.5),
    dict(x=[-0.2, 0.9, 0.4], E=[-0.5, 1.2], C=[0.0, 1.0], phase=1.7),
    dict(x=[0.6, -0.7, 0.1], E=[0.3, 0.4], C=[-1.0, 0.2], phase=4.0),
]


def act_tanh(a):
    return math.tanh(a)


def softmax(v):
    m = max(v)
    ex = [math.exp(s - m) for s in v]
    tot = sum(ex)
    return [e / tot for e in ex]


def step(s, t, inp):
    x = inp["x"]
    slot = t % D
    s["x_hist"][slot * N_IN:(slot + 1) * N_IN] = list(x)

    def xhat(j, i):
        tau = s["tau"][j * N_IN + i]
        sl = (t + D - tau) % D
        return s["x_hist"][sl * N_IN + i]

    # eq 1
    for j in range(N_OUT):
        r = draw(SEED, t, j, NOISE)
        u1, u2 = uniform(r[0]), uniform(r[1])
        eps = math.sqrt(-2 * math.log(1 - u1)) * math.cos(2 * math.pi * u2)
        a = sum(s["W"][j * N_IN + i] * xhat(j, i) for i in range(N_IN))
        a += s["b"][j] + cfg["noise_sigma"] * eps
        s["z"][j] = act_tanh(a)
    # contexts
    for j in range(N_OUT):
        s["c"][j] = (1 - cfg["ctx_rate"]) * s["c"][j] + cfg["ctx_rate"] * s["z"][j]
    for i in range(N_IN):
        s["h"][i] = (1 - cfg["emb_rate"]) * s["h"][i] + cfg["emb_rate"] * x[i]
    # eqs 6-7, cosine similarity
    C = inp["C"]
    r = []
    for k in range(K):
        kap = s["kappa"][k * DC:(k + 1) * DC]
        dot = sum(a * b for a, b in zip(kap, C))
        r.append(dot / (math.sqrt(sum(a * a for a in kap)) * math.sqrt(sum(b * b for b in C))))
    gamma = softmax([cfg["beta_global"] * v for v in r])
    G = sum(gamma[k] * s["w_k"][k] * inp["E"][k] for k in range(K))
    lam_f = math.exp(-cfg["dt"] / cfg["tau_fast"])
    lam_s = math.exp(-cfg["dt"] / cfg["tau_slow"])
    applied = 0
    for j in range(N_OUT):
        s["astro"][j] = cfg["astro_decay"] * s["astro"][j] + cfg["astro_gain"] * inp["E"][cfg["astro_source"]]
        g_j = s["sign"][j] * (G + cfg["astro_lambda"] * math.tanh(s["astro"][j]))
        alpha = softmax([cfg["beta_attn"] * s["h"][i] * s["c"][j] for i in range(N_IN)])
        for i in range(N_IN):
            e = j * N_IN + i
            kap = xhat(j, i) * s["z"][j]
            s["psi_f"][e] = lam_f * s["psi_f"][e] + kap
            s["psi_s"][e] = lam_s * s["psi_s"][e] + kap
            elig = cfg["rho_fast"] * s["psi_f"][e] + cfg["rho_slow"] * s["psi_s"][e]
            dw = (cfg["eta_local"] + cfg["eta_global"] * g_j) * alpha[i] * elig
            dw *= max(0.0, math.cos(inp["phase"] - s["phi"][e]))
            p = 1 / (1 + math.exp(-cfg["beta_p"] * (abs(dw) - cfg["theta_p"])))
            u = uniform(draw(SEED, t, e >> 2, STOCHASTIC)[e & 3])
            if abs(u - p) < 1e-4:
                raise SystemExit("borderline stochastic decision; pick other values")
            if not u < p:
                dw = 0.0
            if dw != 0.0:
                applied += 1
            s["W"][e] = min(cfg["w_max"], max(cfg["w_min"], s["W"][e] + dw))
    for j in range(N_OUT):
        s["b"][j] += cfg["bias_rate"] * (cfg["target_rate"] - s["c"][j])
    return applied


def c_array(name, values, ctype="float"):
    body = ", ".join(repr(float(v)) if ctype == "float" else str(v) for v in values)
    return f"static const {ctype} {name}[{len(values)}] = {{{body}}};"


def main():
    out = ["/* Generated by tests/ref_expected.py; do not edit. */",
           "#ifndef HMN_REF_EXPECTED_H", "#define HMN_REF_EXPECTED_H", "",
           f"#define EXP_N_IN {N_IN}", f"#define EXP_N_OUT {N_OUT}", f"#define EXP_K {K}",
           f"#define EXP_DC {DC}", f"#define EXP_D {D}", f"#define EXP_SEED {SEED:#x}ULL",
           f"#define EXP_T0 {T0}", f"#define EXP_STEPS {len(inputs)}", ""]
    for key, val in cfg.items():
        out.append(f"#define EXP_CFG_{key.upper()} {val!r}")
    out.append("")
    for name, vals in state.items():
        out.append(c_array(f"exp_init_{name}", vals, "unsigned char" if name == "tau" else "float"))
    for n, inp in enumerate(inputs):
        out.append(c_array(f"exp_in{n}_x", inp["x"]))
        out.append(c_array(f"exp_in{n}_E", inp["E"]))
        out.append(c_array(f"exp_in{n}_C", inp["C"]))
        out.append(f"static const float exp_in{n}_phase = {inp['phase']!r};")
    s = {k: list(v) for k, v in state.items()}
    for n, inp in enumerate(inputs):
        applied = step(s, T0 + n, inp)
        out.append(f"/* after step {n + 1}: {applied} updates applied */")
        for name in ("W", "psi_f", "psi_s", "x_hist", "b", "c", "h", "z", "astro"):
            out.append(c_array(f"exp_step{n}_{name}", s[name]))
        out.append(f"static const unsigned exp_step{n}_applied = {applied};")
    out += ["", "#endif", ""]
    print("\n".join(out))


if __name__ == "__main__":
    main()
