/*
 * fifo_reader - print what fifo_writer sends through a named pipe (FIFO).
 *
 * open() of a FIFO for reading waits until a writer opens it too; then read() returns what
 * the writer wrote, and 0 (end of file) once every writer has closed its end -- because it
 * finished, or because it died: the kernel closes a dead process's descriptors.
 * The steps: 1 mkfifo  2 open (waits for a writer)  3 read until 0  4 close  5 unlink
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./fifo/fifo_reader
 *     terminal 2:  ./fifo/fifo_writer          then type lines; Ctrl-D ends
 *                  (or: cat > /run/user/1000/ipclab/fifo, once the reader has made it)
 * What you should see in terminal 1 (the path depends on your run directory):
 *     fifo_reader: ready (pid 4243): waiting for a writer on /run/user/1000/ipclab/fifo
 *     fifo_reader: a writer has opened /run/user/1000/ipclab/fifo
 *     hello                                    <- each line typed in terminal 2
 *     fifo_reader: the writer closed /run/user/1000/ipclab/fifo: 6 bytes received
 *
 * Mirrors seed 004, 有名管道 (one direction of demo1/demo2).  Build alone:
 *     cc -o fifo_reader fifo_reader.c
 */
#define _GNU_SOURCE /* program_invocation_short_name, in ipclab_cleanup_at_exit() */

#include "fifo.h"

static const char usage[] =
    "usage: fifo_reader [-p PATH]\n"
    "  Print on stdout what fifo_writer sends through a FIFO.  Creates the FIFO if it is\n"
    "  missing and waits for a writer; removes the FIFO when it leaves.\n"
    "  -p PATH   the FIFO (default: fifo in the run directory, see the top README.md)\n"
    "  -h        show this help\n";

static char fifoname[PATH_MAX];

/* 5. Remove the name (the writer may have already).  lstat, geteuid and unlink only: they are
 * async-signal-safe (signal-safety(7)), so the signal handler calls this too. */
static void remove_fifo(void)
{
    if (guard_fifo_still_ours(fifoname)) /* never a file of yours, nor another's FIFO */
        unlink(fifoname);
}

int main(int argc, char *argv[])
{
    if (fifo_options(argc, argv, usage, fifoname, sizeof fifoname) < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    /* Fix: the original used "./fifo1": a FIFO in whatever directory you started it from. */
    if (fifoname[0] == '\0')
        ipclab_run_path(fifoname, sizeof fifoname, "fifo");
    /* Fix: the original's handler called remove() and exit(), not async-signal-safe. */
    ipclab_catch_signals();                 /* and SIGPIPE ignored: a write() fails instead */
    ipclab_cleanup_at_exit(remove_fifo);    /* exit, err(), Ctrl-C: remove the FIFO */

    /* 1. Make the FIFO, mode 0600, unless the writer has (EEXIST). */
    if (mkfifo(fifoname, 0600) == -1 && errno != EEXIST)
        err(1, "mkfifo %s", fifoname);
    /* Fix: the original opened whatever it found, a regular file or another user's FIFO. */
    guard_fifo_is_ours(fifoname);           /* not a file, a link, another user's FIFO */

    /* 2. open() for reading waits here until a writer opens the FIFO. */
    warnx("ready (pid %ld): waiting for a writer on %s", (long)getpid(), fifoname);
    int fd = open(fifoname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd == -1)
        err(1, "open %s", fifoname);
    guard_opened_fifo_is_ours(fd, fifoname); /* still what lstat() saw */
    warnx("a writer has opened %s", fifoname);

    /* 3. Copy the FIFO to stdout.  read() waits for data, and returns 0 once every writer
     * has closed its end: the writer finished, or died. */
    static char buf[IPCLAB_STREAM_CHUNK];
    long long total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == -1)
            err(1, "read %s", fifoname);
        /* Fix: the original ignored 0 and printed empty lines forever, as fast as it could. */
        if (n == 0) {
            warnx("the writer closed %s: %lld bytes received", fifoname, total);
            break;
        }
        /* Fix: the original printed the buffer with %s: NUL bytes cut it short. */
        for (ssize_t off = 0, w; off < n; off += w, total += w) {
            w = write(STDOUT_FILENO, buf + off, (size_t)(n - off)); /* may take part */
            if (w == -1)
                err(1, "write stdout");
        }
    }

    /* 4. close() our end; 5. exit() calls remove_fifo(). */
    if (close(fd) == -1)
        err(1, "close %s", fifoname);
    return 0;
}
