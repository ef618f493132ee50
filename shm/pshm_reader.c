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
 * Beyond the seeds.  Build alone (glibc before 2.34 keeps these calls in librt, libpthread):
 *     cc -o pshm_reader pshm_reader.c -lrt -pthread
 */
#define _POSIX_C_SOURCE 200809L

#include "../common/ipclab.h"
#include "pshm.h"

static const char usage[] =
    "usage: pshm_reader [-p /NAME]\n"
    "  Print what pshm_writer sends through a POSIX shared memory object, until the empty\n"
    "  buffer that marks the end.\n"
    "  -p /NAME  the object's name (default: /ipclab-<uid>-pshm)\n"
    "  -h        show this help\n";

static char name[NAME_MAX + 2];
static int shm_fd;
static struct pshm_area *area = MAP_FAILED;
static bool ours, seen; /* made or joined by us; the writer's lock seen */

/* atexit: unmap, and remove the name if it is ours and still the object's (pshm.h): the
 * object goes once the last side unmaps it, and a writer still there sees it go. */
static void leave(void)
{
    if (area != MAP_FAILED && munmap(area, sizeof *area) == -1)
        warn("munmap %s", name);
    if (ours && pshm_named(shm_fd) && shm_unlink(name) == -1)
        warn("shm_unlink %s", name);
    close(shm_fd);
    ipclab_die_of_signal();
}

/* Wait for "full": the next buffer holds data.  PSHM_WAIT_MS at a time; between two waits,
 * leave on a signal, or if the writer has gone (pshm.h) and posted nothing before it went. */
static void wait_turn(void)
{
    struct timespec deadline = ipclab_deadline(PSHM_WAIT_MS);
    while (sem_timedwait(&area->full, &deadline) == -1) {
        if (errno != ETIMEDOUT && errno != EINTR)
            err(IPCLAB_EXIT_FAIL, "sem_timedwait");
        if (ipclab_signal)
            exit(IPCLAB_EXIT_FAIL);
        bool gone = pshm_peer_gone(shm_fd, PSHM_WRITER, &seen);
        if (gone && sem_trywait(&area->full) == 0)
            return; /* a post it made before it went counts */
        if (gone)
            errx(IPCLAB_EXIT_FAIL, "the writer has gone (or was killed) before the end");
        deadline = ipclab_deadline(PSHM_WAIT_MS);
    }
    (void)pshm_peer_gone(shm_fd, PSHM_WRITER, &seen); /* its lock seen: it may go unseen */
    if (ipclab_signal)                            /* streaming, no wait fails: look here */
        exit(IPCLAB_EXIT_FAIL);
}

int main(int argc, char *argv[])
{
    pshm_options(argc, argv, usage, name);

    /* 1. The object by its name, made if missing: mode 0600, size 0. */
    int made;
    do {
        shm_fd = shm_open(name, O_RDWR | O_CREAT, 0600);
        if (shm_fd == -1)
            err(IPCLAB_EXIT_FAIL, "shm_open %s", name);
    } while ((made = pshm_enter(shm_fd, name)) == PSHM_AGAIN); /* ours? lock byte 0: pshm.h */
    ours = made == PSHM_NEW;
    atexit(leave);
    /* 2. The first side in sizes it; every page gets memory now (full /dev/shm: no SIGBUS). */
    if (made == PSHM_NEW && ftruncate(shm_fd, sizeof *area) == -1)
        err(IPCLAB_EXIT_FAIL, "ftruncate %s", name);
    if ((errno = posix_fallocate(shm_fd, 0, sizeof *area)) != 0)
        err(IPCLAB_EXIT_FAIL, "cannot allocate the %zu bytes of %s in /dev/shm", sizeof *area,
            name);
    /* 3. Map it: both sides see the same pages. */
    area = mmap(NULL, sizeof *area, PROT_READ | PROT_WRITE, MAP_SHARED, shm_fd, 0);
    /* Fix: mmap() fails with MAP_FAILED, (void *)-1, not NULL */
    if (area == MAP_FAILED)
        err(IPCLAB_EXIT_FAIL, "mmap %s", name);
    /* 4. pshared 1: between processes.  empty: every buffer is the writer's to fill; full: none. */
    if (made == PSHM_NEW &&
        (sem_init(&area->empty, 1, PSHM_SLOTS) == -1 || sem_init(&area->full, 1, 0) == -1))
        err(IPCLAB_EXIT_FAIL, "sem_init");
    pshm_join(shm_fd, PSHM_READER, name); /* lock on byte 2: one reader; byte 0 let go */
    ours = true;
    ipclab_ready("%s mapped; waiting for a writer", name);

    /* 5. Print buffer n % PSHM_SLOTS, exactly its len bytes, and hand it back; 0 is the end. */
    long long total = 0;
    long n;
    for (n = 0;; n++) {
        wait_turn();
        long len = area->len[n % PSHM_SLOTS];
        if (len < 0 || (size_t)len > sizeof area->data[0])
            errx(IPCLAB_EXIT_FAIL, "the buffer claims %ld bytes: not our writer?", len);
        if (ipclab_write_all(STDOUT_FILENO, area->data[n % PSHM_SLOTS], (size_t)len) == -1 &&
            errno != EINTR) /* EINTR: a signal, seen at the next wait */
            err(IPCLAB_EXIT_FAIL, "write stdout");
        if (sem_post(&area->empty) == -1)
            err(IPCLAB_EXIT_FAIL, "sem_post");
        if (len == 0)
            break;
        total += len;
    }
    warnx("end of data: %lld bytes in %ld buffer(s)", total, n);
    return IPCLAB_EXIT_OK; /* 6. atexit: munmap, shm_unlink */
}
