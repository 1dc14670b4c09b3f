/*
 * config.c - the configuration keys: one table (HMN__CONFIG_KEYS) from
 * which defaults, parsing, per-key checks, the INI reader (libinih), the
 * writer and the key reference are all generated, plus the rules that
 * join several keys.
 */
#include "internal.h"

#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Both the per-synapse float arrays (4 GiB each at this size) and the
 * Philox element index (HMN__MAX_SYNAPSES) stay within bounds. */
#define HMN__CONFIG_MAX_SYNAPSES ((uint64_t)1 << 30)
_Static_assert(HMN__CONFIG_MAX_SYNAPSES <= HMN__MAX_SYNAPSES,
               "the config allows more synapses than the RNG layout can address");

/* ------------------------------------------------------------------ */
/* Names of the enum keys' values. Listed in the order of the C enums so
 * that the "a|b|c" texts below read in value order. */

#define HMN__CHOICES_activation(X)                                        \
  X(relu, HMN_ACT_RELU) X(sigmoid, HMN_ACT_SIGMOID) X(tanh, HMN_ACT_TANH) \
  X(linear, HMN_ACT_LINEAR)
#define HMN__CHOICES_rule(X)                                                     \
  X(hebbian, HMN_RULE_HEBBIAN) X(policy, HMN_RULE_POLICY) X(stdp, HMN_RULE_STDP) \
  X(triplet, HMN_RULE_TRIPLET) X(bcm, HMN_RULE_BCM)
#define HMN__CHOICES_pairing(X) X(all, HMN_PAIRING_ALL) X(nearest, HMN_PAIRING_NEAREST)
#define HMN__CHOICES_credit(X) X(now, HMN_CREDIT_NOW) X(late, HMN_CREDIT_LATE)
#define HMN__CHOICES_rpe_baseline(X) X(global, HMN_RPE_GLOBAL) X(context, HMN_RPE_CONTEXT)
#define HMN__CHOICES_meta_params(X) X(both, HMN_META_PARAMS_BOTH) X(global, HMN_META_PARAMS_GLOBAL)
#define HMN__CHOICES_paired_copies(X) \
  X(persistent, HMN_PAIRED_PERSISTENT) X(resync, HMN_PAIRED_RESYNC)
#define HMN__CHOICES_paired_learn(X) X(shared, HMN_PAIRED_SHARED) X(weighted, HMN_PAIRED_WEIGHTED)
#define HMN__CHOICES_attention(X) \
  X(softmax, HMN_ATTN_SOFTMAX) X(softmax_n, HMN_ATTN_SOFTMAX_N) X(off, HMN_ATTN_OFF)
#define HMN__CHOICES_similarity(X) X(cosine, HMN_SIM_COSINE) X(dot, HMN_SIM_DOT)
#define HMN__CHOICES_task(X) X(stream, HMN_TASK_STREAM) X(bandit, HMN_TASK_BANDIT)
#define HMN__CHOICES_bandit(X) X(switching, HMN_BANDIT_SWITCHING) X(stationary, HMN_BANDIT_STATIONARY)
#define HMN__CHOICES_action(X) \
  X(argmax, HMN_ACTION_ARGMAX) X(softmax, HMN_ACTION_SOFTMAX) X(random, HMN_ACTION_RANDOM)
#define HMN__CHOICES_estimator(X) \
  X(off, HMN_EST_OFF) X(spsa, HMN_EST_SPSA) X(fd, HMN_EST_FD) X(reinforce, HMN_EST_REINFORCE)
#define HMN__CHOICES_meta_mode(X) \
  X(lookahead, HMN_META_LOOKAHEAD) X(online, HMN_META_ONLINE) X(paired, HMN_META_PAIRED)

#define HMN__CHOICE_AT(name, value) [value] = #name,
#define HMN__CHOICE_BAR(name, value) "|" #name
#define HMN__CHOICE_COMMA(name, value) ", " #name

static const char *const hmn__names_activation[] = {HMN__CHOICES_activation(HMN__CHOICE_AT)};
static const char *const hmn__names_rule[] = {HMN__CHOICES_rule(HMN__CHOICE_AT)};
static const char *const hmn__names_pairing[] = {HMN__CHOICES_pairing(HMN__CHOICE_AT)};
static const char *const hmn__names_attention[] = {HMN__CHOICES_attention(HMN__CHOICE_AT)};
static const char *const hmn__names_similarity[] = {HMN__CHOICES_similarity(HMN__CHOICE_AT)};
static const char *const hmn__names_task[] = {HMN__CHOICES_task(HMN__CHOICE_AT)};
static const char *const hmn__names_bandit[] = {HMN__CHOICES_bandit(HMN__CHOICE_AT)};
static const char *const hmn__names_action[] = {HMN__CHOICES_action(HMN__CHOICE_AT)};
static const char *const hmn__names_estimator[] = {HMN__CHOICES_estimator(HMN__CHOICE_AT)};
static const char *const hmn__names_meta_mode[] = {HMN__CHOICES_meta_mode(HMN__CHOICE_AT)};
static const char *const hmn__names_credit[] = {HMN__CHOICES_credit(HMN__CHOICE_AT)};
static const char *const hmn__names_rpe_baseline[] = {HMN__CHOICES_rpe_baseline(HMN__CHOICE_AT)};
static const char *const hmn__names_meta_params[] = {HMN__CHOICES_meta_params(HMN__CHOICE_AT)};
static const char *const hmn__names_paired_copies[] = {
    HMN__CHOICES_paired_copies(HMN__CHOICE_AT)};
static const char *const hmn__names_paired_learn[] = {HMN__CHOICES_paired_learn(HMN__CHOICE_AT)};

/* ------------------------------------------------------------------ */
/* The key table. Columns: section, key (also the hmn_config field),
 * type, default (as text, so that defaults go through the same parser as
 * files do), allowed range, meaning.
 *
 * Range forms: IN(lo, hi) closed interval, GT(lo) / GE(lo) lower bound
 * only, FINITE() any finite float, ANY() any uint64, ONE_OF(list) an enum
 * whose names are HMN__CHOICES_list, ONOFF() a bool. Rules between keys
 * live in hmn_config_validate(). A section's keys must stay together: the
 * writer starts a new [section] whenever the section changes. */

