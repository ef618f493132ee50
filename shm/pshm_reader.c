/*
 * pshm_reader - print what pshm_writer sends through POSIX shared memory and two semaphores.
 *
 * The reader waits for the "full" semaphore, prints exactly the len bytes the writer left in
 * the buffer, and posts "empty" to hand the buffer back.  An empty buffer ends it.
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./shm/pshm_reader
 *     terminal 2:  ./shm/pshm_writer
 * What you should see in terminal 1, once terminal 2 has sent a line and pressed Ctrl-D:
 *     pshm_reader: ready (pid 4243): /ipclab-1000-pshm mapped; waiting for a writer
 *     hello semaphores
 *     pshm_reader: end of data: 17 bytes in 1 buffer(s)
 *
 * Who removes what: each side removes the name (shm_unlink) when it leaves; the last one out
 * destroys the semaphores.
 *
 * Beyond the seeds: shm_reader done the way it should be.  Build alone (glibc before 2.34 keeps
 * shm_open and the semaphores in librt and libpthread):
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

/* Print each buffer and hand it back, until the empty one.  Returns 0 at the end, or -1. */
static int print_buffers(struct pshm_area *area, int fd)
{
    long long total = 0, count = 0;
    bool seen = false;

    for (;;) {
        if (pshm_wait(&area->full, &area->empty, fd, PSHM_WRITER, &seen, "writer") == -1)
            return -1;
        seen = true; /* full was posted by a writer */
        long len = area->len;
        if (len < 0 || (size_t)len > sizeof area->data) {
            warnx("the buffer claims %ld bytes: not our writer?", len);
            return -1;
        }
        if (ipclab_write_all(STDOUT_FILENO, area->data, (size_t)len) == -1) {
            if (errno != EINTR)
                warn("write stdout");
            return -1;
        }
        sem_post(&area->empty);
        if (len == 0) {
            warnx("end of data: %lld bytes in %lld buffer(s)", total, count);
            return 0;
        }
        total += len;
        count++;
    }
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
    struct pshm_area *area = pshm_join(name, PSHM_READER, "pshm_reader", &fd);
    if (area == NULL) {
        ipclab_die_of_signal();
        return IPCLAB_EXIT_FAIL;
    }
    ipclab_ready("%s mapped; waiting for a writer", name);
    int status = print_buffers(area, fd);
    pshm_close(area, fd, name, PSHM_WRITER);
    ipclab_die_of_signal();
    return status == 0 ? IPCLAB_EXIT_OK : IPCLAB_EXIT_FAIL;
}
