/*
 * Named native objects (Ref, Queue, ...): one process-wide registry, so that
 * every interpreter opening the same name gets the same object.
 *
 * The registry holds no references.  An object leaves it when its last
 * reference goes (ch_release calls ch_named_forget); a lookup that meets an
 * object whose count already reached zero treats it as absent, so a dying
 * object is never revived.
 *
 * Named objects belong to the process that made them.  A forked child
 * inherits a copy of their memory that nobody else sees, with mutexes and
 * waiters that may belong to threads which do not exist there; so every
 * object records its process, and the binding refuses to use, and the
 * release never destroys, an object of another process.
 */
#ifndef COHIVE_CORE_NAMED_H
#define COHIVE_CORE_NAMED_H

#include "object.h"

/* The common prefix of every nameable object. */
typedef struct ch_named {
    ch_head h;
    ch_val name;           /* a CH_STR, or CH_NONE when anonymous (not registered) */
    struct ch_named *next; /* registry chain, guarded by the registry lock */
    int64_t pid;           /* the process that made it */
} ch_named;

/* Sets up a new named object: anonymous, unregistered, of this process. */
void ch_named_init(ch_named *obj);

/* The id of the running process, kept current across fork. */
extern _Atomic int64_t ch_pid_now;
int64_t ch_process_id_slow(void);
static inline int64_t ch_process_id(void)
{
    int64_t pid = atomic_load_explicit(&ch_pid_now, memory_order_relaxed);
    return pid != 0 ? pid : ch_process_id_slow();
}

static inline bool ch_named_is_local(const ch_named *obj) { return obj->pid == ch_process_id(); }

/* CH_FOREIGN: the name belongs to an object another process made (this one
 * was forked from it); *found is that object, borrowed. */
typedef enum { CH_OPENED, CH_CREATED, CH_WRONG_TYPE, CH_NO_MEMORY, CH_FOREIGN } ch_open_result;

/* The live object called `name` (borrowed CH_STR) as a new reference; if
 * there is none, make(arg) builds one (refcount 1, name unset), which is
 * named and registered.  CH_WRONG_TYPE when the name belongs to an object of
 * another type (then *found is that object, a new reference). */
ch_open_result ch_named_open(ch_val name, ch_type type, ch_named *(*make)(void *), void *arg, ch_named **found);

/* Called by ch_release: leaves the registry and drops the name. */
void ch_named_forget(ch_named *obj);

static inline bool ch_type_is_named(int type) { return type >= CH_REF && type <= CH_COUNTER; }

#endif
