/*
 * hmn_port.h - the portability layer of the HMN kernels (SPEC section 10).
 *
 * Every kernel body is written once, in the C subset that OpenCL C and HLS C
 * share. This header maps the few places where the two differ: address
 * spaces, the kernel qualifier, the loop over work-items (an NDRange on
 * CPUs and GPUs, a pipelined loop over the same range on an FPGA), bit
 * casts, restrict and attributes. Compiled as OpenCL C when the compiler
 * says so (__OPENCL_VERSION__ or __OPENCL_C_VERSION__), otherwise as plain
 * C99 (gcc for the HLS
 * C-simulation, Vitis HLS for synthesis with HMN_HLS defined). Every other
 * kernel file includes it first.
 */
#ifndef HMN_PORT_H
#define HMN_PORT_H

#if defined(__OPENCL_VERSION__) || defined(__OPENCL_C_VERSION__)
#define HMN_OPENCL_C 1
/* Clang for SPIR targets defines only the language version, and Random123
 * picks its OpenCL support by __OPENCL_VERSION__. */
#ifndef __OPENCL_VERSION__
#define __OPENCL_VERSION__ __OPENCL_C_VERSION__
#endif
#endif

#ifdef HMN_OPENCL_C
/* a*b+c fused into an FMA rounds once instead of twice, which changes bits
 * between devices (SPEC section 5). */
#pragma OPENCL FP_CONTRACT OFF

#define HMN_KERNEL __kernel
#define HMN_GLOBAL __global
#define HMN_RESTRICT restrict
#define HMN_INLINE static inline
/* Fixes a kernel's work-group size at compile time, so the host reads it
 * back from the kernel instead of keeping a second copy of the tunable. */
#define HMN_WORK_GROUP(size) __attribute__((reqd_work_group_size(size, 1, 1)))

typedef uchar hmnk_u8;
typedef uint hmnk_u32;
typedef int hmnk_i32;

/* One work-item per index: the host rounds the global size up to whole
 * work-groups, so items past the end skip the body. The `for` runs at most
 * once; it keeps the same shape as the HLS loop below. */
#define HMN_ITEM_LOOP(var, count)                                            \
  for (hmnk_u32 var = (hmnk_u32)get_global_id(0); var < (hmnk_u32)(count); \
       var = (hmnk_u32)(count))
/* Work done once per launch (not per item): item 0 does it. */
#define HMN_ONCE if (get_global_id(0) == 0)
/* Loop pipelining is a hardware notion; an NDRange has nothing to say. */
#define HMN_PIPELINE
/* A hint that the cache line at p is wanted soon (write: for writing). A
 * CPU driver runs each work-group's phases one after another on one core,
 * and the compute-only phases (the random numbers, the softmax
 * numerators) leave the memory system idle; touching the lines of the
 * next phase from them lets the loads arrive meanwhile. The host defines
 * HMN_CPU_PREFETCH for CPU devices compiled by clang (PoCL); elsewhere
 * the hint is nothing, as it means nothing to a GPU's memory system. */
#if defined(HMN_CPU_PREFETCH) && defined(__clang__)
#define HMN_PREFETCH(p) __builtin_prefetch((p), 0, 3)
#define HMN_PREFETCH_WRITE(p) __builtin_prefetch((p), 1, 3)
#else
#define HMN_PREFETCH(p) ((void)0)
#define HMN_PREFETCH_WRITE(p) ((void)0)
#endif

HMN_INLINE hmnk_u32 hmnk_as_uint(float f) { return as_uint(f); }
HMN_INLINE float hmnk_as_float(hmnk_u32 u) { return as_float(u); }
/* Correctly rounded when built with -cl-fp32-correctly-rounded-divide-sqrt,
 * which the host passes wherever the device supports it. */
HMN_INLINE float hmnk_sqrt(float x) { return sqrt(x); }

#else /* HLS C and the C-simulation */

#include <math.h>
#include <stdint.h>

#define HMN_KERNEL
#define HMN_GLOBAL
#define HMN_RESTRICT restrict
#define HMN_INLINE static inline
/* Work-group sizes are an NDRange notion; on an FPGA one pipeline serves
 * the whole range. */
#define HMN_WORK_GROUP(size)

typedef uint8_t hmnk_u8;
typedef uint32_t hmnk_u32;
typedef int32_t hmnk_i32;

#define HMN_ITEM_LOOP(var, count) for (hmnk_u32 var = 0; var < (hmnk_u32)(count); var++)
#define HMN_ONCE
/* One new item per clock. Only emitted for HLS: gcc warns about unknown
 * pragmas in the C-simulation. */
#if defined(HMN_HLS) || defined(__SYNTHESIS__)
#define HMN_PIPELINE _Pragma("HLS PIPELINE II=1")
#else
#define HMN_PIPELINE
#endif

/* A union is the C99 way to reinterpret bits without breaking aliasing
 * rules; HLS turns it into wires. */
HMN_INLINE hmnk_u32 hmnk_as_uint(float f) {
  union {
    float f;
    hmnk_u32 u;
  } v;
  v.f = f;
  return v.u;
}
HMN_INLINE float hmnk_as_float(hmnk_u32 u) {
  union {
    float f;
    hmnk_u32 u;
  } v;
  v.u = u;
  return v.f;
}
HMN_INLINE float hmnk_sqrt(float x) { return sqrtf(x); }

