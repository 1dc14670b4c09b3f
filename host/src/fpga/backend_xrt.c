/*
 * backend_xrt.c - the "xrt" backend: the FPGA kernel hmn_fpga_step on an
 * Alveo card (or XRT's sw_emu/hw_emu emulators) through XRT's native C
 * API: device open, xclbin load, one buffer object per kernel buffer in
 * the memory bank the bitstream connects it to, one run object started
 * once per step, snapshots as device-side buffer copies.
 *
 * Built only where XRT was found (cmake/HmnXrt.cmake). Nothing calls into
 * XRT before hmn_xrt_check() has passed: XRT 2.13 aborts the process with
 * an uncaught exception when XILINX_XRT is unset, and hmn never aborts.
 *
 * A step writes the inputs buffer (its step record and values) and starts
 * the run; it does not wait for it. Whatever reads or writes the device next
 * (the next step, a pull, the statistics, a snapshot) waits first.
 *
 * The split: forward starts the same kernel with the step record's
 * FORWARD word set (eq 1 alone, z into the statistics buffer, no state
 * written), waits and reads z; learn is the step's run with the action in
 * the record and, for rule policy, pi formed on the host from that z.
 */
#include "fpga/bitstreams.h"
#include "fpga/layout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xrt.h>
#include <xrt/xrt_bo.h>
#include <xrt/xrt_device.h>
#include <xrt/xrt_kernel.h>

#define HMN__STATS_ON_DEVICE UINT64_MAX

typedef struct {
  char where[2 * HMN_DEVICE_TEXT_MAX + 16]; /* "Alveo card 0000:65:00.1 (platform)" */
  hmn__bitstream bits;
  xrtDeviceHandle dev;
  xrtKernelHandle kernel;
  xrtRunHandle run;
  xrtBufferHandle bo[HMN__FPGA_BUFFERS];
  xrtBufferHandle snap[HMN__FPGA_BUFFERS];
  float *inputs;     /* host staging of the inputs buffer */
  void *padded;      /* host staging of a synapse array in padded rows */
  float *fwd_z;      /* z as the last forward read it (n_out) */
  float *pi;         /* the policy rule's pi of the learning step (n_out) */
  bool running;      /* a run was started and not yet waited for */
  bool params_stale; /* the config may have changed since params were written */
} hmn__xrt_layer;

static const char *hmn__errno_text(void) { return errno != 0 ? strerror(errno) : "unknown error"; }

static void hmn__xrt_release(hmn__xrt_layer *x) {
  if (x->running) xrtRunWait(x->run);
  if (x->run != NULL) xrtRunClose(x->run);
  for (int k = 0; k < HMN__FPGA_BUFFERS; k++) {
    if (x->bo[k] != NULL) xrtBOFree(x->bo[k]);
    if (x->snap[k] != NULL) xrtBOFree(x->snap[k]);
  }
  if (x->kernel != NULL) xrtKernelClose(x->kernel);
  if (x->dev != NULL) xrtDeviceClose(x->dev);
  hmn__bitstream_free(&x->bits);
  hmn__free(x->inputs);
  hmn__free(x->padded);
  hmn__free(x->fwd_z);
  hmn__free(x->pi);
  hmn__free(x);
}

/* Wait for the run in flight; a run that did not complete leaves the
 * state undefined. */
static int hmn__xrt_wait(hmn_layer *layer, hmn_error *err) {
  hmn__xrt_layer *x = layer->backend_data;
  uint64_t t = layer->st.t;
  if (!x->running) return HMN_OK;
  enum ert_cmd_state state = xrtRunWait(x->run);
  x->running = false;
  if (state != ERT_CMD_STATE_COMPLETED) {
    hmn__layer_lose_state(layer);
    return hmn__fail(err, HMN_EDEVICE, "%s: step %llu of %s ended in state %d, not completed",
                     x->where, (unsigned long long)(t > 0 ? t - 1 : 0), HMN_FPGA_KERNEL_NAME,
                     (int)state);
  }
  return HMN_OK;
}

static int hmn__xrt_write(hmn__xrt_layer *x, int arg, const void *src, size_t bytes,
                          hmn_error *err) {
  errno = 0;
  if (xrtBOWrite(x->bo[arg], src, bytes, 0) != 0 ||
      xrtBOSync(x->bo[arg], XCL_BO_SYNC_BO_TO_DEVICE, bytes, 0) != 0)
    return hmn__fail(err, HMN_EDEVICE, "%s: writing '%s' (%zu bytes): %s", x->where,
                     hmn__fpga_arg_name(arg), bytes, hmn__errno_text());
  return HMN_OK;
}

