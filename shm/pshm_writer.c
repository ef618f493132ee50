/*
 * pshm_writer - send stdin to pshm_reader through POSIX shared memory and two semaphores.
 *
 * What a production program would do instead of shm_writer's signals: shm_open(3) names a
 * shared memory object like a file, mmap(2) maps it, and two process-shared semaphores that
 * live inside it take turns over the one buffer.  The writer waits for "empty", fills the
 * buffer, posts "full"; the reader waits for "full", prints, posts "empty".  A semaphore counts,
 * so a post made before the other side waits is never lost, and neither side needs the other's
 * PID.  An empty buffer ends it.
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./shm/pshm_reader
 *     terminal 2:  ./shm/pshm_writer
 * What you should see in terminal 2, then type lines, then Ctrl-D:
 *     pshm_writer: ready (pid 4242): /ipclab-1000-pshm mapped; buffers of up to 65536 bytes
 *     hello semaphores
 *     pshm_writer: end of input: 17 bytes in 1 buffer(s); the reader took the end
 * While both run, `ls -l /dev/shm` shows the object (Linux keeps them there).
 *
 * Who removes what: each side removes the name (shm_unlink) when it leaves; the object itself
 * goes when the last one unmaps it.  The last one out destroys the semaphores.
 *
 * Beyond the seeds: shm_writer done the way it should be.  Build alone (glibc before 2.34 keeps
 * shm_open and the semaphores in librt and libpthread):
 *     cc -o pshm_writer pshm_writer.c -lrt -pthread
 */
#define _POSIX_C_SOURCE 200809L

#include <poll.h>

#include "../common/ipclab.h"
#include "pshm.h"

static const char usage[] =
    "usage: pshm_writer [-p /NAME]\n"
    "  Send stdin to pshm_reader through a POSIX shared memory object, one buffer at a time,\n"
    "  with two semaphores in the object taking turns; an empty buffer marks the end.\n"
    "  -p /NAME  the object's name (default: /ipclab-<uid>-pshm)\n"
    "  -h        show this help\n";

/* Wait until stdin has something to read; every PSHM_WAIT_MS look whether the reader went. */
static int wait_input(int fd, bool seen)
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
        if (seen && ipclab_lock_holder(fd, PSHM_READER) == 0) {
            warnx("the reader has gone (or was killed) before the end");
            return -1;
        }
    }
}

/* Send stdin, then the empty buffer, and wait until the reader has taken it.  Returns 0, or -1. */
static int send_stdin(struct pshm_area *area, int fd)
{
    long long total = 0, count = 0;
    bool seen = false;

    for (;;) {
        if (pshm_wait(&area->empty, &area->full, fd, PSHM_READER, &seen, "reader") == -1)
            return -1;
        seen = seen || count > 0; /* empty was posted by a reader: one has been here */
        if (wait_input(fd, seen) == -1)
            return -1;
        ssize_t n = ipclab_read(STDIN_FILENO, area->data, sizeof area->data);
        if (n == -1) {
            if (errno != EINTR)
                warn("read stdin");
            return -1;
        }
        area->len = n;
        sem_post(&area->full);
        if (n == 0)
            break;
        total += n;
        count++;
    }
    /* Wait until the reader has taken the end, so that it never waits in an object nobody will
     * read: only then is it safe to leave. */
    if (pshm_wait(&area->empty, &area->full, fd, PSHM_READER, &seen, "reader") == -1)
        return -1;
    warnx("end of input: %lld bytes in %lld buffer(s); the reader took the end", total, count);
    return 0;
}

int main(int argc, char *argv[])
{
    char name[NAME_MAX + 2] = "";
    int opt;

    ipclab_stderr_by_line();
    ipclab_std_fds();
    while ((opt = getopt(argc, argv, ":hp:")) != -1) {
        switch (opt) {
        case 'p':
            ipclab_posix_name_arg(name, sizeof name, optarg, usage);
            break;
        case 'h':
            fputs(usage, stdout);
            return IPCLAB_EXIT_OK;
        default:
            ipclab_bad_option(usage, opt);
        }
    }
    if (optind < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (name[0] == '\0')
        ipclab_posix_name(name, sizeof name, "pshm");

    ipclab_catch_signals();
    int fd;
    struct pshm_area *area = pshm_join(name, PSHM_WRITER, "pshm_writer", &fd);
    if (area == NULL) {
        ipclab_die_of_signal();
        return IPCLAB_EXIT_FAIL;
    }
    ipclab_ready("%s mapped; buffers of up to %zu bytes", name, sizeof area->data);
    int status = send_stdin(area, fd);
    pshm_close(area, fd, name, PSHM_READER);
    ipclab_die_of_signal();
    return status == 0 ? IPCLAB_EXIT_OK : IPCLAB_EXIT_FAIL;
}
