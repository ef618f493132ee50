/*
 * pshm.h - what pshm_writer and pshm_reader share: the object's layout with its two
 * semaphores, their options, the record lock held to join, and the look at the other side.  The
 * shared memory and semaphore calls themselves are in the two programs.
 *
 * The layout is the interface (shm/README.md, "The POSIX object's layout"): a peer in another
 * language maps the object and waits and posts the two semaphores in it.  A side that leaves
 * before the end removes the object's name, which the other sees as a link count of 0.
 * Beside that, pshm_writer and pshm_reader each hold a record lock on one byte of the object
 * while they work (shm_open(3) gives a file descriptor, and fcntl(2) locks work on it), so
 * that the other notices when it is killed; a peer that holds none is never taken for gone.
 */
#ifndef PSHM_H
#define PSHM_H

#include <semaphore.h>
#include <sys/mman.h>

#include "../common/peers.h"

/* Bytes of the object locked: byte 0 while a side joins (see pshm_enter), and byte 1 or 2 by
 * each side while it works. */
enum { PSHM_JOINING = 0, PSHM_WRITER = 1, PSHM_READER = 2 };

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

/* The options: -p /NAME into name (NAME_MAX + 2 bytes); -h prints the usage.  Then the
 * termination signals are caught (flag only: shm_unlink is no async-signal-safe call). */
static inline void pshm_options(int argc, char *argv[], const char *usage, char *name)
{
    ipclab_stderr_by_line();
    ipclab_std_fds();
    ipclab_posix_name(name, NAME_MAX + 2, "pshm");
    if (ipclab_options_p(argc, argv, usage, ipclab_posix_name_arg, name, NAME_MAX + 2) < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    ipclab_catch_signals();
}

/* Does the name still lead to the object open on fd?  An object has one name: while its link
 * count is not 0; shm_unlink() makes it 0. */
static inline bool pshm_named(int fd)
{
    struct stat st;

    return fstat(fd, &st) == 0 && st.st_nlink > 0;
}

/* What pshm_enter found. */
enum { PSHM_AGAIN, PSHM_NEW, PSHM_MADE };

/*
 * Enter the object just opened on fd: check it, then take the write lock on its byte 0, held
 * while the first side sets its size and initialises its semaphores, so that a side starting
 * at the same moment never sees it half-made.  An object of our name may be another user's,
 * made first (mode 0666) to read what we write: refused (exit 1) before that lock is asked for
 * -- its owner could hold it for ever -- and so is one of a size not ours.
 * Returns, lock held, PSHM_NEW (size 0: nobody has made it yet; or made, but nobody holds a
 * lock on it: left by a pair that was killed, its semaphores may say anything) or PSHM_MADE;
 * or, fd closed, PSHM_AGAIN (the name was removed while we waited: open it again).
 */
static inline int pshm_enter(int fd, const char *name)
{
    struct stat st;

    if (fstat(fd, &st) == -1 || !ipclab_trusted(name, st.st_uid, st.st_mode))
        exit(IPCLAB_EXIT_FAIL);
    if (ipclab_lock(fd, PSHM_JOINING, F_WRLCK, true) == -1) {
        if (errno != EINTR)
            err(IPCLAB_EXIT_FAIL, "lock %s", name);
        ipclab_die_of_signal(); /* waiting for the lock: a signal ends us, nothing made yet */
        exit(IPCLAB_EXIT_FAIL);
    }
    if (!pshm_named(fd)) {
        close(fd);
        return PSHM_AGAIN;
    }
    if (fstat(fd, &st) == -1)
        err(IPCLAB_EXIT_FAIL, "fstat %s", name);
    if (st.st_size != 0 && st.st_size != (off_t)sizeof(struct pshm_area))
        errx(IPCLAB_EXIT_FAIL, "%s has %lld bytes, not %zu: not ours; refusing it", name,
             (long long)st.st_size, sizeof(struct pshm_area));
    if (st.st_size == 0)
        return PSHM_NEW;
    if (ipclab_lock_holder(fd, -1) != 0)
        return PSHM_MADE;
    warnx("%s was left behind by a pair that was killed; starting it afresh", name);
    return PSHM_NEW;
}

/* Take the record lock of role (PSHM_WRITER or PSHM_READER), byte 0 held, and let go of byte 0;
 * refuse (exit 1) if another program holds the role. */
static inline void pshm_join(int fd, off_t role, const char *name)
{
    const char *who = role == PSHM_WRITER ? "pshm_writer" : "pshm_reader";
    pid_t other = ipclab_lock_holder(fd, role);

    if (other != 0 || ipclab_lock(fd, role, F_WRLCK, false) == -1)
        errx(IPCLAB_EXIT_FAIL, "another %s (pid %ld) is already using %s", who, (long)other, name);
    ipclab_lock(fd, PSHM_JOINING, F_UNLCK, false);
}

/* Has the peer gone?  Its name removed (a side that leaves removes it), or the record lock on
 * byte role, seen held before (*seen), now gone: killed.  A peer that holds no lock (another
 * program that maps the layout) is never taken for gone. */
static inline bool pshm_peer_gone(int fd, off_t role, bool *seen)
{
    bool here = ipclab_lock_holder(fd, role) > 0;

    *seen = *seen || here;
    return !pshm_named(fd) || (*seen && !here);
}

#endif /* PSHM_H */
