/*
 * shm.h - what shm_writer and shm_reader share: the segment's layout, the notification
 * signals, the check of a segment found, and the FIFO that carries the reader's PID and then
 * serves as the lifeline.  The shared memory calls themselves are in the two programs.
 * Include it after ../common/sysv.h.
 */
#ifndef SHM_H
#define SHM_H

#include <dirent.h>
#include <poll.h>
#include <sys/ipc.h>
#include <sys/shm.h>

/* The seed's SHM_SIZE: the whole segment, length field included. */
#define SHM_SIZE 4096
#define SHM_PROJ 'b'

/*
 * The segment.  A length field says how many bytes of data are valid, so any bytes pass (a
 * string copied in and printed with %s would stop at the first NUL), and an input of any size
 * goes through one segment-full at a time.  A length of 0 marks the end.
 */
struct shm_area {
    long writer_pid; /* the writer, for the reader's acknowledgements */
    long len;        /* bytes valid in data; 0: end of data */
    char data[SHM_SIZE - 2 * sizeof(long)];
};

/* The writer says "a buffer is ready" with SIGUSR1, the reader "done with it" with SIGUSR2. */
#define SHM_NOTE SIGUSR1
#define SHM_ACK SIGUSR2

/* Set by the handler of SHM_NOTE (reader) or SHM_ACK (writer). */
static volatile sig_atomic_t shm_signalled;

static inline void shm_on_signal(int signo)
{
    (void)signo;
    shm_signalled = 1;
}

/*
 * Catch signo (flag only) and block it; put in *waitmask the mask to wait with, in which it is
 * unblocked.  Blocked, a signal that comes early stays pending instead of being lost: it is
 * delivered inside the next sigsuspend(*waitmask), which unblocks it and waits in one atomic
 * step.  Fix: pause() instead would lose a signal that came just before it: handled and
 * forgotten, and the side sleeps forever.
 */
static inline void shm_catch(int signo, sigset_t *waitmask)
{
    struct sigaction sa = { .sa_handler = shm_on_signal };
    sigset_t block;

    sigemptyset(&sa.sa_mask);
    sigemptyset(&block);
    sigaddset(&block, signo);
    /* Fix: sigaction(), not signal(): with System V's semantics the handler is reset after one
     * delivery, and the second signal kills the process. */
    if (sigaction(signo, &sa, NULL) == -1 || sigprocmask(SIG_BLOCK, &block, waitmask) == -1)
        err(IPCLAB_EXIT_FAIL, "sigaction");
    sigdelset(waitmask, signo);
}

/*
 * Has the peer gone?  Each side keeps its end of the FIFO that carried the reader's PID open
 * all along, so when one dies the kernel closes its end, and the other sees it: POLLHUP on the
 * writer's read end, POLLERR on the reader's write end.  Says so when it has.
 */
static inline bool shm_peer_gone(int lifeline, const char *peer)
{
    struct pollfd p = { .fd = lifeline, .events = 0 };

    if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)) != 0) {
        warnx("the %s has gone (its end of the FIFO closed)", peer);
        return true;
    }
    return false;
}

/* Does process pid hold the FIFO open on fd?  Each side asks it of the pid it is about to signal
 * (the writer of the reader's, the reader of the writer's).  Linux: every descriptor of a process
 * is a link in /proc/PID/fd, and stat(2) follows it to the file itself.  Returns 1 if it does,
 * 0 if not, -1 if we cannot look (after a message: at ulimit -n, opendir() fails with EMFILE). */
static inline int shm_holds_fifo(pid_t pid, int fd)
{
    char dir[64], link[PATH_MAX];
    struct stat ours, st;
    bool found = false;

    snprintf(dir, sizeof dir, "/proc/%ld/fd", (long)pid);
    if (kill(pid, 0) == -1 || fstat(fd, &ours) == -1)
        return 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        if (errno == ENOENT || errno == EACCES) /* gone, or another user's */
            return 0;
        warn("cannot tell whether pid %ld holds the FIFO open: %s", (long)pid, dir);
        return -1;
    }
    for (struct dirent *e; !found && (e = readdir(d)) != NULL;) {
        snprintf(link, sizeof link, "%s/%s", dir, e->d_name);
        found = e->d_name[0] != '.' && stat(link, &st) == 0 && st.st_ino == ours.st_ino &&
                st.st_dev == ours.st_dev;
    }
    closedir(d);
    return found ? 1 : 0;
}

/* Is the signal we wait for pending, blocked until sigsuspend()?  A peer may signal and then
 * exit: its answer counts before its closed end of the FIFO does. */
