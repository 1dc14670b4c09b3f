/*
 * hmn_iface.h - the interface between the host and every kernel path, as
 * tables that both sides expand (X-macros, like the config key table in
 * host/src/core/config.c). Nothing here is written twice: the layer's
 * parameter record (read by the NDRange and the FPGA kernel alike, and
 * written by the host), the per-step record, their indices, readers and
 * writers, and the FPGA parameter names are generated from these lines;
 * the host checks at compile time that its public enums agree with them.
 *
 * Plain C preprocessor only, so that OpenCL C, C and C++ (HLS) include it.
 */
#ifndef HMN_IFACE_H
#define HMN_IFACE_H

/* ---- mode values and Philox stream ids ----
 *
 * X(NAME, value), NAME as the public header hmn.h spells it. Kernel code
 * uses these names; where hmn.h is already included (host code, the HLS
 * C-simulation) its enums are used and checked against the numbers here
 * (host/src/internal.h). Host files that include both include hmn.h
 * first. */
#define HMN_IFACE_MODES(X) \
  X(HMN_ACT_RELU, 0)       \
  X(HMN_ACT_SIGMOID, 1)    \
  X(HMN_ACT_TANH, 2)       \
  X(HMN_ACT_LINEAR, 3)     \
  X(HMN_ATTN_SOFTMAX, 0)   \
  X(HMN_ATTN_SOFTMAX_N, 1) \
  X(HMN_ATTN_OFF, 2)       \
  X(HMN_SIM_COSINE, 0)     \
  X(HMN_SIM_DOT, 1)        \
  X(HMN_STREAM_NOISE, 0)   \
  X(HMN_STREAM_STOCHASTIC, 1) \
  X(HMN_RULE_HEBBIAN, 0)   \
  X(HMN_RULE_POLICY, 1)    \
  X(HMN_RULE_STDP, 2)      \
  X(HMN_RULE_TRIPLET, 3)   \
  X(HMN_RULE_BCM, 4)       \
  X(HMN_PAIRING_ALL, 0)    \
  X(HMN_PAIRING_NEAREST, 1)

#ifndef HMN_H
#define HMN__IFACE_ENUMERATOR(name, value) name = value,
enum { HMN_IFACE_MODES(HMN__IFACE_ENUMERATOR) HMN__IFACE_MODES_END };
#undef HMN__IFACE_ENUMERATOR
#endif

/* ---- the layer's parameter record ----
 *
 * X(NAME, field, KIND, source): one 32-bit word per line, in this order,
 * of the record that every device kernel reads its layer from (a buffer
 * written when the layer or its config changes, never per step).
 *   NAME    the word's index is HMN_P_NAME
 *   field   the member of hmnk_layer the kernels read (hmnk_read_layer)
 *   KIND    U32 or I32 (stored as they are) or F32 (stored as its bits)
 *   source  what the host stores, as an expression of `cfg` (a const
 *           hmn_config *); expanded by the host only (precompute.c)
 * The order is the FPGA bitstreams' ABI: a new line goes at the end, and
 * HMN_FPGA_ABI (hmn_fpga_params.h) changes with any change here. The
 * shape words serve the FPGA kernel, which is built before the shape is
 * known; the NDRange kernel is built for its shape and ignores them. */
