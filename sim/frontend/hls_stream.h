/* The hardware front-end check's hls_stream.h (sim/frontend/README.md):
 * declarations only, for a syntax check. */
#ifndef HMN_FRONTEND_HLS_STREAM_H
#define HMN_FRONTEND_HLS_STREAM_H

namespace hls {
template <typename T>
class stream {
 public:
  stream();
  explicit stream(const char *name);
  void write(const T &v);
  T read();
  bool empty() const;
  bool full() const;
};
}  // namespace hls

#endif
