/*
 * fifo_writer - send stdin through a named pipe (FIFO) to fifo_reader.
 *
 * A FIFO is a pipe with a name in the file system.  Any process that may open the name can
 * use it, related or not.  open() for writing waits until some process opens the FIFO for
 * reading (and the reverse), so whichever side starts first waits for the other.  Data never
 * touches the disk: the name is only the meeting point; the bytes go through the kernel.
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./fifo/fifo_reader
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
#define _GNU_SOURCE /* ppoll(2), in ipclab_poll(): POSIX.1-2024, glibc declares it only so */

#include "../common/ipclab.h"
#include "../common/peers.h"

static const char usage[] =
    "usage: fifo_writer [-p PATH]\n"
    "  Send stdin through a FIFO to fifo_reader.  Creates the FIFO if it is missing and waits\n"
    "  for a reader; removes the FIFO when it leaves.\n"
    "  -p PATH   the FIFO (default: fifo in the run directory, see the top README.md)\n"
    "  -h        show this help\n";

/*
 * The seed's creat_open_fifo(): make the FIFO, then open it for writing, which waits for a
 * reader.  Returns the descriptor, or -1: errno EINTR if a signal ended the wait, otherwise
 * after a message.
 */
static int creat_open_fifo(const char *path)
{
    struct stat st;

    /* mkfifo() gives the name to a new FIFO, mode 0600: ours alone.  EEXIST means the reader
     * made it first -- or that something else has the name, so look at what is there. */
    if (mkfifo(path, 0600) == -1 && errno != EEXIST) {
        warn("mkfifo %s", path);
        return -1;
    }
    /* Fix: the original opened whatever it found.  lstat() does not follow a symlink. */
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
     * open() of a FIFO for writing blocks until some process opens it for reading.  Ctrl-C
     * ends the wait: the handler has no SA_RESTART, so open() fails with EINTR.  But a signal
     * that lands after the last look at ipclab_signal and before open() blocks would be
     * recorded, then ignored while open() waits on.  So SIGALRM comes 5 times a second while
     * we wait: each tick ends open() with EINTR, and the loop looks at ipclab_signal again.
     */
    ipclab_ready("waiting for a reader on %s", path);
    ipclab_start_ticks(); /* O_NOFOLLOW below: a symlink put there after lstat() fails (ELOOP) */
    int fd;
    while ((fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 && errno == EINTR &&
           !ipclab_signal)
        ; /* a tick, and no signal: wait again */
    /* Stop the ticks: from here on the writer waits in ppoll(), which a tick would end. */
    ipclab_stop_ticks();
    if (fd == -1) {
        if (errno != EINTR)
            warn("open %s", path);
        return -1;
    }
    /* The name may have been replaced between lstat() and open(): check what was opened. */
    if (fstat(fd, &st) == -1 || !S_ISFIFO(st.st_mode)) {
        warnx("%s is no longer a FIFO", path);
        close(fd);
        return -1;
    }
    if (!ipclab_trusted(path, st.st_uid, st.st_mode)) {
        close(fd);
        return -1;
    }
    warnx("a reader has opened %s", path);
    return fd;
}

/* Remove the name, but only if it is a FIFO of ours closed to others, as creat_open_fifo()
 * accepts: never a file of the user's, nor a FIFO someone else put there. */
static void remove_fifo(const char *path)
{
    struct stat st;

    if (lstat(path, &st) == 0 && S_ISFIFO(st.st_mode) && st.st_uid == geteuid() &&
        (st.st_mode & 077) == 0 && unlink(path) == -1 && errno != ENOENT)
        warn("cannot remove %s", path);
}

/*
 * Copy stdin into the FIFO until end of input.  poll() watches stdin and the FIFO's write end:
 * when the reader closes its end, the write end reports POLLERR (poll(2)), so the writer notices
 * at once, even while it waits for input from a terminal.  Returns the exit status.
 */
static int send_stdin(int fd, const char *fifoname)
{
    struct pollfd fds[2] = { { .fd = STDIN_FILENO, .events = POLLIN },
                             { .fd = fd, .events = 0 } }; /* POLLERR is always reported */
    static char buf[IPCLAB_STREAM_CHUNK];
    long long total = 0;

    for (;;) {
        if (ipclab_poll(fds, 2) == -1) {
            if (errno == EINTR)
                return IPCLAB_EXIT_FAIL; /* a signal: main cleans up and dies of it */
            err(IPCLAB_EXIT_FAIL, "poll");
        }
        if (fds[1].revents != 0) {
            warnx("the reader closed %s after %lld bytes", fifoname, total);
            return IPCLAB_EXIT_FAIL;
        }
        /*
         * Fix: the original read with scanf("%s", buf) into a 100-byte buffer: a longer word
         * overflowed it, spaces split the input, and at end of input scanf failed and the loop
         * went on forever.  read() takes any bytes, NULs included, and 0 means the end.
         */
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            err(IPCLAB_EXIT_FAIL, "read stdin");
        }
        if (n == 0) {
            warnx("end of input: sent %lld bytes", total);
            return IPCLAB_EXIT_OK;
        }
        /*
         * Fix: the original wrote sizeof(buf) -- always 100 bytes, whatever was typed -- and
         * ignored the result.  Fix: with SIGPIPE ignored, a write to a FIFO that nobody reads
         * any more fails with EPIPE and is reported; the original was killed without a word.
         */
        size_t taken; /* what write() took before it failed counts too */
        int rc = ipclab_write_counted(fd, buf, (size_t)n, &taken);
        total += (long long)taken;
        if (rc == -1) {
            if (errno == EPIPE)
                warnx("the reader closed %s after %lld bytes", fifoname, total);
            else if (errno != EINTR)
                warn("write %s", fifoname);
            return IPCLAB_EXIT_FAIL;
        }
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

    /* Fix: the original's handler called remove() and exit(), which are not async-signal-safe
     * (signal-safety(7)).  Ours only records the signal; the cleanup below runs outside it. */
    ipclab_catch_signals();

    int status = IPCLAB_EXIT_FAIL;
    int fd = creat_open_fifo(fifoname);
    if (fd != -1) {
        status = send_stdin(fd, fifoname);
        close(fd); /* end of file for the reader */
    }
    /* Either side removes the FIFO when it leaves; the other then finds nothing to remove. */
    remove_fifo(fifoname);
    ipclab_die_of_signal();
    return status;
}
