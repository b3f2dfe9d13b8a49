/*
 * Waiters and waitlists (see sync.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include "sync.h"

double ch_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static struct timespec to_timespec(double seconds)
{
    return (struct timespec){(time_t)seconds, (long)((seconds - floor(seconds)) * 1e9)};
}

static int init_common(ch_waiter *w, ch_waiter_kind kind)
{
    w->prev = w->next = NULL;
    w->listed = w->notified = false;
    w->kind = kind;
    w->posts = 0;
    w->read_fd = w->write_fd = -1;
    int rc = pthread_mutex_init(&w->mutex, NULL);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
#ifndef __APPLE__ /* macOS has no clock choice; sleep() uses its relative wait instead */
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
#endif
    rc = pthread_cond_init(&w->cond, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0) {
        pthread_mutex_destroy(&w->mutex);
        errno = rc;
        return -1;
    }
    return 0;
}

/* The pipe fallback where there is no eventfd, or where the environment asks for it. */
static bool use_pipes(void)
{
#ifdef __linux__
    const char *forced = getenv("COHIVE_WAITER_PIPES");
    return forced != NULL && strcmp(forced, "1") == 0;
#else
    return true;
#endif
}

static int open_fds(ch_waiter *w)
{
#ifdef __linux__
    if (!use_pipes()) {
        w->read_fd = w->write_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        return w->read_fd < 0 ? -1 : 0;
    }
#endif
    int fds[2];
    if (pipe(fds) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    w->read_fd = fds[0];
    w->write_fd = fds[1];
    return 0;
}

int ch_waiter_init_sem(ch_waiter *w) { return init_common(w, CH_WAITER_SEM); }

int ch_waiter_init_fd(ch_waiter *w)
{
    if (init_common(w, CH_WAITER_FD) < 0)
        return -1;
    if (open_fds(w) == 0)
        return 0;
    int saved = errno;
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->mutex);
    errno = saved;
    return -1;
}

void ch_waiter_destroy(ch_waiter *w)
{
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->mutex);
    if (w->read_fd < 0)
        return;
    close(w->read_fd);
    if (w->write_fd != w->read_fd)
        close(w->write_fd);
}

void ch_waitlist_add(ch_waitlist *list, ch_waiter *w)
{
    if (w->listed)
        return;
    /* Appended at the tail, so wake_one serves waiters in arrival order. */
    w->next = NULL;
    w->prev = NULL;
    if (list->head == NULL) {
        list->head = w;
        w->prev = w; /* the head's prev is the tail */
    } else {
        ch_waiter *tail = list->head->prev;
        tail->next = w;
        w->prev = tail;
        list->head->prev = w;
    }
    w->listed = true;
}

void ch_waitlist_remove(ch_waitlist *list, ch_waiter *w)
{
    if (!w->listed)
        return;
    if (w == list->head) {
        list->head = w->next;
        if (list->head != NULL)
            list->head->prev = w->prev;
    } else {
        w->prev->next = w->next;
        if (w->next != NULL)
            w->next->prev = w->prev;
        else
            list->head->prev = w->prev;
    }
    w->prev = w->next = NULL;
    w->listed = false;
}

static void wake(ch_waiter *w)
{
    w->notified = true;
    ch_waiter_interrupt(w);
}

void ch_waiter_interrupt(ch_waiter *w)
{
    pthread_mutex_lock(&w->mutex);
    if (w->kind == CH_WAITER_SEM) /* an event loop's waiter is woken by its fd alone */
        __atomic_add_fetch(&w->posts, 1, __ATOMIC_RELEASE);
    if (w->write_fd >= 0) {
        uint64_t one = 1;
        /* A full pipe or counter already says "readable": nothing lost. */
        ssize_t rc = write(w->write_fd, &one, w->write_fd == w->read_fd ? sizeof one : 1);
        (void)rc;
    } else {
        pthread_cond_signal(&w->cond);
    }
    pthread_mutex_unlock(&w->mutex);
}

void ch_waitlist_wake_all(ch_waitlist *list)
{
    for (ch_waiter *w = list->head; w != NULL; w = w->next)
        wake(w);
}

void ch_waitlist_wake_one(ch_waitlist *list)
{
    for (ch_waiter *w = list->head; w != NULL; w = w->next) {
        if (!w->notified) {
            wake(w);
            return;
        }
    }
}

/* Takes one pending wake-up, if any; under the waiter's mutex. */
static bool take_locked(ch_waiter *w)
{
    if (w->posts == 0)
        return false;
    __atomic_sub_fetch(&w->posts, 1, __ATOMIC_RELAXED);
    return true;
}

static bool take(ch_waiter *w)
{
    pthread_mutex_lock(&w->mutex);
    bool taken = take_locked(w);
    pthread_mutex_unlock(&w->mutex);
    return taken;
}

