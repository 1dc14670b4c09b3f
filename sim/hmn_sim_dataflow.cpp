/*
 * hmn_sim_dataflow.cpp - sequential or threaded dataflow regions for the
 * C-simulation (sim/include/hmn_sim_dataflow.h).
 */
#include "hmn_sim_dataflow.h"

#include <map>
#include <thread>
#include <vector>

namespace hmn_sim {
namespace {

struct state {
  bool threaded = false;
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::function<void()> > pending; /* the region's processes, not yet started */
  int live = 0; /* processes of the region not yet finished */
  /* The processes waiting on a stream, by what would let each go on. */
  std::vector<const std::function<bool()> *> waiters;
  std::string deadlock;
  std::map<std::string, int> overrides;
};

state &the() {
  static state s;
  return s;
}

/* Every live process waits and none of them could go on. */
bool stuck(state &s) {
  if (s.live == 0 || (int)s.waiters.size() < s.live) return false;
  for (const std::function<bool()> *ready : s.waiters)
    if ((*ready)()) return false;
  return true;
}

}  // namespace

void set_threaded(bool on) { the().threaded = on; }
bool threaded() { return the().threaded; }
std::mutex &lock() { return the().mutex; }
std::condition_variable &signal() { return the().cv; }

void process(const std::function<void()> &body) {
  state &s = the();
  if (!s.threaded) {
    body();
    return;
  }
  s.pending.push_back(body);
}

/* All processes start together, so that none sees the others as missing
 * (a region is stuck only when every one of its processes waits). */
void join() {
  state &s = the();
  if (s.pending.empty()) return;
  {
    std::lock_guard<std::mutex> guard(s.mutex);
    s.live = (int)s.pending.size();
  }
  std::vector<std::thread> threads;
  for (const std::function<void()> &body : s.pending)
    threads.emplace_back([body]() {
      body();
      state &st = the();
      std::lock_guard<std::mutex> guard(st.mutex);
      st.live--;
      /* One fewer live process may leave all the others waiting. */
      if (stuck(st) && st.deadlock.empty())
        st.deadlock = "every process left waits on a stream after one finished";
      st.cv.notify_all();
    });
  for (std::thread &t : threads) t.join();
  s.pending.clear();
}

bool wait_until(const std::function<bool()> &ready, const std::string &name, const char *what,
                std::unique_lock<std::mutex> &held) {
  state &s = the();
  if (ready()) return true;
  s.waiters.push_back(&ready);
  bool ok = true;
  while (!ready()) {
    if (s.deadlock.empty() && stuck(s)) {
      s.deadlock = "stream '" + name + "' " + what + " while every other process waits";
      s.cv.notify_all();
    }
    if (!s.deadlock.empty()) {
      ok = false;
      break;
    }
    s.cv.wait(held);
  }
  for (size_t k = 0; k < s.waiters.size(); k++)
    if (s.waiters[k] == &ready) {
      s.waiters.erase(s.waiters.begin() + (long)k);
      break;
    }
  return ok;
}

const std::string &deadlock() { return the().deadlock; }
void clear_deadlock() { the().deadlock.clear(); }

int depth_for(const std::string &name, int declared) {
  auto it = the().overrides.find(name);
  return it != the().overrides.end() ? it->second : declared;
}

void override_depth(const std::string &name, int depth) {
  if (depth <= 0)
    the().overrides.erase(name);
  else
    the().overrides[name] = depth;
}

}  // namespace hmn_sim
