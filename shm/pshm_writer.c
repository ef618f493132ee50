/*
 * pshm_writer - send stdin to pshm_reader through POSIX shared memory and two semaphores.
 *
 * What a production program would do instead of shm_writer's signals: shm_open(3) names a
 * shared memory object like a file, ftruncate(2) gives it its size, mmap(2) maps it, and two
 * process-shared semaphores that live inside it (sem_init(3)) count its ring of buffers.  The
 * writer waits for "empty" (sem_timedwait), fills the next buffer, posts "full" (sem_post); the
 * reader waits for "full", prints that buffer, posts "empty".  A semaphore counts, so a post
 * made before the other side waits is never lost, and neither side needs the other's PID.  An
 * empty buffer ends it; munmap(2) and shm_unlink(3) undo the rest.
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./shm/pshm_reader
 *     terminal 2:  ./shm/pshm_writer
 * What you should see in terminal 2, then type lines, then Ctrl-D:
 *     pshm_writer: ready (pid 4242): /ipclab-1000-pshm mapped; 4 buffers of up to 262144 bytes
 *     hello semaphores
 *     pshm_writer: end of input: 17 bytes in 1 buffer(s); the reader took the end
 * While both run, `ls -l /dev/shm` shows the object (Linux keeps them there).
 *
 * Beyond the seeds: shm_writer done the way it should be.  Build alone (glibc before 2.34 keeps
 * shm_open and the semaphores in librt and libpthread):
 *     cc -o pshm_writer pshm_writer.c -lrt -pthread
 */
#define _POSIX_C_SOURCE 200809L

#include <poll.h>

#include "../common/ipclab.h"
#include "../common/peers.h"
#include "pshm.h"

static const char usage[] =
    "usage: pshm_writer [-p /NAME]\n"
    "  Send stdin to pshm_reader through a POSIX shared memory object, a ring of buffers that\n"
    "  two semaphores in the object count; an empty buffer marks the end.\n"
    "  -p /NAME  the object's name (default: /ipclab-<uid>-pshm)\n"
    "  -h        show this help\n";

/*
 * Create or open the object (mode 0600), map it, and become its writer.  The first side through
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
    if (!pshm_take_role(fd, PSHM_WRITER, "pshm_writer", name)) {
        munmap(area, sizeof *area);
        close(fd);
        return NULL;
    }
    *fdp = fd;
    return area;
}

/* Wait for "empty": the next buffer is ours to fill.  Each time a wait of PSHM_WAIT_MS runs
 * out, look whether the reader has gone (posted: the "full"s we posted, which the reader takes).
 * Returns 0, or -1 (after a message if it has gone). */
static int wait_turn(struct pshm_area *area, int fd, long posted, bool *seen)
{
    for (;;) {
        struct timespec deadline = ipclab_deadline(PSHM_WAIT_MS);
        if (sem_timedwait(&area->empty, &deadline) == 0)
            return 0;
        if (errno != ETIMEDOUT && errno != EINTR) {
            warn("sem_timedwait");
            return -1;
        }
        if (ipclab_signal)
            return -1;
        if (pshm_peer_gone(&area->full, posted, fd, PSHM_READER, seen)) {
            if (sem_trywait(&area->empty) == 0) /* a post it made before it went counts */
                return 0;
            warnx("the reader has gone (or was killed) before the end");
            return -1;
        }
    }
}

/* Wait until stdin has something to read; every PSHM_WAIT_MS look whether the reader went, as
 * wait_turn does: a terminal may keep us here long after the reader was killed. */
static int wait_input(struct pshm_area *area, int fd, long posted, bool *seen)
{
    struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };

    for (;;) {
        int n = poll(&in, 1, PSHM_WAIT_MS);
        if (n == 1)
            return 0;
        if (n == -1 && errno != EINTR) {
            warn("poll");
            return -1;
        }
        if (ipclab_signal)
            return -1;
        if (pshm_peer_gone(&area->full, posted, fd, PSHM_READER, seen)) {
            warnx("the reader has gone (or was killed) before the end");
            return -1;
        }
    }
}

/* Send stdin, then the empty buffer, and wait until the reader has taken it.  Returns 0, or -1. */
static int send_stdin(struct pshm_area *area, int fd)
{
    long long total = 0;
    long count = 0; /* buffers filled: the next is count % PSHM_SLOTS */
    bool seen = false;

    for (;;) {
        if (wait_turn(area, fd, count, &seen) == -1)
            return -1;
        seen = seen || count >= PSHM_SLOTS; /* that empty was posted by a reader: one was here */
        if (wait_input(area, fd, count, &seen) == -1)
            return -1;
        int slot = (int)(count % PSHM_SLOTS);
        ssize_t n = ipclab_read(STDIN_FILENO, area->data[slot], sizeof area->data[slot]);
        if (n == -1) {
            if (errno != EINTR)
                warn("read stdin");
            return -1;
        }
        area->len[slot] = n;
        if (sem_post(&area->full) == -1) { /* the buffer is the reader's now */
            warn("sem_post");
            return -1;
        }
        count++;
        if (n == 0)
            break;
        total += n;
    }
    /* Wait until the reader has handed back every buffer, the end included, so that it never
     * waits in an object nobody will write: only then is it safe to leave. */
    for (int i = 0; i < PSHM_SLOTS; i++)
        if (wait_turn(area, fd, count, &seen) == -1)
            return -1;
    count--; /* the end is no buffer of data */
    warnx("end of input: %lld bytes in %ld buffer(s); the reader took the end", total, count);
    return 0;
}

/*
 * Leave: under the door, unmap, and remove the name if it is still ours (the object goes when
 * the last one unmaps it).  The last one out (the reader's lock is gone) first destroys the
 * semaphores: nobody can be waiting on them.
 */
static void leave(struct pshm_area *area, int fd, const char *name)
{
    bool door = ipclab_door_to_leave(fd, PSHM_DOOR) == 0;
    if (door && ipclab_lock_holder(fd, PSHM_READER) == 0) {
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
        ipclab_ready("%s mapped; %d buffers of up to %zu bytes", name, PSHM_SLOTS,
                     sizeof area->data[0]);
        status = send_stdin(area, fd) == 0 ? IPCLAB_EXIT_OK : IPCLAB_EXIT_FAIL;
        leave(area, fd, name);
    }
    ipclab_die_of_signal();
    return status;
}
