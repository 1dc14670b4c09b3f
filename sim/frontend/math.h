/* The hardware front-end check's math.h (sim/frontend/README.md). */
#ifndef HMN_FRONTEND_MATH_H
#define HMN_FRONTEND_MATH_H
#ifdef __cplusplus
extern "C" {
#endif
float sqrtf(float x);
#ifdef __cplusplus
}
#endif
#endif
