/*
 * socketpair_duplex - a parent and its child talk both ways over one socketpair.
 *
 * socketpair(2) returns two connected UNIX-domain sockets, sv[0] and sv[1].  Unlike a pipe,
 * each end both sends and receives: after fork() the parent keeps sv[0], the child sv[1], and
 * one descriptor per process carries the whole conversation.  As in pipe_duplex, the child
 * upper-cases what it receives and sends it back; the parent prints the replies.  With -d the
 * pair is SOCK_DGRAM instead of SOCK_STREAM: every send() is one message and every read()
 * returns exactly one; a stream keeps no boundaries.
 *
 * The steps: 1 socketpair  2 fork  3 each process closes the other's end  4 the parent writes
 * and reads sv[0], the child reads and writes sv[1]  5 each says "no more data" (shutdown, or
 * an empty datagram)  6 the parent waits for the child.
 *
 * Run it (one terminal: both sides are this one program):
 *     ./socketpair/socketpair_duplex -n 3       # child: 24 bytes in 1 read() call
 *     ./socketpair/socketpair_duplex -d -n 3    # child: 24 bytes in 3 read() calls
 *     printf 'hello\nworld\n' | ./socketpair/socketpair_duplex
 * What you should see (pids vary):
 *     socketpair_duplex: parent 4242 (sv[0]) talks to child 4243 (sv[1]) over a stream socketpair
 *     HELLO
 *     WORLD
 *     socketpair_duplex: child: end of data: 12 bytes in 1 read() call(s)
 *
 * Mirrors seed 002, socketpair.  Build alone: cc -o socketpair_duplex socketpair_duplex.c
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <sys/socket.h>

#include "../pipe/pipe.h" /* the options, as pipe_duplex's */

static const char usage[] =
    "usage: socketpair_duplex [-d] [-n COUNT]\n"
    "  The parent sends its stdin to its child over one socketpair; the child sends it back\n"
    "  upper-cased over the same socketpair; the parent prints the replies on stdout.\n"
    "  -d        SOCK_DGRAM: each chunk of stdin (up to 4096 bytes) is one message\n"
    "  -n COUNT  instead of stdin, send COUNT greetings \"hello N\\n\" (1 to 100), all sent\n"
    "            before the child exists\n"
    "  -h        show this help\n";

/* poll() fd and the peer check (-1 on a stream: skipped): true once fd has something for read(),
 * data or an end; false once the other process has ended with nothing left queued. */
static bool wait_readable(int fd, int check)
{
    struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN }, { .fd = check, .events = POLLIN } };

    if (poll(pfd, 2, -1) == -1)
        err(IPCLAB_EXIT_FAIL, "poll");
    return pfd[0].revents != 0;
}