/*
 * Spinning.  A waiter checks for its wake-up, then yields the CPU, until
 * its spin ends.  A yield, not a CPU pause: the thread that will wake it
 * was often woken onto this very CPU, and pausing would keep it off until
 * the spin ends (measured: a 6 us echo became 110 us).  Even a first phase
 * of 5 us of pauses made a back-to-back Executor round trip 17-25 us
 * instead of 7 us on the development VM (a virtual CPU that loops on pause
 * may be descheduled by the hypervisor).
 *
 * But a yield also hands the CPU to any other runnable thread, of this
 * process or another, for a whole time slice (around a millisecond) when
 * the CPUs are busy: under two CPU-bound processes on two cores a queue
 * ping-pong went from 5 us to 900 us.  So a yield that took longer than
 * LONG_YIELD (longer than the thread we wait for runs, shorter than a time
 * slice), for the second time within BUSY_SECONDS, marks the process busy
 * for BUSY_SECONDS, and meanwhile waiters do not spin at all: they sleep at
 * once, as a thread pool's do, and the kernel lets the thread a wake-up
 * wakes preempt whatever runs.  (A spin of pauses only was no better under
 * that load, 230 us: the thread that will answer is then queued behind the
 * spinner.)  Not the first time: a lone long yield is a hiccup (a kernel
 * thread or the hypervisor taking the CPU a moment), and on the VM one
 * early in a benchmark stopped every spin of its 60 ms.  Probing again
 * after BUSY_SECONDS costs at most two lost slices per period under
 * lasting load.
 */
#define LONG_YIELD 500e-6
#define BUSY_SECONDS 0.05

/* ch_monotonic() until which waiters do not spin, and when the last long
 * yield ended; both read and written atomically. */
static double busy_until, long_yield_at = -BUSY_SECONDS;

void ch_spin_begin(ch_spin *s, double seconds, double deadline)
{
    double now = ch_monotonic(), busy;
    __atomic_load(&busy_until, &busy, __ATOMIC_RELAXED);
    s->until = now < busy ? now : now + seconds; /* busy: no spin at all */
    if (deadline >= 0 && deadline < s->until)
        s->until = deadline;
}

bool ch_spin_step(ch_spin *s)
{
    double now = ch_monotonic();
    if (now >= s->until)
        return false;
    sched_yield();
    double after = ch_monotonic();
    if (after - now > LONG_YIELD) { /* another thread had this CPU for long: busy, if it happens again */
        double last;
        __atomic_exchange(&long_yield_at, &after, &last, __ATOMIC_RELAXED);
        if (after - last < BUSY_SECONDS) {
            double busy = after + BUSY_SECONDS;
            __atomic_store(&busy_until, &busy, __ATOMIC_RELAXED);
        }
        return false;
    }
    return true;
}

/* How long a waiter spins before it sleeps.  A reply that comes within it
 * (an echo, a lock held briefly) costs no thread wake-up, which takes tens
 * of microseconds; a waiter with nothing coming sleeps after it, using no CPU. */
#define SPIN_SECONDS 50e-6

bool ch_waiter_spin(ch_waiter *w, double deadline)
{
    ch_spin spin;
    ch_spin_begin(&spin, SPIN_SECONDS, deadline);
    do {
        /* Read without the mutex, so a spinner never slows the waker down. */
        if (__atomic_load_n(&w->posts, __ATOMIC_ACQUIRE) != 0 && take(w))
            return true;
    } while (ch_spin_step(&spin));
    return false;
}

ch_sleep_result ch_waiter_sleep(ch_waiter *w, double deadline)
{
    ch_sleep_result result = CH_WOKEN;
    pthread_mutex_lock(&w->mutex);
    while (!take_locked(w)) {
        if (deadline < 0) {
            pthread_cond_wait(&w->cond, &w->mutex);
            continue;
        }
#ifdef __APPLE__
        double left = deadline - ch_monotonic();
        struct timespec ts = to_timespec(left > 0 ? left : 0);
        int rc = pthread_cond_timedwait_relative_np(&w->cond, &w->mutex, &ts);
#else
        struct timespec ts = to_timespec(deadline);
        int rc = pthread_cond_timedwait(&w->cond, &w->mutex, &ts);
#endif
        if (rc == ETIMEDOUT) {
            if (!take_locked(w))
                result = CH_TIMED_OUT;
            break;
        }
    }
    pthread_mutex_unlock(&w->mutex);
    return result;
}

ch_sleep_result ch_waiter_sleep_interruptible(ch_waiter *w, double deadline)
{
    pthread_mutex_lock(&w->mutex);
    /* Opened under the mutex, so a waker sees either no fd (and the
     * wake-up is counted before we look) or the fd (and writes to it). */
    bool taken = take_locked(w);
    int opened = taken || w->read_fd >= 0 ? 0 : open_fds(w);
    pthread_mutex_unlock(&w->mutex);
    if (taken)
        return CH_WOKEN;
    if (opened < 0) /* no descriptor to be had: sleep through signals */
        return ch_waiter_sleep(w, deadline);
    for (;;) {
        if (take(w))
            return CH_WOKEN;
        int timeout_ms = -1;
        if (deadline >= 0) {
            double left = deadline - ch_monotonic();
            if (left <= 0)
                return CH_TIMED_OUT;
            timeout_ms = (int)ceil(left * 1e3);
        }
        struct pollfd p = {.fd = w->read_fd, .events = POLLIN};
        int rc = poll(&p, 1, timeout_ms);
        if (rc < 0 && errno == EINTR)
            return take(w) ? CH_WOKEN : CH_INTERRUPTED;
        if (rc > 0)
            ch_waiter_drain(w);
    }
}

void ch_waiter_drain(ch_waiter *w)
{
    char buf[64];
    while (read(w->read_fd, buf, w->read_fd == w->write_fd ? 8 : sizeof buf) > 0) {
    }
}