#define HMN_IFACE_LAYER(X)                                                            \
  X(N_IN, n_in, U32, cfg->n_in)                                                       \
  X(N_OUT, n_out, U32, cfg->n_out)                                                    \
  X(N_MOD, n_mod, U32, cfg->n_mod)                                                    \
  X(D_CTX, d_ctx, U32, cfg->d_ctx)                                                    \
  X(DELAY, delay, U32, cfg->delay_len)                                                \
  X(SEED_LO, seed_lo, U32, cfg->seed)                                                 \
  X(SEED_HI, seed_hi, U32, cfg->seed >> 32)                                           \
  X(ACTIVATION, activation, I32, cfg->activation)                                     \
  X(ATTENTION, attention, I32, cfg->attention)                                        \
  X(GLOBAL_ATTENTION, global_attention, I32, cfg->global_attention != 0)              \
  X(SIMILARITY, similarity, I32, cfg->similarity)                                     \
  X(PHASE_GATE, phase_gate, I32, cfg->phase_gate != 0)                                \
  X(STOCHASTIC, stochastic, I32, cfg->stochastic != 0)                                \
  X(ASTRO_SOURCE, astro_source, U32, cfg->astro_source)                               \
  X(NOISE_SIGMA, noise_sigma, F32, cfg->noise_sigma)                                  \
  X(CTX_RATE, ctx_rate, F32, cfg->ctx_rate)                                           \
  X(EMB_RATE, emb_rate, F32, cfg->emb_rate)                                           \
  X(BIAS_RATE, bias_rate, F32, cfg->bias_rate)                                        \
  X(TARGET_RATE, target_rate, F32, cfg->target_rate)                                  \
  X(LAM_F, lam_f, F32, hmn__pre_decay(cfg->dt, cfg->tau_fast))                        \
  X(LAM_S, lam_s, F32, hmn__pre_decay(cfg->dt, cfg->tau_slow))                        \
  X(RHO_F, rho_f, F32, cfg->rho_fast)                                                 \
  X(RHO_S, rho_s, F32, cfg->rho_slow)                                                 \
  X(BETA_ATTN, beta_attn, F32, cfg->beta_attn)                                        \
  X(BETA_GLOBAL, beta_global, F32, cfg->beta_global)                                  \
  X(ASTRO_DECAY, astro_decay, F32, cfg->astro_decay)                                  \
  X(ASTRO_GAIN, astro_gain, F32, cfg->astro_gain)                                     \
  X(ASTRO_LAMBDA, astro_lambda, F32, cfg->astro_lambda)                               \
  X(BETA_P, beta_p, F32, cfg->beta_p)                                                 \
  X(THETA_P, theta_p, F32, cfg->theta_p)                                              \
  X(W_MIN, w_min, F32, cfg->w_min)                                                    \
  X(W_MAX, w_max, F32, cfg->w_max)                                                    \
  X(RULE, rule, I32, cfg->rule)                                                       \
  X(PAIRING, pairing, I32, cfg->pairing)                                              \
  X(SCALING, scaling, I32, cfg->scaling != 0)                                         \
  X(A_PLUS, a_plus, F32, cfg->a_plus)                                                 \
  X(A_MINUS, a_minus, F32, cfg->a_minus)                                              \
  X(A2_PLUS, a2_plus, F32, cfg->a2_plus)                                              \
  X(A3_PLUS, a3_plus, F32, cfg->a3_plus)                                              \
  X(A2_MINUS, a2_minus, F32, cfg->a2_minus)                                           \
  X(A3_MINUS, a3_minus, F32, cfg->a3_minus)                                           \
  X(LAM_PLUS, lam_plus, F32, hmn__pre_decay(cfg->dt, cfg->tau_plus))                  \
  X(LAM_MINUS, lam_minus, F32, hmn__pre_decay(cfg->dt, cfg->tau_minus))               \
  X(LAM_X, lam_x, F32, hmn__pre_decay(cfg->dt, cfg->tau_x))                           \
  X(LAM_Y, lam_y, F32, hmn__pre_decay(cfg->dt, cfg->tau_y))                           \
  X(LAM_RATE, lam_rate, F32, hmn__pre_decay(cfg->dt, cfg->tau_rate))                  \
  X(LAM_THETA, lam_theta, F32, hmn__pre_decay(cfg->dt, cfg->tau_theta))               \
  X(LAM_SCALE, lam_scale, F32, hmn__pre_decay(cfg->dt, cfg->tau_scale))               \
  X(BCM_POWER, bcm_power, F32, cfg->bcm_power)                                        \
  X(THETA_MIN, theta_min, F32, cfg->theta_min)                                        \
  X(THETA_MAX, theta_max, F32, cfg->theta_max)                                        \
  X(HETERO_RATIO, hetero_ratio, F32, cfg->hetero_ratio)                               \
  X(SCALE_TARGET, scale_target, F32, cfg->scale_target)                               \
  X(SCALE_MAX, scale_max, F32, cfg->scale_max)

/* ---- the per-step record ----
 *
 * X(NAME, field, KIND, what): one 32-bit word per line at the head of each
 * step's inputs, at index HMN_SC_NAME; the host fills it as the struct
 * hmn__step_record (member `field`, precompute.c stores it); the NDRange
 * kernel reads it by index, the FPGA kernels whole (hmnk_read_step). The
 * integers are read as integers, so that no float load touches a NaN
 * pattern (or a subnormal that a flushing unit would zero). */
