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

#endif /* HMN_PORT_H */
