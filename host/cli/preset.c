/*
 * preset.c - the configuration of the main job (`hmn run`, `hmn ablate`
 * without --config): the library's defaults, then the Phase-0 preset
 * below when the task is the bandit.
 *
 * Why a preset rather than other defaults: the library's defaults are the
 * paper's layer (eta 0.001 / 0.01, traces of 5 and 50 steps, 16
 * neurons), which the backend-equivalence tests and the benchmark use
 * and which keep every update small. On the bandit those rates change the
 * weights so little in a run of minutes that no policy emerges (measured:
 * README, Phase-0 results). The preset changes only what the bandit
 * needs, and every value can still be overridden with --set.
 */
#include "cli.h"

#include <string.h>

/* Each value and why (the README repeats this):
 *  n_out 4           four arms;
 *  noise_sigma 0.03  the noise decides between arms of similar drive,
 *                    and its correlation with the RPE is what a
 *                    reward-modulated Hebbian rule learns from
 *                    (node perturbation): more noise, more exploration;
 *  tau_fast 1,       the RPE of step t arrives as E_DA of step t + 1, so
 *  tau_slow 10       short traces credit step t, not older steps with
 *                    other contexts;
 *  eta_local 1e-5    unmodulated Hebbian growth locks the layer onto the
 *                    arm it already prefers;
 *  eta_global 1024   softmax attention scales each update by about
 *                    1/N_in and a context's inputs are 1/(block size);
 *  context_steps 4   a context stays for a trial of 4 steps, so the
 *                    delay line (D = 4) sees one context and the RPE
 *                    arrives while it is still shown;
 *  meta_a 2,         SPSA steps large enough to move eta within a run,
 *  eta_max 10000     and room above the start. */
static const char hmn_phase0_preset[] =
    "[shape]\n"
    "n_out = 4\n"
    "[neuron]\n"
    "noise_sigma = 0.03\n"
    "[trace]\n"
    "tau_fast = 1\n"
    "tau_slow = 10\n"
    "[plasticity]\n"
    "eta_local = 0.00001\n"
    "eta_global = 1024\n"
    "[task]\n"
    "context_steps = 4\n"
    "[meta]\n"
    "meta_a = 2\n"
    "eta_max = 10000\n";

const char *hmn_cli_phase0_preset(void) { return hmn_phase0_preset; }

int hmn_cli_apply_preset(hmn_config *cfg, hmn_error *err) {
  return hmn_config_load_string(cfg, hmn_phase0_preset, "the built-in Phase-0 preset", err);
}
