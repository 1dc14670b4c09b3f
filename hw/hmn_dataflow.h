/*
 * hmn_dataflow.h - the dataflow region's streams and processes, written
 * once for Vitis HLS and for the C-simulation.
 *
 *   HMN_STREAM(type, name, depth)  an hls::stream of that depth
 *   HMN_PROCESS(call);             one process of the region
 *   HMN_REGION_END();              after the last process
 *
 * For HLS (__SYNTHESIS__) these are the stream with its
 * `#pragma HLS STREAM depth`, the plain call, and nothing. In the
 * C-simulation the stream learns its depth, and the processes run one
 * after another or each in a thread of its own over streams of that
 * depth (sim/include/hmn_sim_dataflow.h), which is how the C-simulation
 * finds a region that would deadlock on the card.
 */
#ifndef HMN_DATAFLOW_H
#define HMN_DATAFLOW_H

#include "hmn_hls.h"

#ifdef __SYNTHESIS__
#define HMN_STREAM(type, name, fifo_depth) \
  hls::stream<type> name(#name);      \
  HMN_HLS_PRAGMA(HLS STREAM variable = name depth = fifo_depth)
#define HMN_PROCESS(call) call
#define HMN_REGION_END() ((void)0)
#else
#include "hmn_sim_dataflow.h"
#define HMN_STREAM(type, name, fifo_depth) \
  hls::stream<type> name(#name);      \
  name.set_depth(fifo_depth)
#define HMN_PROCESS(call) hmn_sim::process([&]() { call; })
#define HMN_REGION_END() hmn_sim::join()
#endif

#endif /* HMN_DATAFLOW_H */