#define HMN__CONFIG_KEYS(X)                                                               \
  X(shape, n_in, INT32, "64", IN(1, 65536), "number of inputs N_in")                      \
  X(shape, n_out, INT32, "16", IN(1, 65536), "number of neurons N_out")                   \
  X(shape, n_mod, INT32, "3", IN(1, 64), "number of neuromodulators K")                   \
  X(shape, d_ctx, INT32, "4", IN(1, 256), "size D_c of the global context")               \
  X(shape, delay_len, INT32, "4", IN(1, 256), "length D of the delay line, in steps")     \
  X(run, seed, UINT64, "1", ANY(), "Philox key of every random stream")                   \
  X(run, dt, FLOAT, "1", GT(0), "step length Delta t")                                    \
  X(neuron, activation, ENUM, "tanh", ONE_OF(activation), "activation function f")        \
  X(neuron, noise_sigma, FLOAT, "0.01", GE(0), "standard deviation sigma_n of the noise") \
  X(neuron, ctx_rate, FLOAT, "0.05", IN(0, 1), "EMA rate delta_c of the context c_j")     \
  X(neuron, emb_rate, FLOAT, "0.05", IN(0, 1), "EMA rate delta_h of the embeddings h")    \
  X(neuron, bias_rate, FLOAT, "0.001", GE(0), "bias homeostasis rate eta_b")              \
  X(neuron, target_rate, FLOAT, "0.1", FINITE(), "target activity z* of the bias")        \
  X(neuron, inhibitory_fraction, FLOAT, "0", IN(0, 1),                                    \
    "share of neurons with sign s_j = -1")                                                \
  X(neuron, d2_fraction, FLOAT, "0", IN(0, 1),                                            \
    "share of neurons, the last round(d2_fraction*n_out), in the D2 population: s_j negated") \
  X(trace, rule, ENUM, "hebbian", ONE_OF(rule),                                           \
    "eligibility kappa: hebbian xhat*z, policy xhat*(1[j=a]-pi_j) with pi=softmax(z/temperature), " \
    "stdp, triplet or bcm (docs/rules/)")                                                 \
  X(trace, tau_fast, FLOAT, "5", GT(0), "time constant of the fast trace psi_f")          \
  X(trace, tau_slow, FLOAT, "50", GT(0), "time constant of the slow trace psi_s")         \
  X(trace, rho_fast, FLOAT, "1", FINITE(), "weight rho_f of the fast trace")              \
  X(trace, rho_slow, FLOAT, "1", FINITE(), "weight rho_s of the slow trace")              \
  X(attention, attention, ENUM, "softmax", ONE_OF(attention), "local attention mode")     \
  X(attention, beta_attn, FLOAT, "1", GE(0), "local attention sharpness beta_a")          \
  X(modulation, global_attention, BOOL, "on", ONOFF(),                                    \
    "weight the modulators by context similarity")                                        \
  X(modulation, similarity, ENUM, "cosine", ONE_OF(similarity),                           \
    "similarity of modulator keys and context")                                           \
  X(modulation, beta_global, FLOAT, "1", GE(0), "global attention sharpness beta_g")      \
  X(modulation, astro_lambda, FLOAT, "0", FINITE(), "weight lambda_astro of astrocytes")  \
  X(modulation, astro_decay, FLOAT, "0.9", IN(0, 1), "astrocyte decay lambda_a")          \
  X(modulation, astro_gain, FLOAT, "0.1", FINITE(), "astrocyte gain k_a")                 \
  X(modulation, astro_source, INT32, "1", IN(0, 63),                                      \
    "modulator (NE) that feeds the astrocytes; below n_mod")                              \
  X(plasticity, eta_local, FLOAT, "0.001", FINITE(), "local learning rate")               \
  X(plasticity, eta_global, FLOAT, "0.01", FINITE(), "modulated learning rate")           \
  X(plasticity, w_min, FLOAT, "-1", FINITE(), "lowest weight; below w_max")               \
  X(plasticity, w_max, FLOAT, "1", FINITE(), "highest weight")                            \
  X(plasticity, w_init, FLOAT, "0.1", GE(0),                                              \
    "initial weights uniform in [-w_init, w_init]; at most max(|w_min|, |w_max|)")        \
  X(gate, phase_gate, BOOL, "on", ONOFF(), "gate updates by the oscillator phase")        \
  X(gate, phase0, FLOAT, "0", FINITE(), "oscillator phase offset Phi_0, radians")         \
  X(gate, osc_freq, FLOAT, "0.1", GE(0), "oscillator frequency f, cycles per unit time")  \
  X(stochastic, stochastic, BOOL, "on", ONOFF(), "apply updates with probability p")      \
  X(stochastic, beta_p, FLOAT, "1000", GE(0), "steepness beta_p of the probability")      \
  X(stochastic, theta_p, FLOAT, "0.0005", GE(0), "threshold theta_p of the probability")  \
  X(task, task, ENUM, "bandit", ONE_OF(task), "task that drives the layer in hmn run")      \
  X(task, bandit, ENUM, "switching", ONE_OF(bandit),                                      \
    "bandit variant: arm probabilities redrawn every switch_period steps, or fixed")      \
  X(task, contexts, INT32, "0", IN(0, 65536),                                             \
    "bandit contexts C, each an input pattern; 0 means min(d_ctx, n_in); at most n_in")   \
  X(task, context_steps, INT32, "1", IN(1, 1000000000),                                   \
    "steps each bandit context is shown before the next is drawn")                        \
  X(task, switch_period, INT32, "2000", IN(1, 1000000000),                                \
    "steps between redraws of the arm probabilities (switching bandit)")                  \
  X(task, action, ENUM, "argmax", ONE_OF(action),                                         \
    "how the bandit action is taken from z (random: a baseline that ignores z)")          \
  X(task, temperature, FLOAT, "0.05", GT(0),                                              \
    "temperature of the softmax action rule, and of pi for rule policy")                  \
  X(task, credit, ENUM, "now", ONE_OF(credit),                                            \
    "reward credit: now (to the step that earned it) or late (as E_DA of the next step)") \
  X(sources, dopamine, BOOL, "on", ONOFF(), "dopamine source: reward-prediction error")   \
  X(sources, novelty, BOOL, "on", ONOFF(),                                                \
    "norepinephrine source: distance of the input from its running mean")                 \
  X(sources, uncertainty, BOOL, "on", ONOFF(),                                            \
    "acetylcholine source: the RPE weighted by the reward's running sd")                     \
  X(sources, reward_rate, FLOAT, "0.01", IN(0, 1),                                        \
    "EMA rate of the reward expectation and variance")                                    \
  X(sources, novelty_rate, FLOAT, "0.01", IN(0, 1),                                       \
    "EMA rate of the input mean and of the usual novelty")                                \
  X(sources, adenosine, BOOL, "off", ONOFF(),                                             \
    "adenosine fatigue: E_Ado = -A at the modulator after DA, NE, ACh; needs n_mod >= 4") \
  X(sources, adenosine_decay, FLOAT, "0.99", IN(0, 1), "adenosine: A <- decay A + gain activity") \
  X(sources, adenosine_gain, FLOAT, "0.01", GE(0), "adenosine: rise per unit of mean |z_j|") \
  X(sources, rpe_baseline, ENUM, "global", ONE_OF(rpe_baseline),                          \
    "reward expectation of the RPE: global, or per context (largest C_global entry)")     \
  X(meta, estimator, ENUM, "spsa", ONE_OF(estimator),                                     \
    "meta-learning gradient estimator; off keeps eta fixed")                              \
  X(meta, meta_mode, ENUM, "lookahead", ONE_OF(meta_mode),                                \
    "lookahead: probe on snapshots; online: probe on the live layer; paired: both "       \
    "probes live, as two copies of the layer on one stream (spsa, action softmax)")        \
  X(meta, meta_window, INT32, "200", IN(1, 1000000000), "steps per evaluation window")    \
  X(meta, meta_a, FLOAT, "0.5", GE(0), "step gain a of a_k = a/(k+1+A)^alpha")            \
  X(meta, meta_c, FLOAT, "0.3", GT(0), "perturbation gain c of c_k = c/(k+1)^gamma")      \
  X(meta, meta_stability, FLOAT, "10", GE(0), "stability constant A of a_k")              \
  X(meta, meta_alpha, FLOAT, "0.602", GE(0), "decay exponent alpha of a_k")               \
  X(meta, meta_gamma, FLOAT, "0.101", GE(0), "decay exponent gamma of c_k")               \
  X(meta, eta_min, FLOAT, "1e-06", FINITE(),                                              \
    "lowest learning rate the meta-learner sets; below eta_max; > 0 with log_eta")        \
  X(meta, eta_max, FLOAT, "1", FINITE(), "highest learning rate the meta-learner sets")   \
  X(meta, log_eta, BOOL, "on", ONOFF(), "search in ln(eta): positive rates, scale-free steps") \
  X(meta, meta_params, ENUM, "both", ONE_OF(meta_params),                                 \
    "rates the meta-learner tunes: both, or global (eta_local stays fixed)")              \
  X(meta, paired_copies, ENUM, "persistent", ONE_OF(paired_copies),                       \
    "paired: the twin keeps its own state (layer at the higher eta_global), or resync "   \
    "(takes the layer's at each window)")                                                 \
  X(meta, paired_learn, ENUM, "shared", ONE_OF(paired_learn),                             \
    "paired: both copies learn from the shared E, or weighted (E x pi_copy(a)/mu(a))")    \
  X(rules, tau_plus, FLOAT, "20", GT(0), "decay of the presynaptic trace r1 (LTP window)") \
  X(rules, tau_minus, FLOAT, "20", GT(0), "decay of the postsynaptic trace o1 (LTD window)") \
  X(rules, a_plus, FLOAT, "0.01", GE(0), "pair STDP: LTP amplitude A+")                   \
  X(rules, a_minus, FLOAT, "0.012", GE(0), "pair STDP: LTD amplitude A-")                 \
  X(rules, tau_x, FLOAT, "101", GT(0), "triplet: decay of the second presynaptic trace r2") \
  X(rules, tau_y, FLOAT, "125", GT(0), "triplet: decay of the second postsynaptic trace o2") \
  X(rules, a2_plus, FLOAT, "5e-10", GE(0), "triplet: pair LTP amplitude A2+")             \
  X(rules, a3_plus, FLOAT, "0.0062", GE(0), "triplet: triplet LTP amplitude A3+")         \
  X(rules, a2_minus, FLOAT, "0.007", GE(0), "triplet: pair LTD amplitude A2-")            \
  X(rules, a3_minus, FLOAT, "0.00023", GE(0), "triplet: triplet LTD amplitude A3-")       \
  X(rules, pairing, ENUM, "all", ONE_OF(pairing),                                         \
    "spike-timing traces: all (a spike adds 1) or nearest (a spike sets 1)")             \
  X(rules, tau_rate, FLOAT, "100", GT(0), "time constant of the rate estimate nu_j (bcm, scaling)") \
  X(rules, bcm_power, FLOAT, "2", GT(0), "bcm: theta_j tracks an EMA of nu_j^p")          \
  X(rules, tau_theta, FLOAT, "1000", GT(0), "bcm: time constant of theta_j")              \
  X(rules, theta_init, FLOAT, "0.1", FINITE(), "bcm: initial theta_j; in [theta_min, theta_max]") \
  X(rules, theta_min, FLOAT, "0", FINITE(), "bcm: lowest theta_j; below theta_max")       \
  X(rules, theta_max, FLOAT, "10", FINITE(), "bcm: highest theta_j")                      \
  X(rules, hetero_ratio, FLOAT, "0", GE(0),                                               \
    "heterosynaptic depression: kappa -= ratio*z_j at synapses with xhat = 0; 0 off")     \
  X(rules, scaling, BOOL, "off", ONOFF(), "homeostatic synaptic scaling of incoming weights") \
  X(rules, scale_target, FLOAT, "0.1", GT(0), "scaling: target rate of nu_j")             \
  X(rules, tau_scale, FLOAT, "10000", GT(0), "scaling: time constant of the scaling")     \
  X(rules, scale_max, FLOAT, "2", GE(1), "scaling: the factor stays in [1/scale_max, scale_max]")

