/*
 * pshm.h - what pshm_writer and pshm_reader share: the object's layout with its two
 * semaphores, and opening, initialising and removing it.  Include it after ../common/ipclab.h.
 */
#ifndef PSHM_H
#define PSHM_H

#include <semaphore.h>
#include <sys/mman.h>

/* Bytes of the object locked by the door (see ipclab_key_file_open) and by each side while it
 * is at work (see "peers" in ipclab.h): shm_open(3) gives a file descriptor, and record locks
 * work on it. */
enum { PSHM_DOOR = 0, PSHM_WRITER = 1, PSHM_READER = 2 };

/* How long one wait lasts before a side looks at its peer again. */
#define PSHM_WAIT_MS 200

/*
 * The object: one buffer and the two semaphores that take turns over it.  empty is 1 while the
 * writer may fill the buffer, full is 1 while it holds data for the reader; so exactly one side
 * owns the buffer at any time, and a post is never lost: a semaphore counts, a signal does not.
 */
struct pshm_area {
    sem_t empty;
    sem_t full;
    long len; /* bytes valid in data; 0: end of data */
    char data[65536];
};

/*
 * Does the name still lead to the object open on fd?  An object has exactly one name, so it
 * does while the link count is not 0; shm_unlink() makes it 0.  (Opening the name again to
 * compare would not do: closing any descriptor of a file drops every record lock the process
 * holds on it, the door included -- fcntl(2)'s best-known trap.)
 */
static inline bool pshm_named(int fd)
{
    struct stat st;

    return fstat(fd, &st) == 0 && st.st_nlink > 0;
}

/*
 * Create or open the object name (mode 0600) and map it.  The first one through the door finds
 * it empty (size 0): it sets the size and initialises the semaphores, process-shared; the other
 * finds it ready.  The door makes that check-then-initialise safe when both sides start at once.
 * An object that nobody holds a lock on, though it is not new, was left by a pair that was
 * killed: its semaphores may say anything, so it is initialised afresh.  Returns the mapping
 * and puts the descriptor in *fdp, door held (take the role lock, then release the door); or
 * NULL (errno EINTR on a termination signal, otherwise after a message).
 */
static inline struct pshm_area *pshm_open(const char *name, int *fdp)
{
    for (;;) {
        int fd = shm_open(name, O_RDWR | O_CREAT, 0600);
        if (fd == -1) {
            warn("shm_open %s", name);
            return NULL;
        }
        /* Fix: an object of that name that another user made first (mode 0666, say) was
         * used: they read what we write, or write what we print.  Refuse one not ours, or
         * open to others -- before waiting at its door, which its owner could hold for ever. */
        struct stat st;
        if (fstat(fd, &st) == -1 || !ipclab_trusted(name, st.st_uid, st.st_mode)) {
            close(fd);
            errno = EACCES;
            return NULL;
        }
        if (ipclab_lock(fd, PSHM_DOOR, F_WRLCK, true) == -1) {
            int saved = errno;
            if (saved != EINTR)
                warn("lock %s", name);
            close(fd);
            errno = saved;
            return NULL;
        }
        if (!pshm_named(fd)) {
            close(fd); /* removed while we waited at the door: start again */
            continue;
        }
        bool fresh = fstat(fd, &st) == 0 && st.st_size == 0;
        if (fresh && ftruncate(fd, sizeof(struct pshm_area)) == -1) {
            warn("ftruncate %s", name);
            close(fd);
            return NULL;
        }
        if (!fresh && st.st_size != (off_t)sizeof(struct pshm_area)) {
            warnx("%s has %lld bytes, not %zu: not ours; refusing it", name,
                  (long long)st.st_size, sizeof(struct pshm_area));
            close(fd);
            return NULL;
        }
        struct pshm_area *area =
            mmap(NULL, sizeof *area, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (area == MAP_FAILED) {
            warn("mmap %s", name);
            close(fd);
            return NULL;
        }
        bool stale = !fresh && ipclab_lock_holder(fd, -1) == 0;
        if (stale) {
            warnx("%s was left behind by a pair that was killed; starting it afresh", name);
            sem_destroy(&area->empty);
            sem_destroy(&area->full);
        }
        if ((fresh || stale) &&
            (sem_init(&area->empty, 1, 1) == -1 || sem_init(&area->full, 1, 0) == -1))
            err(IPCLAB_EXIT_FAIL, "sem_init");
        *fdp = fd;
        return area;
    }
}

/* Open the object (pshm_open) and take the lock of role (PSHM_WRITER or PSHM_READER), refusing
 * if another program holds it.  Returns the mapping, door released, or NULL. */
static inline struct pshm_area *pshm_join(const char *name, off_t role, const char *who, int *fdp)
{
    struct pshm_area *area = pshm_open(name, fdp);
    if (area == NULL)
        return NULL;
    pid_t other = ipclab_lock_holder(*fdp, role);
    if (other != 0 || ipclab_lock(*fdp, role, F_WRLCK, false) == -1) {
        warnx("another %s (pid %ld) is already using %s", who, (long)other, name);
        munmap(area, sizeof *area);
        close(*fdp);
        return NULL;
    }
    ipclab_lock(*fdp, PSHM_DOOR, F_UNLCK, false);
    return area;
}

/*
 * Wait for sem, looking at the peer (the holder of the lock on byte peer) every PSHM_WAIT_MS.
 * *seen records that the peer has been here; once it has gone, one last look (a post it made
 * before it went still counts) and we give up.  Returns 0, or -1 (after a message if the peer
 * has gone).
 *
 * Fix: a peer that came and went between two looks (a reader whose stdout is closed takes the
 * first buffer and exits at once) was never seen, and the writer waited for ever.  So the
 * other semaphore is looked at too: the peer waits on it, and if it is 0 the peer has taken it
 * -- the reader the "full" we posted, the writer the first "empty" -- so it has been here.
 */
static inline int pshm_wait(sem_t *sem, sem_t *other, int fd, off_t peer, bool *seen,
                            const char *who)
{
    for (;;) {
        struct timespec deadline = ipclab_deadline(PSHM_WAIT_MS);
        if (sem_timedwait(sem, &deadline) == 0)
            return 0;
        if (errno != ETIMEDOUT && errno != EINTR) {
            warn("sem_timedwait");
            return -1;
        }
        if (ipclab_signal)
            return -1;
        int taken;
        if (sem_getvalue(other, &taken) == 0 && taken == 0)
            *seen = true;
        if (ipclab_lock_holder(fd, peer) > 0) {
            *seen = true;
        } else if (*seen) {
            if (sem_trywait(sem) == 0)
                return 0;
            warnx("the %s has gone (or was killed) before the end", who);
            return -1;
        }
    }
}

/*
 * Leave: under the door, unmap, and remove the name if it is still ours.  The last one out
 * (the peer's lock is gone) destroys the semaphores first: nobody can be waiting on them.
 */
static inline void pshm_close(struct pshm_area *area, int fd, const char *name, off_t peer)
{
    ipclab_lock(fd, PSHM_DOOR, F_WRLCK, true);
    if (ipclab_lock_holder(fd, peer) == 0) {
        sem_destroy(&area->empty);
        sem_destroy(&area->full);
    }
    munmap(area, sizeof *area);
    if (pshm_named(fd) && shm_unlink(name) == -1 && errno != ENOENT)
        warn("shm_unlink %s", name);
    close(fd);
}

#endif /* PSHM_H */
