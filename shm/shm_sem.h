/*
 * shm_sem.h - what shm_sem_writer and shm_sem_reader share: the options, the segment's layout,
 * the two semaphores' numbers, the bytes of the key file each side locks, the look at the peer
 * and the guards.  The System V calls (ftok, semget, semctl, semop, semtimedop, shmget, shmat,
 * shmdt, shmctl) are in the two programs.
 */
#ifndef SHM_SEM_H
#define SHM_SEM_H

#include "../common/ipclab.h"
#include "../common/peers.h"
#include "../common/sysv.h"
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>

/* ftok(3)'s project id: one key names the set and the segment (each kind has its own table). */
#define SHM_SEM_PROJ 's'

/* The whole segment, length field included: 64 KiB, as much as a read() of a pipe gives. */
#define SHM_SEM_SIZE 65536

/* The segment: len says how many bytes of data are valid (any bytes pass); 0 marks the end. */
struct shm_sem_area {
    long len;
    char data[SHM_SEM_SIZE - sizeof(long)];
};

/* The set: two semaphores, each a turn.  Each side waits for its own (-1) and, done, hands the
 * segment over by adding 1 to the other's.  At most one of them is ever 1. */
enum { SEM_WRITER = 0, SEM_READER = 1, SEM_COUNT = 2 };

/* semctl(2) says the caller must define union semun itself (glibc does not). */
union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

/* Bytes of the key file: byte 0 locked while a side joins or leaves (ipclab_key_file_open),
 * then one lock per role, held while that side is at work. */
enum { SHM_SEM_JOIN = 0, SHM_SEM_WRITER_LOCK = 1, SHM_SEM_READER_LOCK = 2 };

/* How long one wait for a turn (or for input) lasts before a side looks at its peer. */
#define SHM_SEM_WAIT_MS 200
static const struct timespec shm_sem_wait = { 0, SHM_SEM_WAIT_MS * 1000000L };

static const char *shm_sem_peer = "peer"; /* "reader" or "writer", for the messages */
static off_t shm_sem_peer_lock;           /* the byte of the key file the peer locks */

/* -p PATH (the key file), stderr by line, 0-2 open; SIGINT, SIGTERM, SIGHUP noted. */
static inline void shm_sem_options(int argc, char *argv[], const char *usage, char *path,
                                   const char *peer)
{
    shm_sem_peer = peer;
    shm_sem_peer_lock = strcmp(peer, "reader") == 0 ? SHM_SEM_READER_LOCK : SHM_SEM_WRITER_LOCK;
    ipclab_stderr_by_line();
    ipclab_std_fds();
    path[0] = '\0';
    if (ipclab_options_p(argc, argv, usage, ipclab_path_arg, path, PATH_MAX) < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (path[0] == '\0')
        ipclab_run_path(path, PATH_MAX, "shm_sem");
    ipclab_catch_signals();
}

/* A call on the set failed: say so -- as removed if it was (EIDRM, or EINVAL once it is gone:
 * `ipcrm -s`, or a side that removed it as it left); as the peer gone if our last try without
 * waiting (IPC_NOWAIT) found no turn; not at all if a signal ended it -- and exit 1.  semid -1:
 * a call on something else. */
static inline _Noreturn void shm_sem_die(int semid, const char *call)
{
    if (semid == -1) /* not a call on the set */
        ;
    else if (errno == EAGAIN)
        errx(IPCLAB_EXIT_FAIL, "the %s has gone (or was killed) before the end", shm_sem_peer);
    else if (errno == EIDRM || errno == EINVAL)
        errx(IPCLAB_EXIT_FAIL, "set %d was removed (ipcrm?) before the end", semid);
    if (errno != EINTR || !ipclab_signal)
        warn("%s", call);
    exit(IPCLAB_EXIT_FAIL);
}

/* Is process pid alive?  A pidfd says "ended" for a zombie too, where kill(pid, 0) says alive
 * (Linux 5.3; before, kill()).  0 or -1 (no process, or a failed GETPID): no. */
static inline bool shm_sem_alive(int pid)
{
    if (pid <= 0)
        return false;
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd == -1)
        return errno == ENOSYS ? kill(pid, 0) == 0 || errno == EPERM : errno != ESRCH;
    struct pollfd p = { .fd = fd, .events = POLLIN };
    bool ended = poll(&p, 1, 0) == 1; /* readable: it has ended */
    close(fd);
    return !ended;
}

static bool shm_sem_key_made; /* the key file is one we made */

/* Join: open the key file (byte 0 locked: see ipclab_key_file_open), and take our role's lock
 * (byte lock): one side of each role at a time.  Returns its descriptor, or exits 1. */
static inline int shm_sem_join(const char *path, off_t lock, const char *name)
{
    int fd = ipclab_key_file_open(path, &shm_sem_key_made);
    if (fd == -1)
        exit(IPCLAB_EXIT_FAIL);
    pid_t other = ipclab_lock_holder(fd, lock);
    if (other != 0 || ipclab_lock(fd, lock, F_WRLCK, false) == -1)
        errx(IPCLAB_EXIT_FAIL, "another %s (pid %ld) is already using %s", name, (long)other,
             path);
    return fd;
}

