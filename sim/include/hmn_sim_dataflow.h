/*
 * hmn_sim_dataflow.h - how the C-simulation runs a dataflow region
 * (hw/hmn_dataflow.h). By default the processes run one after another,
 * each to completion, over unbounded streams, as Vitis's own C-simulation
 * does. In threaded mode each process runs in a thread of its own and
 * every stream holds at most the depth the region declares, as on the
 * card: a producer waits while its stream is full, a consumer while it is
 * empty. When every live process of the region waits, nothing can move
 * again: the region is deadlocked (the hardware would hang), and the
 * simulation records which stream the last one waited on, lets every wait
 * return, and finishes the region with that on record.
 */
#ifndef HMN_SIM_DATAFLOW_H
#define HMN_SIM_DATAFLOW_H

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>

namespace hmn_sim {

/* Threaded mode on or off (off: sequential). */
void set_threaded(bool on);
bool threaded();

/* Run one process of the current region; join waits for all of them. */
void process(const std::function<void()> &body);
void join();

/* The lock every stream takes in threaded mode, and every change to a
 * stream is announced through signal(). */
std::mutex &lock();
std::condition_variable &signal();
/* Wait, holding `held` (of lock()), until ready() holds: true then; false
 * when the region is deadlocked (every live process waits and none is
 * ready), which is recorded as stream `name` being `what` ("full",
 * "empty"). */
bool wait_until(const std::function<bool()> &ready, const std::string &name, const char *what,
                std::unique_lock<std::mutex> &held);
/* The first deadlock of the last region, as text; empty when none. */
const std::string &deadlock();
void clear_deadlock();

/* A stream's depth: the region's, or a test's override for that name
 * (0 restores the region's). */
int depth_for(const std::string &name, int declared);
void override_depth(const std::string &name, int depth);

}  // namespace hmn_sim

#endif /* HMN_SIM_DATAFLOW_H */
