/*
 * hmn_step_hls.cpp - the FPGA kernel hmn_fpga_step as a Vitis HLS C++ top
 * function (Vitis 2023.2 and later), and, compiled by g++ against AMD's
 * arbitrary-precision types (third_party/) with sim/'s hls::stream, its
 * C-simulation. The math of every equation is kernels/hmn_synapse.h's;
 * this file only moves data and schedules it.
 *
 * Device layout: the five synapse arrays are rows of N_in synapses padded
 * to whole 512-bit words (wpr = ceil(N_in / 16) words per row), so a word
 * holds synapses of one neuron only and lane l of word wr of any row is
 * input i = 16 wr + l. The host hides the padding. Every on-chip array that
 * the 16 lanes read is split by lane into 16 banks (array[lane][...]), and
 * lanes are compile-time constants of unrolled loops: each bank sees one
 * access per clock.
 *
 * The step:
 *   load      params and the step record, then the per-input and per-neuron state into on-chip
 *             arrays (loops over N_in, D N_in and N_out, II = 1 except
 *             where several arrays share the gmem_state port)
 *   inputs    x(t) into its ring row, h (step 3), G (eqs 6-7)
 *   dataflow  one region of eight processes joined by streams, each
 *             looping over every row or word of the step:
 *     read_words     W, tau for the forward sums, then all five arrays
 *     row_products   16 products w_ji xhat_ji per word, summed by a tree
 *     row_sums       per row: the word sums into 8 rotating partials
 *     neurons        per row: noise, z_j, c_j, b_j, astrocyte, G_j
 *     attention      per row: softmax maximum and denominator over h
 *     update         steps 4-10 on 16 synapses per clock
 *     write_words    W, psi_f, psi_s back
 *     store          the per-neuron state and the statistics
 *
 * A forward launch (the step record's FORWARD word: hmn_layer_forward)
 * loads the same state, pushes x(t) on chip only and runs a region of
 * four processes instead, the eq-1 half of the step's: read_row_words,
 * row_products, row_sums and forward_out, which writes z after the
 * statistics' G_j. No state is written, and z is the step's, bit for bit:
 * the same products, sums, noise draw (t, j) and activation (forward_z).
 *
 * Sums that carry from one clock to the next rotate through a shift
 * register of partials (distance 8 for fadd, 4 for the maximum), so the
 * adder's latency never holds a loop back; every tree has constant bounds.
 * Reductions run in that fixed order: deterministic, and within SPEC
 * section 5's reduction bound of ref's order.
 */
#include "hmn_hls_types.h"

#include "hmn_port.h"
#include "hmn_hls.h"
#include "hmn_math.h"
#include "hmn_synapse.h"
#include "hmn_fpga_params.h"
/* For eq 4's cosine and sine of phi_ji, derived on chip as the OpenCL C
 * model derives them (hmnk_fpga_cos, hmnk_fpga_sin). */
#include "hmn_fpga.h"

#include "hmn_bank_audit.h"
#include "hmn_dataflow.h"
#include "hmn_step_hls.h"

