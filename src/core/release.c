/*
 * Freeing objects whose last reference went away.
 *
 * Dropping the last reference to a big map releases millions of objects,
 * and values may nest hundreds of levels deep, so this never recurses: it
 * keeps an explicit work list of objects whose count reached zero.
 */
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "primitives.h"
#include "queue.h"
#include "ref.h"
#include "snapshot.h"
#include "value.h"

size_t ch_object_size(const ch_head *o)
{
    switch (o->type) {
    case CH_STR:
        return sizeof(ch_str) + (size_t)((const ch_str *)o)->len * ch_str_width((const ch_str *)o);
    case CH_BYTES:
        return sizeof(ch_str) + ((const ch_str *)o)->len;
    case CH_FLOAT:
        return sizeof(ch_float);
    case CH_COMPLEX:
        return sizeof(ch_complex);
    case CH_BIGINT:
        return sizeof(ch_bigint) + ((const ch_bigint *)o)->len;
    case CH_TUPLE:
    case CH_LIST:
    case CH_SET:
        if (o->flags & CH_SEQ_PACKED)
            return ((const ch_packed_seq *)o)->size;
        return sizeof(ch_seq) + (size_t)((const ch_seq *)o)->len * sizeof(ch_val);
    case CH_MAP:
        return o->flags & CH_MAP_RECORD ? ch_record_size((const ch_record *)o) : sizeof(ch_map);
    case CH_NODE:
        return ch_node_size((const ch_node *)o);
    case CH_COLLISION:
        return ch_collision_size((const ch_collision *)o);
    case CH_REF:
        return sizeof(ch_ref);
    case CH_QUEUE:
        return sizeof(ch_queue);
    case CH_LOCK:
    case CH_EVENT:
    case CH_SEMAPHORE:
    case CH_BARRIER:
    case CH_COUNTER:
        return sizeof(ch_sync);
    case CH_TIME:
        return sizeof(ch_time);
    case CH_DECIMAL:
        return sizeof(ch_decimal) + ((const ch_decimal *)o)->ndigits;
    case CH_UUID:
        return sizeof(ch_uuid);
    case CH_INSTANCE:
        return sizeof(ch_instance);
    case CH_SHAPE:
        return ch_shape_size((const ch_shape *)o);
    case CH_SNAPSHOT:
        return sizeof(ch_snapshot);
    default:
        return 0;
    }
}

ch_val *ch_owned_words(ch_head *o, size_t *n)
{
    switch (o->type) {
    case CH_TUPLE:
    case CH_LIST:
    case CH_SET:
        if (o->flags & CH_SEQ_PACKED) {
            *n = ((ch_packed_seq *)o)->nextern;
            return ((ch_packed_seq *)o)->ext;
        }
        *n = ((ch_seq *)o)->len;
        return ((ch_seq *)o)->items;
    case CH_MAP:
        if (o->flags & CH_MAP_RECORD) { /* the shape, then the externs */
            *n = 1 + (size_t)ch_record_externs((ch_record *)o);
            return &((ch_record *)o)->shape;
        }
        *n = 2; /* the root, then the snapshot */
        _Static_assert(offsetof(ch_map, snapshot) == offsetof(ch_map, root) + sizeof(ch_val), "adjacent words");
        return (ch_val *)&((ch_map *)o)->root;
    case CH_NODE: {
        ch_node *node = (ch_node *)o;
        *n = 2 * (size_t)ch_popcount(node->datamap) + ch_popcount(node->nodemap);
        return node->slot;
    }
    case CH_COLLISION:
        *n = 2 * (size_t)((ch_collision *)o)->count;
        return ((ch_collision *)o)->slot;
    case CH_REF:
        *n = 1;
        return &((ch_ref *)o)->value;
    case CH_QUEUE:
        return ch_queue_items((ch_queue *)o, n);
    case CH_TIME:
        *n = 1;
        return &((ch_time *)o)->zone;
    case CH_DECIMAL:
        *n = 1;
        return &((ch_decimal *)o)->number;
    case CH_INSTANCE:
        *n = 3; /* cls, fields, payload */
        return &((ch_instance *)o)->cls;
    default:
        *n = 0;
        return NULL;
    }
}

void ch_release(ch_head *o)
{
    ch_head *local[128];
    ch_head **work = local;
    size_t cap = 128, len = 0;
    work[len++] = o;
    ch_snapshot *retired = NULL;
    while (len > 0) {
        ch_head *x = work[--len];
        if (ch_type_is_named(x->type)) {
            if (!ch_named_is_local((ch_named *)x))
                continue; /* a forked child's copy: its lock may be held by a thread that is not here */
            ch_named_forget((ch_named *)x);
        } else if (x->type == CH_SHAPE) {
            ch_shape_release((ch_shape *)x); /* it owns no references */
            continue;
        } else if (x->type == CH_SNAPSHOT) {
            /* Unmapped last: heap nodes still on the work list may point
             * into it (and reading whether a word is mapped reads it). */
            ch_snapshot_retire((ch_snapshot *)x, &retired);
            continue;
        }
        size_t n, size = ch_object_size(x); /* a record's size is read from its shape */
        ch_val *words = ch_owned_words(x, &n);
        for (size_t i = 0; i < n; i++) {
            if (!ch_is_ptr(words[i]) || ch_is_mapped(ch_ptr(words[i])))
                continue; /* a mapped object lives as long as its snapshot, counted instead */
            ch_head *child = ch_ptr(words[i]);
            if (atomic_fetch_sub_explicit(&child->refcnt, 1, memory_order_release) != 1)
                continue;
            atomic_thread_fence(memory_order_acquire);
            if (len == cap) {
                ch_head **bigger = malloc(2 * cap * sizeof(ch_head *));
                if (bigger == NULL)
                    continue; /* out of memory: leak `child` rather than crash */
                memcpy(bigger, work, len * sizeof(ch_head *));
                if (work != local)
                    free(work);
                work = bigger;
                cap *= 2;
            }
            work[len++] = child;
        }
        if (x->type == CH_REF)
            ch_ref_destroy((ch_ref *)x);
        else if (x->type == CH_QUEUE)
            ch_queue_destroy((ch_queue *)x);
        else if (ch_type_is_named(x->type))
            ch_sync_destroy((ch_sync *)x);
        ch_free(x, size);
    }
    while (retired != NULL) {
        ch_snapshot *next = retired->next;
        ch_snapshot_destroy(retired);
        retired = next;
    }
    if (work != local)
        free(work);
}