#define HMN_IFACE_STEP(X)                                                            \
  X(SLOT, slot, U32, "t mod D")                                                      \
  X(T_LO, t_lo, U32, "t, low word")                                                  \
  X(T_HI, t_hi, U32, "t, high word")                                                 \
  X(PLAIN, plain, U32, "1 in the plain case of step 5 (hmn_step.cl), else 0")        \
  X(ETA_LOCAL, eta_local, F32, "eq 3's eta_local")                                   \
  X(ETA_GLOBAL, eta_global, F32, "eq 3's eta_global")                                \
  X(COS_PHASE, cos_phase, F32, "eq 4: cos Phi(t)")                                   \
  X(SIN_PHASE, sin_phase, F32, "eq 4: sin Phi(t)")                                   \
  X(G, g, F32, "step 6's shared G (eqs 6-7)")                                        \
  X(E_ASTRO, e_astro, F32, "E_k of the astrocytes' source")                          \
  X(BH_MIN, bh_min, F32, "the least beta h_i(t)")                                    \
  X(BH_MAX, bh_max, F32, "the largest beta h_i(t)")                                  \
  X(STEPS, steps, U32, "steps of the launch (its first step only)")                  \
  X(PREV_STEPS, prev_steps, U32, "steps of the launch before (first step only)")     \
  X(HIST_HALF, hist_half, U32, "the half of x_hist holding the history (first only)") \
  X(ACTION, action1, U32, "1 + the action taken (rule policy); 0: none; or HMN_STEP_CLAMP") \
  X(FORWARD, forward, U32, "FPGA kernel: 1 for eq 1 alone, z to stats, no state written")

/* The ACTION word of a step whose z_j are imposed (hmn_layer_step_clamped):
 * the kernels take z_j from the step's inputs (where each kernel path's
 * layout puts them) instead of eq 1, and every later use of z (c_j,
 * kappa, the traces and rates) is of the imposed value. */
#define HMN_STEP_CLAMP 0xffffffffu

/* Words the step record occupies: 32, so that x(t) starts 128 bytes in, as
 * aligned as the buffer, with room for the record to grow. */
#define HMN_STEP_SCALARS 32

/* The indices, and the layer as the kernels hold it. */
#define HMN__IFACE_P_INDEX(NAME, field, KIND, source) HMN_P_##NAME,
#define HMN__IFACE_SC_INDEX(NAME, field, KIND, what) HMN_SC_##NAME,
enum { HMN_IFACE_LAYER(HMN__IFACE_P_INDEX) HMN_P_COUNT };
enum { HMN_IFACE_STEP(HMN__IFACE_SC_INDEX) HMN_SC_COUNT };
#undef HMN__IFACE_P_INDEX
#undef HMN__IFACE_SC_INDEX

/* (the kernel compilers check what the host checks with _Static_assert) */
typedef char hmn__iface_step_record_fits[HMN_SC_COUNT <= HMN_STEP_SCALARS ? 1 : -1];

#endif /* HMN_IFACE_H */

/* The kernel side, once hmn_port.h's types are there (a host file may
 * include this header before the kernel headers). */
#if defined(HMN_PORT_H) && !defined(HMN_IFACE_KERNEL_SIDE)
#define HMN_IFACE_KERNEL_SIDE
#define HMN__IFACE_TYPE_U32 hmnk_u32
#define HMN__IFACE_TYPE_I32 int
#define HMN__IFACE_TYPE_F32 float
#define HMN__IFACE_FROM_U32(word) (word)
#define HMN__IFACE_FROM_I32(word) ((int)(word))
#define HMN__IFACE_FROM_F32(word) hmnk_as_float(word)
#define HMN__IFACE_FIELD(NAME, field, KIND, source) HMN__IFACE_TYPE_##KIND field;
#define HMN__IFACE_READ(NAME, field, KIND, source) \
  L->field = HMN__IFACE_FROM_##KIND(p[HMN_P_##NAME]);
#define HMN__IFACE_READ_STEP(NAME, field, KIND, what) \
  S->field = HMN__IFACE_FROM_##KIND(s[HMN_SC_##NAME]);

/* The layer, decoded from the parameter record. */
typedef struct {
  HMN_IFACE_LAYER(HMN__IFACE_FIELD)
} hmnk_layer;

HMN_INLINE void hmnk_read_layer(HMN_GLOBAL const hmnk_u32 *p, hmnk_layer *L) {
  HMN_IFACE_LAYER(HMN__IFACE_READ)
}

/* The per-step record, decoded from the head of a step's inputs (the
 * FPGA kernels read it whole; the NDRange kernel reads its words by
 * index). */
typedef struct {
  HMN_IFACE_STEP(HMN__IFACE_FIELD)
} hmnk_step;

HMN_INLINE void hmnk_read_step(HMN_GLOBAL const hmnk_u32 *s, hmnk_step *S) {
  HMN_IFACE_STEP(HMN__IFACE_READ_STEP)
}
#undef HMN__IFACE_FIELD
#undef HMN__IFACE_READ
#undef HMN__IFACE_READ_STEP
#endif
