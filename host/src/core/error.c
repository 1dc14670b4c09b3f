/*
 * error.c - the error table's names and texts, and filling hmn_error.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

const char *hmn_status_name(int status) {
  switch (status) {
#define HMN__STATUS_NAME(name, code, text) \
  case code:                               \
    return #name;
    HMN_STATUS_TABLE(HMN__STATUS_NAME)
#undef HMN__STATUS_NAME
  }
  return "UNKNOWN";
}

const char *hmn_status_string(int status) {
  switch (status) {
#define HMN__STATUS_TEXT(name, code, text) \
  case code:                               \
    return text;
    HMN_STATUS_TABLE(HMN__STATUS_TEXT)
#undef HMN__STATUS_TEXT
  }
  return "unknown error";
}

int hmn__fail(hmn_error *err, int status, const char *fmt, ...) {
  if (err != NULL) {
    va_list ap;
    err->status = status;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return status;
}

void hmn__clear(hmn_error *err) {
  if (err != NULL) {
    err->status = HMN_OK;
    err->message[0] = '\0';
  }
}
