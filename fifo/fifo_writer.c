/*
 * fifo_writer - send stdin through a named pipe (FIFO) to fifo_reader.
 *
 * A FIFO is a pipe with a name in the file system.  Any process that may open the name can
 * use it, related or not.  open() for writing waits until some process opens the FIFO for
 * reading (and the reverse), so whichever side starts first waits for the other.  Data never
 * touches the disk: the name is only the meeting point; the bytes go through the kernel.
 * The steps: 1 mkfifo  2 open (waits for a reader)  3 write  4 close  5 unlink
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./fifo/fifo_reader          (or: cat /run/user/1000/ipclab/fifo)
 *     terminal 2:  ./fifo/fifo_writer          then type lines; Ctrl-D ends, Ctrl-C too
 * What you should see in terminal 2 (the path depends on your run directory):
 *     fifo_writer: ready (pid 4242): waiting for a reader on /run/user/1000/ipclab/fifo
 *     fifo_writer: a reader has opened /run/user/1000/ipclab/fifo
 * and every line you type appears in terminal 1.  Files work too:
 *     ./fifo/fifo_writer < photo.jpg     and     ./fifo/fifo_reader > copy.jpg
 *
 * Mirrors seed 004, 有名管道 (one direction of demo1/demo2).  Build alone:
 *     cc -o fifo_writer fifo_writer.c
 */
#define _GNU_SOURCE /* program_invocation_short_name, in ipclab_cleanup_at_exit() */

#include "fifo.h"

static const char usage[] =
    "usage: fifo_writer [-p PATH]\n"
    "  Send stdin through a FIFO to fifo_reader.  Creates the FIFO if it is missing and waits\n"
    "  for a reader; removes the FIFO when it leaves.\n"
    "  -p PATH   the FIFO (default: fifo in the run directory, see the top README.md)\n"
    "  -h        show this help\n";

static char fifoname[PATH_MAX];

/* 5. Remove the name (the reader may have already).  lstat, geteuid and unlink only: they are
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
    ipclab_catch_signals();                 /* SIGPIPE ignored: write() fails with EPIPE */
    ipclab_cleanup_at_exit(remove_fifo);    /* exit, err(), Ctrl-C: remove the FIFO */

    /* 1. Give the pipe a name, mode 0600: ours alone.  EEXIST: the reader made it first. */
    if (mkfifo(fifoname, 0600) == -1 && errno != EEXIST)
        err(1, "mkfifo %s", fifoname);
    /* Fix: the original opened whatever it found. */
    guard_fifo_is_ours(fifoname);           /* not a file, a link, another user's FIFO */

    /* 2. open() waits here until a reader opens the other end. */
    warnx("ready (pid %ld): waiting for a reader on %s", (long)getpid(), fifoname);
    int fd = open(fifoname, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd == -1)
        err(1, "open %s", fifoname);
    guard_opened_fifo_is_ours(fd, fifoname); /* still what lstat() saw */
    warnx("a reader has opened %s", fifoname);

    /* 3. Copy stdin in.  poll() watches the FIFO too: POLLERR once the reader has closed it,
     * even while we wait for a line from the terminal. */
    static char buf[IPCLAB_STREAM_CHUNK];
    long long total = 0; /* the bytes write() took */
    struct pollfd fds[2] = { { .fd = STDIN_FILENO, .events = POLLIN }, { .fd = fd } };
    for (;;) {
        if (poll(fds, 2, -1) == -1)
            err(1, "poll");
        if (fds[1].revents != 0)
            errx(1, "the reader closed %s after %lld bytes", fifoname, total);
        /* Fix: scanf("%s") overflowed its 100 bytes, split lines, and looped at end of input. */
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n == -1)
            err(1, "read stdin");
        if (n == 0) {
            warnx("end of input: sent %lld bytes", total);
            break;
        }
        /* Fix: the original wrote sizeof(buf), whatever was typed, and ignored the result. */
        for (ssize_t off = 0, w; off < n; off += w, total += w) {
            w = write(fd, buf + off, (size_t)(n - off)); /* may take part: write the rest */
            /* Fix: the original died of SIGPIPE without a word. */
            if (w == -1 && errno == EPIPE)
                errx(1, "the reader closed %s after %lld bytes", fifoname, total);
            if (w == -1)
                err(1, "write %s", fifoname);
        }
    }

    /* 4. close(): the reader's next read() returns 0, end of file. */
    if (close(fd) == -1)
        err(1, "close %s", fifoname);
    return 0; /* 5. exit() calls remove_fifo() */
}
