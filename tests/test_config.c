/*
 * test_config.c - the configuration: defaults, every per-key and
 * cross-key rule with its message, INI loading from strings and files,
 * and write -> load round trips.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmn.h"
#include "internal.h"
#include "support.h"

/* ------------------------------------------------------------------ */
/* Helpers */

static void defaults_with_filled_padding(hmn_config *cfg) {
  memset(cfg, 0xA5, sizeof *cfg);
  hmn_config_defaults(cfg);
}

/* hmn_config_set must fail with `message` and leave the config alone. */
static void expect_set_error(const char *key, const char *value, const char *message) {
  hmn_config cfg, before;
  hmn_error err = {0};
  hmn_config_defaults(&cfg);
  memcpy(&before, &cfg, sizeof cfg);
  int rc = hmn_config_set(&cfg, key, value, &err);
  cr_assert_eq(rc, HMN_ECONFIG, "%s = '%s' gave %d", key, value, rc);
  cr_assert_eq(err.status, HMN_ECONFIG);
  cr_assert_str_eq(err.message, message, "%s = '%s'", key, value);
  cr_assert(memcmp(&cfg, &before, sizeof cfg) == 0, "%s = '%s' changed the config", key, value);
}

/* hmn_config_validate on defaults with one change must give `message`. */
#define EXPECT_INVALID(field, value, expected)                                  \
  do {                                                                          \
    hmn_config cfg_;                                                            \
    hmn_error err_ = {0};                                                       \
    hmn_config_defaults(&cfg_);                                                 \
    cfg_.field = (value);                                                       \
    cr_assert_eq(hmn_config_validate(&cfg_, &err_), HMN_ECONFIG, "%s", #field); \
    cr_assert_eq(err_.status, HMN_ECONFIG);                                     \
    cr_assert_str_eq(err_.message, (expected));                                 \
  } while (0)

/* A config that differs from the defaults in many keys, with values whose
 * text forms are not exact (0.1f, 1/3) or at type limits. */
static void non_default_config(hmn_config *cfg) {
  hmn_config_defaults(cfg);
  cfg->n_in = 7;
  cfg->n_out = 1000;
  cfg->seed = UINT64_C(0xffffffffffffffff);
  cfg->dt = 0.1f;
  cfg->activation = HMN_ACT_RELU;
  cfg->target_rate = 1.0f / 3.0f;
  cfg->tau_fast = 1e-7f;
  cfg->attention = HMN_ATTN_OFF;
  cfg->similarity = HMN_SIM_DOT;
  cfg->global_attention = 0;
  cfg->stochastic = 0;
  cfg->w_min = -0.25f;
  cfg->w_max = 3.0e-1f;
  cfg->phase0 = -0.0f;
  cfg->astro_lambda = -2.5e-3f;
  cfg->astro_source = 2;
}

/* ------------------------------------------------------------------ */
/* Defaults and the key table */

Test(config, defaults_have_the_documented_values) {
  hmn_config c;
  defaults_with_filled_padding(&c);
  cr_assert_eq(c.n_in, 64);
  cr_assert_eq(c.n_out, 16);
  cr_assert_eq(c.n_mod, 3);
  cr_assert_eq(c.d_ctx, 4);
  cr_assert_eq(c.delay_len, 4);
  cr_assert_eq(c.seed, 1);
  cr_assert_eq(c.dt, 1.0f);
  cr_assert_eq(c.activation, HMN_ACT_TANH);
  cr_assert_eq(c.noise_sigma, 0.01f);
  cr_assert_eq(c.ctx_rate, 0.05f);
  cr_assert_eq(c.emb_rate, 0.05f);
  cr_assert_eq(c.bias_rate, 0.001f);
  cr_assert_eq(c.target_rate, 0.1f);
  cr_assert_eq(c.inhibitory_fraction, 0.0f);
  cr_assert_eq(c.rule, HMN_RULE_HEBBIAN);
  cr_assert_eq(c.tau_fast, 5.0f);
  cr_assert_eq(c.tau_slow, 50.0f);
  cr_assert_eq(c.rho_fast, 1.0f);
  cr_assert_eq(c.rho_slow, 1.0f);
  cr_assert_eq(c.attention, HMN_ATTN_SOFTMAX);
  cr_assert_eq(c.beta_attn, 1.0f);
  cr_assert_eq(c.global_attention, 1);
  cr_assert_eq(c.similarity, HMN_SIM_COSINE);
  cr_assert_eq(c.beta_global, 1.0f);
  cr_assert_eq(c.astro_lambda, 0.0f);
  cr_assert_eq(c.astro_decay, 0.9f);
  cr_assert_eq(c.astro_gain, 0.1f);
  cr_assert_eq(c.astro_source, 1);
  cr_assert_eq(c.eta_local, 0.001f);
  cr_assert_eq(c.eta_global, 0.01f);
  cr_assert_eq(c.w_min, -1.0f);
  cr_assert_eq(c.w_max, 1.0f);
  cr_assert_eq(c.w_init, 0.1f);
  cr_assert_eq(c.phase_gate, 1);
  cr_assert_eq(c.phase0, 0.0f);
  cr_assert_eq(c.osc_freq, 0.1f);
  cr_assert_eq(c.stochastic, 1);
  cr_assert_eq(c.beta_p, 1000.0f);
  cr_assert_eq(c.theta_p, 0.0005f);
}

Test(config, defaults_are_valid) {
  hmn_config c;
  hmn_error err = {0};
  hmn_config_defaults(&c);
  cr_assert_eq(hmn_config_validate(&c, &err), 0, "%s", err.message);
}

Test(config, defaults_zero_the_padding) {
  hmn_config a, b;
  memset(&a, 0x00, sizeof a);
  memset(&b, 0xFF, sizeof b);
  hmn_config_defaults(&a);
  hmn_config_defaults(&b);
  cr_assert(memcmp(&a, &b, sizeof a) == 0);
}

Test(config, key_table_lists_every_key_once) {
  cr_assert_eq(hmn_config_key_count(), 93); /* +2: paired_copies, paired_learn */
  cr_assert_null(hmn_config_key_at(hmn_config_key_count()));
  for (size_t i = 0; i < hmn_config_key_count(); i++) {
    const hmn_config_key_info *k = hmn_config_key_at(i);
    cr_assert_not_null(k);
    cr_assert(k->section[0] != '\0' && k->range[0] != '\0' && k->meaning[0] != '\0', "%s",
              k->key);
    for (size_t j = 0; j < i; j++) {
      cr_assert_str_neq(hmn_config_key_at(j)->key, k->key);
    }
  }
}

static const hmn_config_key_info *find_info(const char *key) {
  for (size_t i = 0; i < hmn_config_key_count(); i++) {
    if (strcmp(hmn_config_key_at(i)->key, key) == 0) return hmn_config_key_at(i);
  }
  return NULL;
}

Test(config, key_table_describes_types_and_ranges) {
  static const struct {
    const char *key, *section, *type, *range;
  } want[] = {
      {"n_in", "shape", "int", "[1, 65536]"},
      {"astro_source", "modulation", "int", "[0, 63]"},
      {"seed", "run", "uint64", NULL},
      {"dt", "run", "float", "> 0"},
      {"noise_sigma", "neuron", "float", ">= 0"},
      {"ctx_rate", "neuron", "float", "[0, 1]"},
      {"target_rate", "neuron", "float", "finite"},
      {"activation", "neuron", "enum", "relu|sigmoid|tanh|linear"},
      {"rule", "trace", "enum", "hebbian|policy|stdp|triplet|bcm"},
      {"pairing", "rules", "enum", "all|nearest"},
      {"scale_max", "rules", "float", ">= 1"},
      {"credit", "task", "enum", "now|late"},
      {"meta_params", "meta", "enum", "both|global"},
      {"rpe_baseline", "sources", "enum", "global|context"},
      {"attention", "attention", "enum", "softmax|softmax_n|off"},
      {"similarity", "modulation", "enum", "cosine|dot"},
      {"phase_gate", "gate", "bool", "on|off"},
      {"theta_p", "stochastic", "float", ">= 0"},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const hmn_config_key_info *k = find_info(want[i].key);
    cr_assert_not_null(k, "%s", want[i].key);
    cr_assert_str_eq(k->section, want[i].section, "%s", want[i].key);
    cr_assert_str_eq(k->type, want[i].type, "%s", want[i].key);
    if (want[i].range != NULL) cr_assert_str_eq(k->range, want[i].range, "%s", want[i].key);
  }
}

Test(config, every_listed_key_is_settable_in_its_section) {
  hmn_config c;
  hmn_error err = {0};
  hmn_config_defaults(&c);
  char *text = hmn_test_config_text(&c);
  cr_assert_not_null(text);
  for (size_t i = 0; i < hmn_config_key_count(); i++) {
    const hmn_config_key_info *k = hmn_config_key_at(i);
    char needle[128], ini[256];
    snprintf(needle, sizeof needle, "\n%s = ", k->key);
    const char *line = strstr(text, needle);
    cr_assert_not_null(line, "%s missing from the written config", k->key);
    int len = (int)strcspn(line + 1, "\n");
    /* The key's default line, loaded alone under the table's section into
     * a config that differs; writing that config must give the line back. */
    snprintf(ini, sizeof ini, "[%s]%.*s\n", k->section, len + 1, line);
    hmn_config d;
    non_default_config(&d);
    cr_assert_eq(hmn_config_load_string(&d, ini, "one", &err), 0, "%s: %s", k->key, err.message);
    char *back = hmn_test_config_text(&d);
    cr_assert_not_null(back);
    cr_assert(strncmp(strstr(back, needle), line, (size_t)len + 1) == 0, "%s did not load",
              k->key);
    free(back);
  }
  free(text);
}

Test(config, activation_names) {
  cr_assert_str_eq(hmn__activation_name(HMN_ACT_RELU), "relu");
  cr_assert_str_eq(hmn__activation_name(HMN_ACT_SIGMOID), "sigmoid");
  cr_assert_str_eq(hmn__activation_name(HMN_ACT_TANH), "tanh");
  cr_assert_str_eq(hmn__activation_name(HMN_ACT_LINEAR), "linear");
  cr_assert_str_eq(hmn__activation_name(4), "unknown");
  cr_assert_str_eq(hmn__activation_name(-1), "unknown");
}

/* ------------------------------------------------------------------ */
/* hmn_config_set: values that parse */

Test(config, set_stores_parsed_values) {
  hmn_config c;
  hmn_error err = {0};
  hmn_config_defaults(&c);
  cr_assert_eq(hmn_config_set(&c, "tau_fast", "20", &err), 0, "%s", err.message);
  cr_assert_eq(c.tau_fast, 20.0f);
  cr_assert_eq(hmn_config_set(&c, "n_out", "65536", &err), 0, "%s", err.message);
  cr_assert_eq(c.n_out, 65536);
  cr_assert_eq(hmn_config_set(&c, "ctx_rate", "1", &err), 0, "%s", err.message);
  cr_assert_eq(c.ctx_rate, 1.0f);
  cr_assert_eq(hmn_config_set(&c, "ctx_rate", "0", &err), 0, "%s", err.message);
  cr_assert_eq(c.ctx_rate, 0.0f);
  cr_assert_eq(hmn_config_set(&c, "astro_lambda", "-2.5e-3", &err), 0, "%s", err.message);
  cr_assert_eq(c.astro_lambda, -2.5e-3f);
  cr_assert_eq(hmn_config_set(&c, "astro_source", "0", &err), 0, "%s", err.message);
  cr_assert_eq(c.astro_source, 0);
}

Test(config, seed_takes_decimal_and_hex) {
  static const struct {
    const char *text;
    uint64_t value;
  } cases[] = {
      {"0", 0},
      {"42", 42},
      {"010", 10}, /* decimal, not octal */
      {"0x10", 16},
      {"0XfF", 255},
      {"18446744073709551615", UINT64_MAX},
      {"0xffffffffffffffff", UINT64_MAX},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    hmn_config c;
    hmn_error err = {0};
    hmn_config_defaults(&c);
    cr_assert_eq(hmn_config_set(&c, "seed", cases[i].text, &err), 0, "%s", err.message);
    cr_assert_eq(c.seed, cases[i].value, "seed = %s", cases[i].text);
  }
}

Test(config, every_enum_value_parses) {
  static const struct {
    const char *key, *text;
    int32_t value;
  } cases[] = {
      {"activation", "relu", HMN_ACT_RELU},       {"activation", "sigmoid", HMN_ACT_SIGMOID},
      {"activation", "tanh", HMN_ACT_TANH},       {"activation", "linear", HMN_ACT_LINEAR},
      {"rule", "hebbian", HMN_RULE_HEBBIAN},      {"attention", "softmax", HMN_ATTN_SOFTMAX},
      {"attention", "softmax_n", HMN_ATTN_SOFTMAX_N}, {"attention", "off", HMN_ATTN_OFF},
      {"similarity", "cosine", HMN_SIM_COSINE},   {"similarity", "dot", HMN_SIM_DOT},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    hmn_config c;
    hmn_error err = {0};
    hmn_config_defaults(&c);
    /* Start from a value other than the one expected. */
    c.activation = c.rule = c.attention = c.similarity = 77;
    cr_assert_eq(hmn_config_set(&c, cases[i].key, cases[i].text, &err), 0, "%s", err.message);
    int32_t got = strcmp(cases[i].key, "activation") == 0   ? c.activation
                  : strcmp(cases[i].key, "rule") == 0       ? c.rule
                  : strcmp(cases[i].key, "attention") == 0  ? c.attention
                                                            : c.similarity;
    cr_assert_eq(got, cases[i].value, "%s = %s", cases[i].key, cases[i].text);
  }
}

Test(config, every_bool_spelling_parses) {
  static const struct {
    const char *text;
    int32_t value;
  } cases[] = {{"on", 1},  {"off", 0}, {"true", 1}, {"false", 0},
               {"yes", 1}, {"no", 0},  {"1", 1},    {"0", 0}};
  static const char *const keys[] = {"global_attention", "phase_gate", "stochastic"};
  for (size_t k = 0; k < 3; k++) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      hmn_config c;
      hmn_error err = {0};
      hmn_config_defaults(&c);
      c.global_attention = c.phase_gate = c.stochastic = 5;
      cr_assert_eq(hmn_config_set(&c, keys[k], cases[i].text, &err), 0, "%s", err.message);
      int32_t got = k == 0 ? c.global_attention : k == 1 ? c.phase_gate : c.stochastic;
      cr_assert_eq(got, cases[i].value, "%s = %s", keys[k], cases[i].text);
    }
  }
}