typedef enum { HMN__T_INT32, HMN__T_UINT64, HMN__T_FLOAT, HMN__T_ENUM, HMN__T_BOOL } hmn__type;
typedef enum { HMN__B_NONE, HMN__B_INCL, HMN__B_EXCL } hmn__bound;

typedef struct {
  hmn_config_key_info info; /* first, so that key_at can hand it out */
  hmn__type type;
  size_t offset;
  const char *def;
  hmn__bound lo_kind, hi_kind;
  double lo, hi;
  const char *must;          /* the range as messages say it: "in [0, 1]" */
  const char *const *names;  /* enum: name of each value */
  size_t n_names;
  const char *names_list;    /* enum: "a, b, c" */
} hmn__key;

#define HMN__TYPE_NAME_INT32 "int"
#define HMN__TYPE_NAME_UINT64 "uint64"
#define HMN__TYPE_NAME_FLOAT "float"
#define HMN__TYPE_NAME_ENUM "enum"
#define HMN__TYPE_NAME_BOOL "bool"

/* Each range form expands three ways: bounds for the checks, the phrase
 * for messages, and the text for the key reference. */
#define HMN__LIMITS_IN(l, h) .lo_kind = HMN__B_INCL, .lo = (l), .hi_kind = HMN__B_INCL, .hi = (h)
#define HMN__LIMITS_GT(l) .lo_kind = HMN__B_EXCL, .lo = (l), .hi_kind = HMN__B_NONE
#define HMN__LIMITS_GE(l) .lo_kind = HMN__B_INCL, .lo = (l), .hi_kind = HMN__B_NONE
#define HMN__LIMITS_FINITE() .lo_kind = HMN__B_NONE, .hi_kind = HMN__B_NONE
#define HMN__LIMITS_ANY() .lo_kind = HMN__B_NONE, .hi_kind = HMN__B_NONE
#define HMN__LIMITS_ONOFF() .lo_kind = HMN__B_NONE, .hi_kind = HMN__B_NONE
#define HMN__LIMITS_ONE_OF(list)                                              \
  .lo_kind = HMN__B_NONE, .hi_kind = HMN__B_NONE, .names = hmn__names_##list, \
  .n_names = sizeof hmn__names_##list / sizeof hmn__names_##list[0],          \
  .names_list = (HMN__CHOICES_##list(HMN__CHOICE_COMMA)) + 2

#define HMN__MUST_IN(l, h) "in [" #l ", " #h "]"
#define HMN__MUST_GT(l) "> " #l
#define HMN__MUST_GE(l) ">= " #l
#define HMN__MUST_FINITE() "finite"
#define HMN__MUST_ANY() NULL
#define HMN__MUST_ONOFF() "on or off"
#define HMN__MUST_ONE_OF(list) NULL

#define HMN__RANGE_TEXT_IN(l, h) "[" #l ", " #h "]"
#define HMN__RANGE_TEXT_GT(l) "> " #l
#define HMN__RANGE_TEXT_GE(l) ">= " #l
#define HMN__RANGE_TEXT_FINITE() "finite"
#define HMN__RANGE_TEXT_ANY() "0 .. 18446744073709551615, decimal or 0x hex"
#define HMN__RANGE_TEXT_ONOFF() "on|off"
#define HMN__RANGE_TEXT_ONE_OF(list) (HMN__CHOICES_##list(HMN__CHOICE_BAR)) + 1

#define HMN__KEY_ENTRY(sec, name, ty, def_text, range, meaning)                  \
  {.info = {#sec, #name, HMN__TYPE_NAME_##ty, HMN__RANGE_TEXT_##range, meaning}, \
   .type = HMN__T_##ty,                                                          \
   .offset = offsetof(hmn_config, name),                                         \
   .def = def_text,                                                              \
   .must = HMN__MUST_##range,                                                    \
   HMN__LIMITS_##range},

static const hmn__key hmn__keys[] = {HMN__CONFIG_KEYS(HMN__KEY_ENTRY)};
#define HMN__KEY_COUNT (sizeof hmn__keys / sizeof hmn__keys[0])

/* A table type that disagrees with the struct field would read or write
 * the wrong bytes; catch that when compiling. */
#define HMN__STORE_INT32 1
#define HMN__STORE_ENUM 1
#define HMN__STORE_BOOL 1
#define HMN__STORE_UINT64 2
#define HMN__STORE_FLOAT 3
#define HMN__KEY_TYPE_CHECK(sec, name, ty, def_text, range, meaning)                  \
  _Static_assert(_Generic(((hmn_config *)0)->name, int32_t: 1, uint64_t: 2, float: 3, \
                          default: 0) == HMN__STORE_##ty,                             \
                 #name " is stored with another type than the key table says");
HMN__CONFIG_KEYS(HMN__KEY_TYPE_CHECK)

/* ------------------------------------------------------------------ */
/* One key's value: reading, writing and checking it. */

typedef union {
  int32_t i; /* INT32, ENUM, BOOL */
  uint64_t u;
  float f;
} hmn__value;

static hmn__value hmn__get(const hmn_config *cfg, const hmn__key *k) {
  const char *field = (const char *)cfg + k->offset;
  hmn__value v;
  switch (k->type) {
  case HMN__T_UINT64:
    memcpy(&v.u, field, sizeof v.u);
    break;
  case HMN__T_FLOAT:
    memcpy(&v.f, field, sizeof v.f);
    break;
  default:
    memcpy(&v.i, field, sizeof v.i);
    break;
  }
  return v;
}

static void hmn__put(hmn_config *cfg, const hmn__key *k, hmn__value v) {
  char *field = (char *)cfg + k->offset;
  switch (k->type) {
  case HMN__T_UINT64:
    memcpy(field, &v.u, sizeof v.u);
    break;
  case HMN__T_FLOAT:
    memcpy(field, &v.f, sizeof v.f);
    break;
  default:
    memcpy(field, &v.i, sizeof v.i);
    break;
  }
}

static const hmn__key *hmn__find_key(const char *name) {
  for (size_t i = 0; i < HMN__KEY_COUNT; i++) {
    if (strcmp(hmn__keys[i].info.key, name) == 0) return &hmn__keys[i];
  }
  return NULL;
}

static bool hmn__known_section(const char *section) {
  for (size_t i = 0; i < HMN__KEY_COUNT; i++) {
    if (strcmp(hmn__keys[i].info.section, section) == 0) return true;
  }
  return false;
}

static const char *hmn__choice_name(const hmn__key *k, int32_t value) {
  if (k->type == HMN__T_BOOL) return value == 0 ? "off" : value == 1 ? "on" : NULL;
  if (value < 0 || (size_t)value >= k->n_names) return NULL;
  return k->names[value];
}

static bool hmn__in_range(const hmn__key *k, double x) {
  if (k->lo_kind == HMN__B_INCL && !(x >= k->lo)) return false;
  if (k->lo_kind == HMN__B_EXCL && !(x > k->lo)) return false;
  if (k->hi_kind == HMN__B_INCL && !(x <= k->hi)) return false;
  if (k->hi_kind == HMN__B_EXCL && !(x < k->hi)) return false;
  return true;
}

/* The shortest decimal text of a float that reads back (strtof) to the
 * same bits: 9 significant digits always do, fewer usually do
 * (0.001 rather than 0.00100000005). */
static void hmn__format_float(float f, char *buf, size_t size) {
  int digits = 1;
  for (; digits < 9; digits++) {
    snprintf(buf, size, "%.*g", digits, (double)f);
    float back = strtof(buf, NULL);
    if (memcmp(&back, &f, sizeof f) == 0) break;
  }
  snprintf(buf, size, "%.*g", digits, (double)f);
  /* %g writes 50 as 5e+01: plain notation where it is as exact. */
  double a = fabs((double)f);
  if (strchr(buf, 'e') != NULL && a >= 1e-4 && a < 1e9) {
    char plain[64];
    int decimals = digits - 1 - (int)floor(log10(a));
    snprintf(plain, sizeof plain, "%.*f", decimals > 0 ? decimals : 0, (double)f);
    float back = strtof(plain, NULL);
    if (memcmp(&back, &f, sizeof f) == 0) snprintf(buf, size, "%s", plain);
  }
}

/* Text form of a value, as the writer emits it: it reads back to the same
 * value (floats to the same bits). */
static void hmn__format(const hmn__key *k, hmn__value v, char *buf, size_t size) {
  const char *name;
  switch (k->type) {
  case HMN__T_UINT64:
    snprintf(buf, size, "%" PRIu64, v.u);
    break;
  case HMN__T_FLOAT:
    hmn__format_float(v.f, buf, size);
    break;
  case HMN__T_ENUM:
  case HMN__T_BOOL:
    name = hmn__choice_name(k, v.i);
    if (name != NULL) {
      snprintf(buf, size, "%s", name);
    } else {
      snprintf(buf, size, "%" PRId32, v.i);
    }
    break;
  default:
    snprintf(buf, size, "%" PRId32, v.i);
    break;
  }
}

/* The value's own rules. `text` is what the user wrote, quoted back in
 * the message when there is one; otherwise the value is formatted. */
static int hmn__check(const hmn__key *k, hmn__value v, const char *text, hmn_error *err) {
  char shown[64];
  const char *key = k->info.key;
  if (text == NULL) {
    hmn__format(k, v, shown, sizeof shown);
    text = shown;
  }
  switch (k->type) {
  case HMN__T_UINT64:
    return 0;
  case HMN__T_ENUM:
    if (hmn__choice_name(k, v.i) != NULL) return 0;
    return hmn__fail(err, HMN_ECONFIG, "%s must be one of %s, got %s", key, k->names_list, text);
  case HMN__T_BOOL:
    if (hmn__choice_name(k, v.i) != NULL) return 0;
    return hmn__fail(err, HMN_ECONFIG, "%s must be %s, got %s", key, k->must, text);
  case HMN__T_FLOAT:
    if (!isfinite(v.f)) return hmn__fail(err, HMN_ECONFIG, "%s must be finite, got %s", key, text);
    break;
  default:
    break;
  }
  double x = k->type == HMN__T_FLOAT ? (double)v.f : (double)v.i;
  if (!hmn__in_range(k, x)) {
    return hmn__fail(err, HMN_ECONFIG, "%s must be %s, got %s", key, k->must, text);
  }
  return 0;
}

static int hmn__parse_int32(const hmn__key *k, const char *text, hmn__value *v, hmn_error *err) {
  char *end;
  errno = 0;
  long n = strtol(text, &end, 10);
  if (end == text || *end != '\0') {
    return hmn__fail(err, HMN_ECONFIG, "%s: '%s' is not an integer", k->info.key, text);
  }
  /* Overflow saturates n, which the range check then names with the
   * user's own digits. */
  if (!hmn__in_range(k, (double)n)) {
    return hmn__fail(err, HMN_ECONFIG, "%s must be %s, got %s", k->info.key, k->must, text);
  }
  if (errno == ERANGE || n < INT32_MIN || n > INT32_MAX) {
    return hmn__fail(err, HMN_ECONFIG, "%s: '%s' is out of the 32-bit integer range",
                     k->info.key, text);
  }
  v->i = (int32_t)n;
  return hmn__check(k, *v, text, err);
}

static bool hmn__is_digit(char c, int base) {
  if (c >= '0' && c <= '9') return true;
  return base == 16 && c != '\0' && strchr("abcdefABCDEF", c) != NULL;
}

/* Decimal or 0x hex only: strtoull would also take octal ("010" is 8),
 * a sign (wrapping "-1" to 2^64-1) and leading blanks. */
static int hmn__parse_uint64(const hmn__key *k, const char *text, hmn__value *v, hmn_error *err) {
  const char *digits = text;
  int base = 10;
  if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    digits = text + 2;
    base = 16;
  }
  char *end = NULL;
  unsigned long long n = 0;
  errno = 0;
  if (hmn__is_digit(digits[0], base)) n = strtoull(digits, &end, base);
  if (end == NULL || *end != '\0') {
    return hmn__fail(err, HMN_ECONFIG, "%s: '%s' is not an unsigned integer", k->info.key, text);
  }
  if (errno == ERANGE || n > UINT64_MAX) {
    return hmn__fail(err, HMN_ECONFIG, "%s must be at most 18446744073709551615, got %s",
                     k->info.key, text);
  }
  v->u = (uint64_t)n;
  return hmn__check(k, *v, text, err);
}

static int hmn__parse_float(const hmn__key *k, const char *text, hmn__value *v, hmn_error *err) {
  char *end;
  /* ERANGE is ignored: overflow yields inf, refused as not finite, and
   * underflow yields the nearest float, which is what was asked for. */
  v->f = strtof(text, &end);
  if (end == text || *end != '\0') {
    return hmn__fail(err, HMN_ECONFIG, "%s: '%s' is not a number", k->info.key, text);
  }
  return hmn__check(k, *v, text, err);
}

static int hmn__parse_enum(const hmn__key *k, const char *text, hmn__value *v, hmn_error *err) {
  for (size_t i = 0; i < k->n_names; i++) {
    if (k->names[i] != NULL && strcmp(k->names[i], text) == 0) {
      v->i = (int32_t)i;
      return 0;
    }
  }
  return hmn__fail(err, HMN_ECONFIG, "%s must be one of %s, got '%s'", k->info.key,
                   k->names_list, text);
}

static int hmn__parse_bool(const hmn__key *k, const char *text, hmn__value *v, hmn_error *err) {
  static const struct {
    const char *text;
    int32_t value;
  } words[] = {{"on", 1},  {"off", 0}, {"true", 1}, {"false", 0},
               {"yes", 1}, {"no", 0},  {"1", 1},    {"0", 0}};
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
    if (strcmp(words[i].text, text) == 0) {
      v->i = words[i].value;
      return 0;
    }
  }
  return hmn__fail(err, HMN_ECONFIG, "%s must be %s, got '%s'", k->info.key, k->must, text);
}

/* Text to a checked value; nothing is stored. */
static int hmn__parse(const hmn__key *k, const char *text, hmn__value *v, hmn_error *err) {
  switch (k->type) {
  case HMN__T_INT32:
    return hmn__parse_int32(k, text, v, err);
  case HMN__T_UINT64:
    return hmn__parse_uint64(k, text, v, err);
  case HMN__T_FLOAT:
    return hmn__parse_float(k, text, v, err);
  case HMN__T_ENUM:
    return hmn__parse_enum(k, text, v, err);
  case HMN__T_BOOL:
    return hmn__parse_bool(k, text, v, err);
  }
  return hmn__fail(err, HMN_EINVAL, "%s: key of unknown type", k->info.key);
}

/* ------------------------------------------------------------------ */
/* Public: defaults, single keys, validation. */

void hmn_config_defaults(hmn_config *cfg) {
  if (cfg == NULL) return;
  /* Zeroed padding makes equal configs memcmp-equal. */
  memset(cfg, 0, sizeof *cfg);
  for (size_t i = 0; i < HMN__KEY_COUNT; i++) {
    hmn__value v;
    /* Table defaults are valid; the tests check that each one took. */
    if (hmn__parse(&hmn__keys[i], hmn__keys[i].def, &v, NULL) == 0) hmn__put(cfg, &hmn__keys[i], v);
  }
}

int hmn_config_set(hmn_config *cfg, const char *key, const char *value, hmn_error *err) {
  if (cfg == NULL || key == NULL || value == NULL) {
    return hmn__fail(err, HMN_EINVAL, "hmn_config_set: cfg, key and value must not be NULL");
  }
  const hmn__key *k = hmn__find_key(key);
  if (k == NULL) return hmn__fail(err, HMN_ECONFIG, "unknown key '%s'", key);
  hmn__value v;
  int rc = hmn__parse(k, value, &v, err);
  if (rc == 0) hmn__put(cfg, k, v);
  return rc;
}

static char *hmn__trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
  return s;
}

int hmn_config_set_pair(hmn_config *cfg, const char *pair, hmn_error *err) {
  if (cfg == NULL || pair == NULL) {
    return hmn__fail(err, HMN_EINVAL, "hmn_config_set_pair: cfg and pair must not be NULL");
  }
  int rc;
  char *copy = hmn__strdup(pair);
  if (copy == NULL) {
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory reading '%s'", pair);
    goto done;
  }
  char *eq = strchr(copy, '=');
  if (eq == NULL) {
    rc = hmn__fail(err, HMN_ECONFIG, "expected key=value, got '%s'", pair);
    goto done;
  }
  *eq = '\0';
  char *key = hmn__trim(copy);
  if (*key == '\0') {
    rc = hmn__fail(err, HMN_ECONFIG, "expected key=value, got '%s'", pair);
    goto done;
  }
  rc = hmn_config_set(cfg, key, hmn__trim(eq + 1), err);
done:
  hmn__free(copy);
  return rc;
}

int hmn_config_validate(const hmn_config *cfg, hmn_error *err) {
  if (cfg == NULL) return hmn__fail(err, HMN_EINVAL, "hmn_config_validate: cfg is NULL");
  for (size_t i = 0; i < HMN__KEY_COUNT; i++) {
    int rc = hmn__check(&hmn__keys[i], hmn__get(cfg, &hmn__keys[i]), NULL, err);
    if (rc != 0) return rc;
  }
  uint64_t synapses = (uint64_t)cfg->n_in * (uint64_t)cfg->n_out;
  if (synapses > HMN__CONFIG_MAX_SYNAPSES) {
    return hmn__fail(err, HMN_ECONFIG,
                     "n_in*n_out must be <= %" PRIu64 " synapses, got %" PRIu64
                     " (n_in=%" PRId32 ", n_out=%" PRId32 ")",
                     HMN__CONFIG_MAX_SYNAPSES, synapses, cfg->n_in, cfg->n_out);
  }
  if (cfg->astro_source >= cfg->n_mod) {
    return hmn__fail(err, HMN_ECONFIG, "astro_source must be < n_mod (%" PRId32 "), got %" PRId32,
                     cfg->n_mod, cfg->astro_source);
  }
  if (!(cfg->w_min < cfg->w_max)) {
    return hmn__fail(err, HMN_ECONFIG, "w_min must be < w_max, got w_min=%.9g w_max=%.9g",
                     (double)cfg->w_min, (double)cfg->w_max);
  }
  float w_limit = fmaxf(fabsf(cfg->w_min), fabsf(cfg->w_max));
  if (cfg->w_init > w_limit) {
    return hmn__fail(err, HMN_ECONFIG, "w_init must be <= max(|w_min|, |w_max|) (%.9g), got %.9g",
                     (double)w_limit, (double)cfg->w_init);
  }
  if (cfg->contexts > cfg->n_in) {
    return hmn__fail(err, HMN_ECONFIG, "contexts must be <= n_in (%" PRId32 "), got %" PRId32,
                     cfg->n_in, cfg->contexts);
  }
  if (cfg->rule == HMN_RULE_POLICY && cfg->action != HMN_ACTION_SOFTMAX) {
    return hmn__fail(err, HMN_ECONFIG,
                     "rule=policy needs action=softmax (the action must be drawn from pi = "
                     "softmax(z/temperature)), got action=%s",
                     hmn__names_action[cfg->action]);
  }
  if (cfg->adenosine && cfg->n_mod < 4) {
    return hmn__fail(err, HMN_ECONFIG,
                     "adenosine = on needs a modulator of its own: n_mod >= 4 (DA, NE and ACh "
                     "take three), got n_mod=%" PRId32,
                     cfg->n_mod);
  }
  if (!(cfg->theta_min < cfg->theta_max)) {
    return hmn__fail(err, HMN_ECONFIG,
                     "theta_min must be < theta_max, got theta_min=%.9g theta_max=%.9g",
                     (double)cfg->theta_min, (double)cfg->theta_max);
  }
  if (cfg->theta_init < cfg->theta_min || cfg->theta_init > cfg->theta_max) {
    return hmn__fail(err, HMN_ECONFIG,
                     "theta_init must be in [theta_min, theta_max] = [%.9g, %.9g], got %.9g",
                     (double)cfg->theta_min, (double)cfg->theta_max, (double)cfg->theta_init);
  }
  if (!(cfg->eta_min < cfg->eta_max)) {
    return hmn__fail(err, HMN_ECONFIG, "eta_min must be < eta_max, got eta_min=%.9g eta_max=%.9g",
                     (double)cfg->eta_min, (double)cfg->eta_max);
  }
  if (cfg->log_eta && !(cfg->eta_min > 0.0f)) {
    return hmn__fail(err, HMN_ECONFIG, "eta_min must be > 0 when log_eta is on, got %.9g",
                     (double)cfg->eta_min);
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Reading INI. The distribution's inih hands the handler no line
 * numbers, so both sources go through ini_parse_stream with our own
 * readers: each call returns exactly one whole line, which keeps inih's
 * line count (the number it returns for a syntax error) equal to ours. */

typedef struct {
  hmn_config cfg;     /* the copy being filled; *cfg is touched only on success */
  const char *origin; /* file name or caller's label */
  FILE *file;         /* the source: a file, */
  const char *text;   /* or what is left of a string */
  int line;           /* the line inih is working on */
  int section_line;   /* line of the latest [section] header */
  int read_errno;     /* errno of a failed read, or 0 */
  int fail_line;      /* line of the first error found here, or 0 */
  hmn_error fail;     /* that error, with "origin:line: " in front */
} hmn__loader;

static void hmn__loader_fail(hmn__loader *ld, int line, const hmn_error *why) {
  if (ld->fail_line != 0) return;
  ld->fail_line = line;
  hmn__fail(&ld->fail, why->status, "%s:%d: %s", ld->origin, line, why->message);
}

/* Bookkeeping for the line just read into buf. A line too long for
 * inih's buffer is an error of its own; inih gets an empty line instead. */
static char *hmn__loader_line(hmn__loader *ld, char *buf, bool too_long, int size) {
  ld->line++;
  if (too_long) {
    hmn_error why;
    hmn__fail(&why, HMN_ECONFIG, "line is longer than %d characters", size - 2);
    hmn__loader_fail(ld, ld->line, &why);
    buf[0] = '\0';
    return buf;
  }
  const char *p = buf;
  while (*p == ' ' || *p == '\t') p++;
  if (*p == '[') ld->section_line = ld->line;
  return buf;
}

/* Lines may hold size - 2 characters besides the newline: inih's own
 * limit, and one that lets every line end in '\n' inside its buffer, so
 * that inih never asks for the rest of a line. */
static char *hmn__read_string(char *buf, int size, void *stream) {
  hmn__loader *ld = stream;
  if (*ld->text == '\0' || size < 3) return NULL;
  const char *nl = strchr(ld->text, '\n');
  size_t content = nl != NULL ? (size_t)(nl - ld->text) : strlen(ld->text);
  size_t len = content + (nl != NULL ? 1 : 0);
  bool too_long = content > (size_t)size - 2;
  if (!too_long) {
    memcpy(buf, ld->text, len);
    buf[len] = '\0';
  }
  ld->text += len;
  return hmn__loader_line(ld, buf, too_long, size);
}

static char *hmn__read_file(char *buf, int size, void *stream) {
  hmn__loader *ld = stream;
  if (size < 3) return NULL;
  if (fgets(buf, size, ld->file) == NULL) {
    if (ferror(ld->file)) ld->read_errno = errno != 0 ? errno : EIO;
    return NULL;
  }
  size_t len = strlen(buf);
  bool too_long = len == (size_t)size - 1 && buf[len - 1] != '\n';
  if (too_long) {
    int c;
    do {
      c = getc(ld->file);
    } while (c != '\n' && c != EOF);
  }
  return hmn__loader_line(ld, buf, too_long, size);
}

static int hmn__on_key(void *user, const char *section, const char *name, const char *value) {
  hmn__loader *ld = user;
  hmn_error why;
  /* Only the first error is reported; later lines would only repeat it. */
  if (ld->fail_line != 0) return 1;
  /* Builds that announce each new section call with no name. */
  if (name == NULL) return 1;
  const hmn__key *k = hmn__find_key(name);
  int line = ld->line;
  if (value == NULL) {
    hmn__fail(&why, HMN_ECONFIG, "expected key = value, got '%s'", name);
  } else if (section[0] == '\0') {
    if (k != NULL) {
      hmn__fail(&why, HMN_ECONFIG, "key '%s' belongs in section [%s], not outside any section",
                name, k->info.section);
    } else {
      hmn__fail(&why, HMN_ECONFIG, "unknown key '%s' outside any section", name);
    }
  } else if (!hmn__known_section(section)) {
    line = ld->section_line > 0 ? ld->section_line : line;
    hmn__fail(&why, HMN_ECONFIG, "unknown section [%s]", section);
  } else if (k == NULL) {
    hmn__fail(&why, HMN_ECONFIG, "unknown key '%s' in section [%s]", name, section);
  } else if (strcmp(k->info.section, section) != 0) {
    hmn__fail(&why, HMN_ECONFIG, "key '%s' belongs in section [%s], not [%s]", name,
              k->info.section, section);
  } else {
    hmn__value v;
    if (hmn__parse(k, value, &v, &why) == 0) {
      hmn__put(&ld->cfg, k, v);
      return 1;
    }
  }
  hmn__loader_fail(ld, line, &why);
  return 0;
}

static void hmn__loader_init(hmn__loader *ld, const hmn_config *cfg, const char *origin) {
  memset(ld, 0, sizeof *ld);
  memcpy(&ld->cfg, cfg, sizeof ld->cfg);
  ld->origin = origin;
}

/* `rc` is inih's: 0, the first line it found wrong (a syntax error, or a
 * line whose key we refused), or negative when it ran out of memory. */
static int hmn__loader_finish(hmn__loader *ld, int rc, hmn_config *cfg, hmn_error *err) {
  hmn_error why;
  if (rc < 0) return hmn__fail(err, HMN_ENOMEM, "out of memory reading '%s'", ld->origin);
  if (ld->read_errno != 0) {
    return hmn__fail(err, HMN_EIO, "cannot read config file '%s': %s", ld->origin,
                     strerror(ld->read_errno));
  }
  if (rc > 0 && (ld->fail_line == 0 || rc < ld->fail_line)) {
    return hmn__fail(err, HMN_ECONFIG, "%s:%d: syntax error", ld->origin, rc);
  }
  if (ld->fail_line != 0) {
    if (err != NULL) *err = ld->fail;
    return ld->fail.status;
  }
  if (hmn_config_validate(&ld->cfg, &why) != 0) {
    return hmn__fail(err, why.status, "%s: %s", ld->origin, why.message);
  }
  memcpy(cfg, &ld->cfg, sizeof *cfg);
  return 0;
}

int hmn_config_load_string(hmn_config *cfg, const char *text, const char *origin,
                           hmn_error *err) {
  if (cfg == NULL || text == NULL) {
    return hmn__fail(err, HMN_EINVAL, "hmn_config_load_string: cfg and text must not be NULL");
  }
  hmn__loader ld;
  hmn__loader_init(&ld, cfg, origin != NULL ? origin : "<string>");
  ld.text = text;
  int rc = ini_parse_stream(hmn__read_string, &ld, hmn__on_key, &ld);
  return hmn__loader_finish(&ld, rc, cfg, err);
}

int hmn_config_load_file(hmn_config *cfg, const char *path, hmn_error *err) {
  if (cfg == NULL || path == NULL) {
    return hmn__fail(err, HMN_EINVAL, "hmn_config_load_file: cfg and path must not be NULL");
  }
  FILE *file = fopen(path, "r");
  if (file == NULL) {
    return hmn__fail(err, HMN_EIO, "cannot open config file '%s': %s", path, strerror(errno));
  }
  hmn__loader ld;
  hmn__loader_init(&ld, cfg, path);
  ld.file = file;
  int rc = ini_parse_stream(hmn__read_file, &ld, hmn__on_key, &ld);
  fclose(file);
  return hmn__loader_finish(&ld, rc, cfg, err);
}

/* ------------------------------------------------------------------ */
/* Writing INI, and the key reference. */

int hmn_config_write(const hmn_config *cfg, FILE *out, hmn_error *err) {
  if (cfg == NULL || out == NULL)
    return hmn__fail(err, HMN_EINVAL, "hmn_config_write: config and stream are required");
  /* An enum or bool field outside its names has no text that would load
   * back; refuse before writing half a file. */
  for (size_t i = 0; i < HMN__KEY_COUNT; i++) {
    const hmn__key *k = &hmn__keys[i];
    int value = hmn__get(cfg, k).i;
    if ((k->type == HMN__T_ENUM || k->type == HMN__T_BOOL) && hmn__choice_name(k, value) == NULL)
      return hmn__fail(err, HMN_ECONFIG, "[%s] %s = %d has no name (must be %s)",
                       k->info.section, k->info.key, value, k->info.range);
  }
  bool failed = fprintf(out, "# hmn configuration\n") < 0;
  const char *section = NULL;
  for (size_t i = 0; i < HMN__KEY_COUNT; i++) {
    const hmn__key *k = &hmn__keys[i];
    char text[64];
    if (section == NULL || strcmp(section, k->info.section) != 0) {
      section = k->info.section;
      failed |= fprintf(out, "\n[%s]\n", section) < 0;
    }
    hmn__format(k, hmn__get(cfg, k), text, sizeof text);
    failed |= fprintf(out, "%s = %s\n", k->info.key, text) < 0;
  }
  failed |= fflush(out) != 0;
  failed |= ferror(out) != 0;
  if (failed) return hmn__fail(err, HMN_EIO, "cannot write the configuration: the stream failed");
  return HMN_OK;
}

/* The header promises a buffer for free(), so this one allocation comes
 * from open_memstream's malloc and not from hmn__calloc. */
int hmn_config_to_string(const hmn_config *cfg, char **out, hmn_error *err) {
  if (out != NULL) *out = NULL;
  if (cfg == NULL || out == NULL)
    return hmn__fail(err, HMN_EINVAL, "hmn_config_to_string: config and out are required");
  char *buf = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&buf, &len);
  if (mem == NULL)
    return hmn__fail(err, HMN_ENOMEM, "out of memory formatting the configuration");
  int rc = hmn_config_write(cfg, mem, err);
  if (fclose(mem) != 0 && rc == HMN_OK)
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory formatting the configuration");
  if (rc != HMN_OK) {
    free(buf);
    return rc;
  }
  *out = buf;
  return HMN_OK;
}

size_t hmn_config_key_count(void) { return HMN__KEY_COUNT; }

const hmn_config_key_info *hmn_config_key_at(size_t index) {
  return index < HMN__KEY_COUNT ? &hmn__keys[index].info : NULL;
}

const char *hmn__activation_name(int activation) {
  size_t count = sizeof hmn__names_activation / sizeof hmn__names_activation[0];
  if (activation < 0 || (size_t)activation >= count) return "unknown";
  return hmn__names_activation[activation];
}