/* `bytes` of buffer `arg` from byte `offset` on. */
static int hmn__xrt_read_at(hmn__xrt_layer *x, int arg, void *dst, size_t bytes, size_t offset,
                            hmn_error *err) {
  errno = 0;
  if (xrtBOSync(x->bo[arg], XCL_BO_SYNC_BO_FROM_DEVICE, bytes, offset) != 0 ||
      xrtBORead(x->bo[arg], dst, bytes, offset) != 0)
    return hmn__fail(err, HMN_EDEVICE, "%s: reading '%s' (%zu bytes at %zu): %s", x->where,
                     hmn__fpga_arg_name(arg), bytes, offset, hmn__errno_text());
  return HMN_OK;
}

static int hmn__xrt_read(hmn__xrt_layer *x, int arg, void *dst, size_t bytes, hmn_error *err) {
  return hmn__xrt_read_at(x, arg, dst, bytes, 0, err);
}

static int hmn__xrt_write_params(hmn_layer *layer, hmn_error *err) {
  hmn__xrt_layer *x = layer->backend_data;
  uint32_t params[HMN_FPGA_PARAM_WORDS];
  hmn__fpga_params(&layer->st.cfg, params);
  int rc = hmn__xrt_write(x, HMN__FPGA_PARAMS, params, sizeof params, err);
  if (rc == HMN_OK) x->params_stale = false;
  return rc;
}

/* A state array to or from its buffer; the synapse arrays (arguments
 * 0-4) travel in the kernel's padded rows (layout.h). */
static int hmn__xrt_pull(hmn_layer *layer, hmn_array which, hmn_error *err) {
  hmn__xrt_layer *x = layer->backend_data;
  const hmn_config *cfg = &layer->st.cfg;
  int rc = hmn__xrt_wait(layer, err), arg = hmn__fpga_array_arg(which);
  if (rc != HMN_OK || arg < 0) return rc;
  if (arg > 4) return hmn__xrt_read(x, arg, layer->st.arr[which], hmn__array_bytes(cfg, which), err);
  rc = hmn__xrt_read(x, arg, x->padded, hmn__fpga_padded_bytes(cfg, arg), err);
  if (rc == HMN_OK) hmn__fpga_unpad_rows(cfg, arg, x->padded, layer->st.arr[which]);
  return rc;
}

static int hmn__xrt_push(hmn_layer *layer, hmn_array which, hmn_error *err) {
  hmn__xrt_layer *x = layer->backend_data;
  const hmn_config *cfg = &layer->st.cfg;
  int rc = hmn__xrt_wait(layer, err), arg = hmn__fpga_array_arg(which);
  if (rc != HMN_OK || arg < 0) return rc;
  /* A checkpoint restore changes the config before it pushes. */
  x->params_stale = true;
  if (arg > 4) {
    rc = hmn__xrt_write(x, arg, layer->st.arr[which], hmn__array_bytes(cfg, which), err);
  } else {
    hmn__fpga_pad_rows(cfg, arg, layer->st.arr[which], x->padded);
    rc = hmn__xrt_write(x, arg, x->padded, hmn__fpga_padded_bytes(cfg, arg), err);
  }
  return rc;
}

/* The card `selector` names (index or PCI address prefix), else the
 * first. */
static int hmn__xrt_card(const char *selector, hmn_card_info *out, hmn_error *err) {
  hmn_card_info cards[16];
  size_t n = 0;
  int rc = hmn_fpga_cards(cards, sizeof cards / sizeof cards[0], &n, err);
  if (rc != HMN_OK) return rc;
  if (n > sizeof cards / sizeof cards[0]) n = sizeof cards / sizeof cards[0];
  for (size_t k = 0; k < n; k++) {
    char index[16];
    snprintf(index, sizeof index, "%d", cards[k].index);
    if (selector == NULL || selector[0] == '\0' || strcmp(selector, index) == 0 ||
        strncmp(cards[k].pci, selector, strlen(selector)) == 0) {
      *out = cards[k];
      return HMN_OK;
    }
  }
  return hmn__fail(err, HMN_EDEVICE, "backend 'xrt': no Alveo card matches '%s' (%zu cards; "
                   "`hmn devices` lists them)", selector != NULL ? selector : "", n);
}

/* Device open and xclbin load: the card (or emulator) and the bitstream
 * that fits it. */
