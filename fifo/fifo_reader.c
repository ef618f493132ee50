/*
 * fifo_reader - print what fifo_writer sends through a named pipe (FIFO).
 *
 * open() of a FIFO for reading waits until a writer opens it too; then read() returns what
 * the writer wrote, and 0 (end of file) once every writer has closed its end -- because it
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
#define _GNU_SOURCE /* for ppoll(2) in ipclab_poll(), and setitimer(2) for the ticks */

#include "../common/ipclab.h"
#include "../common/peers.h"

static const char usage[] =
    "usage: fifo_reader [-p PATH]\n"
    "  Print on stdout what fifo_writer sends through a FIFO.  Creates the FIFO if it is\n"
    "  missing and waits for a writer; removes the FIFO when it leaves.\n"
    "  -p PATH   the FIFO (default: fifo in the run directory, see the top README.md)\n"
    "  -h        show this help\n";

/*
 * The seed's creat_open_fifo(), reader's side: make the FIFO unless the writer has, then open
 * it for reading, which waits for the writer.  Returns the descriptor, or -1: errno EINTR if
 * a signal ended the wait, otherwise after a message.
 */
static int creat_open_fifo(const char *path)
{
    struct stat st;

    /* A new FIFO gets mode 0600.  EEXIST: the name is taken, by the writer's FIFO or by
     * something that is no FIFO of ours -- lstat() (which does not follow a symlink) says. */
    if (mkfifo(path, 0600) == -1 && errno != EEXIST) {
        warn("mkfifo %s", path);
        return -1;
    }
    /* Fix: the original opened whatever it found, a regular file or another user's FIFO. */
    if (lstat(path, &st) == -1) {
        warn("%s", path);
        return -1;
    }
    if (!S_ISFIFO(st.st_mode)) {
        warnx("%s exists and is not a FIFO; refusing to use it (remove it, or name another "
              "path with -p)", path);
        return -1;
    }
    if (!ipclab_trusted(path, st.st_uid, st.st_mode))
        return -1;

    /*
     * open() for reading waits until a writer opens the FIFO.  A termination signal ends that
     * wait with EINTR -- unless it lands just before open() blocks: then it is recorded, and
     * open() waits on regardless.  The ticks (SIGALRM every 0.2 s) end each wait with EINTR
     * too, so the loop sees such a signal at the next tick, and otherwise opens again.
     */
    ipclab_ready("waiting for a writer on %s", path);
    ipclab_start_ticks();
    int fd;
    while ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 && errno == EINTR &&
           !ipclab_signal)
        ; /* a tick: open again */
    /* No more ticks: the reader's ppoll() below must wake only for data or Ctrl-C. */
    ipclab_stop_ticks();
    if (fd == -1) {
        if (errno != EINTR)
            warn("open %s", path);
        return -1;
    }
    /* What open() reached may not be what lstat() saw (the name can change in between). */
    if (fstat(fd, &st) == -1 || !S_ISFIFO(st.st_mode)) {
        warnx("%s is no longer a FIFO", path);
        close(fd);
        return -1;
    }
    if (!ipclab_trusted(path, st.st_uid, st.st_mode)) {
        close(fd);
        return -1;
    }
    warnx("a writer has opened %s", path);
    return fd;
}

/* unlink() the FIFO only if it is still one of ours closed to others: a file put at the path
 * meanwhile, or another user's FIFO, is not ours to remove. */
static void remove_fifo(const char *path)
{
    struct stat st;

    if (lstat(path, &st) == 0 && S_ISFIFO(st.st_mode) && st.st_uid == geteuid() &&
        (st.st_mode & 077) == 0 && unlink(path) == -1 && errno != ENOENT)
        warn("cannot remove %s", path);
}

/* Copy the FIFO to stdout until the writer closes it.  Returns the exit status. */
static int print_fifo(int fd, const char *fifoname)
{
    struct pollfd fds[1] = { { .fd = fd, .events = POLLIN } };
    static char buf[IPCLAB_STREAM_CHUNK];
    long long total = 0;

    for (;;) {
        /* Wait in ppoll() (ipclab_poll), not in read(): it unblocks the termination signals
         * only while it waits, so a Ctrl-C that lands just before we block is not lost. */
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

    ipclab_stderr_by_line();
    ipclab_std_fds();
    if (ipclab_options_p(argc, argv, usage, ipclab_path_arg, fifoname, sizeof fifoname) < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    /* Fix: the original used "./fifo1": a FIFO in whatever directory you started it from. */
    if (fifoname[0] == '\0')
        ipclab_run_path(fifoname, sizeof fifoname, "fifo");

    /* The handler only records the signal; the FIFO is removed below, outside it. */
    ipclab_catch_signals();

    int status = IPCLAB_EXIT_FAIL;
    int fd = creat_open_fifo(fifoname);
    if (fd != -1) {
        status = print_fifo(fd, fifoname);
        close(fd);
    }
    /* Either side removes the FIFO when it leaves; the other then finds nothing to remove. */
    remove_fifo(fifoname);
    ipclab_die_of_signal();
    return status;
}
