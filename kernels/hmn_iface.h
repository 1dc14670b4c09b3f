/*
 * hmn_iface.h - the interface between the host and every kernel path, as
 * tables that both sides expand (X-macros, like the config key table in
 * host/src/core/config.c). Nothing here is written twice: the kernels, the
 * host's argument binding and the FPGA parameter layout are generated
 * from these lines, and the host checks at compile time that its public
 * enums agree with them.
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
  X(HMN_STREAM_STOCHASTIC, 1)

#ifndef HMN_H
#define HMN__IFACE_ENUMERATOR(name, value) name = value,
enum { HMN_IFACE_MODES(HMN__IFACE_ENUMERATOR) HMN__IFACE_MODES_END };
#undef HMN__IFACE_ENUMERATOR
#endif

#endif /* HMN_IFACE_H */