namespace {

const int kLanes = HMN_WIDE_LANES;
/* Words per row at the largest N_in. */
const int kWpr = HMN_HLS_MAX_IN / kLanes;
/* Rotating partials of a sum (>= fadd latency) and of a maximum. */
const int kSumPartials = 8;
const int kMaxPartials = 4;
/* Stream depths: short where producer and consumer run in step; a whole
 * layer's rows where the consumer starts only after the rows pass. */
const int kShortDepth = 32;
const int kRowsDepth = HMN_HLS_MAX_OUT;
/* Trip-count bounds. */
const int kMaxIn = HMN_HLS_MAX_IN;
const int kMaxOut = HMN_HLS_MAX_OUT;
const int kMaxHist = HMN_HLS_MAX_DELAY * HMN_HLS_MAX_IN;
const int kMaxWords = HMN_HLS_MAX_OUT * (HMN_HLS_MAX_IN / HMN_WIDE_LANES);

typedef ap_uint<512> word_t;
typedef ap_uint<128> tau_word_t;

/* The layer's parameters (hmn_iface.h) and the padded layout's shape. */
struct layer_t : hmnk_layer {
  hmnk_u32 wpr, n_words;
};

struct now_t {
  hmnk_u32 slot;
  hmnk_rng_at at;
  float eta_local, eta_global, cos_phase, sin_phase, g, e_ne;
  hmnk_u32 action1; /* the step record's ACTION: 0, or 1 + the action */
};

struct row_word_t {
  word_t w;
  tau_word_t tau;
};
struct syn_word_t {
  word_t w, pf, ps, phi;
  tau_word_t tau;
};
struct syn_out_t {
  word_t w, pf, ps;
};
struct row_vals_t {
  float post, c, rate; /* post: step 4's factor, hmnk_post */
  /* the families': postsynaptic traces (decayed), BCM's theta, and the
   * weights' scaling factor new S_j / old S_j */
  float o1, o2, theta, row_factor;
};
struct attn_vals_t {
  float max, factor;
};
struct neuron_out_t {
  float z, c, b, astro, g;
};
struct counts_t {
  hmnk_u64 applied, candidates;
};

inline float lane_f(const word_t &word, int l) {
  return hmnk_as_float((hmnk_u32)word.range(32 * l + 31, 32 * l));
}
inline void set_lane_f(word_t &word, int l, float v) {
  word.range(32 * l + 31, 32 * l) = hmnk_as_uint(v);
}
inline hmnk_u32 lane_tau(const tau_word_t &word, int l) {
  return (hmnk_u32)word.range(8 * l + 7, 8 * l);
}

/* Fixed pairwise trees with constant bounds: HLS unrolls them into
 * log2(n) levels. */
template <int N>
inline float tree_sum(float v[N]) {
tree_sum_levels:
  for (int width = N / 2; width > 0; width /= 2) {
#pragma HLS UNROLL
#pragma HLS LOOP_TRIPCOUNT min = 1 max = 4
  tree_sum_pairs:
    for (int p = 0; p < width; p++) {
#pragma HLS UNROLL
#pragma HLS LOOP_TRIPCOUNT min = 1 max = 8
      v[p] = v[p] + v[p + width];
    }
  }
  return v[0];
}
template <int N>
inline float tree_max(float v[N]) {
tree_max_levels:
  for (int width = N / 2; width > 0; width /= 2) {
#pragma HLS UNROLL
#pragma HLS LOOP_TRIPCOUNT min = 1 max = 4
  tree_max_pairs:
    for (int p = 0; p < width; p++) {
#pragma HLS UNROLL
#pragma HLS LOOP_TRIPCOUNT min = 1 max = 8
      v[p] = v[p + width] > v[p] ? v[p + width] : v[p];
    }
  }
  return v[0];
}

/* ---- before the region ---- */

void read_layer(const hmnk_u32 *params, layer_t &L) {
#pragma HLS INLINE off
  hmnk_u32 p[HMN_FPGA_PARAM_WORDS];
#pragma HLS ARRAY_PARTITION variable = p type = complete
read_params:
  for (int k = 0; k < HMN_FPGA_PARAM_WORDS; k++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 54 max = 54
    p[k] = params[k];
  }
  hmnk_read_layer(p, &L);
  L.wpr = (L.n_in + (hmnk_u32)kLanes - 1u) / (hmnk_u32)kLanes;
  L.n_words = L.wpr * L.n_out;
}

/* The step record at the head of the inputs (hmn_iface.h), one word per
 * clock into registers, read as integers. */
void read_step(const hmnk_u32 *inputs, hmnk_step &S) {
#pragma HLS INLINE off
  hmnk_u32 r[HMN_STEP_SCALARS];
#pragma HLS ARRAY_PARTITION variable = r type = complete
read_step_record:
  for (int k = 0; k < HMN_STEP_SCALARS; k++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 32 max = 32
    HMN_AUDIT_ITER("read_step_record");
    r[k] = inputs[k];
  }
  hmnk_read_step(r, &S);
}

/* The delay line and h into two copies each (the forward and the update
 * processes each own one), one element per clock: element i goes to bank
 * i mod 16 through a decoder, one access per iteration. */
void load_inputs(const float *x_hist, const float *h, const layer_t &L,
                 float xh_f[kLanes][HMN_HLS_MAX_DELAY * kWpr],
                 float xh_u[kLanes][HMN_HLS_MAX_DELAY * kWpr], float h_a[kLanes][kWpr],
                 float h_u[kLanes][kWpr]) {
#pragma HLS INLINE off
  hmnk_u32 row = 0, i = 0;
load_x_hist:
  for (hmnk_u32 k = 0; k < L.delay * L.n_in; k++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxHist
    HMN_AUDIT_ITER("load_x_hist");
    float x = x_hist[k];
    hmnk_u32 at = row * (hmnk_u32)kWpr + i / (hmnk_u32)kLanes;
    HMN_BANK(xh_f, i % kLanes)[at] = x;
    HMN_BANK(xh_u, i % kLanes)[at] = x;
    if (i + 1u == L.n_in) {
      i = 0;
      row++;
    } else {
      i++;
    }
  }
load_h:
  for (hmnk_u32 k = 0; k < L.n_in; k++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxIn
    HMN_AUDIT_ITER("load_h");
    float v = h[k];
    HMN_BANK(h_a, k % kLanes)[k / kLanes] = v;
    HMN_BANK(h_u, k % kLanes)[k / kLanes] = v;
  }
}

/* The per-neuron state the neurons process reads. Four arrays share the
 * gmem_state port: II = 4 over N_out. With an action (rule policy), the
 * host's pi from the inputs, at II = 1. */
void load_neurons(const float *b, const float *c, const float *astro, const float *sign,
                  const float *pi, hmnk_u32 action1, const layer_t &L,
                  float b_old[1][HMN_HLS_MAX_OUT], float c_old[1][HMN_HLS_MAX_OUT],
                  float astro_old[1][HMN_HLS_MAX_OUT], float sign_ld[1][HMN_HLS_MAX_OUT],
                  float pi_ld[1][HMN_HLS_MAX_OUT]) {
#pragma HLS INLINE off
load_neuron_state:
  for (hmnk_u32 j = 0; j < L.n_out; j++) {
#pragma HLS PIPELINE II = 4
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxOut
    HMN_AUDIT_ITER("load_neuron_state");
    HMN_BANK(b_old, 0)[j] = b[j];
    HMN_BANK(c_old, 0)[j] = c[j];
    HMN_BANK(astro_old, 0)[j] = astro[j];
    HMN_BANK(sign_ld, 0)[j] = sign[j];
  }
  if (action1 != 0u) {
  load_policy:
    for (hmnk_u32 j = 0; j < L.n_out; j++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxOut
      HMN_AUDIT_ITER("load_policy");
      HMN_BANK(pi_ld, 0)[j] = pi[j];
    }
  }
}

/* Step 1's push of x(t) into ring row `slot` and step 3's h, on chip (both
 * copies) and, with `write_state`, in memory (x_hist and h share the
 * port: II = 2). A forward launch writes no state. */
void push_inputs(const float *x_in, float *x_hist, float *h, const layer_t &L, hmnk_u32 slot,
                 bool write_state, float xh_f[kLanes][HMN_HLS_MAX_DELAY * kWpr],
                 float xh_u[kLanes][HMN_HLS_MAX_DELAY * kWpr], float h_a[kLanes][kWpr],
                 float h_u[kLanes][kWpr]) {
#pragma HLS INLINE off
push_x:
  for (hmnk_u32 i = 0; i < L.n_in; i++) {
#pragma HLS PIPELINE II = 2
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxIn
    HMN_AUDIT_ITER("push_x");
    float x_i = x_in[i];
    hmnk_u32 bank = i % (hmnk_u32)kLanes, at = i / (hmnk_u32)kLanes;
    HMN_BANK(xh_f, bank)[slot * (hmnk_u32)kWpr + at] = x_i;
    HMN_BANK(xh_u, bank)[slot * (hmnk_u32)kWpr + at] = x_i;
    float h_i = hmnk_ema(HMN_BANK(h_u, bank)[at], L.emb_rate, x_i);
    HMN_BANK(h_a, bank)[at] = h_i;
    HMN_BANK(h_u, bank)[at] = h_i;
    if (write_state) {
      x_hist[slot * L.n_in + i] = x_i;
      h[i] = h_i;
    }
  }
}

/* The rule families' state the layer's family keeps (hmn_synapse.h's
 * hmnk_rule_timing, hmnk_rule_rated): the spike-timing traces decayed by
 * this step, per input by lane as h is (update reads them), per neuron
 * plain; the rate, threshold and scaling factor as they are. They share
 * the gmem_state port: II = 2 and 3. */
void load_family(const float *tr_pre, const float *tr_post, const float *rate,
                 const float *theta, const float *scale, const layer_t &L,
                 float r1_u[kLanes][kWpr], float r2_u[kLanes][kWpr],
                 float o1_ld[1][HMN_HLS_MAX_OUT], float o2_ld[1][HMN_HLS_MAX_OUT],
                 float rate_ld[1][HMN_HLS_MAX_OUT], float theta_ld[1][HMN_HLS_MAX_OUT],
                 float scale_ld[1][HMN_HLS_MAX_OUT]) {
#pragma HLS INLINE off
  if (hmnk_rule_timing(L.rule)) {
  load_pre_traces:
    for (hmnk_u32 i = 0; i < L.n_in; i++) {
#pragma HLS PIPELINE II = 2
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxIn
      HMN_AUDIT_ITER("load_pre_traces");
      hmnk_u32 bank = i % (hmnk_u32)kLanes, at = i / (hmnk_u32)kLanes;
      HMN_BANK(r1_u, bank)[at] = hmnk_trace_decay(tr_pre[i], L.lam_plus);
      HMN_BANK(r2_u, bank)[at] = hmnk_trace_decay(tr_pre[L.n_in + i], L.lam_x);
    }
  load_post_traces:
    for (hmnk_u32 j = 0; j < L.n_out; j++) {
#pragma HLS PIPELINE II = 2
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxOut
      HMN_AUDIT_ITER("load_post_traces");
      HMN_BANK(o1_ld, 0)[j] = hmnk_trace_decay(tr_post[j], L.lam_minus);
      HMN_BANK(o2_ld, 0)[j] = hmnk_trace_decay(tr_post[L.n_out + j], L.lam_y);
    }
  }
  if (hmnk_rule_rated(L.rule, L.scaling)) {
  load_rates:
    for (hmnk_u32 j = 0; j < L.n_out; j++) {
#pragma HLS PIPELINE II = 3
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxOut
      HMN_AUDIT_ITER("load_rates");
      HMN_BANK(rate_ld, 0)[j] = rate[j];
      HMN_BANK(theta_ld, 0)[j] = theta[j];
      HMN_BANK(scale_ld, 0)[j] = scale[j];
    }
  }
}

/* After the region: this step's spikes x_i(t), z_j(t) into the traces,
 * the rate from z_j(t), BCM's threshold from that rate, and the scaling
 * factor of this step (the one neurons divided by), back to memory. */
void store_family(const layer_t &L, hmnk_u32 slot,
                  const float xh_u[kLanes][HMN_HLS_MAX_DELAY * kWpr],
                  const float r1_u[kLanes][kWpr], const float r2_u[kLanes][kWpr],
                  const float o1_ld[1][HMN_HLS_MAX_OUT], const float o2_ld[1][HMN_HLS_MAX_OUT],
                  const float rate_ld[1][HMN_HLS_MAX_OUT],
                  const float theta_ld[1][HMN_HLS_MAX_OUT],
                  const float scale_ld[1][HMN_HLS_MAX_OUT], const float z_st[1][HMN_HLS_MAX_OUT],
                  float *tr_pre, float *tr_post, float *rate, float *theta, float *scale) {
#pragma HLS INLINE off
  if (hmnk_rule_timing(L.rule)) {
  store_pre_traces:
    for (hmnk_u32 i = 0; i < L.n_in; i++) {
#pragma HLS PIPELINE II = 2
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxIn
      HMN_AUDIT_ITER("store_pre_traces");
      hmnk_u32 bank = i % (hmnk_u32)kLanes, at = i / (hmnk_u32)kLanes;
      float x_i = HMN_BANK(xh_u, bank)[slot * (hmnk_u32)kWpr + at];
      tr_pre[i] = hmnk_trace_spike(L.pairing, HMN_BANK(r1_u, bank)[at], x_i);
      tr_pre[L.n_in + i] = hmnk_trace_spike(L.pairing, HMN_BANK(r2_u, bank)[at], x_i);
    }
  store_post_traces:
    for (hmnk_u32 j = 0; j < L.n_out; j++) {
#pragma HLS PIPELINE II = 2
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxOut
      HMN_AUDIT_ITER("store_post_traces");
      float z_j = HMN_BANK(z_st, 0)[j];
      tr_post[j] = hmnk_trace_spike(L.pairing, HMN_BANK(o1_ld, 0)[j], z_j);
      tr_post[L.n_out + j] = hmnk_trace_spike(L.pairing, HMN_BANK(o2_ld, 0)[j], z_j);
    }
  }
  if (hmnk_rule_rated(L.rule, L.scaling)) {
  store_rates:
    for (hmnk_u32 j = 0; j < L.n_out; j++) {
#pragma HLS PIPELINE II = 3
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxOut
      HMN_AUDIT_ITER("store_rates");
      float nu_old = HMN_BANK(rate_ld, 0)[j];
      float nu = hmnk_rate(nu_old, L.lam_rate, HMN_BANK(z_st, 0)[j]);
      rate[j] = nu;
      if (L.rule == HMN_RULE_BCM)
        theta[j] = hmnk_bcm_theta(HMN_BANK(theta_ld, 0)[j], L.lam_theta, nu, L.bcm_power,
                                  L.theta_min, L.theta_max);
      if (L.scaling != 0)
        scale[j] = hmnk_synaptic_scale(HMN_BANK(scale_ld, 0)[j], L.lam_scale, nu_old,
                                       L.scale_target, L.scale_max);
    }
  }
}

/* ---- the dataflow processes ---- */

/* W and tau, word by word, for eq 1's sums (inlined into the reader of
 * each region). */
inline void read_row_pass(const word_t *w, const tau_word_t *tau, hmnk_u32 n_words,
                          hls::stream<row_word_t> &rows_in) {
read_rows:
  for (hmnk_u32 k = 0; k < n_words; k++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxWords
    row_word_t r;
    r.w = w[k];
    r.tau = tau[k];
    rows_in.write(r);
  }
}

void read_words(const word_t *w, const word_t *psi_f, const word_t *psi_s, const word_t *phi,
                const tau_word_t *tau, hmnk_u32 n_words, hls::stream<row_word_t> &rows_in,
                hls::stream<syn_word_t> &syn_in) {
#pragma HLS INLINE off
  read_row_pass(w, tau, n_words, rows_in);
read_synapses:
  for (hmnk_u32 k = 0; k < n_words; k++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxWords
    syn_word_t s;
    s.w = w[k];
    s.pf = psi_f[k];
    s.ps = psi_s[k];
    s.phi = phi[k];
    s.tau = tau[k];
    syn_in.write(s);
  }
}

/* Eq 1's products for one word, summed by a 16-leaf tree. */
void row_products(const float xh_f[kLanes][HMN_HLS_MAX_DELAY * kWpr], hmnk_u32 n_in,
                  hmnk_u32 wpr, hmnk_u32 n_words, hmnk_u32 slot, hmnk_u32 delay,
                  hls::stream<row_word_t> &rows_in, hls::stream<float> &word_sums) {
#pragma HLS INLINE off
  hmnk_u32 wr = 0;
products:
  for (hmnk_u32 k = 0; k < n_words; k++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxWords
    HMN_AUDIT_ITER("products");
    row_word_t r = rows_in.read();
    float p[kLanes];
#pragma HLS ARRAY_PARTITION variable = p type = complete
  products_lanes:
    for (int l = 0; l < kLanes; l++) {
#pragma HLS UNROLL
#pragma HLS LOOP_TRIPCOUNT min = 16 max = 16
      hmnk_u32 row = hmnk_delay_row(slot, lane_tau(r.tau, l), delay);
      float xhat = HMN_BANK(xh_f, l)[row * (hmnk_u32)kWpr + wr];
      p[l] = wr * (hmnk_u32)kLanes + (hmnk_u32)l < n_in ? lane_f(r.w, l) * xhat : 0.0f;
    }
    word_sums.write(tree_sum<kLanes>(p));
    wr = wr + 1u == wpr ? 0u : wr + 1u;
  }
}

/* A row's word sums through 8 rotating partials, then a tree of 8. */
void row_sums(hmnk_u32 n_out, hmnk_u32 wpr, hls::stream<float> &word_sums,
              hls::stream<float> &sums) {
#pragma HLS INLINE off
sums_rows:
  for (hmnk_u32 j = 0; j < n_out; j++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxOut
    float part[kSumPartials];
#pragma HLS ARRAY_PARTITION variable = part type = complete
  sums_clear:
    for (int q = 0; q < kSumPartials; q++) {
#pragma HLS UNROLL
#pragma HLS LOOP_TRIPCOUNT min = 8 max = 8
      part[q] = 0.0f;
    }
  sums_words:
    for (hmnk_u32 wr = 0; wr < wpr; wr++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kWpr
      float v = part[kSumPartials - 1] + word_sums.read();
    sums_shift:
      for (int q = kSumPartials - 1; q > 0; q--) {
#pragma HLS UNROLL
#pragma HLS LOOP_TRIPCOUNT min = 7 max = 7
        part[q] = part[q - 1];
      }
      part[0] = v;
    }
    sums.write(tree_sum<kSumPartials>(part));
  }
}

/* Eq 1 for neuron j from its row sum: the one place both regions take z
 * from. */
inline float forward_z(const layer_t &L, const now_t &now, float sum, float b_j, hmnk_u32 j) {
  float noise = L.noise_sigma * hmnk_gaussian(now.at, j);
  return hmnk_activation(L.activation, hmnk_forward(sum, b_j, noise));
}

/* Eq 1 and steps 3, 4 (the post factor), 6, 11 per neuron. */
void neurons(const layer_t L, const now_t now, const float b_old[1][HMN_HLS_MAX_OUT],
             const float c_old[1][HMN_HLS_MAX_OUT], const float astro_old[1][HMN_HLS_MAX_OUT],
             const float sign_ld[1][HMN_HLS_MAX_OUT], const float pi_ld[1][HMN_HLS_MAX_OUT],
             const float o1_ld[1][HMN_HLS_MAX_OUT], const float o2_ld[1][HMN_HLS_MAX_OUT],
             const float rate_ld[1][HMN_HLS_MAX_OUT], const float theta_ld[1][HMN_HLS_MAX_OUT],
             const float scale_ld[1][HMN_HLS_MAX_OUT], hls::stream<float> &sums,
             hls::stream<row_vals_t> &row_vals,
             hls::stream<float> &c_for_attention, hls::stream<neuron_out_t> &to_store) {
#pragma HLS INLINE off
neurons_rows:
  for (hmnk_u32 j = 0; j < L.n_out; j++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxOut
    HMN_AUDIT_ITER("neurons_rows");
    float sum = sums.read();
    float b_j = HMN_BANK(b_old, 0)[j];
    float z_j = forward_z(L, now, sum, b_j, j);
    float c_j = hmnk_ema(HMN_BANK(c_old, 0)[j], L.ctx_rate, z_j);
    float astro_j = HMN_BANK(astro_old, 0)[j];
    float m_astro = hmnk_astrocyte(&astro_j, L.astro_decay, L.astro_gain, now.e_ne);
    float g_j = hmnk_neuron_modulation(HMN_BANK(sign_ld, 0)[j], now.g, L.astro_lambda, m_astro);
    /* (pi is read only with an action: a Hebbian step has loaded none) */
    float post = hmnk_post(now.action1, j, z_j, now.action1 != 0u ? HMN_BANK(pi_ld, 0)[j] : 0.0f);
    row_vals_t rv = {post, c_j, hmnk_update_rate(now.eta_local, now.eta_global, g_j),
                     0.0f, 0.0f, 0.0f, 1.0f};
    /* The families' per-neuron terms, each only where the family keeps
     * its state: traces for spike timing, theta for BCM, and synaptic
     * scaling's factor new S_j / old S_j from the rate of before this
     * step. */
    if (hmnk_rule_timing(L.rule)) {
      rv.o1 = HMN_BANK(o1_ld, 0)[j];
      rv.o2 = HMN_BANK(o2_ld, 0)[j];
    }
    if (L.rule == HMN_RULE_BCM) rv.theta = HMN_BANK(theta_ld, 0)[j];
    if (L.scaling != 0) {
      float s_old = HMN_BANK(scale_ld, 0)[j];
      rv.row_factor = hmnk_synaptic_scale(s_old, L.lam_scale, HMN_BANK(rate_ld, 0)[j],
                                          L.scale_target, L.scale_max) /
                      s_old;
    }
    row_vals.write(rv);
    c_for_attention.write(c_j);
    neuron_out_t o = {z_j, c_j, hmnk_bias_homeostasis(b_j, L.bias_rate, L.target_rate, c_j),
                      astro_j, g_j};
    to_store.write(o);
  }
}

/* Step 5's row reductions: the maximum of s_ji = beta h_i c_j (exact in
 * any order), then sum_i exp(s_ji - max). */
void attention(const layer_t L, const float h_a[kLanes][kWpr], hls::stream<float> &c_in,
               hls::stream<attn_vals_t> &attn_out) {
#pragma HLS INLINE off
attention_rows:
  for (hmnk_u32 j = 0; j < L.n_out; j++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxOut
    float c_j = c_in.read();
    attn_vals_t a = {0.0f, 1.0f};
    float denom = 1.0f;
    if (L.attention != HMN_ATTN_OFF) {
      float mpart[kMaxPartials];
#pragma HLS ARRAY_PARTITION variable = mpart type = complete
    attention_max_clear:
      for (int q = 0; q < kMaxPartials; q++) {
#pragma HLS UNROLL
#pragma HLS LOOP_TRIPCOUNT min = 4 max = 4
        mpart[q] = -HMN_F32_MAX;
      }
    attention_max:
      for (hmnk_u32 wr = 0; wr < L.wpr; wr++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kWpr
        HMN_AUDIT_ITER("attention_max");
        float s[kLanes];
#pragma HLS ARRAY_PARTITION variable = s type = complete
      attention_max_lanes:
        for (int l = 0; l < kLanes; l++) {
#pragma HLS UNROLL
#pragma HLS LOOP_TRIPCOUNT min = 16 max = 16
          float logit = hmnk_attention_logit(L.beta_attn, HMN_BANK(h_a, l)[wr], c_j);
          s[l] = wr * (hmnk_u32)kLanes + (hmnk_u32)l < L.n_in ? logit : -HMN_F32_MAX;
        }
        float m = tree_max<kLanes>(s);
        float v = m > mpart[kMaxPartials - 1] ? m : mpart[kMaxPartials - 1];
      attention_max_shift:
        for (int q = kMaxPartials - 1; q > 0; q--) {
#pragma HLS UNROLL
#pragma HLS LOOP_TRIPCOUNT min = 3 max = 3
          mpart[q] = mpart[q - 1];
        }
        mpart[0] = v;
      }
      a.max = tree_max<kMaxPartials>(mpart);
      float part[kSumPartials];
#pragma HLS ARRAY_PARTITION variable = part type = complete
    attention_sum_clear:
      for (int q = 0; q < kSumPartials; q++) {
#pragma HLS UNROLL
#pragma HLS LOOP_TRIPCOUNT min = 8 max = 8
        part[q] = 0.0f;
      }
    attention_sum:
      for (hmnk_u32 wr = 0; wr < L.wpr; wr++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kWpr
        HMN_AUDIT_ITER("attention_sum");
        float e[kLanes];
#pragma HLS ARRAY_PARTITION variable = e type = complete
      attention_sum_lanes:
        for (int l = 0; l < kLanes; l++) {
#pragma HLS UNROLL
#pragma HLS LOOP_TRIPCOUNT min = 16 max = 16
          float logit = hmnk_attention_logit(L.beta_attn, HMN_BANK(h_a, l)[wr], c_j);
          e[l] = wr * (hmnk_u32)kLanes + (hmnk_u32)l < L.n_in
                     ? hmnk_attention_numerator(logit, a.max)
                     : 0.0f;
        }
        float v = part[kSumPartials - 1] + tree_sum<kLanes>(e);
      attention_sum_shift:
        for (int q = kSumPartials - 1; q > 0; q--) {
#pragma HLS UNROLL
#pragma HLS LOOP_TRIPCOUNT min = 7 max = 7
          part[q] = part[q - 1];
        }
        part[0] = v;
      }
      denom = tree_sum<kSumPartials>(part);
    }
    a.factor = hmnk_attention_factor(L.attention, denom, (float)L.n_in);
    attn_out.write(a);
  }
}

/* Steps 4-10 on the 16 synapses of a word per clock. The word's neuron j
 * is the same for all lanes (padded rows); its values arrive once per row.
 * Step 9's draws: Philox block (t, e/4, stochastic) serves synapses
 * 4(e/4) .. 4(e/4)+3 of the flat index e = j N_in + i, so a word's 16
 * synapses span at most five blocks. */
void update(const layer_t L, const now_t now, const float xh_u[kLanes][HMN_HLS_MAX_DELAY * kWpr],
            const float h_u[kLanes][kWpr], const float r1_u[kLanes][kWpr],
            const float r2_u[kLanes][kWpr], hls::stream<syn_word_t> &syn_in,
            hls::stream<row_vals_t> &row_vals, hls::stream<attn_vals_t> &attn_vals,
            hls::stream<syn_out_t> &syn_out, hls::stream<counts_t> &counts) {
#pragma HLS INLINE off
  hmnk_u32 wr = 0, e_row = 0;
  row_vals_t rv = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f};
  bool timing = hmnk_rule_timing(L.rule) != 0;
  attn_vals_t av = {0.0f, 1.0f};
  hmnk_u64 applied = 0, candidates = 0;
update_words:
  for (hmnk_u32 k = 0; k < L.n_words; k++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxWords
    HMN_AUDIT_ITER("update_words");
    if (wr == 0u) {
      rv = row_vals.read();
      av = attn_vals.read();
    }
    syn_word_t s = syn_in.read();
    hmnk_u32 e0 = e_row + wr * (hmnk_u32)kLanes;
    philox4x32_ctr_t r[5];
#pragma HLS ARRAY_PARTITION variable = r type = complete
  update_draws:
    for (int q = 0; q < 5; q++) {
#pragma HLS UNROLL
#pragma HLS LOOP_TRIPCOUNT min = 5 max = 5
      philox4x32_ctr_t zero = {{0u, 0u, 0u, 0u}};
      r[q] = L.stochastic ? hmnk_philox_block(now.at, (e0 >> 2) + (hmnk_u32)q,
                                              HMN_STREAM_STOCHASTIC)
                          : zero;
    }
    syn_out_t o;
    o.w = 0;
    o.pf = 0;
    o.ps = 0;
    hmnk_u32 n_cand = 0, n_appl = 0;
  update_lanes:
    for (int l = 0; l < kLanes; l++) {
#pragma HLS UNROLL
#pragma HLS LOOP_TRIPCOUNT min = 16 max = 16
      float w_e = lane_f(s.w, l), pf = lane_f(s.pf, l), ps = lane_f(s.ps, l);
      hmnk_u32 row = hmnk_delay_row(now.slot, lane_tau(s.tau, l), L.delay);
      float xhat = HMN_BANK(xh_u, l)[row * (hmnk_u32)kWpr + wr];
      float h_i = HMN_BANK(h_u, l)[wr];
      if (wr * (hmnk_u32)kLanes + (hmnk_u32)l < L.n_in) {
        /* Step 4, the family's eligibility kappa_ji (hmnk_family_kappa;
         * Hebbian xhat_ji post_j), with x_i(t) from the ring row of this
         * step and the traces the family keeps (zeros otherwise). */
        float x_now = HMN_BANK(xh_u, l)[now.slot * (hmnk_u32)kWpr + wr];
        float kappa = hmnk_family_kappa(
            L.rule, L.a_plus, L.a_minus, L.a2_plus, L.a3_plus, L.a2_minus, L.a3_minus,
            L.hetero_ratio, xhat, x_now, timing ? HMN_BANK(r1_u, l)[wr] : 0.0f,
            timing ? HMN_BANK(r2_u, l)[wr] : 0.0f, rv.o1, rv.o2, rv.post, rv.theta);
        hmnk_composite_trace(&pf, &ps, L.lam_f, L.lam_s, kappa);
        float elig = hmnk_eligibility(L.rho_f, pf, L.rho_s, ps);
        /* Step 5. */
        float alpha = 1.0f;
        if (L.attention != HMN_ATTN_OFF)
          alpha = hmnk_local_attention(
              av.factor,
              hmnk_attention_numerator(hmnk_attention_logit(L.beta_attn, h_i, rv.c), av.max));
        /* Steps 7 and 8. */
        float dw = hmnk_preliminary_update(rv.rate, alpha * elig);
        float phi = lane_f(s.phi, l);
        dw = dw * hmnk_phase_gate(L.phase_gate, now.cos_phase, now.sin_phase,
                                  hmnk_fpga_cos(phi, 0.0f), hmnk_fpga_sin(phi, 0.0f));
        if (dw != 0.0f) n_cand++;
        /* Step 9. */
        if (L.stochastic) {
          hmnk_u32 d = (e0 & 3u) + (hmnk_u32)l;
          dw = hmnk_stochastic_apply(1, dw, hmnk_uniform01(r[d >> 2].v[d & 3u]),
                                     hmnk_apply_probability_inv(L.beta_p, L.theta_p, dw));
        }
        if (dw != 0.0f) n_appl++;
        /* Step 10, after synaptic scaling's factor. */
        if (L.scaling != 0) w_e = hmnk_scaled_weight(w_e, rv.row_factor);
        w_e = hmnk_clamp_weight(w_e, dw, L.w_min, L.w_max);
      }
      set_lane_f(o.w, l, w_e);
      set_lane_f(o.pf, l, pf);
      set_lane_f(o.ps, l, ps);
    }
    syn_out.write(o);
    applied += n_appl;
    candidates += n_cand;
    if (wr + 1u == L.wpr) {
      wr = 0;
      e_row += L.n_in;
    } else {
      wr++;
    }
  }
  counts_t c = {applied, candidates};
  counts.write(c);
}

