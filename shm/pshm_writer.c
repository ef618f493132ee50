/*
 * pshm_writer - send stdin to pshm_reader through POSIX shared memory and two semaphores.
 *
 * shm_writer without signals.  The steps: 1 shm_open names the object like a file  2 the
 * first side in gives it its size (ftruncate)  3 mmap maps it  4 the first side initialises
 * the two semaphores inside it (sem_init)  5 wait for "empty" (sem_timedwait), fill the next
 * buffer of the ring, post "full" (sem_post); an empty buffer ends it  6 munmap, shm_unlink.
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./shm/pshm_reader
 *     terminal 2:  ./shm/pshm_writer
 * What you should see in terminal 2, then type lines, then Ctrl-D:
 *     pshm_writer: ready (pid 4242): /ipclab-1000-pshm mapped; 4 buffers of up to 262144 bytes
 *     hello semaphores
 *     pshm_writer: end of input: 17 bytes in 1 buffer(s); the reader took the end
 *
 * Beyond the seeds.  Build alone (glibc before 2.34 keeps these calls in librt, libpthread):
 *     cc -o pshm_writer pshm_writer.c -lrt -pthread
 */
#define _POSIX_C_SOURCE 200809L

#include "../common/ipclab.h"
#include "pshm.h"

static const char usage[] =
    "usage: pshm_writer [-p /NAME]\n"
    "  Send stdin to pshm_reader through a POSIX shared memory object, a ring of buffers that\n"
    "  two semaphores in the object count; an empty buffer marks the end.\n"
    "  -p /NAME  the object's name (default: /ipclab-<uid>-pshm)\n"
    "  -h        show this help\n";

static char name[NAME_MAX + 2];
static int shm_fd;
static struct pshm_area *area = MAP_FAILED;
static bool ours, seen; /* made or joined by us; the reader's lock seen */

/* atexit: unmap; remove the name if ours and still the object's: a reader still there sees. */
static void leave(void)
{
    if (area != MAP_FAILED && munmap(area, sizeof *area) == -1)
        warn("munmap %s", name);
    if (ours && pshm_named(shm_fd) && shm_unlink(name) == -1)
        warn("shm_unlink %s", name);
    close(shm_fd);
    ipclab_die_of_signal();
}

/* Between waits: leave on a signal, or if the reader has gone -- unless it posted sem first. */
static bool look_at_reader(sem_t *sem)
{
    if (ipclab_signal)
        exit(IPCLAB_EXIT_FAIL);
    if (!pshm_peer_gone(shm_fd, PSHM_READER, &seen))
        return false;
    if (sem != NULL && sem_trywait(sem) == 0)
        return true;
    errx(IPCLAB_EXIT_FAIL, "the reader has gone (or was killed) before the end");
}

/* Wait for "empty": the next buffer is ours.  PSHM_WAIT_MS at a time, looking at the reader. */
static void wait_turn(void)
{
    struct timespec deadline = ipclab_deadline(PSHM_WAIT_MS);
    while (sem_timedwait(&area->empty, &deadline) == -1) {
        if (errno != ETIMEDOUT && errno != EINTR)
            err(IPCLAB_EXIT_FAIL, "sem_timedwait");
        if (look_at_reader(&area->empty))
            return;
        deadline = ipclab_deadline(PSHM_WAIT_MS);
    }
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
    /* 4. pshared 1: between processes.  empty: every buffer is ours to fill; full: none. */
    if (made == PSHM_NEW &&
        (sem_init(&area->empty, 1, PSHM_SLOTS) == -1 || sem_init(&area->full, 1, 0) == -1))
        err(IPCLAB_EXIT_FAIL, "sem_init");
    pshm_join(shm_fd, PSHM_WRITER, name); /* lock on byte 1: one writer; byte 0 let go */
    ours = true;
    ipclab_ready("%s mapped; %d buffers of up to %zu bytes", name, PSHM_SLOTS,
                 sizeof area->data[0]);

    /* 5. Fill buffer n % PSHM_SLOTS with one read of stdin, and hand it to the reader. */
    struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
    long long total = 0;
    long n;
    for (n = 0;; n++) {
        wait_turn();
        look_at_reader(NULL);                   /* a signal? its lock seen, or it gone? */
        while (poll(&in, 1, PSHM_WAIT_MS) != 1) /* a silent terminal: look meanwhile */
            look_at_reader(NULL);
        ssize_t len = read(STDIN_FILENO, area->data[n % PSHM_SLOTS], sizeof area->data[0]);
        if (len == -1)
            err(IPCLAB_EXIT_FAIL, "read stdin");
        area->len[n % PSHM_SLOTS] = len;
        if (sem_post(&area->full) == -1)
            err(IPCLAB_EXIT_FAIL, "sem_post");
        if (len == 0)
            break;
        total += len;
    }
    /* 6. Leave once the reader has handed back every buffer, the end included. */
    for (int i = 0; i < PSHM_SLOTS; i++)
        wait_turn();
    warnx("end of input: %lld bytes in %ld buffer(s); the reader took the end", total, n);
    return IPCLAB_EXIT_OK; /* atexit: munmap, shm_unlink */
}
