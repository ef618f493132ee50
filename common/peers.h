/* peers.h - is the other side still there?  Record locks, a SIGALRM every 200 ms that ends a
 * blocked call, the timed calls' deadlines.  Plumbing only, like ipclab.h (included first). */
#ifndef IPCLAB_PEERS_H
#define IPCLAB_PEERS_H

#include "ipclab.h"
#if defined(_XOPEN_SOURCE) || defined(_GNU_SOURCE)
#include <sys/time.h>
#endif

/* A record lock is dropped by the kernel when its process ends, however it ends: F_GETLK on
 * a peer's byte tells a live peer from one that vanished.  (A child does not inherit them.) */

/* fcntl(F_SETLK or, with wait, F_SETLKW) on the one byte at offset byte.  type: F_WRLCK,
 * F_RDLCK or F_UNLCK.  Returns 0, or -1 with errno set (EAGAIN or EACCES: someone holds it;
 * EINTR: a termination signal came while we waited). */
static inline int ipclab_lock(int fd, off_t byte, short type, bool wait)
{
    struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1 };
    int rc;

    do
        rc = fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl);
    while (rc == -1 && errno == EINTR && !ipclab_signal);
    return rc;
}

/* Take the write lock on byte byte to leave, whatever interrupts the wait (a SIGALRM, a
 * second Ctrl-C): removing an object without it could undo a peer's join.  Returns 0, or -1
 * after a message: then remove nothing. */
static inline int ipclab_door_to_leave(int fd, off_t byte)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1 };
    int rc;

    while ((rc = fcntl(fd, F_SETLKW, &fl)) == -1 && errno == EINTR)
        ;
    if (rc == -1)
        warn("cannot take the lock on byte %ld to leave: leaving everything in place", (long)byte);
    return rc;
}

/* Who holds a lock on the byte at offset byte?  Its pid, 0 if nobody (our own locks do not
 * count), -1 with errno set on error.  byte < 0: anywhere in the file. */
static inline pid_t ipclab_lock_holder(int fd, off_t byte)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte < 0 ? 0 : byte,
                        .l_len = byte < 0 ? 0 : 1 };

    if (fcntl(fd, F_GETLK, &fl) == -1)
        return -1;
    return fl.l_type == F_UNLCK ? 0 : fl.l_pid;
}

/* The absolute CLOCK_REALTIME time ms milliseconds from now, as mq_timedreceive(3),
 * mq_timedsend(3) and sem_timedwait(3) want their deadline. */
static inline struct timespec ipclab_deadline(long ms)
{
    struct timespec t;

    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += ms % 1000 * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

#if defined(_XOPEN_SOURCE) || defined(_GNU_SOURCE)
/* msgrcv(), msgsnd() and sem_wait() have no timeout: a SIGALRM every 200 ms makes them fail
 * with EINTR (signal(7)), and the program looks at its peer and at ipclab_signal.  Not
 * inherited by a child of fork(). */
#define IPCLAB_TICK_MS 200

volatile sig_atomic_t ipclab_tick; /* not static: see ipclab_signal */

static inline void ipclab_on_tick(int signo)
{
    (void)signo;
    ipclab_tick = 1;
}

static inline void ipclab_start_ticks(void)
{
    struct sigaction sa = { .sa_handler = ipclab_on_tick };
    const struct timeval every = { 0, IPCLAB_TICK_MS * 1000L };
    struct itimerval timer = { every, every };

    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) == -1 || setitimer(ITIMER_REAL, &timer, NULL) == -1)
        err(IPCLAB_EXIT_FAIL, "setitimer");
}

#endif

#endif /* IPCLAB_PEERS_H */