void write_words(word_t *w, word_t *psi_f, word_t *psi_s, hmnk_u32 n_words,
                 hls::stream<syn_out_t> &syn_out) {
#pragma HLS INLINE off
write_synapses:
  for (hmnk_u32 k = 0; k < n_words; k++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxWords
    syn_out_t o = syn_out.read();
    w[k] = o.w;
    psi_f[k] = o.pf;
    psi_s[k] = o.ps;
  }
}

/* Five per-neuron arrays share the gmem_state port: II = 5 over N_out. */
void store(float *b, float *c, float *z, float *astro, hmnk_u32 *stats, hmnk_u32 n_out,
           float z_st[1][HMN_HLS_MAX_OUT], hls::stream<neuron_out_t> &to_store,
           hls::stream<counts_t> &counts) {
#pragma HLS INLINE off
store_neurons:
  for (hmnk_u32 j = 0; j < n_out; j++) {
#pragma HLS PIPELINE II = 5
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxOut
    HMN_AUDIT_ITER("store_neurons");
    neuron_out_t o = to_store.read();
    b[j] = o.b;
    c[j] = o.c;
    z[j] = o.z;
    HMN_BANK(z_st, 0)[j] = o.z; /* for the families' state after the region */
    astro[j] = o.astro;
    stats[HMN_FPGA_S_G_J + j] = hmnk_as_uint(o.g);
  }
  counts_t n = counts.read();
  stats[HMN_FPGA_S_APPLIED_LO] = (hmnk_u32)n.applied;
  stats[HMN_FPGA_S_APPLIED_HI] = (hmnk_u32)(n.applied >> 32);
  stats[HMN_FPGA_S_CANDIDATES_LO] = (hmnk_u32)n.candidates;
  stats[HMN_FPGA_S_CANDIDATES_HI] = (hmnk_u32)(n.candidates >> 32);
}