#endif /* HMN_OPENCL_C */

/* ---- FPGA variants (kernels/hmn_fpga.h, hw/) ----
 *
 * On-chip arrays, 512-bit words, 64-bit counters, and the synthesis hints.
 * The two FPGA compilers want hints in different places: v++ for OpenCL C
 * (Vitis up to 2023.1) takes attributes before a loop or a function
 * (HMN_XCL_*, emitted when the hw/ build defines HMN_XILINX_CL), Vitis HLS
 * takes pragmas inside a body (HMN_HLS_* and HMN_PIPELINE above, emitted
 * under HMN_HLS or __SYNTHESIS__). A hinted site carries both macros; every
 * other compiler sees neither. */

/* Floats per 512-bit word: the lanes of the FPGA kernels. */
#define HMN_WIDE_LANES 16

#if defined(HMN_OPENCL_C) && defined(HMN_XILINX_CL)
#define HMN_XCL_PIPELINE __attribute__((xcl_pipeline_loop(1)))
#define HMN_XCL_DATAFLOW __attribute__((xcl_dataflow))
#define HMN_XCL_UNROLL __attribute__((opencl_unroll_hint))
#else
#define HMN_XCL_PIPELINE
#define HMN_XCL_DATAFLOW
#define HMN_XCL_UNROLL
#endif

#if !defined(HMN_OPENCL_C) && (defined(HMN_HLS) || defined(__SYNTHESIS__))
#define HMN_HLS_DATAFLOW _Pragma("HLS DATAFLOW")
#define HMN_HLS_UNROLL _Pragma("HLS UNROLL")
#else
#define HMN_HLS_DATAFLOW
#define HMN_HLS_UNROLL
#endif

#ifdef HMN_OPENCL_C
#define HMN_LOCAL __local
typedef ulong hmnk_u64;
/* A float16 pointer is a 512-bit AXI port to v++; uchar16 is the 128-bit
 * word of 16 one-byte delays. The lanes of a word are moved one element
 * at a time through a scalar view of the same memory (v++ merges the 16
 * consecutive accesses of a pipelined iteration into the one word).
 * [tool: Oclgrind 21.10 loses track of initialization through vector
 * element moves (vstore16, .s0 .. .sf into an array) and would report
 * every lane as uninitialized] */
typedef float16 hmnk_wide;
typedef uchar16 hmnk_wide_u8;
HMN_INLINE void hmnk_wide_get(HMN_GLOBAL const hmnk_wide *src, hmnk_u32 word, float *lanes) {
  HMN_GLOBAL const float *p = (HMN_GLOBAL const float *)src + word * HMN_WIDE_LANES;
  for (int l = 0; l < HMN_WIDE_LANES; l++) lanes[l] = p[l];
}
HMN_INLINE void hmnk_wide_set(HMN_GLOBAL hmnk_wide *dst, hmnk_u32 word, const float *lanes) {
  HMN_GLOBAL float *p = (HMN_GLOBAL float *)dst + word * HMN_WIDE_LANES;
  for (int l = 0; l < HMN_WIDE_LANES; l++) p[l] = lanes[l];
}
HMN_INLINE void hmnk_wide_get_u8(HMN_GLOBAL const hmnk_wide_u8 *src, hmnk_u32 word,
                                 hmnk_u8 *lanes) {
  HMN_GLOBAL const hmnk_u8 *p = (HMN_GLOBAL const hmnk_u8 *)src + word * HMN_WIDE_LANES;
  for (int l = 0; l < HMN_WIDE_LANES; l++) lanes[l] = p[l];
}
#else
#define HMN_LOCAL
typedef uint64_t hmnk_u64;
/* A struct of 16 floats is one 512-bit AXI word for Vitis HLS (structs on
 * the interface are aggregated into one wide bus) and 64 plain bytes for
 * gcc. */
typedef struct {
  float v[HMN_WIDE_LANES];
} hmnk_wide;
typedef struct {
  hmnk_u8 v[HMN_WIDE_LANES];
} hmnk_wide_u8;
HMN_INLINE void hmnk_wide_get(HMN_GLOBAL const hmnk_wide *src, hmnk_u32 word, float *lanes) {
  hmnk_wide w = src[word];
  for (int l = 0; l < HMN_WIDE_LANES; l++) {
    HMN_HLS_UNROLL
    lanes[l] = w.v[l];
  }
}
HMN_INLINE void hmnk_wide_set(HMN_GLOBAL hmnk_wide *dst, hmnk_u32 word, const float *lanes) {
  hmnk_wide w;
  for (int l = 0; l < HMN_WIDE_LANES; l++) {
    HMN_HLS_UNROLL
    w.v[l] = lanes[l];
  }
  dst[word] = w;
}
HMN_INLINE void hmnk_wide_get_u8(HMN_GLOBAL const hmnk_wide_u8 *src, hmnk_u32 word,
                                 hmnk_u8 *lanes) {
  hmnk_wide_u8 w = src[word];
  for (int l = 0; l < HMN_WIDE_LANES; l++) {
    HMN_HLS_UNROLL
    lanes[l] = w.v[l];
  }
}
#endif

#endif /* HMN_PORT_H */
