/*
 * fifo_chat - two people chat through two FIFOs: `fifo_chat a` and `fifo_chat b`.
 *
 * A FIFO, like any pipe, goes one way, so a chat needs two: PREFIX.a2b carries what a types
 * to b, PREFIX.b2a the other way.  Both sides open them in the same order (a2b first), so the
 * two blocking open() calls pair up instead of each side waiting for the other forever.  Then
 * one process per side watches the keyboard and the incoming FIFO with poll().
 * The steps: 1 mkfifo both  2 open a2b, then b2a  3 poll, read, write  4 close  5 unlink both
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
#define _GNU_SOURCE /* program_invocation_short_name, in ipclab_cleanup_at_exit() */

#include "fifo.h"

static const char usage[] =
    "usage: fifo_chat [-p PREFIX] a|b\n"
    "  Chat with the other side through two FIFOs, PREFIX.a2b and PREFIX.b2a: lines typed here\n"
    "  go to the other side, lines it sends are printed here.  Either side may start first.\n"
    "  -p PREFIX  the FIFOs' common prefix (default: chat in the run directory, see the top\n"
    "             README.md)\n"
    "  -h         show this help\n";

static char chatname[PATH_MAX], a2b[PATH_MAX], b2a[PATH_MAX]; /* PREFIX, PREFIX.a2b ... */

/* 5. Remove both names (the other side may have already).  lstat, geteuid and unlink only:
 * async-signal-safe (signal-safety(7)), so the signal handler calls this too. */
static void remove_fifos(void)
{
    static volatile sig_atomic_t done; /* once: later FIFOs of that name are another chat's */

    if (done++)
        return;
    if (guard_fifo_still_ours(a2b)) /* never a file of yours, nor another's FIFO */
        unlink(a2b);
    if (guard_fifo_still_ours(b2a))
        unlink(b2a);
}

/* Print what the peer sent: in a terminal each of its lines begins with "b: ", apart from your
 * own lines, which the terminal echoes; into a file or a pipe the bytes go unchanged. */
static void print_peer(char peer, const char *buf, size_t n)
{
    static bool line_start = true; /* the next byte printed begins a line */
    const char mark[] = { peer, ':', ' ' };
    bool label = isatty(STDOUT_FILENO) == 1;

    while (n > 0) {
        if (label && line_start && ipclab_write_all(STDOUT_FILENO, mark, sizeof mark) == -1)
            err(1, "write stdout");
        const char *nl = memchr(buf, '\n', n);
        ssize_t w = write(STDOUT_FILENO, buf, nl != NULL && label ? (size_t)(nl - buf) + 1 : n);
        if (w == -1)
            err(1, "write stdout");
        line_start = buf[w - 1] == '\n'; /* write() may take part of it: the rest goes next */
        buf += w;
        n -= (size_t)w;
    }
}

int main(int argc, char *argv[])
{
    char me = fifo_chat_side(argc, argv, usage, chatname, sizeof chatname); /* 'a' or 'b' */
    /* Fix: the original used ./fifo1 and ./fifo2 in whatever directory it started in. */
    if (chatname[0] == '\0')
        ipclab_run_path(chatname, sizeof chatname, "chat");
    if (snprintf(a2b, sizeof a2b, "%s.a2b", chatname) >= (int)sizeof a2b ||
        snprintf(b2a, sizeof b2a, "%s.b2a", chatname) >= (int)sizeof b2a)
        ipclab_usage_error(usage, "-p: the prefix is too long");
    /* Fix: the original's handler, in the parent only, called remove() and exit(): unsafe. */
    ipclab_catch_signals();                  /* and SIGPIPE ignored: write() fails with EPIPE */
    ipclab_cleanup_at_exit(remove_fifos);    /* exit, err(), Ctrl-C: remove both FIFOs */

    /* 1. Two FIFOs, one each way, mode 0600; EEXIST: the other side made them first. */
    if (mkfifo(a2b, 0600) == -1 && errno != EEXIST)
        err(1, "mkfifo %s", a2b);
    if (mkfifo(b2a, 0600) == -1 && errno != EEXIST)
        err(1, "mkfifo %s", b2a);
    guard_fifo_is_ours(a2b);                 /* not a file, a link, another user's FIFO */
    guard_fifo_is_ours(b2a);
    /* O_NONBLOCK: a read open() returns at once, writer or not.  The lock is taken on it. */
    int lock = open(me == 'a' ? b2a : a2b, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (lock == -1)
        err(1, "open %s", me == 'a' ? b2a : a2b);
    guard_one_a_one_b(lock, me, chatname);   /* a second a would take part of b's lines */

    /* 2. Both open a2b first, so the two blocking open() calls pair up: a writes a2b, b reads
     * it; then b2a the other way round. */
    char peer = me == 'a' ? 'b' : 'a';
    warnx("ready (pid %ld): you are %c; waiting for %c on %s", (long)getpid(), me, peer, a2b);
    /* Fix: the original was two programs, demo1 and demo2, that differed in this order. */
    int first = open(a2b, (me == 'a' ? O_WRONLY : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC);
    if (first == -1)
        err(1, "open %s", a2b);
    guard_opened_fifo_is_ours(first, a2b);   /* still what lstat() saw */
    int second = open(b2a, (me == 'a' ? O_RDONLY : O_WRONLY) | O_NOFOLLOW | O_CLOEXEC);
    if (second == -1)
        err(1, "open %s", b2a);
    guard_opened_fifo_is_ours(second, b2a);
    int out = me == 'a' ? first : second, in = me == 'a' ? second : first;
    warnx("%c is here; type lines to send them, Ctrl-D to leave", peer);

    /* 3. One process watches the keyboard and the incoming FIFO, and the outgoing one for
     * POLLERR: the peer has closed its reading end. */
    /* Fix: the original forked a typist and a printer, and Ctrl-C left the printer behind. */
    struct pollfd fds[3] = { { .fd = STDIN_FILENO, .events = POLLIN },
                             { .fd = in, .events = POLLIN }, { .fd = out } };
    char buf[PIPE_BUF]; /* a write of at most PIPE_BUF bytes to a pipe is whole (pipe(7)) */
    for (;;) {
        if (poll(fds, 3, -1) == -1)
            err(1, "poll");
        if (fds[1].revents != 0) {           /* the peer sent something, or left */
            ssize_t n = read(in, buf, sizeof buf);
            if (n == -1)
                err(1, "read %s", me == 'a' ? b2a : a2b);
            if (n == 0)
                break;                       /* end of file: the peer closed its end */
            print_peer(peer, buf, (size_t)n);
        } else if (fds[2].revents != 0) {
            break;                           /* POLLERR: the peer stopped reading */
        } else if (fds[0].revents != 0) {    /* the user typed something */
            ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
            if (n == -1)
                err(1, "read stdin");
            if (n == 0) {                    /* Ctrl-D: tell the peer; read until it leaves */
                warnx("you have left the chat; telling %c", peer);
                close(out);
                fds[0].fd = fds[2].fd = -1;  /* poll() skips a negative descriptor */
                continue;
            }
            ssize_t w = write(out, buf, (size_t)n); /* n <= PIPE_BUF: all of it, or -1 */
            if (w == -1 && errno == EPIPE)
                break;                       /* the peer has gone */
            if (w == -1)
                err(1, "write %s", me == 'a' ? a2b : b2a);
        }
    }
    warnx("%c has left the chat", peer);

    /* 4. close() both ends; 5. remove the FIFOs while this side still holds its lock. */
    close(in);
    if (fds[2].fd != -1)
        close(out);
    remove_fifos();
    close(lock);
    return 0;
}