/* The canonical region: only process calls and the streams between them,
 * each stream with one writer and one reader (hmn_dataflow.h: for HLS,
 * the streams with their depths and the plain calls). */
void step_region(word_t *w, word_t *psi_f, word_t *psi_s, const word_t *phi,
                 const tau_word_t *tau, float *b, float *c, float *z, float *astro,
                 hmnk_u32 *stats, const layer_t L, const now_t now,
                 const float xh_f[kLanes][HMN_HLS_MAX_DELAY * kWpr],
                 const float xh_u[kLanes][HMN_HLS_MAX_DELAY * kWpr],
                 const float h_a[kLanes][kWpr], const float h_u[kLanes][kWpr],
                 const float b_old[1][HMN_HLS_MAX_OUT], const float c_old[1][HMN_HLS_MAX_OUT],
                 const float astro_old[1][HMN_HLS_MAX_OUT],
                 const float sign_ld[1][HMN_HLS_MAX_OUT], const float pi_ld[1][HMN_HLS_MAX_OUT],
                 const float r1_u[kLanes][kWpr], const float r2_u[kLanes][kWpr],
                 const float o1_ld[1][HMN_HLS_MAX_OUT], const float o2_ld[1][HMN_HLS_MAX_OUT],
                 const float rate_ld[1][HMN_HLS_MAX_OUT],
                 const float theta_ld[1][HMN_HLS_MAX_OUT],
                 const float scale_ld[1][HMN_HLS_MAX_OUT], float z_st[1][HMN_HLS_MAX_OUT]) {
#pragma HLS INLINE off
#pragma HLS DATAFLOW
  HMN_STREAM(row_word_t, rows_in, kShortDepth);
  HMN_STREAM(syn_word_t, syn_in, kShortDepth);
  HMN_STREAM(float, word_sums, kShortDepth);
  HMN_STREAM(float, sums, kShortDepth);
  HMN_STREAM(row_vals_t, row_vals, kRowsDepth);
  HMN_STREAM(float, c_for_attention, kShortDepth);
  HMN_STREAM(neuron_out_t, to_store, kShortDepth);
  HMN_STREAM(attn_vals_t, attn_vals, kRowsDepth);
  HMN_STREAM(syn_out_t, syn_out, kShortDepth);
  HMN_STREAM(counts_t, counts, 2);
  HMN_PROCESS(read_words(w, psi_f, psi_s, phi, tau, L.n_words, rows_in, syn_in));
  HMN_PROCESS(row_products(xh_f, L.n_in, L.wpr, L.n_words, now.slot, L.delay, rows_in, word_sums));
  HMN_PROCESS(row_sums(L.n_out, L.wpr, word_sums, sums));
  HMN_PROCESS(neurons(L, now, b_old, c_old, astro_old, sign_ld, pi_ld, o1_ld, o2_ld, rate_ld,
                      theta_ld, scale_ld, sums, row_vals, c_for_attention, to_store));
  HMN_PROCESS(attention(L, h_a, c_for_attention, attn_vals));
  HMN_PROCESS(
      update(L, now, xh_u, h_u, r1_u, r2_u, syn_in, row_vals, attn_vals, syn_out, counts));
  HMN_PROCESS(write_words(w, psi_f, psi_s, L.n_words, syn_out));
  HMN_PROCESS(store(b, c, z, astro, stats, L.n_out, z_st, to_store, counts));
  HMN_REGION_END();
}

