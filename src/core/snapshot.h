/*
 * Snapshots: a Map saved to one file that any process maps read-only and
 * reads in place (see snapshot.c and docs/format.md).
 */
#ifndef COHIVE_CORE_SNAPSHOT_H
#define COHIVE_CORE_SNAPSHOT_H

#include "map.h"

#define CH_SNAPSHOT_VERSION 1
#define CH_SNAPSHOT_HEADER 64
/* The table of process shapes sits this far before the file in memory,
 * rounded so that any page size up to 64 KiB keeps both mappable. */
#define CH_SNAPSHOT_TABLE_ROUND 65536

/* Why a load or a check failed, with `problem` naming what is wrong and
 * `at` the byte offset where; CH_LOAD_OS keeps errno. */
typedef enum { CH_LOAD_OK = 0, CH_LOAD_NOMEM, CH_LOAD_OS, CH_LOAD_BAD } ch_load_status;

typedef struct {
    ch_load_status status;
    const char *problem; /* a static description */
    uint64_t at;         /* the offset it concerns */
    uint32_t version;    /* the file's format version, when that is the problem */
} ch_load_error;

/* How much of a snapshot has been checked (snapshot.c, "Checking"). */
enum { CH_SNAPSHOT_LAZY = 0, CH_SNAPSHOT_CHECKED, CH_SNAPSHOT_DAMAGED };

/* The flag of the heap map `load` makes over a snapshot's root: the one
 * map whose trie may not have been checked whole.  (Maps edited from it
 * or from values read out of it have been: see ch_snapshot_lazy.) */
enum { CH_MAP_LOADED = 0x80 };

/* A loaded snapshot: the memory of its shape table and file, the process
 * shapes the table holds (one reference each), and what has been checked. */
typedef struct ch_snapshot ch_snapshot;
struct ch_snapshot {
    ch_head h;                 /* CH_SNAPSHOT */
    uint32_t nshapes;
    _Atomic int state;         /* CH_SNAPSHOT_LAZY, _CHECKED or _DAMAGED */
    unsigned char *region;     /* the table's first byte: what is unmapped */
    size_t region_len;
    const unsigned char *file; /* the file's first byte, region + table bytes */
    size_t file_len;
    uint64_t shapes_at;        /* where the tree ends */
    _Atomic uint8_t *checked;  /* a bit per 8 bytes: the value starting there is checked */
    _Atomic(ch_load_error *) damage; /* what a check found, set before the state says DAMAGED */
    char *name;                /* the file's path, for messages */
    ch_snapshot *next;         /* the registry of live snapshots */
};

/* The snapshot whose trie `m` reads without having checked it whole (its
 * lookups check as they go, ch_snapshot_find), or NULL: every other read of
 * `m` needs ch_snapshot_check first. */
static inline ch_snapshot *ch_snapshot_lazy(const ch_map *m)
{
    if (ch_map_is_record(m) || !(m->h.flags & CH_MAP_LOADED))
        return NULL;
    ch_snapshot *s = (ch_snapshot *)ch_ptr(m->snapshot);
    return atomic_load_explicit(&s->state, memory_order_acquire) == CH_SNAPSHOT_CHECKED ? NULL : s;
}

/* Checks the whole file once (checksum, then every object): true when it
 * is sound, else false with *err (and every later call says the same). */
bool ch_snapshot_check(ch_snapshot *s, ch_load_error *err);

/* ch_map_get on a map of the lazy snapshot `s`, checking what it reads: the
 * value (checked whole), CH_NOVALUE when absent or, with err->status set,
 * when the file is damaged there. */
ch_val ch_snapshot_find(ch_snapshot *s, const ch_map *m, ch_val key, uint64_t hash, ch_load_error *err);

/* --- saving ----------------------------------------------------------------- */

/* Why a save failed: out of memory, or a value snapshots cannot hold. */
typedef enum { CH_SAVE_OK = 0, CH_SAVE_NOMEM, CH_SAVE_UNSUPPORTED } ch_save_status;

/* Where the unsupported value is: the keys (maps) and indexes (sequences)
 * from the root down, at most CH_SAVE_PATH of them. */
#define CH_SAVE_PATH 32
typedef struct {
    ch_val step;   /* a key (borrowed), or a small int index */
    bool is_index;
} ch_save_step;

typedef struct {
    unsigned char *data; /* malloc'd; the caller frees it */
    size_t len;
    ch_save_status status;
    int bad_type;        /* the ch_type of the value that cannot be saved */
    unsigned depth;      /* steps in `path` (more were dropped past CH_SAVE_PATH) */
    ch_save_step path[CH_SAVE_PATH];
} ch_saved;

/* The snapshot file of `m`, whole, in out->data; CH_SAVE_OK or why not (then
 * out->data is NULL). */
ch_save_status ch_snapshot_encode(const ch_map *m, ch_saved *out);

/* --- loading ---------------------------------------------------------------- */

/* Maps the file open on `fd` (which the caller closes; `name` is its path,
 * for messages) and checks its header, its shape table and its root, or
 * with `verify` all of it: a new Map on success (a heap map over the mapped
 * tree, holding the snapshot), NULL with *err filled otherwise. */
ch_map *ch_snapshot_load_fd(int fd, const char *name, bool verify, ch_load_error *err);
/* The same for a snapshot file's `len` bytes at `data` (a pickle's), copied
 * into private read-only memory and checked whole. */
ch_map *ch_snapshot_load_bytes(const void *data, size_t len, const char *name, ch_load_error *err);

/* The checksum of a whole file of `len` (at least CH_SNAPSHOT_HEADER)
 * bytes, its own field read as zero. */
uint64_t ch_snapshot_checksum(const unsigned char *file, size_t len);

/* --- lifetime --------------------------------------------------------------- */

/* A new reference to the live snapshot whose memory holds `p`, or NULL:
 * what an edit sharing mapped nodes must keep. */
ch_snapshot *ch_snapshot_holding(const void *p);

/* A snapshot whose count reached zero leaves the registry and joins the
 * list `*retired` (by `next`), then is unmapped by ch_snapshot_destroy once
 * nothing being freed with it can point into it (ch_release). */
void ch_snapshot_retire(ch_snapshot *s, ch_snapshot **retired);
void ch_snapshot_destroy(ch_snapshot *s);

#endif
