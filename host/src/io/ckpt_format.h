/*
 * io/ckpt_format.h - the checkpoint file format (SPEC section 7), in one
 * place: the writer (checkpoint.c), the reader (checkpoint_read.c) and
 * the tests take every offset, tag and size from here.
 *
 * A file is a header, then its sections back to back; each section is a
 * section header and a payload. Every integer and float is little-endian.
 * Each field below is (name, bytes); a field's offset is the sum of the
 * sizes before it (the layout structs hold only byte arrays, so they have
 * no padding, and offsetof gives exactly that sum).
 */
#ifndef HMN_CKPT_FORMAT_H
#define HMN_CKPT_FORMAT_H

#include "internal.h"

#include <stddef.h>
#include <stdint.h>

#define HMN__CKPT_MAGIC "HMNCKPT" /* with its terminating NUL: 8 bytes */
#define HMN__CKPT_VERSION 2u
/* Version 1 files predate the rule families: they lack the arrays from
 * HMN_ARRAY_PRE_TRACE on (the last of the array table). They load, with
 * those arrays at their initial values, which is what a Hebbian layer
 * (the only rule version 1 knew) has in them. */
#define HMN__CKPT_V1_ARRAYS ((int)HMN_ARRAY_PRE_TRACE)
_Static_assert(HMN_ARRAY_PRE_TRACE == HMN_ARRAY_COUNT - 5 && HMN_ARRAY_SCALE == HMN_ARRAY_COUNT - 1,
               "version 1 checkpoints lack exactly the last five arrays");

/* The file header: u32 unless the size says otherwise; i32 for the shape,
 * u64 for step and seed, crc = CRC-32 of every header byte before it. */
#define HMN__CKPT_HEADER_FIELDS(X)                                            \
  X(magic, 8)        /* HMN__CKPT_MAGIC */                                   \
  X(version, 4)      /* HMN__CKPT_VERSION */                                 \
  X(header_bytes, 4) /* sizeof(hmn__ckpt_header_layout) */                   \
  X(n_in, 4)                                                                 \
  X(n_out, 4)                                                                \
  X(n_mod, 4)                                                                \
  X(d_ctx, 4)                                                                \
  X(delay_len, 4)                                                            \
  X(n_sections, 4)                                                           \
  X(step, 8)                                                                 \
  X(seed, 8)                                                                 \
  X(reserved, 4) /* 0 */                                                     \
  X(crc, 4)

/* Each section's header: NUL-padded name, payload bytes (u64), CRC-32 of
 * the payload, flags = 0. */
#define HMN__CKPT_SECTION_FIELDS(X)                                           \
  X(tag, 8)                                                                  \
  X(length, 8)                                                               \
  X(crc, 4)                                                                  \
  X(flags, 4)

/* The "scalars" payload: u64 t, f32 eta_local, f32 eta_global. */
#define HMN__CKPT_SCALARS_FIELDS(X)                                           \
  X(t, 8)                                                                    \
  X(eta_local, 4)                                                            \
  X(eta_global, 4)

#define HMN__CKPT_FIELD(name, bytes) unsigned char name[bytes];
typedef struct { HMN__CKPT_HEADER_FIELDS(HMN__CKPT_FIELD) } hmn__ckpt_header_layout;
typedef struct { HMN__CKPT_SECTION_FIELDS(HMN__CKPT_FIELD) } hmn__ckpt_section_layout;
typedef struct { HMN__CKPT_SCALARS_FIELDS(HMN__CKPT_FIELD) } hmn__ckpt_scalars_layout;
#undef HMN__CKPT_FIELD

/* Offset of a field: HMN__CKPT_AT(header, step). */
#define HMN__CKPT_AT(part, field) offsetof(hmn__ckpt_##part##_layout, field)
#define HMN__CKPT_HEADER_BYTES sizeof(hmn__ckpt_header_layout)
#define HMN__CKPT_SECTION_HEADER_BYTES sizeof(hmn__ckpt_section_layout)
#define HMN__CKPT_SCALARS_BYTES sizeof(hmn__ckpt_scalars_layout)
#define HMN__CKPT_TAG_BYTES sizeof(((hmn__ckpt_section_layout *)0)->tag)
#define HMN__CKPT_MAGIC_BYTES sizeof(((hmn__ckpt_header_layout *)0)->magic)

_Static_assert(sizeof(hmn__ckpt_header_layout) == 64, "checkpoint header is 64 bytes");
_Static_assert(sizeof(hmn__ckpt_section_layout) == 24, "section header is 24 bytes");
_Static_assert(sizeof(hmn__ckpt_scalars_layout) == 16, "scalars payload is 16 bytes");
_Static_assert(sizeof(HMN__CKPT_MAGIC) == sizeof(((hmn__ckpt_header_layout *)0)->magic),
               "magic fills its field");

/* The sections, in file order: the config as INI text (no NUL), the
 * scalars, one per state array in hmn_array order (named by
 * hmn_array_name, holding its elements: f32 or u8), then, only in a
 * checkpoint of the closed loop, the extras whose payloads their owners
 * define and check (meta.c with agent.c; modulators.c). */
typedef enum {
  HMN__SEC_CONFIG,
  HMN__SEC_SCALARS,
  HMN__SEC_ARRAY0, /* + hmn_array */
  HMN__SEC_META = HMN__SEC_ARRAY0 + HMN_ARRAY_COUNT,
  HMN__SEC_SOURCES,
  HMN__SEC_COUNT,
  /* A layer-only checkpoint ends before the extras. */
  HMN__SEC_LAYER_COUNT = HMN__SEC_META
} hmn__ckpt_section;

_Static_assert(HMN__SEC_META - HMN__SEC_LAYER_COUNT == HMN__CKPT_META &&
                   HMN__SEC_SOURCES - HMN__SEC_LAYER_COUNT == HMN__CKPT_SOURCES &&
                   HMN__SEC_COUNT - HMN__SEC_LAYER_COUNT == HMN__CKPT_EXTRA_COUNT,
               "extra sections follow internal.h's order");
_Static_assert(HMN__SEC_COUNT <= HMN_CKPT_MAX_SECTIONS, "too many checkpoint sections");

/* The kinds of payload, which say how its size is known. */
typedef enum {
  HMN__SEC_TEXT,   /* any length: the config */
  HMN__SEC_FIXED,  /* HMN__CKPT_SCALARS_BYTES */
  HMN__SEC_ARRAY,  /* hmn__array_bytes of the config's shape */
  HMN__SEC_OPAQUE, /* any length, checked by its owner */
} hmn__ckpt_kind;

/* Tag of section `s` (NULL past the last). */
const char *hmn__ckpt_section_name(int s);
hmn__ckpt_kind hmn__ckpt_section_kind(int s);
/* Payload bytes section `s` must have for `cfg`, or SIZE_MAX where any
 * length may do (text, opaque). */
size_t hmn__ckpt_section_bytes(const hmn_config *cfg, int s);
/* Section index a tag names, or -1 (also for a badly padded tag). */
int hmn__ckpt_section_find(const unsigned char tag[8]);

#endif /* HMN_CKPT_FORMAT_H */