/* ---- the forward launch ---- */

void read_row_words(const word_t *w, const tau_word_t *tau, hmnk_u32 n_words,
                    hls::stream<row_word_t> &rows_in) {
#pragma HLS INLINE off
  read_row_pass(w, tau, n_words, rows_in);
}

/* z_j from each row sum, into the statistics after G_j. */
void forward_out(const layer_t L, const now_t now, const float b_old[1][HMN_HLS_MAX_OUT],
                 hls::stream<float> &sums, hmnk_u32 *stats) {
#pragma HLS INLINE off
forward_rows:
  for (hmnk_u32 j = 0; j < L.n_out; j++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxOut
    HMN_AUDIT_ITER("forward_rows");
    float z_j = forward_z(L, now, sums.read(), HMN_BANK(b_old, 0)[j], j);
    stats[HMN_FPGA_S_G_J + L.n_out + j] = hmnk_as_uint(z_j);
  }
}

/* The forward launch's region: eq 1's half of step_region. */
void forward_region(const word_t *w, const tau_word_t *tau, hmnk_u32 *stats, const layer_t L,
                    const now_t now, const float xh_f[kLanes][HMN_HLS_MAX_DELAY * kWpr],
                    const float b_old[1][HMN_HLS_MAX_OUT]) {
#pragma HLS INLINE off
#pragma HLS DATAFLOW
  HMN_STREAM(row_word_t, fwd_rows_in, kShortDepth);
  HMN_STREAM(float, fwd_word_sums, kShortDepth);
  HMN_STREAM(float, fwd_sums, kShortDepth);
  HMN_PROCESS(read_row_words(w, tau, L.n_words, fwd_rows_in));
  HMN_PROCESS(
      row_products(xh_f, L.n_in, L.wpr, L.n_words, now.slot, L.delay, fwd_rows_in, fwd_word_sums));
  HMN_PROCESS(row_sums(L.n_out, L.wpr, fwd_word_sums, fwd_sums));
  HMN_PROCESS(forward_out(L, now, b_old, fwd_sums, stats));
  HMN_REGION_END();
}

}  // namespace

