/*
 * hls_stream.h for the C-simulation: hls::stream<T> as a FIFO with the
 * member functions the hw/ sources use (read, write, empty, full, size).
 *
 * Vitis HLS brings its own hls_stream.h; the one AMD publishes outside
 * Vitis carries a proprietary licence, so the C-simulation builds against
 * this one (sim/README.md). The processes of a dataflow region run one
 * after another here, so a stream holds whatever its producer wrote
 * before the consumer starts: depth is not enforced, but the largest
 * occupancy is kept, and a read from an empty stream (a consumer that
 * wants more than its producer made, which would hang the hardware)
 * aborts the simulation.
 */
#ifndef HMN_SIM_HLS_STREAM_H
#define HMN_SIM_HLS_STREAM_H

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>

namespace hls {

template <typename T>
class stream {
 public:
  stream() : name_("stream"), most_(0) {}
  explicit stream(const char *name) : name_(name), most_(0) {}
  stream(const stream &) = delete;
  stream &operator=(const stream &) = delete;

  void write(const T &value) {
    fifo_.push_back(value);
    if (fifo_.size() > most_) most_ = fifo_.size();
  }
  T read() {
    if (fifo_.empty()) {
      std::fprintf(stderr, "hls::stream '%s': read from an empty stream (a hardware hang)\n",
                   name_.c_str());
      std::abort();
    }
    T value = fifo_.front();
    fifo_.pop_front();
    return value;
  }
  void read(T &value) { value = read(); }
  void operator<<(const T &value) { write(value); }
  void operator>>(T &value) { value = read(); }
  bool empty() const { return fifo_.empty(); }
  bool full() const { return false; }
  size_t size() const { return fifo_.size(); }
  /* The most elements the stream ever held (C-simulation only). */
  size_t most() const { return most_; }

 private:
  std::string name_;
  std::deque<T> fifo_;
  size_t most_;
};

}  // namespace hls

#endif /* HMN_SIM_HLS_STREAM_H */
