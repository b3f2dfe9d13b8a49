/*
 * Waiters and waitlists (see sync.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
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

int ch_waiter_init_sem(ch_waiter *w)
{
    w->prev = w->next = NULL;
    w->listed = w->notified = false;
    w->kind = CH_WAITER_SEM;
    w->read_fd = w->write_fd = -1;
    return sem_init(&w->sem, 0, 0);
}

int ch_waiter_init_fd(ch_waiter *w)
{
    w->prev = w->next = NULL;
    w->listed = w->notified = false;
    w->kind = CH_WAITER_FD;
#ifdef __linux__
    w->read_fd = w->write_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return w->read_fd < 0 ? -1 : 0;
#else
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
#endif
}

void ch_waiter_destroy(ch_waiter *w)
{
    if (w->kind == CH_WAITER_SEM) {
        sem_destroy(&w->sem);
        return;
    }
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
    if (w->kind == CH_WAITER_SEM) {
        sem_post(&w->sem);
    } else {
        uint64_t one = 1;
        /* A full pipe or counter already says "readable": nothing lost. */
        ssize_t rc = write(w->write_fd, &one, w->write_fd == w->read_fd ? sizeof one : 1);
        (void)rc;
    }
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

/* How long a waiter spins before it sleeps.  A reply that comes within it
 * (an echo, a lock held briefly) costs no futex wake-up, which takes tens of
 * microseconds; a waiter with nothing coming sleeps after it, using no CPU. */
#define SPIN_SECONDS 50e-6

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

bool ch_waiter_spin(ch_waiter *w, double deadline)
{
    double until = ch_monotonic() + SPIN_SECONDS;
    if (deadline >= 0 && deadline < until)
        until = deadline;
    for (unsigned i = 1;; i++) {
        if (sem_trywait(&w->sem) == 0)
            return true;
        cpu_relax();
        if (i % 64 == 0 && ch_monotonic() >= until)
            return false;
    }
}

ch_sleep_result ch_waiter_sleep(ch_waiter *w, double deadline)
{
    int rc;
    if (deadline < 0) {
        rc = sem_wait(&w->sem);
    } else {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 30))
        struct timespec ts = {(time_t)deadline, (long)((deadline - floor(deadline)) * 1e9)};
        rc = sem_clockwait(&w->sem, CLOCK_MONOTONIC, &ts);
#else
        double wall = deadline - ch_monotonic();
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        double at = (double)now.tv_sec + now.tv_nsec * 1e-9 + (wall > 0 ? wall : 0);
        struct timespec ts = {(time_t)at, (long)((at - floor(at)) * 1e9)};
        rc = sem_timedwait(&w->sem, &ts);
#endif
    }
    if (rc == 0)
        return CH_WOKEN;
    return errno == ETIMEDOUT ? CH_TIMED_OUT : CH_INTERRUPTED;
}

void ch_waiter_drain(ch_waiter *w)
{
    char buf[64];
    while (read(w->read_fd, buf, w->read_fd == w->write_fd ? 8 : sizeof buf) > 0) {
    }
}
