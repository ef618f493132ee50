/*
 * fifo_chat - two people chat through two FIFOs: `fifo_chat a` and `fifo_chat b`.
 *
 * A FIFO, like any pipe, goes one way, so a chat needs two: PREFIX.a2b carries what a types
 * to b, PREFIX.b2a the other way.  Both sides open them in the same order (a2b first), so the
 * two blocking open() calls pair up instead of each side waiting for the other forever.  Then
 * one process per side watches the keyboard and the incoming FIFO with poll().
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./fifo/fifo_chat a
 *     terminal 2:  ./fifo/fifo_chat b
 * What you should see in terminal 1 (the path depends on your run directory):
 *     fifo_chat: ready (pid 4242): you are a; waiting for b on /run/user/1000/ipclab/chat.a2b
 *     fifo_chat: b is here; type lines to send them, Ctrl-D to leave
 * Each line typed on one side appears on the other, marked "b: " (or "a: ") in a terminal.
 * When one side leaves (Ctrl-D, Ctrl-C, or killed), the other says so and ends as well.
 *
 * Mirrors seed 004, 有名管道 demo1 (here: a) and demo2 (here: b).  Build alone:
 *     cc -o fifo_chat fifo_chat.c
 */
#define _GNU_SOURCE /* ppoll(2) and setitimer(2), as in fifo_writer.c */

#include "../common/ipclab.h"
#include "../common/peers.h"

#include <sys/file.h> /* flock(2) */

static const char usage[] =
    "usage: fifo_chat [-p PREFIX] a|b\n"
    "  Chat with the other side through two FIFOs, PREFIX.a2b and PREFIX.b2a: lines typed here\n"
    "  go to the other side, lines it sends are printed here.  Either side may start first.\n"
    "  -p PREFIX  the FIFOs' common prefix (default: chat in the run directory, see the top\n"
    "             README.md)\n"
    "  -h         show this help\n";

/* mkfifo() path, or accept the FIFO already there (EEXIST: the other side made it first) if
 * it is ours and closed to others: anything else at the name is refused.  Returns 0, or -1. */
static int create_fifo(const char *path)
{
    struct stat st;

    if (mkfifo(path, 0600) == -1 && errno != EEXIST)
        warn("mkfifo %s", path);
    else if (lstat(path, &st) == -1)
        warn("%s", path);
    else if (!S_ISFIFO(st.st_mode))
        warnx("%s exists and is not a FIFO; refusing to use it (remove it, or name another "
              "path with -p)", path);
    else
        return ipclab_trusted(path, st.st_uid, st.st_mode) ? 0 : -1;
    return -1;
}

/* open() the FIFO: it waits until the other side opens the other end.  Ticks end that wait
 * with EINTR every 0.2 s, so a Ctrl-C that lands just before open() blocks is not missed
 * (fifo_reader.c says more).  Returns the descriptor, or -1: errno EINTR after a signal. */
static int open_fifo(const char *path, int open_mode)
{
    struct stat st;
    int fd;

    ipclab_start_ticks();
    while ((fd = open(path, open_mode | O_NOFOLLOW | O_CLOEXEC)) == -1 && errno == EINTR &&
           !ipclab_signal)
        ; /* a tick: open again */
    ipclab_stop_ticks(); /* the chat itself waits in ppoll() */
    if (fd == -1) {
        if (errno != EINTR)
            warn("open %s", path);
        return -1;
    }
    /* Still the FIFO lstat() saw?  The name may have been replaced in between. */
    bool fifo = fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
    if (!fifo)
        warnx("%s is no longer a FIFO", path);
    if (!fifo || !ipclab_trusted(path, st.st_uid, st.st_mode)) {
        close(fd);
        return -1;
    }
    return fd;
}

/*
 * One a and one b: a second `fifo_chat a` would open a's FIFOs too and take part of what b
 * sends.  So each side holds flock(2) on the FIFO it reads (path), opened without waiting: a
 * read open() with O_NONBLOCK returns at once, writer or not.  flock, not fcntl: fcntl's write
 * lock needs a descriptor open for writing, and that open would wait for a reader.  The kernel
 * drops the lock when the side ends, however it ends.  Returns the descriptor that holds it, or
 * -1 after a message; exits if another side me holds it (its FIFOs are not ours to remove).
 */
static int take_side(const char *path, char me, const char *prefix)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);

    if (fd == -1) {
        warn("open %s", path);
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
        return fd;
    if (errno == EWOULDBLOCK)
        errx(IPCLAB_EXIT_FAIL, "another fifo_chat %c is in the chat on %s.a2b and .b2a; "
             "refusing (one a, one b: leave that one first)", me, prefix);
    warn("flock %s", path);
    close(fd);
    return -1;
}

/* unlink() path if it is a FIFO of ours closed to others (never a file, nor another's FIFO). */
static void remove_fifo(const char *path)
{
    struct stat st;

    if (lstat(path, &st) == 0 && S_ISFIFO(st.st_mode) && st.st_uid == geteuid() &&
        (st.st_mode & 077) == 0 && unlink(path) == -1 && errno != ENOENT)
        warn("cannot remove %s", path);
}

/* Print what the peer sent: with label (a terminal) each of its lines begins with "b: ", apart
 * from your own lines, which the terminal echoes.  Into a file the bytes go unchanged. */
