/*
 * shm.h - what shm_writer and shm_reader share: the segment's layout, the seed's
 * create_or_get_shm() with its bugs fixed, the notification signals, and the lifeline check.
 * Include it after ../common/ipclab.h.
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
 * The segment.  Fix: the original copied a NUL-terminated string in and printed it with %s,
 * so it carried text only, at most one segment of it, and nothing bounded the copy to SHM_SIZE.
 * Here a length field says how many bytes of data are valid: any bytes, and an input of any
 * size goes through one segment-full at a time.  A length of 0 marks the end.
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
 * step.  Fix: the original waited with pause(), so a SIGUSR1 that came before pause() was
 * handled and forgotten, and the reader slept forever.
 */
static inline void shm_catch(int signo, sigset_t *waitmask)
{
    struct sigaction sa = { .sa_handler = shm_on_signal };
    sigset_t block;

    sigemptyset(&sa.sa_mask);
    sigemptyset(&block);
    sigaddset(&block, signo);
    /* Fix: the original used signal(), whose semantics vary between systems; sigaction() does
     * not. */
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
 * is a link in /proc/PID/fd, and stat(2) follows it to the file itself. */
static inline bool shm_holds_fifo(pid_t pid, int fd)
{
    char dir[64], link[PATH_MAX];
    struct stat ours, st;
    bool found = false;

    snprintf(dir, sizeof dir, "/proc/%ld/fd", (long)pid);
    DIR *d = opendir(dir);
    if (d == NULL || fstat(fd, &ours) == -1) {
        if (d != NULL)
            closedir(d);
        return false;
    }
    for (struct dirent *e; !found && (e = readdir(d)) != NULL;) {
        snprintf(link, sizeof link, "%s/%s", dir, e->d_name);
        found = e->d_name[0] != '.' && stat(link, &st) == 0 && st.st_ino == ours.st_ino &&
                st.st_dev == ours.st_dev;
    }
    closedir(d);
    return found;
}

/*
 * Wait until signo's handler has run (shm_signalled), a termination signal came, or the peer
 * is gone.  Blocked outside this wait, the signal cannot slip past.  Every tick (ipclab.h)
 * looks at the lifeline (shm_peer_gone).  Returns 0 when the signal came, -1 otherwise (after a
 * message if the peer is gone).
 */
static inline int shm_wait(const sigset_t *waitmask, int lifeline, const char *peer)
{
    while (!shm_signalled) {
        if (ipclab_signal)
            return -1;
        if (ipclab_tick) {
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
 * Get the segment of path's key, creating it (mode 0600) if it is missing, and check it before
 * use.  Fix: a segment found was used whatever it was: another user who makes one first on our
 * key reads what we write, and names the pid the reader signals (writer_pid) -- root's
 * shmget() grants a segment of any mode.  So, as for a queue (msgq.h's msgq_get), its creator
 * (cuid) and owner (uid) must both be us and its mode must give others nothing
 * (ipclab_trusted).  Returns the id, or -1 after a message (the segment refused is left alone).
 */
static inline int shm_get(const char *path)
{
    key_t key = ftok(path, SHM_PROJ);
    if (key == (key_t)-1) {
        warn("ftok %s", path);
        return -1;
    }
    int shmid = shmget(key, sizeof(struct shm_area), IPC_CREAT | 0600);
    if (shmid == -1) {
        if (errno == EACCES) /* not root: the segment exists, and we may not use it */
            warnx("the segment of the key from %s is not yours (shmget: %s); refusing to use "
                  "it", path, strerror(EACCES));
        else
            warn("shmget (key from %s)", path);
        return -1;
    }
    struct shmid_ds ds;
    char what[PATH_MAX + 64];
    snprintf(what, sizeof what, "segment %d (key from %s)", shmid, path);
    if (shmctl(shmid, IPC_STAT, &ds) == -1) {
        warn("shmctl IPC_STAT %s", what);
        return -1;
    }
    if (ds.shm_perm.cuid != geteuid()) {
        warnx("%s was made by uid %ld, not by you (uid %ld); refusing to use it", what,
              (long)ds.shm_perm.cuid, (long)geteuid());
        return -1;
    }
    return ipclab_trusted(what, ds.shm_perm.uid, ds.shm_perm.mode) ? shmid : -1;
}

/*
 * create_or_get_shm(): open the key file path (creating it 0600, or refusing a file that is
 * not a key file; door held, see ipclab_key_file_open), and create or get the segment, mode
 * 0600, refusing another user's (shm_get).
 * Returns the segment id and the key file's descriptor in *keyfd, door released; or -1.
 *
 * Fix: the original created ./shmfile and the segment mode 0664, leaked the key file's
 * descriptor, and set the global shmid as a side effect.
 */
static inline int create_or_get_shm(const char *path, int *keyfd)
{
    bool made;
    int fd = ipclab_key_file_open(path, &made);
    if (fd == -1)
        return -1;
    int shmid = shm_get(path);
    if (shmid == -1) {
        if (made)
            ipclab_key_file_remove(path, fd); /* ours, door held; one we found is not */
    }
    ipclab_lock(fd, 0, F_UNLCK, false);
    if (shmid == -1) {
        close(fd);
        return -1;
    }
    *keyfd = fd;
    return shmid;
}

/* Detach, mark the segment for removal, remove the FIFO and the key file (each may be gone). */
static inline void shm_cleanup(struct shm_area *area, int shmid, const char *fifo,
                               const char *path, int keyfd)
{
    if (area != NULL)
        shmdt(area);
    if (shmid != -1 && shmctl(shmid, IPC_RMID, NULL) == -1 && errno != EIDRM && errno != EINVAL)
        warn("shmctl IPC_RMID");
    ipclab_remove_fifo(fifo);
    if (keyfd != -1) {
        ipclab_lock(keyfd, 0, F_WRLCK, true);
        ipclab_key_file_remove(path, keyfd);
        close(keyfd);
    }
}

#endif /* SHM_H */
