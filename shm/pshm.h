/*
 * pshm.h - what pshm_writer and pshm_reader share: the object's layout with its two
 * semaphores, and the locks by which each side knows who else is there.  The shared memory
 * and semaphore calls themselves are in the two programs.  Include it after ../common/peers.h.
 */
#ifndef PSHM_H
#define PSHM_H

#include <semaphore.h>
#include <sys/mman.h>

/* Bytes of the object locked by the door (see ipclab_key_file_open) and by each side while it
 * is at work (see common/peers.h): shm_open(3) gives a file descriptor, and record locks
 * work on it. */
enum { PSHM_DOOR = 0, PSHM_WRITER = 1, PSHM_READER = 2 };

/* How long one wait lasts before a side looks at its peer again. */
#define PSHM_WAIT_MS 200

/*
 * The object: a ring of PSHM_SLOTS buffers and the two semaphores that count them.  empty counts
 * the buffers the writer may fill (PSHM_SLOTS at first), full those that hold data for the
 * reader (0 at first).  Each side goes round the ring in order, the writer filling buffer
 * number n % PSHM_SLOTS, the reader printing it, so each buffer belongs to one side at a time;
 * and while the reader prints one, the writer may already fill the next, as a pipe's writer
 * fills the pipe while its reader reads: on two CPUs they work at once.  (With one buffer of
 * 64 KiB, each waited for the other every time: on two CPUs the pair moved a quarter of what
 * it moves now; make bench, the pairs table.)
 * A post is never lost: a semaphore counts, a signal does not.
 */
#define PSHM_SLOTS 4

struct pshm_area {
    sem_t empty;
    sem_t full;
    long len[PSHM_SLOTS];          /* bytes valid in each buffer; 0: end of data */
    char data[PSHM_SLOTS][262144];
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

/* What pshm_enter found. */
enum { PSHM_FAILED = -1, PSHM_AGAIN, PSHM_NEW, PSHM_MADE };

/*
 * Enter the object just opened on fd: check it, then take its door (the lock on PSHM_DOOR),
 * inside which its size is set, its semaphores initialised and a role lock taken, so that a
 * side starting at the same moment never sees it half-made.  Fix: an object of our name may be
 * one another user made first (mode 0666, say), to read what we write or write what we print.
 * So one not ours, or open to others, is refused -- before waiting at its door, which its
 * owner could hold for ever -- and so is one of a size not ours.  Returns, door held, PSHM_NEW
 * (size 0: nobody has made it yet) or PSHM_MADE (the size of a struct pshm_area); or, fd
 * closed, PSHM_AGAIN (the name was removed while we waited: open it again) or PSHM_FAILED
 * (errno EINTR on a termination signal, otherwise after a message).
 */
static inline int pshm_enter(int fd, const char *name)
{
    struct stat st;
    int rc = PSHM_FAILED, saved = 0;

    if (fstat(fd, &st) == -1 || !ipclab_trusted(name, st.st_uid, st.st_mode)) {
        saved = EACCES; /* refused before its door is touched */
    } else if (ipclab_lock(fd, PSHM_DOOR, F_WRLCK, true) == -1) {
        saved = errno;
        if (saved != EINTR)
            warn("lock %s", name);
    } else if (!pshm_named(fd)) {
        rc = PSHM_AGAIN;
    } else if (fstat(fd, &st) == -1) {
        saved = errno;
        warn("fstat %s", name);
    } else if (st.st_size == 0 || st.st_size == (off_t)sizeof(struct pshm_area)) {
        return st.st_size == 0 ? PSHM_NEW : PSHM_MADE;
    } else {
        warnx("%s has %lld bytes, not %zu: not ours; refusing it", name, (long long)st.st_size,
              sizeof(struct pshm_area));
    }
    close(fd);
    errno = saved;
    return rc;
}

/*
 * Give every page of the object its memory now.  ftruncate() only sets the size; a page gets
 * its memory when first touched, and on a full /dev/shm (a tmpfs: Docker's holds 64 MiB) there
 * is none -- a store into the mapping then raises SIGBUS, and a read(2) into it fails with
 * EFAULT, "Bad address".  posix_fallocate() says ENOSPC instead, before anything is written.
 * Returns 0, or -1 after a message.
 */
static inline int pshm_allocate_pages(int fd, const char *name)
{
    int rc = posix_fallocate(fd, 0, sizeof(struct pshm_area));

    if (rc == 0)
        return 0;
    errno = rc; /* posix_fallocate returns the error, and leaves errno alone */
    if (rc != EINTR || !ipclab_signal) /* tmpfs: EINTR once a signal is pending */
        warn("cannot allocate the %zu bytes of %s in /dev/shm", sizeof(struct pshm_area), name);
    return -1;
}

/* Take the lock of role (PSHM_WRITER or PSHM_READER) on the object open on fd, door held, and
 * release the door; or refuse, with a message, if another program holds the role (the door
 * stays held: the caller closes fd, which drops it). */
static inline bool pshm_take_role(int fd, off_t role, const char *who, const char *name)
{
    pid_t other = ipclab_lock_holder(fd, role);

    if (other != 0 || ipclab_lock(fd, role, F_WRLCK, false) == -1) {
        warnx("another %s (pid %ld) is already using %s", who, (long)other, name);
        return false;
    }
    ipclab_lock(fd, PSHM_DOOR, F_UNLCK, false);
    return true;
}

/*
 * Called each time a wait ran out (for a semaphore, or for input): has the peer (the holder of
 * the lock on byte peer) gone?  *seen records that it has been here; it has gone once it has
 * been and its lock is no more.  Fix: a peer that came and went between two looks (a reader whose stdout is closed
 * takes the first buffer and exits at once) was never seen, and the writer waited for ever.
 * So the other semaphore is looked at too: the peer waits on it, and if it holds less than the
 * put we put in (plus its start), the peer has taken some -- so it has been.
 */
static inline bool pshm_peer_gone(sem_t *other, long put, int fd, off_t peer, bool *seen)
{
    int left;

    if (sem_getvalue(other, &left) == 0 && left < put)
        *seen = true;
    if (ipclab_lock_holder(fd, peer) > 0) {
        *seen = true;
        return false;
    }
    return *seen;
}

#endif /* PSHM_H */
