/*
 * opencl_xclbin.c - the FPGA kernel's program on XRT's OpenCL platform,
 * which builds nothing from source (clCreateProgramWithSource fails
 * there): the bitstream that fits the card, checked by bitstreams.c, goes
 * in through clCreateProgramWithBinary. XRT's OpenCL device is named
 * after the card's platform, which is what picks the bitstream.
 */
#include "fpga/bitstreams.h"
#include "opencl/opencl.h"

#include <stdlib.h>

int hmn__cl_program_from_xclbin(cl_context ctx, const hmn__cl_device *dev, const hmn_config *cfg,
                                cl_program *out, hmn_error *err) {
  hmn__bitstream bits;
  cl_program prog = NULL;
  *out = NULL;
  const char *emulation = getenv("XCL_EMULATION_MODE");
  if (emulation == NULL || emulation[0] == '\0') emulation = "hw";
  int rc = hmn__bitstream_pick(dev->info.name, emulation, cfg, &bits, err);
  if (rc != HMN_OK) return rc;
  const unsigned char *binaries[1] = {bits.data};
  cl_int status = CL_SUCCESS, e = CL_SUCCESS;
  prog = clCreateProgramWithBinary(ctx, 1, &dev->device, &bits.len, binaries, &status, &e);
  if (prog == NULL || e != CL_SUCCESS || status != CL_SUCCESS) {
    rc = hmn__fail(err, HMN_EBUILD, "OpenCL device '%s' rejects bitstream '%s': %s",
                   dev->info.name, bits.info.file,
                   hmn__cl_error_name(e != CL_SUCCESS ? e : status));
    goto cleanup;
  }
  if ((e = clBuildProgram(prog, 1, &dev->device, "", NULL, NULL)) != CL_SUCCESS) {
    rc = hmn__fail(err, HMN_EBUILD, "OpenCL device '%s' cannot load bitstream '%s': %s",
                   dev->info.name, bits.info.file, hmn__cl_error_name(e));
    goto cleanup;
  }
  *out = prog;
  prog = NULL;
cleanup:
  if (prog != NULL) clReleaseProgram(prog);
  hmn__bitstream_free(&bits);
  return rc;
}
