/*
 * hmn_hls.h - synthesis hints for the hardware-path sources (hw/ and the
 * kernels/ headers that only the FPGA kernel includes), written so that the
 * same text compiles as C11, as C++ and under the HLS front end.
 *
 * Vitis HLS reads `#pragma HLS ...` inside function bodies. Header code
 * shared with gcc builds emits them through HMN_HLS_PRAGMA, which expands
 * to nothing unless the synthesis front end (__SYNTHESIS__) or a build
 * that wants to see them (HMN_HLS) is compiling: gcc would otherwise warn
 * about every unknown pragma. hw/ C++ sources write their pragmas
 * directly and are compiled with -Wno-unknown-pragmas in the C-simulation.
 *
 * Loops carry a label (the name a csynth report lists them under) and a
 * trip count (the range the report's latency is computed over). Labels
 * that nothing jumps to draw -Wunused-label from gcc, so hardware-path
 * builds pass -Wno-unused-label.
 */
#ifndef HMN_HLS_H
#define HMN_HLS_H

#if defined(__SYNTHESIS__) || defined(HMN_HLS)
#define HMN_HLS_PRAGMA(text) _Pragma(#text)
#else
#define HMN_HLS_PRAGMA(text)
#endif

/* A loop's trip count, for the report's latency range. */
#define HMN_HLS_TRIPCOUNT(lo, hi) HMN_HLS_PRAGMA(HLS LOOP_TRIPCOUNT min=lo max=hi)

#endif /* HMN_HLS_H */