/* ------------------------------------------------------------------ */
/* hmn_config_set: every per-key rule, by message */

Test(config, range_rules_name_key_and_value) {
  static const struct {
    const char *key, *value, *message;
  } cases[] = {
      {"n_in", "0", "n_in must be in [1, 65536], got 0"},
      {"n_in", "65537", "n_in must be in [1, 65536], got 65537"},
      {"n_in", "99999999999999999999", "n_in must be in [1, 65536], got 99999999999999999999"},
      {"n_out", "0", "n_out must be in [1, 65536], got 0"},
      {"n_mod", "65", "n_mod must be in [1, 64], got 65"},
      {"d_ctx", "257", "d_ctx must be in [1, 256], got 257"},
      {"delay_len", "0", "delay_len must be in [1, 256], got 0"},
      {"delay_len", "-4", "delay_len must be in [1, 256], got -4"},
      {"astro_source", "64", "astro_source must be in [0, 63], got 64"},
      {"astro_source", "-1", "astro_source must be in [0, 63], got -1"},
      {"dt", "0", "dt must be > 0, got 0"},
      {"dt", "1e-60", "dt must be > 0, got 1e-60"},
      {"tau_fast", "-3", "tau_fast must be > 0, got -3"},
      {"tau_slow", "0", "tau_slow must be > 0, got 0"},
      {"noise_sigma", "-1", "noise_sigma must be >= 0, got -1"},
      {"bias_rate", "-0.5", "bias_rate must be >= 0, got -0.5"},
      {"beta_attn", "-1", "beta_attn must be >= 0, got -1"},
      {"beta_global", "-2", "beta_global must be >= 0, got -2"},
      {"w_init", "-0.1", "w_init must be >= 0, got -0.1"},
      {"osc_freq", "-1", "osc_freq must be >= 0, got -1"},
      {"beta_p", "-1000", "beta_p must be >= 0, got -1000"},
      {"theta_p", "-1e-9", "theta_p must be >= 0, got -1e-9"},
      {"ctx_rate", "1.5", "ctx_rate must be in [0, 1], got 1.5"},
      {"emb_rate", "-0.01", "emb_rate must be in [0, 1], got -0.01"},
      {"inhibitory_fraction", "1.0001", "inhibitory_fraction must be in [0, 1], got 1.0001"},
      {"astro_decay", "2", "astro_decay must be in [0, 1], got 2"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    expect_set_error(cases[i].key, cases[i].value, cases[i].message);
  }
}

Test(config, malformed_values_are_refused) {
  static const struct {
    const char *key, *value, *message;
  } cases[] = {
      {"n_in", "abc", "n_in: 'abc' is not an integer"},
      {"n_in", "12abc", "n_in: '12abc' is not an integer"},
      {"n_in", "1.5", "n_in: '1.5' is not an integer"},
      {"n_in", "", "n_in: '' is not an integer"},
      {"dt", "x", "dt: 'x' is not a number"},
      {"dt", "1.0f", "dt: '1.0f' is not a number"},
      {"dt", "", "dt: '' is not a number"},
      {"dt", "inf", "dt must be finite, got inf"},
      {"dt", "nan", "dt must be finite, got nan"},
      {"target_rate", "-inf", "target_rate must be finite, got -inf"},
      {"w_max", "1e50", "w_max must be finite, got 1e50"},
      {"seed", "abc", "seed: 'abc' is not an unsigned integer"},
      {"seed", "-1", "seed: '-1' is not an unsigned integer"},
      {"seed", "0x", "seed: '0x' is not an unsigned integer"},
      {"seed", " 5", "seed: ' 5' is not an unsigned integer"},
      {"seed", "0x1g", "seed: '0x1g' is not an unsigned integer"},
      {"seed", "18446744073709551616",
       "seed must be at most 18446744073709551615, got 18446744073709551616"},
      {"activation", "foo", "activation must be one of relu, sigmoid, tanh, linear, got 'foo'"},
      {"activation", "Tanh", "activation must be one of relu, sigmoid, tanh, linear, got 'Tanh'"},
      {"rule", "oja", "rule must be one of hebbian, policy, stdp, triplet, bcm, got 'oja'"},
      {"attention", "hard", "attention must be one of softmax, softmax_n, off, got 'hard'"},
      {"similarity", "l2", "similarity must be one of cosine, dot, got 'l2'"},
      {"phase_gate", "maybe", "phase_gate must be on or off, got 'maybe'"},
      {"stochastic", "2", "stochastic must be on or off, got '2'"},
      {"global_attention", "", "global_attention must be on or off, got ''"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    expect_set_error(cases[i].key, cases[i].value, cases[i].message);
  }
}

Test(config, set_refuses_unknown_keys) {
  expect_set_error("foo", "1", "unknown key 'foo'");
  /* Section-qualified names are not keys. */
  expect_set_error("trace.tau_fast", "1", "unknown key 'trace.tau_fast'");
}

Test(config, set_refuses_null_arguments) {
  hmn_config c;
  hmn_error err = {0};
  hmn_config_defaults(&c);
  cr_assert_eq(hmn_config_set(NULL, "dt", "1", &err), HMN_EINVAL);
  cr_assert_eq(hmn_config_set(&c, NULL, "1", &err), HMN_EINVAL);
  cr_assert_eq(hmn_config_set(&c, "dt", NULL, &err), HMN_EINVAL);
  cr_assert_eq(err.status, HMN_EINVAL);
  /* A NULL error report is allowed. */
  cr_assert_eq(hmn_config_set(&c, "dt", "-1", NULL), HMN_ECONFIG);
  cr_assert_eq(c.dt, 1.0f);
}

/* ------------------------------------------------------------------ */
/* hmn_config_set_pair */

Test(config, set_pair_overrides) {
  hmn_config c;
  hmn_error err = {0};
  hmn_config_defaults(&c);
  cr_assert_eq(hmn_config_set_pair(&c, "tau_fast=20", &err), 0, "%s", err.message);
  cr_assert_eq(c.tau_fast, 20.0f);
  cr_assert_eq(hmn_config_set_pair(&c, "  n_out \t=  3 ", &err), 0, "%s", err.message);
  cr_assert_eq(c.n_out, 3);
  cr_assert_eq(hmn_config_set_pair(&c, "activation = relu", &err), 0, "%s", err.message);
  cr_assert_eq(c.activation, HMN_ACT_RELU);
  cr_assert_eq(hmn_config_set_pair(&c, "seed=0xffffffffffffffff", &err), 0, "%s", err.message);
  cr_assert_eq(c.seed, UINT64_MAX);
}

Test(config, set_pair_rejects_malformed_pairs) {
  static const struct {
    const char *pair, *message;
  } cases[] = {
      {"xyz", "expected key=value, got 'xyz'"},
      {"", "expected key=value, got ''"},
      {"=5", "expected key=value, got '=5'"},
      {"  = 5", "expected key=value, got '  = 5'"},
      {"foo=1", "unknown key 'foo'"},
      {"dt=", "dt: '' is not a number"},
      {"n_in=1=2", "n_in: '1=2' is not an integer"},
      {"tau_fast = -3", "tau_fast must be > 0, got -3"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    hmn_config c, before;
    hmn_error err = {0};
    hmn_config_defaults(&c);
    memcpy(&before, &c, sizeof c);
    cr_assert_eq(hmn_config_set_pair(&c, cases[i].pair, &err), HMN_ECONFIG, "'%s'",
                 cases[i].pair);
    cr_assert_eq(err.status, HMN_ECONFIG);
    cr_assert_str_eq(err.message, cases[i].message);
    cr_assert(memcmp(&c, &before, sizeof c) == 0);
  }
}

Test(config, set_pair_reports_out_of_memory) {
  hmn_config c, before;
  hmn_error err = {0};
  hmn_config_defaults(&c);
  memcpy(&before, &c, sizeof c);
  hmn__alloc_fail_after(1);
  int rc = hmn_config_set_pair(&c, "dt=2", &err);
  hmn__alloc_fail_after(0);
  cr_assert_eq(rc, HMN_ENOMEM);
  cr_assert_eq(err.status, HMN_ENOMEM);
  cr_assert(memcmp(&c, &before, sizeof c) == 0);
}

/* ------------------------------------------------------------------ */
/* hmn_config_validate: values set directly, and rules between keys */

Test(config, validate_checks_each_key) {
  EXPECT_INVALID(n_in, 0, "n_in must be in [1, 65536], got 0");
  EXPECT_INVALID(tau_fast, -3.0f, "tau_fast must be > 0, got -3");
  EXPECT_INVALID(ctx_rate, 1.5f, "ctx_rate must be in [0, 1], got 1.5");
  EXPECT_INVALID(noise_sigma, -1.0f, "noise_sigma must be >= 0, got -1");
  EXPECT_INVALID(dt, (float)NAN, "dt must be finite, got nan");
  EXPECT_INVALID(rho_slow, (float)INFINITY, "rho_slow must be finite, got inf");
  EXPECT_INVALID(activation, 9, "activation must be one of relu, sigmoid, tanh, linear, got 9");
  EXPECT_INVALID(rule, 5, "rule must be one of hebbian, policy, stdp, triplet, bcm, got 5");
  EXPECT_INVALID(pairing, 2, "pairing must be one of all, nearest, got 2");
  EXPECT_INVALID(hetero_ratio, -1.0f, "hetero_ratio must be >= 0, got -1");
  EXPECT_INVALID(attention, -1, "attention must be one of softmax, softmax_n, off, got -1");
  EXPECT_INVALID(phase_gate, 2, "phase_gate must be on or off, got 2");
}

Test(config, validate_cross_rules) {
  EXPECT_INVALID(w_min, 1.0f, "w_min must be < w_max, got w_min=1 w_max=1");
  EXPECT_INVALID(theta_min, 20.0f, "theta_min must be < theta_max, got theta_min=20 theta_max=10");
  EXPECT_INVALID(theta_init, -1.0f,
                 "theta_init must be in [theta_min, theta_max] = [0, 10], got -1");
  {
    hmn_config c;
    hmn_error err = {0};
    hmn_config_defaults(&c);
    c.w_min = 1.0f;
    c.w_max = -1.0f;
    cr_assert_eq(hmn_config_validate(&c, &err), HMN_ECONFIG);
    cr_assert_str_eq(err.message, "w_min must be < w_max, got w_min=1 w_max=-1");
  }
  EXPECT_INVALID(rule, HMN_RULE_POLICY,
                 "rule=policy needs action=softmax (the action must be drawn from pi = "
                 "softmax(z/temperature)), got action=argmax");
  EXPECT_INVALID(astro_source, 5, "astro_source must be < n_mod (3), got 5");
  EXPECT_INVALID(astro_source, 3, "astro_source must be < n_mod (3), got 3");
  EXPECT_INVALID(w_init, 2.0f, "w_init must be <= max(|w_min|, |w_max|) (1), got 2");
  {
    hmn_config c;
    hmn_error err = {0};
    hmn_config_defaults(&c);
    c.n_in = 65536;
    c.n_out = 65536;
    cr_assert_eq(hmn_config_validate(&c, &err), HMN_ECONFIG);
    cr_assert_str_eq(err.message,
                     "n_in*n_out must be <= 1073741824 synapses, got 4294967296 "
                     "(n_in=65536, n_out=65536)");
  }
}

Test(config, validate_accepts_the_boundaries) {
  hmn_config c;
  hmn_error err = {0};
  hmn_config_defaults(&c);
  c.n_in = 65536;
  c.n_out = 16384; /* exactly 2^30 synapses */
  c.astro_source = 2;
  c.w_min = -2.0f;
  c.w_max = 0.5f;
  c.w_init = 2.0f; /* |w_min| is the larger bound */
  cr_assert_eq(hmn_config_validate(&c, &err), 0, "%s", err.message);
  c.n_out = 16385;
  cr_assert_eq(hmn_config_validate(&c, &err), HMN_ECONFIG);
  cr_assert(strstr(err.message, "got 1073807360") != NULL, "%s", err.message);
}

/* ------------------------------------------------------------------ */
/* Loading INI text */

Test(config, load_string_sets_keys_and_keeps_the_rest) {
  hmn_config c;
  hmn_error err = {0};
  hmn_config_defaults(&c);
  c.n_in = 9; /* not in the text: must survive */
  const char *text = "# comment\r\n"
                     "; another\n"
                     "[trace]\n"
                     "tau_fast = 20 ; inline comment\n"
                     "\n"
                     "[neuron]\r\n"
                     "activation: linear\n"
                     "[run]\n"
                     "seed=0x10\n";
  cr_assert_eq(hmn_config_load_string(&c, text, "t.ini", &err), 0, "%s", err.message);
  cr_assert_eq(c.tau_fast, 20.0f);
  cr_assert_eq(c.activation, HMN_ACT_LINEAR);
  cr_assert_eq(c.seed, 16);
  cr_assert_eq(c.n_in, 9);
}

static void expect_load_string_error(const char *text, const char *message) {
  hmn_config c, before;
  hmn_error err = {0};
  non_default_config(&c);
  memcpy(&before, &c, sizeof c);
  int rc = hmn_config_load_string(&c, text, "my.ini", &err);
  cr_assert_eq(rc, HMN_ECONFIG, "rc %d for:\n%s", rc, text);
  cr_assert_eq(err.status, HMN_ECONFIG);
  cr_assert_str_eq(err.message, message);
  cr_assert(memcmp(&c, &before, sizeof c) == 0, "a failed load changed the config");
}

Test(config, load_string_refuses_unknown_and_misplaced_keys) {
  expect_load_string_error("[neuron]\n"
                           "noise_sigma = 0.5\n"
                           "foo = 1\n",
                           "my.ini:3: unknown key 'foo' in section [neuron]");
  expect_load_string_error("[neuron]\n"
                           "noise_sigma = 0.5\n"
                           "tau_fast = 1\n",
                           "my.ini:3: key 'tau_fast' belongs in section [trace], not [neuron]");
  expect_load_string_error("[bogus]\n"
                           "x = 1\n",
                           "my.ini:1: unknown section [bogus]");
  expect_load_string_error("[shape]\n"
                           "n_in = 8\n"
                           "\n"
                           "[Shape]\n"
                           "; the header is what is wrong\n"
                           "n_out = 8\n",
                           "my.ini:4: unknown section [Shape]");
  expect_load_string_error("n_in = 8\n", "my.ini:1: key 'n_in' belongs in section [shape], "
                                         "not outside any section");
  expect_load_string_error("foo = 8\n", "my.ini:1: unknown key 'foo' outside any section");
}

Test(config, load_string_refuses_bad_values_with_their_line) {
  expect_load_string_error("[trace]\n"
                           "tau_slow = 10\n"
                           "tau_fast = -3\n",
                           "my.ini:3: tau_fast must be > 0, got -3");
  expect_load_string_error("[neuron]\n"
                           "activation = foo\n",
                           "my.ini:2: activation must be one of relu, sigmoid, tanh, linear, "
                           "got 'foo'");
  expect_load_string_error("[shape]\nn_in = abc\n", "my.ini:2: n_in: 'abc' is not an integer");
  expect_load_string_error("[gate]\nphase_gate = maybe\n",
                           "my.ini:2: phase_gate must be on or off, got 'maybe'");
}

Test(config, load_string_reports_syntax_errors) {
  expect_load_string_error("[shape\nn_in = 3\n", "my.ini:1: syntax error");
  expect_load_string_error("[shape]\nn_in 3\n", "my.ini:2: syntax error");
  /* The first error by line is the one reported, whichever kind. */
  expect_load_string_error("[shape]\nn_in 3\nfoo = 1\n", "my.ini:2: syntax error");
  expect_load_string_error("[shape]\nfoo = 1\nn_in 3\n",
                           "my.ini:2: unknown key 'foo' in section [shape]");
}

Test(config, load_string_refuses_overlong_lines) {
  char text[1024];
  char value[600];
  memset(value, '1', sizeof value - 1);
  value[sizeof value - 1] = '\0';
  snprintf(text, sizeof text, "[run]\nseed = %s\n[shape]\nn_in = 3\n", value);
  hmn_config c, before;
  hmn_error err = {0};
  hmn_config_defaults(&c);
  memcpy(&before, &c, sizeof c);
  cr_assert_eq(hmn_config_load_string(&c, text, "long.ini", &err), HMN_ECONFIG);
  cr_assert(strncmp(err.message, "long.ini:2: line is longer than ", 32) == 0, "%s",
            err.message);
  cr_assert(memcmp(&c, &before, sizeof c) == 0);
}

Test(config, load_string_checks_cross_rules_after_reading) {
  expect_load_string_error("[plasticity]\nw_min = 1\nw_max = -1\n",
                           "my.ini: w_min must be < w_max, got w_min=1 w_max=-1");
  /* Each key is fine alone; only together do they break a rule. */
  expect_load_string_error("[shape]\nn_mod = 2\n[modulation]\nastro_source = 5\n",
                           "my.ini: astro_source must be < n_mod (2), got 5");
  /* The order of keys does not matter, only the result. */
  hmn_config c;
  hmn_error err = {0};
  hmn_config_defaults(&c);
  cr_assert_eq(hmn_config_load_string(&c, "[modulation]\nastro_source = 5\n[shape]\nn_mod = 8\n",
                                      "my.ini", &err),
               0, "%s", err.message);
  cr_assert_eq(c.astro_source, 5);
  cr_assert_eq(c.n_mod, 8);
}

Test(config, load_string_names_an_unnamed_origin) {
  hmn_config c;
  hmn_error err = {0};
  hmn_config_defaults(&c);
  cr_assert_eq(hmn_config_load_string(&c, "[x]\na=1\n", NULL, &err), HMN_ECONFIG);
  cr_assert_str_eq(err.message, "<string>:1: unknown section [x]");
  cr_assert_eq(hmn_config_load_string(&c, NULL, "o", &err), HMN_EINVAL);
  cr_assert_eq(hmn_config_load_string(NULL, "", "o", &err), HMN_EINVAL);
}

/* ------------------------------------------------------------------ */
/* Loading INI files */

Test(config, load_file_reads_keys) {
  const char *text = "[stochastic]\nstochastic = off\nbeta_p = 250\n";
  char path[1024];
  snprintf(path, sizeof path, "%s", hmn_test_path("good.ini"));
  cr_assert_eq(hmn_test_write_file(path, text, strlen(text)), 0);
  hmn_config c;
  hmn_error err = {0};
  hmn_config_defaults(&c);
  cr_assert_eq(hmn_config_load_file(&c, path, &err), 0, "%s", err.message);
  cr_assert_eq(c.stochastic, 0);
  cr_assert_eq(c.beta_p, 250.0f);
}

static void expect_load_file_error(const char *name, const char *text, const char *tail) {
  char path[1024], message[2048];
  snprintf(path, sizeof path, "%s", hmn_test_path(name));
  cr_assert_eq(hmn_test_write_file(path, text, strlen(text)), 0);
  snprintf(message, sizeof message, "%s:%s", path, tail);
  hmn_config c, before;
  hmn_error err = {0};
  non_default_config(&c);
  memcpy(&before, &c, sizeof c);
  cr_assert_eq(hmn_config_load_file(&c, path, &err), HMN_ECONFIG);
  cr_assert_eq(err.status, HMN_ECONFIG);
  cr_assert_str_eq(err.message, message);
  cr_assert(memcmp(&c, &before, sizeof c) == 0, "a failed load changed the config");
}

Test(config, load_file_refuses_unknown_and_misplaced_keys) {
  expect_load_file_error("unknown_key.ini",
                         "[shape]\nn_in = 8\n[neuron]\nactivation = relu\n"
                         "noise_sigma = 0\n\n\n\n\n\n\nfoo = 2\n",
                         "12: unknown key 'foo' in section [neuron]");
  expect_load_file_error("wrong_section.ini", "# x\n\n[neuron]\ntau_fast = 1\n",
                         "4: key 'tau_fast' belongs in section [trace], not [neuron]");
  expect_load_file_error("unknown_section.ini", "[bogus]\nn_in = 1\n",
                         "1: unknown section [bogus]");
  expect_load_file_error("bad_value.ini", "[trace]\ntau_fast = -3\n",
                         "2: tau_fast must be > 0, got -3");
  expect_load_file_error("syntax.ini", "[run]\nseed\n", "2: syntax error");
  expect_load_file_error("cross.ini", "[plasticity]\nw_init = 2\n",
                         " w_init must be <= max(|w_min|, |w_max|) (0.300000012), got 2");
}

Test(config, load_file_refuses_overlong_lines) {
  char text[1024];
  char value[700];
  memset(value, '5', sizeof value - 1);
  value[sizeof value - 1] = '\0';
  snprintf(text, sizeof text, "[run]\n\nseed = %s\n", value);
  char path[1024], prefix[1100];
  snprintf(path, sizeof path, "%s", hmn_test_path("long.ini"));
  cr_assert_eq(hmn_test_write_file(path, text, strlen(text)), 0);
  snprintf(prefix, sizeof prefix, "%s:3: line is longer than ", path);
  hmn_config c;
  hmn_error err = {0};
  hmn_config_defaults(&c);
  cr_assert_eq(hmn_config_load_file(&c, path, &err), HMN_ECONFIG);
  cr_assert(strncmp(err.message, prefix, strlen(prefix)) == 0, "%s", err.message);
  cr_assert_eq(c.seed, 1);
}

Test(config, load_file_reports_missing_files) {
  char path[1024], message[2048];
  snprintf(path, sizeof path, "%s", hmn_test_path("does-not-exist.ini"));
  snprintf(message, sizeof message, "cannot open config file '%s': %s", path, strerror(ENOENT));
  hmn_config c, before;
  hmn_error err = {0};
  hmn_config_defaults(&c);
  memcpy(&before, &c, sizeof c);
  cr_assert_eq(hmn_config_load_file(&c, path, &err), HMN_EIO);
  cr_assert_eq(err.status, HMN_EIO);
  cr_assert_str_eq(err.message, message);
  cr_assert(memcmp(&c, &before, sizeof c) == 0);
}

Test(config, load_file_reports_read_errors) {
  /* A directory opens but cannot be read. */
  char dir[1024], message[2048];
  snprintf(dir, sizeof dir, "%s", hmn_test_tmpdir());
  snprintf(message, sizeof message, "cannot read config file '%s': %s", dir, strerror(EISDIR));
  hmn_config c;
  hmn_error err = {0};
  hmn_config_defaults(&c);
  cr_assert_eq(hmn_config_load_file(&c, dir, &err), HMN_EIO);
  cr_assert_str_eq(err.message, message);
}

/* ------------------------------------------------------------------ */
/* Writing, and round trips */

Test(config, write_lists_sections_in_order) {
  hmn_config c;
  non_default_config(&c);
  char *text = hmn_test_config_text(&c);
  cr_assert_not_null(text);
  cr_assert(strncmp(text, "# hmn configuration\n", 20) == 0, "%s", text);
  static const char *const sections[] = {"[shape]",      "[run]",        "[neuron]",
                                         "[trace]",      "[attention]",  "[modulation]",
                                         "[plasticity]", "[gate]",       "[stochastic]"};
  const char *at = text;
  for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
    const char *found = strstr(at, sections[i]);
    cr_assert_not_null(found, "%s missing or out of order", sections[i]);
    cr_assert_null(strstr(found + 1, sections[i]), "%s written twice", sections[i]);
    at = found;
  }
  cr_assert_not_null(strstr(text, "\nseed = 18446744073709551615\n"));
  /* 0.1f written shortest: it reads back to the same bits (see
   * floats_are_written_shortest_and_exact). */
  cr_assert_not_null(strstr(text, "\ndt = 0.1\n"));
  cr_assert_not_null(strstr(text, "\nactivation = relu\n"));
  cr_assert_not_null(strstr(text, "\nglobal_attention = off\n"));
  cr_assert_not_null(strstr(text, "\nphase_gate = on\n"));
  cr_assert_not_null(strstr(text, "\nattention = off\n"));
  cr_assert_not_null(strstr(text, "\nphase0 = -0\n"));
  free(text);
}

Test(config, defaults_round_trip_bit_identically) {
  hmn_config c, d;
  hmn_error err = {0};
  hmn_config_defaults(&c);
  char *text = hmn_test_config_text(&c);
  cr_assert_not_null(text);
  /* Load over a different config, so that every key must be written. */
  non_default_config(&d);
  cr_assert_eq(hmn_config_load_string(&d, text, "defaults", &err), 0, "%s", err.message);
  cr_assert(memcmp(&c, &d, sizeof c) == 0, "defaults changed in a round trip:\n%s", text);
  free(text);
}

Test(config, non_default_config_round_trips_through_a_string) {
  hmn_config c, d;
  hmn_error err = {0};
  non_default_config(&c);
  cr_assert_eq(hmn_config_validate(&c, &err), 0, "%s", err.message);
  char *text = hmn_test_config_text(&c);
  cr_assert_not_null(text);
  hmn_config_defaults(&d);
  cr_assert_eq(hmn_config_load_string(&d, text, "mine", &err), 0, "%s", err.message);
  cr_assert(memcmp(&c, &d, sizeof c) == 0, "config changed in a round trip:\n%s", text);
  cr_assert_eq(d.seed, UINT64_MAX);
  cr_assert_eq(d.dt, 0.1f);
  cr_assert_eq(d.target_rate, 1.0f / 3.0f);
  free(text);
}

Test(config, non_default_config_round_trips_through_a_file) {
  hmn_config c, d;
  hmn_error err = {0};
  non_default_config(&c);
  char path[1024];
  snprintf(path, sizeof path, "%s", hmn_test_path("round.ini"));
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  cr_assert_eq(hmn_config_write(&c, f, &err), 0, "%s", err.message);
  cr_assert_eq(fclose(f), 0);
  hmn_config_defaults(&d);
  cr_assert_eq(hmn_config_load_file(&d, path, &err), 0, "%s", err.message);
  cr_assert(memcmp(&c, &d, sizeof c) == 0);
}

Test(config, write_refuses_unnamed_enum_values_and_bad_streams) {
  hmn_config c;
  hmn_error err;
  char *text = (char *)"untouched";
  hmn_config_defaults(&c);
  c.similarity = 7;
  cr_assert_eq(hmn_config_write(&c, stdout, &err), HMN_ECONFIG);
  cr_assert_eq(err.status, HMN_ECONFIG);
  cr_assert_not_null(strstr(err.message, "similarity = 7"), "%s", err.message);
  cr_assert_eq(hmn_config_to_string(&c, &text, &err), HMN_ECONFIG);
  cr_assert_null(text, "a failed call leaves *out NULL");
  cr_assert_not_null(strstr(err.message, "similarity"), "%s", err.message);
  hmn_config_defaults(&c);
  c.stochastic = -1;
  cr_assert_null(hmn_test_config_text(&c));
  cr_assert_eq(hmn_config_to_string(NULL, &text, &err), HMN_EINVAL);
  cr_assert_not_null(strstr(err.message, "hmn_config_to_string"), "%s", err.message);
  cr_assert_eq(hmn_config_to_string(&c, NULL, NULL), HMN_EINVAL);
  cr_assert_eq(hmn_config_write(NULL, stdout, &err), HMN_EINVAL);
  cr_assert_not_null(strstr(err.message, "hmn_config_write"), "%s", err.message);
  cr_assert_eq(hmn_config_write(NULL, stdout, NULL), HMN_EINVAL, "err may be NULL");

  /* A stream opened for reading refuses writes. */
  char path[1024];
  snprintf(path, sizeof path, "%s", hmn_test_path("readonly.ini"));
  cr_assert_eq(hmn_test_write_file(path, "", 0), 0);
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f);
  hmn_config_defaults(&c);
  cr_assert_eq(hmn_config_write(&c, f, &err), HMN_EIO);
  cr_assert_eq(err.status, HMN_EIO);
  fclose(f);
}

/* The writer prints each float as the shortest decimal that reads back
 * to the same bits: every float of a sweep over the exponents and
 * mantissas round-trips, and no shorter %g text of it would. */
Test(config, floats_are_written_shortest_and_exact) {
  hmn_config cfg;
  hmn_config_defaults(&cfg);
  char *text = NULL;
  hmn_error e;
  cr_assert_eq(hmn_config_to_string(&cfg, &text, &e), HMN_OK, "%s", e.message);
  cr_assert_not_null(strstr(text, "eta_local = 0.001\n"), "%s", text);
  cr_assert_not_null(strstr(text, "tau_slow = 50\n"), "%s", text);
  cr_assert_null(strstr(text, "00000"), "float noise in\n%s", text);
  free(text);
  uint32_t bits = 0x3a83126fu; /* 0.001f, then a sweep from it */
  for (int n = 0; n < 20000; n++, bits += 0x00012345u) {
    float f;
    memcpy(&f, &bits, sizeof f);
    if (!isfinite(f) || f <= 0.0f || f > 1e6f) continue;
    cfg.eta_global = f;
    char *ini = NULL;
    cr_assert_eq(hmn_config_to_string(&cfg, &ini, &e), HMN_OK, "%s", e.message);
    const char *line = strstr(ini, "eta_global = ");
    cr_assert_not_null(line);
    line += strlen("eta_global = ");
    char value[64];
    size_t len = strcspn(line, "\n");
    cr_assert(len < sizeof value);
    memcpy(value, line, len);
    value[len] = '\0';
    hmn_config back;
    hmn_error err;
    hmn_config_defaults(&back);
    cr_assert_eq(hmn_config_load_string(&back, ini, "sweep", &err), HMN_OK, "%s", err.message);
    cr_assert(memcmp(&back.eta_global, &f, sizeof f) == 0, "%s does not read back", value);
    /* Shortest: one significant digit fewer does not read back. */
    int digits = 0;
    for (const char *c = value; *c != '\0' && *c != 'e'; c++)
      if (*c >= '0' && *c <= '9' && (digits > 0 || *c != '0')) digits++;
    if (digits > 1) {
      char shorter[400];
      snprintf(shorter, sizeof shorter, "%.*g", digits - 1, (double)f);
      float s = strtof(shorter, NULL);
      cr_assert(memcmp(&s, &f, sizeof f) != 0, "%s is not the shortest (%s is)", value, shorter);
    }
    free(ini);
  }
}
