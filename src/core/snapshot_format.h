/*
 * The snapshot file's layout, shared by the writer (snapshot_write.c) and
 * the loader (snapshot.c); docs/format.md describes it byte by byte.
 */
#ifndef COHIVE_CORE_SNAPSHOT_FORMAT_H
#define COHIVE_CORE_SNAPSHOT_FORMAT_H

#include "snapshot.h"

static const unsigned char CH_SNAPSHOT_MAGIC[8] = {0x89, 'c', 'o', 'h', 'i', 'v', 'e', '\n'};
#define CH_SNAPSHOT_BYTE_ORDER UINT32_C(0x01020304)
#define CH_SNAPSHOT_MAX_SHAPES (UINT32_C(1) << 24)

typedef struct {
    unsigned char magic[8];
    uint32_t version;
    uint32_t byte_order;
    uint16_t word_size;
    uint16_t header_size;
    uint32_t reserved;
    uint64_t file_size;
    uint64_t shapes_at;
    uint32_t nshapes;
    uint32_t table_bytes;
    uint64_t root_at;
    uint64_t checksum;
} ch_file_header;
_Static_assert(sizeof(ch_file_header) == CH_SNAPSHOT_HEADER, "the header is 64 bytes");

/* Objects start at multiples of 8. */
static inline size_t ch_round8(size_t n) { return (n + 7) & ~(size_t)7; }

/* The bytes of the shape table mapped before a file of `nshapes` shapes. */
static inline size_t ch_table_bytes_for(uint32_t nshapes)
{
    size_t bytes = (size_t)nshapes * sizeof(ch_val);
    return (bytes + CH_SNAPSHOT_TABLE_ROUND - 1) / CH_SNAPSHOT_TABLE_ROUND * CH_SNAPSHOT_TABLE_ROUND;
}

#endif