extern "C" void hmn_fpga_step(word_t *w, word_t *psi_f, word_t *psi_s, const word_t *phi,
                              const tau_word_t *tau, float *x_hist, float *h, float *b, float *c,
                              float *z, float *astro, const float *sign, const float *kappa,
                              const float *w_k, float *tr_pre, float *tr_post, float *rate,
                              float *theta, float *scale, const hmnk_u32 *params,
                              const hmnk_u32 *inputs, hmnk_u32 *stats) {
#pragma HLS INTERFACE mode = m_axi port = w offset = slave bundle = gmem_w max_read_burst_length = 64 max_write_burst_length = 64 depth = 65536
#pragma HLS INTERFACE mode = m_axi port = psi_f offset = slave bundle = gmem_pf max_read_burst_length = 64 max_write_burst_length = 64 depth = 65536
#pragma HLS INTERFACE mode = m_axi port = psi_s offset = slave bundle = gmem_ps max_read_burst_length = 64 max_write_burst_length = 64 depth = 65536
#pragma HLS INTERFACE mode = m_axi port = phi offset = slave bundle = gmem_phi max_read_burst_length = 64 depth = 65536
#pragma HLS INTERFACE mode = m_axi port = tau offset = slave bundle = gmem_tau max_read_burst_length = 64 depth = 65536
#pragma HLS INTERFACE mode = m_axi port = x_hist offset = slave bundle = gmem_state depth = 4096
#pragma HLS INTERFACE mode = m_axi port = h offset = slave bundle = gmem_state depth = 4096
#pragma HLS INTERFACE mode = m_axi port = b offset = slave bundle = gmem_state depth = 4096
#pragma HLS INTERFACE mode = m_axi port = c offset = slave bundle = gmem_state depth = 4096
#pragma HLS INTERFACE mode = m_axi port = z offset = slave bundle = gmem_state depth = 4096
#pragma HLS INTERFACE mode = m_axi port = astro offset = slave bundle = gmem_state depth = 4096
#pragma HLS INTERFACE mode = m_axi port = sign offset = slave bundle = gmem_state depth = 4096
#pragma HLS INTERFACE mode = m_axi port = kappa offset = slave bundle = gmem_state depth = 4096
#pragma HLS INTERFACE mode = m_axi port = w_k offset = slave bundle = gmem_state depth = 4096
#pragma HLS INTERFACE mode = m_axi port = tr_pre offset = slave bundle = gmem_state depth = 8192
#pragma HLS INTERFACE mode = m_axi port = tr_post offset = slave bundle = gmem_state depth = 8192
#pragma HLS INTERFACE mode = m_axi port = rate offset = slave bundle = gmem_state depth = 4096
#pragma HLS INTERFACE mode = m_axi port = theta offset = slave bundle = gmem_state depth = 4096
#pragma HLS INTERFACE mode = m_axi port = scale offset = slave bundle = gmem_state depth = 4096
#pragma HLS INTERFACE mode = m_axi port = params offset = slave bundle = gmem_state depth = 54
#pragma HLS INTERFACE mode = m_axi port = inputs offset = slave bundle = gmem_state depth = 4096
#pragma HLS INTERFACE mode = m_axi port = stats offset = slave bundle = gmem_state depth = 8196
#pragma HLS INTERFACE mode = s_axilite port = return
  /* On chip: the delay line and h by lane (16 banks each), one copy per
   * process that reads them; the per-neuron state the neurons read. The
   * delay lines are the largest arrays: UltraRAM. */
  static float xh_f[kLanes][HMN_HLS_MAX_DELAY * kWpr];
  static float xh_u[kLanes][HMN_HLS_MAX_DELAY * kWpr];
  static float h_a[kLanes][kWpr];
  static float h_u[kLanes][kWpr];
  static float b_old[1][HMN_HLS_MAX_OUT];
  static float c_old[1][HMN_HLS_MAX_OUT];
  static float astro_old[1][HMN_HLS_MAX_OUT];
  static float sign_ld[1][HMN_HLS_MAX_OUT];
  static float pi_ld[1][HMN_HLS_MAX_OUT];
  /* The rule families' state (load_family): the presynaptic traces by
   * lane, as h; the per-neuron state; z as stored, for store_family. */
  static float r1_u[kLanes][kWpr];
  static float r2_u[kLanes][kWpr];
  static float o1_ld[1][HMN_HLS_MAX_OUT];
  static float o2_ld[1][HMN_HLS_MAX_OUT];
  static float rate_ld[1][HMN_HLS_MAX_OUT];
  static float theta_ld[1][HMN_HLS_MAX_OUT];
  static float scale_ld[1][HMN_HLS_MAX_OUT];
  static float z_st[1][HMN_HLS_MAX_OUT];
#pragma HLS ARRAY_PARTITION variable = xh_f type = complete dim = 1
#pragma HLS ARRAY_PARTITION variable = xh_u type = complete dim = 1
#pragma HLS ARRAY_PARTITION variable = h_a type = complete dim = 1
#pragma HLS ARRAY_PARTITION variable = h_u type = complete dim = 1
#pragma HLS ARRAY_PARTITION variable = r1_u type = complete dim = 1
#pragma HLS ARRAY_PARTITION variable = r2_u type = complete dim = 1
#pragma HLS BIND_STORAGE variable = xh_f type = ram_2p impl = uram
#pragma HLS BIND_STORAGE variable = xh_u type = ram_2p impl = uram

  layer_t L;
  read_layer(params, L);
  hmnk_step S;
  read_step(inputs, S);
  hmnk_u32 slot = S.slot;
  /* The host checks the shape against the build's maxima; this guard only
   * keeps a wrong params buffer from writing past the on-chip arrays. */
  if (L.n_in == 0u || L.n_in > (hmnk_u32)HMN_HLS_MAX_IN || L.n_out == 0u ||
      L.n_out > (hmnk_u32)HMN_HLS_MAX_OUT || L.delay == 0u ||
      L.delay > (hmnk_u32)HMN_HLS_MAX_DELAY || slot >= L.delay || L.n_mod == 0u ||
      L.astro_source >= L.n_mod)
    return;
  now_t now;
  now.slot = slot;
  now.at.seed_lo = L.seed_lo;
  now.at.seed_hi = L.seed_hi;
  now.at.t_lo = S.t_lo;
  now.at.t_hi = S.t_hi;
  now.eta_local = S.eta_local;
  now.eta_global = S.eta_global;
  now.cos_phase = S.cos_phase;
  now.sin_phase = S.sin_phase;
  now.action1 = S.action1;
  /* After the record the inputs are floats: x(t), E(t), C_global(t), pi
   * (a cast between native types, which HLS keeps on the same port). */
  const float *x_in = reinterpret_cast<const float *>(inputs + HMN_FPGA_IN_X);
  const float *mod = x_in + L.n_in;
  const float *pi = mod + L.n_mod + L.d_ctx;
  bool forward = S.forward != 0u;

  load_inputs(x_hist, h, L, xh_f, xh_u, h_a, h_u);
  load_neurons(b, c, astro, sign, pi, forward ? 0u : now.action1, L, b_old, c_old, astro_old,
               sign_ld, pi_ld);
  push_inputs(x_in, x_hist, h, L, slot, !forward, xh_f, xh_u, h_a, h_u);
  if (forward) {
    forward_region(w, tau, stats, L, now, xh_f, b_old);
    return;
  }
  load_family(tr_pre, tr_post, rate, theta, scale, L, r1_u, r2_u, o1_ld, o2_ld, rate_ld, theta_ld,
              scale_ld);
  now.g = hmnk_global_modulation(L.global_attention, L.similarity, L.beta_global, kappa, w_k, mod,
                                 mod + L.n_mod, (int)L.n_mod, (int)L.d_ctx);
  now.e_ne = mod[L.astro_source];
  step_region(w, psi_f, psi_s, phi, tau, b, c, z, astro, stats, L, now, xh_f, xh_u, h_a, h_u,
              b_old, c_old, astro_old, sign_ld, pi_ld, r1_u, r2_u, o1_ld, o2_ld, rate_ld,
              theta_ld, scale_ld, z_st);
  store_family(L, slot, xh_u, r1_u, r2_u, o1_ld, o2_ld, rate_ld, theta_ld, scale_ld, z_st, tr_pre,
               tr_post, rate, theta, scale);
}
