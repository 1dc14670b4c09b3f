/*
 * hmn_bank_audit.cpp - the C-simulation's counts of on-chip bank accesses
 * per pipelined iteration (hw/hmn_bank_audit.h).
 */
#include "hmn_bank_audit.h"
#include "hmn_sim_dataflow.h"

#include <cstdio>
#include <map>
#include <string>
#include <utility>

namespace hmn_audit {
namespace {

struct state {
  std::map<std::pair<const void *, int>, int> counts;
  std::map<const void *, const char *> names;
  std::map<std::string, size_t> loops;
  std::string current;
  size_t violations = 0;
  std::string first;
};

state &the() {
  static state s;
  return s;
}

void check() {
  state &s = the();
  for (const auto &c : s.counts) {
    if (c.second <= kPorts) continue;
    if (s.violations++ == 0) {
      char text[256];
      std::snprintf(text, sizeof text, "loop %s: bank %d of %s accessed %d times in one iteration",
                    s.current.c_str(), c.first.second, s.names[c.first.first], c.second);
      s.first = text;
    }
  }
  s.counts.clear();
}

}  // namespace

/* Per-iteration counts need one process at a time: the audit runs in
 * sequential regions only. */
void touch(const void *array, const char *name, int bank) {
  if (hmn_sim::threaded()) return;
  state &s = the();
  s.names[array] = name;
  s.counts[std::make_pair(array, bank)]++;
}

void iteration(const char *loop) {
  if (hmn_sim::threaded()) return;
  check();
  the().current = loop;
  the().loops[loop]++;
}

size_t violations() {
  check();
  return the().violations;
}

const char *first_violation() { return the().first.c_str(); }

size_t iterations(const char *loop) {
  auto it = the().loops.find(loop);
  return it == the().loops.end() ? 0 : it->second;
}

void reset() {
  state &s = the();
  s.counts.clear();
  s.loops.clear();
  s.current.clear();
  s.violations = 0;
  s.first.clear();
}

}  // namespace hmn_audit
