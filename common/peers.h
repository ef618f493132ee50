/*
 * peers.h - is the other side still there?  Record locks on a file both sides open (who holds
 * which role, the door taken to join or leave), ticks that wake a blocked call five times a
 * second so a program can look, and the absolute deadlines of the timed calls.  Plumbing
 * only, like ipclab.h (included first).
 *
 *   ipclab_lock(), ipclab_lock_holder(), ipclab_door_to_leave()
 *   ipclab_start_ticks(), ipclab_stop_ticks(), ipclab_tick (need _XOPEN_SOURCE: setitimer)
 *   ipclab_deadline()
 */
#ifndef IPCLAB_PEERS_H
#define IPCLAB_PEERS_H

#include "ipclab.h"
#if defined(_XOPEN_SOURCE) || defined(_GNU_SOURCE)
#include <sys/time.h>
#endif

/* ---------------------------------------------------------------- peers: locks and ticks */

/*
 * A System V queue or segment, a POSIX queue or shared memory object, says nothing when the
 * process at the other end dies: a msgrcv() or sem_wait() waits on for a peer that will never
 * come back.  Record locks fill the gap.  While a program plays a role (sender, receiver, chat
 * side N), it holds a write lock on one byte of a file both sides open, and the kernel drops
 * that lock when the process ends, however it ends -- SIGKILL included.  So F_GETLK on the
 * peer's byte tells a live peer from one that has vanished.  (Record locks belong to the
 * process: a child does not inherit its parent's.)
 */

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

/*
 * Take the door (the write lock on byte byte) to leave: wait for it whatever interrupts the
 * wait -- a tick, a second Ctrl-C -- since whoever holds it holds it only while joining or
 * leaving, and removing an object without it could undo a peer's join.  (A holder stopped with
 * SIGSTOP keeps us waiting, as it keeps its peers; kill -9 still ends us.)  Returns 0, or -1
 * after a message: then remove nothing.
 */
static inline int ipclab_door_to_leave(int fd, off_t byte)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1 };
    int rc;

    while ((rc = fcntl(fd, F_SETLKW, &fl)) == -1 && errno == EINTR)
        ;
    if (rc == -1)
        warn("cannot take the door to leave: leaving everything in place");
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
/*
 * A blocking msgrcv(), msgsnd() or sem_wait() has no timeout and no descriptor to poll, so a
 * program that must also look after its peer asks for SIGALRM five times a second.  The
 * handler sets ipclab_tick and nothing else; installed without SA_RESTART, it makes the blocked
 * call fail with EINTR (System V IPC calls and sem_wait() fail with EINTR after any handler, see
 * signal(7)), and the program looks at its peer and waits again.  The same tick closes the gap
 * that ppoll() closes elsewhere: a termination signal that lands just before msgrcv() blocks is
 * seen at the next tick, a fifth of a second later, not never.  The timer is not inherited by
 * a child of fork(): a child that needs ticks starts its own.
 */
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

/* Stop the ticks, errno left as it was: call it right after the call they kept waking. */
static inline void ipclab_stop_ticks(void)
{
    const struct itimerval none = { { 0, 0 }, { 0, 0 } };
    int saved = errno;

    if (setitimer(ITIMER_REAL, &none, NULL) == -1)
        err(IPCLAB_EXIT_FAIL, "setitimer");
    errno = saved;
}
#endif

#endif /* IPCLAB_PEERS_H */