static int print_peer(char peer, bool label, const char *buf, size_t n)
{
    static bool line_start = true; /* the next byte printed begins a line */
    const char prefix[] = { peer, ':', ' ' };

    if (!label)
        return ipclab_write_all(STDOUT_FILENO, buf, n);
    while (n > 0) {
        if (line_start && ipclab_write_all(STDOUT_FILENO, prefix, sizeof prefix) == -1)
            return -1;
        const char *nl = memchr(buf, '\n', n);
        size_t len = nl != NULL ? (size_t)(nl - buf) + 1 : n;
        if (ipclab_write_all(STDOUT_FILENO, buf, len) == -1)
            return -1;
        line_start = nl != NULL;
        buf += len;
        n -= len;
    }
    return 0;
}

/* One process watches the keyboard and the incoming FIFO with poll(), and the outgoing FIFO for
 * POLLERR (the peer stopped reading).  At end of input it closes the outgoing FIFO, the peer's
 * end of file, and reads on until the peer closes its side too, so nothing it sent is lost.
 * Returns the exit status: 0 once the peer has left. */
static int chat(int in, int out, char peer)
{
    bool label = isatty(STDOUT_FILENO) == 1;
    struct pollfd fds[3] = { { .fd = STDIN_FILENO, .events = POLLIN },
                             { .fd = in, .events = POLLIN },
                             { .fd = out, .events = 0 } }; /* POLLERR is always reported */
    char buf[IPCLAB_CHUNK];
    ssize_t n;
    bool left = false; /* the peer has left: the chat is over */

    while (!left) {
        if (ipclab_poll(fds, 3) == -1) {
            if (errno != EINTR)
                err(IPCLAB_EXIT_FAIL, "poll");
            break; /* Ctrl-C or kill: main removes the FIFOs, then dies of it */
        }
        if (fds[1].revents != 0) { /* the peer sent something, or left */
            if ((n = ipclab_read(in, buf, sizeof buf)) == -1) {
                if (errno != EINTR)
                    warn("read");
                break;
            }
            left = n == 0; /* end of file: the peer closed its end */
            if (n > 0 && print_peer(peer, label, buf, (size_t)n) == -1) {
                if (errno != EINTR)
                    warn("write stdout");
                break;
            }
        } else if (fds[2].revents != 0) {
            left = true;
        } else if (fds[0].revents != 0) { /* the user typed something */
            if ((n = ipclab_read(STDIN_FILENO, buf, sizeof buf)) == -1) {
                if (errno != EINTR)
                    warn("read stdin");
                break;
            }
            if (n == 0) {
                warnx("you have left the chat; telling %c", peer);
                close(out);
                fds[0].fd = fds[2].fd = out = -1; /* poll() ignores negative descriptors */
                continue;
            }
            /* SIGPIPE is ignored: a peer that has gone shows up as EPIPE, not a silent death. */
            if (ipclab_write_all(out, buf, (size_t)n) == -1) {
                if (errno == EPIPE) {
                    left = true;
                } else {
                    if (errno != EINTR)
                        warn("write");
                    break;
                }
            }
        }
    }
    if (left)
        warnx("%c has left the chat", peer);
    if (out != -1)
        close(out);
    return left ? IPCLAB_EXIT_OK : IPCLAB_EXIT_FAIL;
}

int main(int argc, char *argv[])
{
    char prefix[PATH_MAX] = "";

    ipclab_stderr_by_line();
    ipclab_std_fds();
    ipclab_options_p(argc, argv, usage, ipclab_path_arg, prefix, sizeof prefix);
    if (argc - optind != 1)
        ipclab_usage_error(usage, argc == optind ? "say which side you are: a or b"
                                                 : "one side only: a or b");
    const char *side = argv[optind];
    if (strcmp(side, "a") != 0 && strcmp(side, "b") != 0)
        ipclab_usage_error(usage, "the side is a or b, not '%s'", side);
    char me = side[0], peer = me == 'a' ? 'b' : 'a';

    /* Fix: the original used ./fifo1 and ./fifo2 in whatever directory it started in. */
    if (prefix[0] == '\0')
        ipclab_run_path(prefix, sizeof prefix, "chat");
    char a2b[PATH_MAX], b2a[PATH_MAX];
    if (snprintf(a2b, sizeof a2b, "%s.a2b", prefix) >= (int)sizeof a2b ||
        snprintf(b2a, sizeof b2a, "%s.b2a", prefix) >= (int)sizeof b2a)
        ipclab_usage_error(usage, "-p: the prefix is too long");

    ipclab_catch_signals(); /* the handler records a signal; main removes the FIFOs, then dies */

    int status = IPCLAB_EXIT_FAIL, lock = -1;
    if (create_fifo(a2b) == 0 && create_fifo(b2a) == 0)
        lock = take_side(me == 'a' ? b2a : a2b, me, prefix);
    if (lock != -1) {
        ipclab_ready("you are %c; waiting for %c on %s", me, peer, a2b);
        /* a writes a2b and reads b2a; b the other way round.  Both open a2b first. */
        int out = -1, in = -1;
        if (me == 'a') {
            if ((out = open_fifo(a2b, O_WRONLY)) != -1)
                in = open_fifo(b2a, O_RDONLY);
        } else {
            if ((in = open_fifo(a2b, O_RDONLY)) != -1)
                out = open_fifo(b2a, O_WRONLY);
        }
        if (in != -1 && out != -1) {
            warnx("%c is here; type lines to send them, Ctrl-D to leave", peer);
            status = chat(in, out, peer);
            out = -1; /* chat() closed it */
        }
        if (in != -1)
            close(in);
        if (out != -1)
            close(out);
    }
    /* Either side removes both FIFOs when it leaves; the other then finds nothing to remove. */
    remove_fifo(a2b);
    remove_fifo(b2a);
    if (lock != -1)
        close(lock);
    ipclab_die_of_signal();
    return status;
}
