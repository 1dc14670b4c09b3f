/*
 * Random123/philox.h as the hardware path sees it: not Random123, but the
 * names kernels/hmn_synapse.h uses (philox4x32, its counter and key types
 * and round constants) served by kernels/hmn_philox.h.
 *
 * hw/ puts this directory first on its include path, so the per-equation
 * bodies of hmn_synapse.h compile for the FPGA without Random123's feature
 * headers (which stop with #error without a host architecture macro) and
 * without assert. The bits are Random123's: tests/test_fpga_philox.c.
 */
#ifndef HMN_HW_PHILOX_API_H
#define HMN_HW_PHILOX_API_H

#include "hmn_philox.h"

typedef hmnk_philox_ctr philox4x32_ctr_t;
typedef hmnk_philox_key philox4x32_key_t;

#define PHILOX_M4x32_0 HMN_PHILOX_M0
#define PHILOX_M4x32_1 HMN_PHILOX_M1
#define PHILOX_W32_0 HMN_PHILOX_W0
#define PHILOX_W32_1 HMN_PHILOX_W1

HMN_INLINE philox4x32_ctr_t philox4x32(philox4x32_ctr_t ctr, philox4x32_key_t key) {
  return hmnk_philox4x32_10(ctr, key);
}

#endif /* HMN_HW_PHILOX_API_H */
