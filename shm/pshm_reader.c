/*
 * pshm_reader - print what pshm_writer sends through POSIX shared memory and two semaphores.
 *
 * Either side may come first, so the reader too opens the object with shm_open(3), creating it
 * if it is missing (ftruncate(2) then gives it its size and sem_init(3) its two semaphores), and
 * maps it with mmap(2).  Then it waits for the "full" semaphore (sem_timedwait), prints exactly
 * the len bytes the writer left in the next buffer of the ring, and posts "empty" (sem_post) to
 * hand the buffer back.  An empty buffer ends it; munmap(2) and shm_unlink(3) undo the rest.
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./shm/pshm_reader
 *     terminal 2:  ./shm/pshm_writer
 * What you should see in terminal 1, once terminal 2 has sent a line and pressed Ctrl-D:
 *     pshm_reader: ready (pid 4243): /ipclab-1000-pshm mapped; waiting for a writer
 *     hello semaphores
 *     pshm_reader: end of data: 17 bytes in 1 buffer(s)
 *
 * Beyond the seeds: shm_reader done the way it should be.  Build alone (glibc before 2.34 keeps
 * shm_open and the semaphores in librt and libpthread):
 *     cc -o pshm_reader pshm_reader.c -lrt -pthread
 */
#define _POSIX_C_SOURCE 200809L

#include "../common/ipclab.h"
#include "../common/peers.h"
#include "pshm.h"

static const char usage[] =
    "usage: pshm_reader [-p /NAME]\n"
    "  Print what pshm_writer sends through a POSIX shared memory object, until the empty\n"
    "  buffer that marks the end.\n"
    "  -p /NAME  the object's name (default: /ipclab-<uid>-pshm)\n"
    "  -h        show this help\n";

/*
 * Create or open the object (mode 0600), map it, and become its reader.  The first side through
 * the door (pshm_enter) finds it new, size 0: it sets the size and initialises the semaphores.
 * Returns the mapping and the descriptor in *fdp, or NULL (after a message, unless a signal).
 */
