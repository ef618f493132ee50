/*
 * fifo_reader - print what fifo_writer sends through a named pipe (FIFO).
 *
 * open() of a FIFO for reading waits until a writer opens it too; then read() returns what
 * the writer wrote, and 0 (end of file) once the writer has closed its end -- because it
 * finished, or because it died: the kernel closes a dead process's descriptors.
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./fifo/fifo_reader
 *     terminal 2:  ./fifo/fifo_writer          then type lines; Ctrl-D ends
 * What you should see in terminal 1 (the path depends on your run directory):
 *     fifo_reader: ready (pid 4243): waiting for a writer on /run/user/1000/ipclab/fifo
 *     fifo_reader: a writer has opened /run/user/1000/ipclab/fifo
 *     hello                                    <- each line typed in terminal 2
 *     fifo_reader: the writer closed /run/user/1000/ipclab/fifo: 6 bytes received
 *
 * Mirrors seed 004, 有名管道 (one direction of demo1/demo2).  Build alone:
 *     cc -o fifo_reader fifo_reader.c
 */
#define _GNU_SOURCE /* ppoll(2), used by ipclab_poll: POSIX.1-2024, glibc wants _GNU_SOURCE */

#include "../common/ipclab.h"

static const char usage[] =
    "usage: fifo_reader [-p PATH]\n"
    "  Print on stdout what fifo_writer sends through a FIFO.  Creates the FIFO if it is\n"
    "  missing and waits for a writer; removes the FIFO when it leaves.\n"
    "  -p PATH   the FIFO (default: fifo in the run directory, see README.md)\n"
    "  -h        show this help\n";

/* Copy the FIFO to stdout until the writer closes it.  Returns the exit status. */
static int print_fifo(int fd, const char *fifoname)
{
    struct pollfd fds[1] = { { .fd = fd, .events = POLLIN } };
    char buf[IPCLAB_CHUNK];
    long long total = 0;

    for (;;) {
        if (ipclab_poll(fds, 1) == -1) {
            if (errno == EINTR)
                return IPCLAB_EXIT_FAIL; /* a signal: main cleans up and dies of it */
            err(IPCLAB_EXIT_FAIL, "poll");
        }
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            err(IPCLAB_EXIT_FAIL, "read %s", fifoname);
        }
        /*
         * Fix: the original ignored read()'s result.  Once the writer was gone read() returned
         * 0 at once, every time, and the loop printed empty lines as fast as it could.
         */
        if (n == 0) {
            warnx("the writer closed %s: %lld bytes received", fifoname, total);
            return IPCLAB_EXIT_OK;
        }
        /* Fix: the original printed the buffer with %s: NUL bytes cut it short. */
        if (ipclab_write_all(STDOUT_FILENO, buf, (size_t)n) == -1) {
            if (errno != EINTR)
                warn("write stdout");
            return IPCLAB_EXIT_FAIL;
        }
        total += n;
    }
}

int main(int argc, char *argv[])
{
    char fifoname[PATH_MAX] = "";
    int opt;

    ipclab_stderr_by_line();
    ipclab_std_fds();
    while ((opt = getopt(argc, argv, ":hp:")) != -1) {
        switch (opt) {
        case 'p':
            ipclab_path_arg(fifoname, sizeof fifoname, optarg, usage);
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
    /* Fix: the original used "./fifo1": a FIFO in whatever directory you started it from. */
    if (fifoname[0] == '\0')
        ipclab_run_path(fifoname, sizeof fifoname, "fifo");

    /* Fix: the original's handler called remove() and exit(), which are not async-signal-safe
     * (signal-safety(7)).  Ours only records the signal; the cleanup below runs outside it. */
    ipclab_catch_signals();

    /* Fix: the original's creat_open_fifo() opened whatever it found at the path. */
    int status = IPCLAB_EXIT_FAIL;
    int fd = ipclab_creat_open_fifo(fifoname, O_RDONLY);
    if (fd != -1) {
        status = print_fifo(fd, fifoname);
        close(fd);
    }
    /* Either side removes the FIFO when it leaves; the other then finds nothing to remove. */
    ipclab_remove_fifo(fifoname);
    ipclab_die_of_signal();
    return status;
}