static int hmn__xrt_open(hmn_layer *layer, hmn__xrt_layer *x, hmn_error *err) {
  /* hmn_xrt_check passed: unset, sw_emu or hw_emu. */
  const char *emulation = getenv("XCL_EMULATION_MODE");
  hmn_card_info card;
  int rc = HMN_OK;
  errno = 0;
  if (emulation != NULL) {
    snprintf(x->where, sizeof x->where, "XRT %s device 0", emulation);
    x->dev = xrtDeviceOpen(0);
  } else {
    if ((rc = hmn__xrt_card(layer->device_selector, &card, err)) != HMN_OK) return rc;
    snprintf(x->where, sizeof x->where, "Alveo card %s (%s)", card.pci, card.platform);
    x->dev = xrtDeviceOpenByBDF(card.pci);
  }
  if (x->dev == NULL)
    return hmn__fail(err, HMN_EDEVICE,
                     "%s: XRT cannot open it (%s); `xbutil examine` shows what XRT sees",
                     x->where, hmn__errno_text());
  rc = hmn__bitstream_pick(emulation != NULL ? NULL : card.platform,
                           emulation != NULL ? emulation : "hw", &layer->st.cfg, &x->bits, err);
  if (rc != HMN_OK) return rc;
  errno = 0;
  if (xrtDeviceLoadXclbin(x->dev, (const struct axlf *)x->bits.data) != 0)
    return hmn__fail(err, HMN_EDEVICE, "%s: XRT cannot load bitstream '%s': %s", x->where,
                     x->bits.info.file, hmn__errno_text());
  x->kernel = xrtPLKernelOpen(x->dev, x->bits.xclbin.uuid, HMN_FPGA_KERNEL_NAME);
  if (x->kernel == NULL)
    return hmn__fail(err, HMN_EDEVICE, "%s: XRT cannot open kernel %s of '%s': %s", x->where,
                     HMN_FPGA_KERNEL_NAME, x->bits.info.file, hmn__errno_text());
  return HMN_OK;
}

static int hmn__xrt_init(hmn_layer *layer, hmn_error *err) {
  const hmn_config *cfg = &layer->st.cfg;
  hmn__xrt_layer *x = NULL;
  unsigned char *zeros = NULL;
  int rc = hmn_xrt_check(err);
  if (rc != HMN_OK) goto cleanup;
  if ((x = hmn__calloc(1, sizeof *x)) == NULL) {
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory creating an xrt layer");
    goto cleanup;
  }
  layer->backend_data = x;
  if ((rc = hmn__xrt_open(layer, x, err)) != HMN_OK) goto cleanup;
  size_t most = 0;
  for (int arg = 0; arg < HMN__FPGA_BUFFERS; arg++)
    if (hmn__fpga_padded_bytes(cfg, arg) > most) most = hmn__fpga_padded_bytes(cfg, arg);
  x->inputs = hmn__calloc(hmn__fpga_arg_bytes(cfg, HMN__FPGA_INPUTS), 1);
  x->padded = hmn__calloc(most, 1);
  x->fwd_z = hmn__calloc((size_t)cfg->n_out, sizeof(float));
  x->pi = hmn__calloc((size_t)cfg->n_out, sizeof(float));
  zeros = hmn__calloc(most, 1);
  if (x->inputs == NULL || x->padded == NULL || x->fwd_z == NULL || x->pi == NULL ||
      zeros == NULL) {
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory creating an xrt layer");
    goto cleanup;
  }
  /* Each buffer in the bank the bitstream's connectivity gives its
   * argument (the .cfg files of hw/), zeroed so the padding is defined. */
  for (int arg = 0; arg < HMN__FPGA_BUFFERS && rc == HMN_OK; arg++) {
    size_t bytes = hmn__fpga_padded_bytes(cfg, arg);
    errno = 0;
    int group = xrtKernelArgGroupId(x->kernel, arg);
    x->bo[arg] = group < 0 ? NULL
                           : xrtBOAlloc(x->dev, bytes, XRT_BO_FLAGS_NONE, (xrtMemoryGroup)group);
    if (x->bo[arg] == NULL)
      rc = hmn__fail(err, HMN_ENOMEM, "%s: cannot allocate %zu bytes for '%s' (bank %d): %s",
                     x->where, bytes, hmn__fpga_arg_name(arg), group, hmn__errno_text());
    else
      rc = hmn__xrt_write(x, arg, zeros, bytes, err);
  }
  for (int a = 0; a < HMN_ARRAY_COUNT && rc == HMN_OK; a++)
    rc = hmn__xrt_push(layer, (hmn_array)a, err);
  if (rc == HMN_OK) rc = hmn__xrt_write_params(layer, err);
  if (rc != HMN_OK) goto cleanup;
  errno = 0;
  if ((x->run = xrtRunOpen(x->kernel)) == NULL) {
    rc = hmn__fail(err, HMN_EDEVICE, "%s: cannot create a run of %s: %s", x->where,
                   HMN_FPGA_KERNEL_NAME, hmn__errno_text());
    goto cleanup;
  }
  /* The buffers stay put; only the scalars change per step. */
  for (int arg = 0; arg < HMN__FPGA_BUFFERS && rc == HMN_OK; arg++)
    if (xrtRunSetArg(x->run, arg, x->bo[arg]) != 0)
      rc = hmn__fail(err, HMN_EDEVICE, "%s: setting argument '%s': %s", x->where,
                     hmn__fpga_arg_name(arg), hmn__errno_text());
cleanup:
  hmn__free(zeros);
  if (rc != HMN_OK && x != NULL) {
    hmn__xrt_release(x);
    layer->backend_data = NULL;
  }
  return rc;
}

