/*
 * hmn_step_hls.c - the FPGA kernel hmn_fpga_step as an HLS C top function,
 * for Vitis releases that no longer compile OpenCL C kernels (after
 * 2023.1). The body is kernels/hmn_fpga.h, the same one
 * kernels/hmn_fpga.cl wraps; this file adds only what HLS needs to hear:
 * which AXI port each argument gets, and how the on-chip arrays are split
 * into banks.
 *
 * Ports: the five synapse arrays get an AXI master each (512 bits; 128
 * for tau), so that the .cfg files in hw/ can put each in a memory bank of
 * its own; the small per-input and per-neuron arrays share one. Scalars
 * and buffer addresses arrive over AXI-Lite.
 *
 * Compiled by gcc this file is the HLS C-simulation (sim/, and
 * tests/test_fpga_csim.c runs it against ref): gcc ignores the
 * `#pragma HLS` lines (the build passes -Wno-unknown-pragmas), and the
 * on-chip arrays are an ordinary local variable (about 660 KiB of stack at
 * the default maxima).
 */
#include "hmn_port.h"
#include "hmn_math.h"
#include "hmn_synapse.h"
#include "hmn_fpga_params.h"
#include "hmn_fpga.h"

#include "hmn_step_hls.h"

void hmn_fpga_step(hmnk_wide *w, hmnk_wide *psi_f, hmnk_wide *psi_s, const hmnk_wide *phi,
                   const hmnk_wide_u8 *tau, float *x_hist, float *h, float *b, float *c, float *z,
                   float *astro, const float *sign, const float *kappa, const float *w_k,
                   const hmnk_u32 *params, const float *inputs, hmnk_u32 *stats, hmnk_u32 slot,
                   hmnk_u32 t_lo, hmnk_u32 t_hi, float eta_local, float eta_global,
                   float phase_hi, float phase_lo) {
#pragma HLS INTERFACE m_axi port=w offset=slave bundle=gmem_w max_read_burst_length=64 max_write_burst_length=64
#pragma HLS INTERFACE m_axi port=psi_f offset=slave bundle=gmem_pf max_read_burst_length=64 max_write_burst_length=64
#pragma HLS INTERFACE m_axi port=psi_s offset=slave bundle=gmem_ps max_read_burst_length=64 max_write_burst_length=64
#pragma HLS INTERFACE m_axi port=phi offset=slave bundle=gmem_phi max_read_burst_length=64
#pragma HLS INTERFACE m_axi port=tau offset=slave bundle=gmem_tau max_read_burst_length=64
#pragma HLS INTERFACE m_axi port=x_hist offset=slave bundle=gmem_state
#pragma HLS INTERFACE m_axi port=h offset=slave bundle=gmem_state
#pragma HLS INTERFACE m_axi port=b offset=slave bundle=gmem_state
#pragma HLS INTERFACE m_axi port=c offset=slave bundle=gmem_state
#pragma HLS INTERFACE m_axi port=z offset=slave bundle=gmem_state
#pragma HLS INTERFACE m_axi port=astro offset=slave bundle=gmem_state
#pragma HLS INTERFACE m_axi port=sign offset=slave bundle=gmem_state
#pragma HLS INTERFACE m_axi port=kappa offset=slave bundle=gmem_state
#pragma HLS INTERFACE m_axi port=w_k offset=slave bundle=gmem_state
#pragma HLS INTERFACE m_axi port=params offset=slave bundle=gmem_state
#pragma HLS INTERFACE m_axi port=inputs offset=slave bundle=gmem_state
#pragma HLS INTERFACE m_axi port=stats offset=slave bundle=gmem_state
#pragma HLS INTERFACE s_axilite port=slot
#pragma HLS INTERFACE s_axilite port=t_lo
#pragma HLS INTERFACE s_axilite port=t_hi
#pragma HLS INTERFACE s_axilite port=eta_local
#pragma HLS INTERFACE s_axilite port=eta_global
#pragma HLS INTERFACE s_axilite port=phase_hi
#pragma HLS INTERFACE s_axilite port=phase_lo
#pragma HLS INTERFACE s_axilite port=return
  hmnk_fpga_chip chip;
  /* The 16 lanes of a word read 16 consecutive inputs i: cyclic banks by
   * 16 give each lane its own (HMN_FPGA_MAX_IN is a multiple of 16, so
   * the bank of x_hist[row][i] is i mod 16 in every row). */
#pragma HLS ARRAY_PARTITION variable=chip.x_hist type=cyclic factor=16
#pragma HLS ARRAY_PARTITION variable=chip.h type=cyclic factor=16
  /* The block buffers pass 16 synapses per clock between the stages. */
#pragma HLS ARRAY_PARTITION variable=chip.blk_w type=cyclic factor=16
#pragma HLS ARRAY_PARTITION variable=chip.blk_pf type=cyclic factor=16
#pragma HLS ARRAY_PARTITION variable=chip.blk_ps type=cyclic factor=16
#pragma HLS ARRAY_PARTITION variable=chip.blk_phi type=cyclic factor=16
#pragma HLS ARRAY_PARTITION variable=chip.blk_tau type=cyclic factor=16
#pragma HLS ARRAY_PARTITION variable=chip.out_w type=cyclic factor=16
#pragma HLS ARRAY_PARTITION variable=chip.out_pf type=cyclic factor=16
#pragma HLS ARRAY_PARTITION variable=chip.out_ps type=cyclic factor=16
  /* The delay line is the largest array: UltraRAM where the part has it. */
#pragma HLS BIND_STORAGE variable=chip.x_hist type=ram_2p impl=uram
  hmnk_fpga_step(&chip, w, psi_f, psi_s, phi, tau, x_hist, h, b, c, z, astro, sign, kappa, w_k,
                 params, inputs, stats, slot, t_lo, t_hi, eta_local, eta_global, phase_hi,
                 phase_lo);
}
