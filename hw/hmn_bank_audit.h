/*
 * hmn_bank_audit.h - accesses to the banks of on-chip arrays, counted per
 * iteration of each pipelined loop in the C-simulation.
 *
 * A BRAM or URAM bank has two ports, so a loop pipelined at II = 1 may
 * touch each bank at most twice per iteration; one more access makes HLS
 * raise the II. hw/ sources name every banked access through
 * HMN_BANK(array, bank) and start each pipelined iteration with
 * HMN_AUDIT_ITER(label). Built with HMN_BANK_AUDIT (the C-simulation), each
 * bank access is counted and each iteration checks and clears the counts;
 * any bank over its ports is recorded with the loop and array. Without
 * HMN_BANK_AUDIT (synthesis, and the hardware front-end check) the macros
 * are the plain access and nothing.
 *
 * It is dynamic: it sees the iterations the tests run, not every possible
 * one; together with lanes indexed only by compile-time constants it
 * covers the row-boundary cases that once shared banks.
 */
#ifndef HMN_BANK_AUDIT_H
#define HMN_BANK_AUDIT_H

#ifdef HMN_BANK_AUDIT

#include <cstddef>

namespace hmn_audit {

/* Ports of a BRAM/URAM bank. */
const int kPorts = 2;

/* A bank access: counted against the bank of `array`, identified by the
 * array's address. */
void touch(const void *array, const char *name, int bank);
/* A new iteration of pipelined loop `loop`: check and clear the counts. */
void iteration(const char *loop);
/* Violations seen so far (a bank accessed more than kPorts times in one
 * iteration), and the first one as text. */
size_t violations();
const char *first_violation();
/* Iterations seen of `loop` (0 when the loop never ran). */
size_t iterations(const char *loop);
/* Forget everything (between tests). */
void reset();

}  // namespace hmn_audit

#define HMN_BANK(array, bank) (hmn_audit::touch((array), #array, (bank)), (array)[bank])
#define HMN_AUDIT_ITER(loop) hmn_audit::iteration(loop)

#else

#define HMN_BANK(array, bank) ((array)[bank])
#define HMN_AUDIT_ITER(loop) ((void)0)

#endif /* HMN_BANK_AUDIT */

#endif /* HMN_BANK_AUDIT_H */