static inline bool shm_answer_pending(const sigset_t *waitmask)
{
    sigset_t pending;

    if (sigpending(&pending) == -1)
        return false;
    return (sigismember(&pending, SHM_NOTE) && !sigismember(waitmask, SHM_NOTE)) ||
           (sigismember(&pending, SHM_ACK) && !sigismember(waitmask, SHM_ACK));
}

/*
 * Wait until signo's handler has run (shm_signalled), a termination signal came, or the peer
 * is gone.  Blocked outside this wait, the signal cannot slip past.  Every tick (common/peers.h)
 * looks at the lifeline (shm_peer_gone).  Returns 0 when the signal came, -1 otherwise (after a
 * message if the peer is gone).
 */
static inline int shm_wait(const sigset_t *waitmask, int lifeline, const char *peer)
{
    while (!shm_signalled) {
        if (ipclab_signal)
            return -1;
        if (ipclab_tick && !shm_answer_pending(waitmask)) {
            ipclab_tick = 0;
            if (shm_peer_gone(lifeline, peer))
                return -1;
        }
        sigsuspend(waitmask);
    }
    shm_signalled = 0;
    return 0;
}

/*
 * Is the segment shmid (key from path), whose IPC_STAT is *ds, ours to use?  Fix: a segment
 * is found by its key alone, and another user who makes one first on our key reads what we
 * write and names the pid the reader signals (writer_pid) -- root's shmget() grants a segment
 * of any mode.  So its creator (cuid) and owner (uid; IPC_SET can hand the uid to anyone, not
 * the cuid) must both be us, and its mode must give others nothing (ipclab_trusted).  Says why
 * not; the segment refused is left as it is.
 */
static inline bool shm_trusted(int shmid, const char *path, const struct shmid_ds *ds)
{
    char what[PATH_MAX + 64];

    snprintf(what, sizeof what, "segment %d (key from %s)", shmid, path);
    return ipclab_sysv_trusted(what, &ds->shm_perm);
}

/* ---------------------------------------------------------------- the FIFO lifeline */

/*
 * Make sure path is a FIFO: create it (mode 0600) or accept the one already there if it is
 * ours and closed to others (ipclab_trusted).  Anything else at that path (a regular file, a
 * directory, a symlink, another user's FIFO) is refused, never opened.  Returns 0, or -1 after
 * a message.
 */
static inline int shm_make_fifo(const char *path)
{
    struct stat st;

    if (mkfifo(path, 0600) == -1 && errno != EEXIST) {
        warn("mkfifo %s", path);
        return -1;
    }
    if (lstat(path, &st) == -1) {
        warn("%s", path);
        return -1;
    }
    if (!S_ISFIFO(st.st_mode)) {
        warnx("%s exists and is not a FIFO; refusing to use it (remove it, or name another "
              "path with -p)", path);
        return -1;
    }
    return ipclab_trusted(path, st.st_uid, st.st_mode) ? 0 : -1;
}

/*
 * Open the FIFO made by shm_make_fifo, waiting for the peer (a termination signal ends the
 * wait; one that lands just before open() blocks is seen at the next tick, as in
 * fifo/fifo_reader.c), and check that what was opened is still a FIFO of ours (the name may
 * have been replaced meanwhile).  Returns the descriptor (close-on-exec), or -1: errno EINTR
 * when a signal ended the wait, otherwise after a message.
 */
static inline int shm_open_fifo(const char *path, int open_mode)
{
    int fd;
    ipclab_start_ticks();
    while ((fd = open(path, open_mode | O_NOFOLLOW | O_CLOEXEC)) == -1 && errno == EINTR &&
           !ipclab_signal)
        ; /* a tick: open again */
    ipclab_stop_ticks();
    if (fd == -1) {
        if (errno != EINTR)
            warn("open %s", path);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) == -1 || !S_ISFIFO(st.st_mode)) {
        warnx("%s is no longer a FIFO", path);
        close(fd);
        return -1;
    }
    if (!ipclab_trusted(path, st.st_uid, st.st_mode)) {
        close(fd);
        return -1;
    }
    return fd;
}

/*
 * Leaving: remove the FIFO if it is one of ours closed to others, as shm_make_fifo makes them
 * (never a file, nor a FIFO someone else put there); then, under the door, the key file if it
 * is still the key file open on keyfd (-1: none), and close keyfd.  Either may be gone.
 */
static inline void shm_remove_files(const char *fifo, const char *path, int keyfd)
{
    struct stat st;

    if (lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode) && st.st_uid == geteuid() &&
        (st.st_mode & 077) == 0 && unlink(fifo) == -1 && errno != ENOENT)
        warn("cannot remove %s", fifo);
    if (keyfd != -1) {
        if (ipclab_door_to_leave(keyfd, 0) == 0)
            ipclab_key_file_remove(path, keyfd);
        close(keyfd);
    }
}

#endif /* SHM_H */