static struct pshm_area *open_object(const char *name, int *fdp)
{
    int fd, rc;
    do { /* again if the name was removed while we waited at its door */
        if ((fd = shm_open(name, O_RDWR | O_CREAT, 0600)) == -1) {
            warn("shm_open %s", name);
            return NULL;
        }
    } while ((rc = pshm_enter(fd, name)) == PSHM_AGAIN);
    if (rc == PSHM_FAILED)
        return NULL;
    bool fresh = rc == PSHM_NEW;
    struct pshm_area *area = MAP_FAILED;
    if (fresh && ftruncate(fd, sizeof *area) == -1) /* new: give it its size */
        warn("ftruncate %s", name);
    else if (pshm_allocate_pages(fd, name) == 0 && /* no SIGBUS on a full /dev/shm */
             (area = mmap(NULL, sizeof *area, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) ==
             MAP_FAILED) /* Fix: MAP_FAILED, (void *)-1, not NULL */
        warn("mmap %s", name);
    if (area == MAP_FAILED) {
        if (fresh) /* ours, new and empty: nobody else uses it yet (we hold the door) */
            shm_unlink(name);
        close(fd);
        return NULL;
    }
    /* Not new, yet nobody else holds a lock on it: left by a pair that was killed, its
     * semaphores may say anything.  It starts afresh. */
    bool stale = !fresh && ipclab_lock_holder(fd, -1) == 0;
    if (stale) {
        warnx("%s was left behind by a pair that was killed; starting it afresh", name);
        sem_destroy(&area->empty);
        sem_destroy(&area->full);
    }
    /* pshared 1: shared between processes.  empty starts at PSHM_SLOTS (every buffer is the
     * writer's to fill), full at 0. */
    if ((fresh || stale) &&
        (sem_init(&area->empty, 1, PSHM_SLOTS) == -1 || sem_init(&area->full, 1, 0) == -1))
        err(IPCLAB_EXIT_FAIL, "sem_init");
    if (!pshm_take_role(fd, PSHM_READER, "pshm_reader", name)) {
        munmap(area, sizeof *area);
        close(fd);
        return NULL;
    }
    *fdp = fd;
    return area;
}

/* Wait for "full": the next buffer holds data for us.  Each time a wait of PSHM_WAIT_MS runs
 * out, look whether the writer has gone (handed: the buffers we handed back with "empty", which
 * the writer takes, beside the PSHM_SLOTS it starts with).  Returns 0, or -1 (after a message
 * if it has gone). */
static int wait_turn(struct pshm_area *area, int fd, long handed, bool *seen)
{
    for (;;) {
        struct timespec deadline = ipclab_deadline(PSHM_WAIT_MS);
        if (sem_timedwait(&area->full, &deadline) == 0)
            return 0;
        if (errno != ETIMEDOUT && errno != EINTR) {
            warn("sem_timedwait");
            return -1;
        }
        if (ipclab_signal)
            return -1;
        if (pshm_peer_gone(&area->empty, PSHM_SLOTS + handed, fd, PSHM_WRITER, seen)) {
            if (sem_trywait(&area->full) == 0) /* a post it made before it went counts */
                return 0;
            warnx("the writer has gone (or was killed) before the end");
            return -1;
        }
    }
}

/* Print each buffer and hand it back, until the empty one.  Returns 0 at the end, or -1. */
static int print_buffers(struct pshm_area *area, int fd)
{
    long long total = 0;
    long count = 0; /* buffers printed: the next is count % PSHM_SLOTS */
    bool seen = false;

    for (;;) {
        if (wait_turn(area, fd, count, &seen) == -1)
            return -1;
        seen = true; /* full was posted by a writer */
        int slot = (int)(count % PSHM_SLOTS);
        long len = area->len[slot];
        if (len < 0 || (size_t)len > sizeof area->data[slot]) {
            warnx("the buffer claims %ld bytes: not our writer?", len);
            return -1;
        }
        if (ipclab_write_all(STDOUT_FILENO, area->data[slot], (size_t)len) == -1) {
            if (errno != EINTR)
                warn("write stdout");
            return -1;
        }
        if (sem_post(&area->empty) == -1) { /* the buffer is the writer's again */
            warn("sem_post");
            return -1;
        }
        if (len == 0) {
            warnx("end of data: %lld bytes in %ld buffer(s)", total, count);
            return 0;
        }
        total += len;
        count++;
    }
}

/*
 * Leave: under the door, unmap, and remove the name if it is still ours (the object goes when
 * the last one unmaps it).  The last one out (the writer's lock is gone) first destroys the
 * semaphores: nobody can be waiting on them.
 */
static void leave(struct pshm_area *area, int fd, const char *name)
{
    bool door = ipclab_door_to_leave(fd, PSHM_DOOR) == 0;
    if (door && ipclab_lock_holder(fd, PSHM_WRITER) == 0) {
        sem_destroy(&area->empty);
        sem_destroy(&area->full);
    }
    if (munmap(area, sizeof *area) == -1)
        warn("munmap %s", name);
    if (door && pshm_named(fd) && shm_unlink(name) == -1 && errno != ENOENT)
        warn("shm_unlink %s", name);
    close(fd);
}

int main(int argc, char *argv[])
{
    char name[NAME_MAX + 2] = "";

    ipclab_stderr_by_line();
    ipclab_std_fds();
    if (ipclab_options_p(argc, argv, usage, ipclab_posix_name_arg, name, sizeof name) < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (name[0] == '\0')
        ipclab_posix_name(name, sizeof name, "pshm");

    ipclab_catch_signals();
    int fd, status = IPCLAB_EXIT_FAIL;
    struct pshm_area *area = open_object(name, &fd);
    if (area != NULL) {
        ipclab_ready("%s mapped; waiting for a writer", name);
        status = print_buffers(area, fd) == 0 ? IPCLAB_EXIT_OK : IPCLAB_EXIT_FAIL;
        leave(area, fd, name);
    }
    ipclab_die_of_signal();
    return status;
}