static void hmn__xrt_fini(hmn_layer *layer) {
  if (layer->backend_data != NULL) hmn__xrt_release(layer->backend_data);
  layer->backend_data = NULL;
}

/* Start a run on the inputs staged in x->inputs (the previous run has
 * been waited for): a step, or (forward) eq 1 alone, which is waited for
 * and its z read. */
static int hmn__xrt_launch(hmn_layer *layer, bool forward, hmn_error *err) {
  hmn__xrt_layer *x = layer->backend_data;
  hmn__state *st = &layer->st;
  const hmn_config *cfg = &st->cfg;
  int rc = hmn__xrt_write(x, HMN__FPGA_INPUTS, x->inputs,
                          hmn__fpga_arg_bytes(cfg, HMN__FPGA_INPUTS), err);
  if (rc != HMN_OK) return rc;
  errno = 0;
  if (xrtRunStart(x->run) != 0) {
    /* Whether the kernel started is unknown. */
    hmn__layer_lose_state(layer);
    return hmn__fail(err, HMN_EDEVICE, "step %llu%s on %s: starting %s: %s",
                     (unsigned long long)st->t, forward ? " (forward)" : "", x->where,
                     HMN_FPGA_KERNEL_NAME, hmn__errno_text());
  }
  x->running = true;
  if (forward) {
    /* (a forward run that did not complete loses the state like a step's:
     * what it wrote is unknown) */
    rc = hmn__xrt_wait(layer, err);
    if (rc == HMN_OK)
      rc = hmn__xrt_read_at(x, HMN__FPGA_STATS, x->fwd_z, hmn__fpga_forward_z_bytes(cfg),
                            hmn__fpga_forward_z_offset(cfg), err);
    return rc;
  }
  st->t++;
  st->stats.t = st->t;
  st->stats.applied = HMN__STATS_ON_DEVICE;
  return HMN_OK;
}

static int hmn__xrt_step(hmn_layer *layer, const hmn_step_input *in, hmn_error *err) {
  hmn__xrt_layer *x = layer->backend_data;
  int rc = hmn__xrt_wait(layer, err);
  if (rc != HMN_OK) return rc;
  if (x->params_stale && (rc = hmn__xrt_write_params(layer, err)) != HMN_OK) return rc;
  hmn__fpga_pack_inputs(&layer->st, in, -1, NULL, x->inputs);
  return hmn__xrt_launch(layer, false, err);
}

/* Eq 1 for x(t) (hmn_layer_forward): a forward run, z read back. */
static int hmn__xrt_forward(hmn_layer *layer, const float *xs, float *z, hmn_error *err) {
  hmn__xrt_layer *x = layer->backend_data;
  int rc = hmn__fpga_check_state(layer, "forward", err);
  if (rc == HMN_OK) rc = hmn__xrt_wait(layer, err);
  if (rc == HMN_OK && x->params_stale) rc = hmn__xrt_write_params(layer, err);
  if (rc != HMN_OK) return rc;
  hmn__fpga_pack_forward(&layer->st, xs, x->inputs);
  if ((rc = hmn__xrt_launch(layer, true, err)) != HMN_OK) return rc;
  memcpy(z, x->fwd_z, hmn__fpga_forward_z_bytes(&layer->st.cfg));
  return HMN_OK;
}

/* The whole step t with x as forward had it, the action in the record
 * and, for rule policy, pi from forward's z. */
