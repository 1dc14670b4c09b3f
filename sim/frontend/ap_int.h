/* The hardware front-end check's ap_int.h (sim/frontend/README.md):
 * declarations only, for a syntax check. */
#ifndef HMN_FRONTEND_AP_INT_H
#define HMN_FRONTEND_AP_INT_H

template <int W>
class ap_uint {
 public:
  class range_ref {
   public:
    range_ref &operator=(unsigned int v);
    operator unsigned int() const;
  };
  ap_uint();
  ap_uint(int v);
  ap_uint &operator=(int v);
  range_ref range(int hi, int lo);
  range_ref range(int hi, int lo) const;
};

#endif
