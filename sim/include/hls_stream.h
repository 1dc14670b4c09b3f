/*
 * hls_stream.h for the C-simulation: hls::stream<T> as a FIFO with the
 * member functions the hw/ sources use (read, write, empty, full, size).
 *
 * Vitis HLS brings its own hls_stream.h; the one AMD publishes outside
 * Vitis carries a proprietary licence, so the C-simulation builds against
 * this one (sim/README.md). Run sequentially (the default), the processes
 * of a region run one after another, so a stream holds whatever its
 * producer wrote: depth is not enforced, and a read from an empty stream
 * (a consumer that wants more than its producer made, which would hang
 * the hardware) aborts. Run threaded (hmn_sim_dataflow.h), a stream holds
 * at most its depth and reads and writes wait as on the card; a wait that
 * would deadlock the region returns at once (reads give T()) and the
 * deadlock is on record.
 */
#ifndef HMN_SIM_HLS_STREAM_H
#define HMN_SIM_HLS_STREAM_H

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <mutex>
#include <string>

#include "hmn_sim_dataflow.h"

namespace hls {

template <typename T>
class stream {
 public:
  stream() : name_("stream"), depth_(2), most_(0) {}
  explicit stream(const char *name) : name_(name), depth_(2), most_(0) {}
  stream(const stream &) = delete;
  stream &operator=(const stream &) = delete;

  /* The depth the region declares (HMN_STREAM in hw/hmn_dataflow.h). */
  void set_depth(int depth) { depth_ = hmn_sim::depth_for(name_, depth); }

  void write(const T &value) {
    if (!hmn_sim::threaded()) {
      push(value);
      return;
    }
    std::unique_lock<std::mutex> held(hmn_sim::lock());
    std::function<bool()> room = [this]() { return (int)fifo_.size() < depth_; };
    if (!hmn_sim::wait_until(room, name_, "full", held)) return;
    push(value);
    hmn_sim::signal().notify_all();
  }
  T read() {
    if (!hmn_sim::threaded()) {
      if (fifo_.empty()) {
        std::fprintf(stderr, "hls::stream '%s': read from an empty stream (a hardware hang)\n",
                     name_.c_str());
        std::abort();
      }
      return pop();
    }
    std::unique_lock<std::mutex> held(hmn_sim::lock());
    std::function<bool()> data = [this]() { return !fifo_.empty(); };
    if (!hmn_sim::wait_until(data, name_, "empty", held)) return T();
    T value = pop();
    hmn_sim::signal().notify_all();
    return value;
  }
  void read(T &value) { value = read(); }
  void operator<<(const T &value) { write(value); }
  void operator>>(T &value) { value = read(); }
  bool empty() const { return fifo_.empty(); }
  bool full() const { return hmn_sim::threaded() && (int)fifo_.size() >= depth_; }
  size_t size() const { return fifo_.size(); }
  /* The most elements the stream ever held (C-simulation only). */
  size_t most() const { return most_; }

 private:
  void push(const T &value) {
    fifo_.push_back(value);
    if (fifo_.size() > most_) most_ = fifo_.size();
  }
  T pop() {
    T value = fifo_.front();
    fifo_.pop_front();
    return value;
  }

  std::string name_;
  int depth_;
  std::deque<T> fifo_;
  size_t most_;
};

}  // namespace hls

#endif /* HMN_SIM_HLS_STREAM_H */