int main(int argc, char *argv[])
{
    bool dgram = false;

    ipclab_stderr_by_line();                   /* parent and child share stderr: whole lines */
    ipclab_std_fds();                          /* 0, 1 and 2 open, so no socket is one of them */
    long count = greeting_options(argc, argv, usage, &dgram);
    ipclab_ignore_sigxfsz();                   /* stdout past ulimit -f: EFBIG, not death */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)   /* a peer gone: EPIPE, not death */
        err(IPCLAB_EXIT_FAIL, "signal");

    int sv[2];                                 /* connected to each other; each reads and writes */
    if (socketpair(AF_UNIX, (dgram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0, sv) == -1)
        err(IPCLAB_EXIT_FAIL, "socketpair");

    /* The original's one-message exchange, made a finite burst: see pipe_oneway.c. */
    for (long i = 1; i <= count; i++) {
        char msg[32];
        int len = snprintf(msg, sizeof msg, "hello %ld\n", i);
        if (write(sv[0], msg, (size_t)len) == -1)
            err(IPCLAB_EXIT_FAIL, "parent: send");
    }

    /* -d: a datagram socket shows no hang-up; a stream pair carrying nothing is the peer check */
    int check[2] = { -1, -1 };                 /* on a stream, sv's own end of file does */
    if (dgram && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, check) == -1)
        err(IPCLAB_EXIT_FAIL, "socketpair");
    pid_t pid = fork();
    /* Fix: the original never checked fork(). */
    if (pid == -1)
        err(IPCLAB_EXIT_FAIL, "fork");

    char buf[IPCLAB_CHUNK];
    ssize_t n = 0;
    if (pid == 0) {                            /* the child reads and writes sv[1] */
        close(sv[0]);
        if (dgram)
            close(check[0]);
        size_t bytes = 0;
        long reads = 0;
        for (;;) {
            if (!wait_readable(sv[1], check[1]))
                errx(IPCLAB_EXIT_FAIL, "child: the parent went away");
            /* Fix: the original ignored read()'s count and printed with %s, trusting a NUL. */
            n = read(sv[1], buf, sizeof buf);
            if (n == -1)
                err(IPCLAB_EXIT_FAIL, "child: read");
            if (n == 0)
                break;                         /* end of file, or the empty datagram */
            reads++;
            bytes += (size_t)n;
            for (ssize_t i = 0; i < n; i++)
                buf[i] = (char)toupper((unsigned char)buf[i]); /* the C locale: a-z only */
            if (write(sv[1], buf, (size_t)n) == -1)
                err(IPCLAB_EXIT_FAIL, "child: the parent went away (send)");
        }
        warnx("child: end of data: %zu bytes in %ld read() call(s)", bytes, reads);
        if ((dgram ? send(sv[1], "", 0, 0) : shutdown(sv[1], SHUT_WR)) == -1)
            err(IPCLAB_EXIT_FAIL, "child: send end of data");
        close(sv[1]);
        if (dgram)
            close(check[1]);
        _exit(IPCLAB_EXIT_OK);
    }

    close(sv[1]);                              /* the parent reads and writes sv[0] */
    if (dgram)
        close(check[1]);
    warnx("parent %ld (sv[0]) talks to child %ld (sv[1]) over a %s socketpair", (long)getpid(),
          (long)pid, dgram ? "datagram" : "stream");
    while (count == 0) {                       /* stdin, one chunk at a time */
        n = read(STDIN_FILENO, buf, sizeof buf);
        if (n == -1)
            err(IPCLAB_EXIT_FAIL, "parent: read stdin");
        if (n == 0)
            break;
        if (write(sv[0], buf, (size_t)n) == -1) { /* -d: one datagram */
            warn("parent: the child went away (send)");
            break;
        }
        /* As in pipe_duplex, the whole reply before more; on a stream it may come in pieces. */
        ssize_t got = 0;
        while (got < n && wait_readable(sv[0], check[0])) {
            ssize_t r = read(sv[0], buf + got, (size_t)(n - got));
            if (r == -1 && errno != ECONNRESET) /* ECONNRESET: it died with data unread */
                err(IPCLAB_EXIT_FAIL, "parent: read");
            if (r <= 0)
                break;
            got += r;
        }
        if (got < n) {
            warnx("parent: the child went away before it answered");
            break;
        }
        for (ssize_t off = 0, w; off < n; off += w) /* stdout may take part: loop */
            if ((w = write(STDOUT_FILENO, buf + off, (size_t)(n - off))) == -1)
                err(IPCLAB_EXIT_FAIL, "parent: write stdout");
    }

    /* No more data.  A stream has end of file: shutdown(SHUT_WR) sends it and leaves sv[0]
     * open for the replies.  A datagram socket has none, so the end is an empty datagram. */
    if (n == 0 && (dgram ? send(sv[0], "", 0, 0) : shutdown(sv[0], SHUT_WR)) == -1)
        err(IPCLAB_EXIT_FAIL, "parent: send end of data");
    while (n == 0 && wait_readable(sv[0], check[0])) { /* what is left to come: -n's replies */
        ssize_t r = read(sv[0], buf, sizeof buf);
        if (r == -1 && errno != ECONNRESET)
            err(IPCLAB_EXIT_FAIL, "parent: read");
        if (r <= 0)
            break;                             /* the child's end */
        for (ssize_t off = 0, w; off < r; off += w)
            if ((w = write(STDOUT_FILENO, buf + off, (size_t)(r - off))) == -1)
                err(IPCLAB_EXIT_FAIL, "parent: write stdout");
    }
    close(sv[0]);
    if (dgram)
        close(check[0]);

    /* Fix: the original never waited: its child stayed a zombie, and how it ended unknown. */
    int wstatus;
    if (waitpid(pid, &wstatus, 0) == -1)
        err(IPCLAB_EXIT_FAIL, "waitpid");
    if (WIFSIGNALED(wstatus))
        warnx("parent: child %ld was killed by signal %d (%s)", (long)pid, WTERMSIG(wstatus),
              strsignal(WTERMSIG(wstatus)));
    return n != 0 || wstatus != 0 ? IPCLAB_EXIT_FAIL : IPCLAB_EXIT_OK;
}
