/*
 * hmn_hls_types.h - AMD's HLS types for the hw/ sources: ap_uint<N> and
 * hls::stream.
 *
 * Under g++ (the C-simulation) the arbitrary-precision headers come from
 * third_party/HLS_arbitrary_Precision_Types. Their ap_private default
 * constructor masks the unused top bits of a word it has not yet
 * initialized, which g++ reports as a use of an uninitialized value at
 * every default-constructed ap_uint; the value is overwritten before any
 * use, so that one warning is silenced at the header's own location.
 */
#ifndef HMN_HLS_TYPES_H
#define HMN_HLS_TYPES_H

#if defined(__GNUC__) && !defined(__clang__) && !defined(__SYNTHESIS__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <ap_int.h>
#pragma GCC diagnostic pop
#else
#include <ap_int.h>
#endif
#include <hls_stream.h>

#endif /* HMN_HLS_TYPES_H */