static int hmn__xrt_learn(hmn_layer *layer, const hmn_step_input *in, int32_t action,
                          hmn_error *err) {
  hmn__xrt_layer *x = layer->backend_data;
  hmn__state *st = &layer->st;
  const hmn_config *cfg = &st->cfg;
  int32_t act = -1;
  int rc = hmn__fpga_check_state(layer, "learn", err);
  if (rc == HMN_OK) rc = hmn__fpga_learn_action(st, action, &act, err);
  if (rc == HMN_OK) rc = hmn__xrt_wait(layer, err);
  if (rc == HMN_OK && x->params_stale) rc = hmn__xrt_write_params(layer, err);
  if (rc != HMN_OK) return rc;
  if (act >= 0) hmn__pre_policy(x->fwd_z, cfg->n_out, cfg->temperature, x->pi);
  hmn__fpga_pack_inputs(st, in, act, act >= 0 ? x->pi : NULL, x->inputs);
  return hmn__xrt_launch(layer, false, err);
}

static int hmn__xrt_stats(hmn_layer *layer, hmn_error *err) {
  hmn__xrt_layer *x = layer->backend_data;
  hmn__state *st = &layer->st;
  if (st->stats.applied != HMN__STATS_ON_DEVICE) return HMN_OK;
  size_t bytes = hmn__fpga_arg_bytes(&st->cfg, HMN__FPGA_STATS);
  uint32_t *stats = hmn__calloc(bytes, 1);
  int rc = stats != NULL ? hmn__xrt_wait(layer, err)
                         : hmn__fail(err, HMN_ENOMEM, "out of memory reading the statistics");
  if (rc == HMN_OK) rc = hmn__xrt_read(x, HMN__FPGA_STATS, stats, bytes, err);
  if (rc == HMN_OK) hmn__fpga_decode_stats(&st->cfg, stats, st->t, &st->stats);
  hmn__free(stats);
  return rc;
}

/* Device-side copies of the state buffers and the statistics. */
static int hmn__xrt_snapshot(hmn_layer *layer, bool restore, hmn_error *err) {
  hmn__xrt_layer *x = layer->backend_data;
  const hmn_config *cfg = &layer->st.cfg;
  int rc = hmn__xrt_wait(layer, err);
  for (int arg = 0; arg < HMN__FPGA_BUFFERS && rc == HMN_OK; arg++) {
    if (arg == HMN__FPGA_PARAMS || arg == HMN__FPGA_INPUTS || x->snap[arg] != NULL) continue;
    size_t bytes = hmn__fpga_padded_bytes(cfg, arg);
    errno = 0;
    int group = xrtKernelArgGroupId(x->kernel, arg);
    if (group < 0 ||
        (x->snap[arg] = xrtBOAlloc(x->dev, bytes, XRT_BO_FLAGS_NONE, (xrtMemoryGroup)group)) == NULL)
      rc = hmn__fail(err, HMN_ENOMEM, "%s: cannot allocate %zu bytes for the snapshot: %s",
                     x->where, bytes, hmn__errno_text());
  }
  for (int arg = 0; arg < HMN__FPGA_BUFFERS && rc == HMN_OK; arg++) {
    if (x->snap[arg] == NULL) continue;
    errno = 0;
    xrtBufferHandle live = x->bo[arg], saved = x->snap[arg];
    if (xrtBOCopy(restore ? live : saved, restore ? saved : live,
                  hmn__fpga_padded_bytes(cfg, arg), 0, 0) != 0) {
      if (restore) hmn__layer_lose_state(layer);
      rc = hmn__fail(err, HMN_EDEVICE, "%s: %s the snapshot at step %llu: %s", x->where,
                     restore ? "restoring" : "saving", (unsigned long long)layer->st.t,
                     hmn__errno_text());
    }
  }
  if (rc == HMN_OK && restore) {
    x->params_stale = true; /* the snapshot's config comes back too */
  }
  return rc;
}

static const char *hmn__xrt_device(const hmn_layer *layer) {
  const hmn__xrt_layer *x = layer->backend_data;
  return x->where;
}

const hmn__backend_ops hmn__backend_xrt = {
    .name = "xrt",
    .init = hmn__xrt_init,
    .fini = hmn__xrt_fini,
    .step = hmn__xrt_step,
    .forward = hmn__xrt_forward,
    .learn = hmn__xrt_learn,
    .pull = hmn__xrt_pull,
    .push = hmn__xrt_push,
    .stats = hmn__xrt_stats,
    .snapshot = hmn__xrt_snapshot,
    .device = hmn__xrt_device,
};
