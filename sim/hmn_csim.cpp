/*
 * hmn_csim.cpp - the C interface of the HLS C-simulation: moves padded-row
 * arrays of 16-lane words into AMD's ap_uint<512> words, runs the top
 * function hmn_fpga_step (hw/hmn_step_hls.cpp, compiled by g++), and moves
 * them back.
 */
#include "hmn_hls_types.h"

#include <vector>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define HMN_CSIM_CAN_FLUSH 1
#else
#define HMN_CSIM_CAN_FLUSH 0
#endif

#include "hmn_bank_audit.h"
#include "hmn_sim_dataflow.h"
#include "hmn_step_hls.h"

extern "C" void hmn_fpga_step(ap_uint<512> *w, ap_uint<512> *psi_f, ap_uint<512> *psi_s,
                              const ap_uint<512> *phi, const ap_uint<128> *tau, float *x_hist,
                              float *h, float *b, float *c, float *z, float *astro,
                              const float *sign, const float *kappa, const float *w_k,
                              float *tr_pre, float *tr_post, float *rate, float *theta,
                              float *scale, const hmnk_u32 *params, const hmnk_u32 *inputs,
                              hmnk_u32 *stats);

namespace {

/* Flush-to-zero and denormals-are-zero, as AMD's floating-point cores
 * treat subnormal results and operands, around the kernel only: the
 * caller's own arithmetic (ref, in the tests) keeps IEEE subnormals. */
bool flush_subnormals = false;

class flush_scope {
 public:
  flush_scope() : saved_(0) {
#if HMN_CSIM_CAN_FLUSH
    saved_ = _mm_getcsr();
    if (flush_subnormals) _mm_setcsr(saved_ | 0x8040u); /* FTZ | DAZ */
#endif
  }
  ~flush_scope() {
#if HMN_CSIM_CAN_FLUSH
    _mm_setcsr(saved_);
#endif
  }

 private:
  unsigned int saved_;
};

std::vector<ap_uint<512> > to_words(const hmnk_wide *src, size_t n) {
  std::vector<ap_uint<512> > out(n > 0 ? n : 1, 0);
  for (size_t k = 0; k < n; k++)
    for (int l = 0; l < HMN_WIDE_LANES; l++)
      out[k].range(32 * l + 31, 32 * l) = hmnk_as_uint(src[k].v[l]);
  return out;
}

void from_words(const std::vector<ap_uint<512> > &src, hmnk_wide *dst, size_t n) {
  for (size_t k = 0; k < n; k++)
    for (int l = 0; l < HMN_WIDE_LANES; l++)
      dst[k].v[l] = hmnk_as_float((hmnk_u32)src[k].range(32 * l + 31, 32 * l));
}

}  // namespace

extern "C" void hmn_hls_csim_step(hmnk_wide *w, hmnk_wide *psi_f, hmnk_wide *psi_s,
                                  const hmnk_wide *phi, const hmnk_wide_u8 *tau, size_t n_words,
                                  float *x_hist, float *h, float *b, float *c, float *z,
                                  float *astro, const float *sign, const float *kappa,
                                  const float *w_k, float *tr_pre, float *tr_post, float *rate,
                                  float *theta, float *scale, const hmnk_u32 *params,
                                  const hmnk_u32 *inputs, hmnk_u32 *stats) {
  std::vector<ap_uint<512> > w_d = to_words(w, n_words), pf_d = to_words(psi_f, n_words),
                             ps_d = to_words(psi_s, n_words), phi_d = to_words(phi, n_words);
  std::vector<ap_uint<128> > tau_d(n_words > 0 ? n_words : 1, 0);
  for (size_t k = 0; k < n_words; k++)
    for (int l = 0; l < HMN_WIDE_LANES; l++) tau_d[k].range(8 * l + 7, 8 * l) = tau[k].v[l];
  {
    flush_scope mode;
    hmn_fpga_step(w_d.data(), pf_d.data(), ps_d.data(), phi_d.data(), tau_d.data(), x_hist, h, b,
                  c, z, astro, sign, kappa, w_k, tr_pre, tr_post, rate, theta, scale, params,
                  inputs, stats);
  }
  from_words(w_d, w, n_words);
  from_words(pf_d, psi_f, n_words);
  from_words(ps_d, psi_s, n_words);
}

extern "C" size_t hmn_hls_csim_audit_violations(void) { return hmn_audit::violations(); }
extern "C" const char *hmn_hls_csim_audit_first(void) { return hmn_audit::first_violation(); }
extern "C" size_t hmn_hls_csim_audit_iterations(const char *loop) {
  return hmn_audit::iterations(loop);
}
extern "C" void hmn_hls_csim_audit_reset(void) { hmn_audit::reset(); }

extern "C" void hmn_hls_csim_audit_probe(int accesses) {
  static float probe[2][4];
  HMN_AUDIT_ITER("audit_probe");
  for (int k = 0; k < accesses; k++) HMN_BANK(probe, 0)[k % 4] = (float)k;
  HMN_AUDIT_ITER("audit_probe_end");
}

extern "C" int hmn_hls_csim_flush_subnormals(int on) {
  if (!HMN_CSIM_CAN_FLUSH) return 0;
  flush_subnormals = on != 0;
  return 1;
}

extern "C" float hmn_hls_csim_product(float a, float b) {
  volatile float x = a, y = b, r = 0.0f;
  {
    flush_scope mode;
    r = x * y; /* stored inside the scope, so the multiply stays there */
  }
  return r;
}

extern "C" void hmn_hls_csim_threaded(int on) { hmn_sim::set_threaded(on != 0); }

extern "C" const char *hmn_hls_csim_deadlock(void) {
  return hmn_sim::deadlock().empty() ? NULL : hmn_sim::deadlock().c_str();
}

extern "C" void hmn_hls_csim_clear_deadlock(void) { hmn_sim::clear_deadlock(); }

extern "C" void hmn_hls_csim_override_depth(const char *stream, int depth) {
  hmn_sim::override_depth(stream, depth);
}
