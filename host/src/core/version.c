/*
 * version.c - the version this library was built as (hmn_version.h).
 */
#include "internal.h"

const char *hmn_version(void) { return HMN_VERSION_STRING; }