/*
 * A set found, whose IPC_STAT is *ds, and wpid and rpid the last to operate on each semaphore
 * (semctl GETPID).  NULL: use it (initialised, its last user alive).  Otherwise, a millisecond
 * later: "" to wait for its maker, or why to remove it: left by a pair that was killed, or by a
 * maker gone before initialising it (the peer: it held no lock on its byte of the key file).
 */
static inline const char *shm_sem_found(const struct semid_ds *ds, int wpid, int rpid,
                                        int keyfd, int semid)
{
    static bool said;
    const char *why = "";

    if (ds->sem_otime != 0 && (shm_sem_alive(wpid) || shm_sem_alive(rpid)))
        return NULL;
    if (ds->sem_otime != 0)
        why = " was left by a pair that was killed: removed";
    else if (ipclab_lock_holder(keyfd, shm_sem_peer_lock) == 0)
        why = ": its maker went before initialising it; removing it";
    else if (!said)
        warnx("set %d: found before its maker initialised it; waiting", semid);
    said = said || *why == '\0';
    if (ipclab_signal || poll(NULL, 0, 1) == -1) /* a millisecond, then semget() again */
        exit(IPCLAB_EXIT_FAIL);
    return why;
}

/*
 * Has the peer gone?  pid is the last process to operate on the semaphore the peer takes from
 * (semctl GETPID; -1: the set is gone): the peer, once it has taken a turn.  Remembered, as
 * our own semop() may overwrite it; a peer never seen is awaited (either may start first).
 */
static inline bool shm_sem_peer_gone(int semid, int pid)
{
    static int peer;

    if (pid == -1)
        shm_sem_die(semid, "semctl GETPID");
    if (ipclab_signal)
        exit(IPCLAB_EXIT_FAIL); /* Ctrl-C: leave() cleans up, then we die of it */
    if (pid > 0 && pid != getpid())
        peer = pid;
    return peer != 0 && !shm_sem_alive(peer);
}

/* Wait until stdin has input, looking at the peer (gone()) every SHM_SEM_WAIT_MS. */
static inline void shm_sem_wait_input(bool (*gone)(void))
{
    struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
    int ready;

    gone(); /* first, note who gave us the turn: the peer we look at from now on */
    while ((ready = poll(&in, 1, SHM_SEM_WAIT_MS)) != 1) {
        if (ready == -1 && errno != EINTR)
            err(IPCLAB_EXIT_FAIL, "poll");
        if (gone())
            errx(IPCLAB_EXIT_FAIL, "the %s has gone (or was killed) before the end", shm_sem_peer);
    }
}

/*
 * Leaving: drop our role lock (byte lock), take byte 0 of the key file, and say whether we are
 * the last one out: nobody else holds a lock on the key file (a foreign peer holds none).  If
 * so, remove the key file too, if ours to remove: we joined (a set), or made it.
 */
static inline bool shm_sem_last_out(int keyfd, off_t lock, const char *path, bool joined)
{
    if (keyfd == -1)
        return false;
    ipclab_lock(keyfd, lock, F_UNLCK, false);
    if (ipclab_door_to_leave(keyfd, SHM_SEM_JOIN) == -1 || ipclab_lock_holder(keyfd, -1) != 0)
        return false;
    if (joined || shm_sem_key_made)
        ipclab_key_file_remove(path, keyfd);
    return true;
}

/* Left: close the key file (its locks go with it); then, if a termination signal was caught,
 * die of it. */
static inline void shm_sem_left(int keyfd)
{
    if (keyfd != -1)
        close(keyfd);
    ipclab_die_of_signal();
}

/* ---------------------------------------------------------------- guards (README: hardening) */

/* The set or segment (kind) id of our key, whose IPC_STAT gave perm: made by us, owned by us,
 * closed to others, or exit 1, left as it is.  Fix: root's semget() and shmget() grant any. */
static inline void guard_object_is_ours(const char *kind, int id, const char *path,
                                        const struct ipc_perm *perm)
{
    char what[PATH_MAX + 64];

    snprintf(what, sizeof what, "%s %d (key from %s)", kind, id, path);
    if (!ipclab_sysv_trusted(what, perm))
        exit(IPCLAB_EXIT_FAIL);
}

/* The segment *shmid of our key, whose IPC_STAT is *ds: ours, closed to others, or *shmid = -1
 * (leave it alone) and exit 1. */
static inline void guard_segment_is_ours(int *shmid, const char *path, const struct shmid_ds *ds)
{
    int id = *shmid;

    *shmid = -1;
    guard_object_is_ours("segment", id, path, &ds->shm_perm);
    *shmid = id;
}

/* The length the segment claims fits it, or exit 1: whoever can write the segment chooses it. */
static inline void guard_length_fits(long len, size_t room)
{
    if (len < 0 || (size_t)len > room)
        errx(IPCLAB_EXIT_FAIL, "the segment claims %ld bytes: not our writer?", len);
}

#endif /* SHM_SEM_H */
