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
 * Run it (one terminal: both sides are this one program; -n 3 sends three greetings before
 * the child exists, so they all wait in the socket):
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

#include <sys/prctl.h> /* PR_SET_PDEATHSIG: Linux */
#include <sys/select.h>
#include <sys/socket.h>

#include "../common/ipclab.h"

static const char usage[] =
    "usage: socketpair_duplex [-d] [-n COUNT]\n"
    "  The parent sends its stdin to its child over one socketpair; the child sends it back\n"
    "  upper-cased over the same socketpair; the parent prints the replies on stdout.\n"
    "  -d        SOCK_DGRAM: each chunk of stdin (up to 4096 bytes) is one message\n"
    "  -n COUNT  instead of stdin, send COUNT greetings \"hello N\\n\" (1 to 100), all sent\n"
    "            before the child exists\n"
    "  -h        show this help\n";

#define MAX_GREETINGS 100

/* Set by the SIGCHLD handler; looked at only while SIGCHLD is blocked (see recv_reply). */
static volatile sig_atomic_t child_exited;

static void on_sigchld(int signo)
{
    (void)signo;
    child_exited = 1;
}

/* Say "no more data".  A stream has end of file: shutdown(SHUT_WR) sends it while this end can
 * still receive (close() would end both directions).  A datagram socket has no end of file, so
 * the end is a message of its own: an empty datagram, which read() returns as 0. */
static int send_end(int fd, int type)
{
    if (type == SOCK_STREAM)
        return shutdown(fd, SHUT_WR);
    return send(fd, "", 0, 0) == -1 ? -1 : 0;
}

/* The parent's read(), which also gives up once the child has exited: a datagram socket reports
 * no hang-up, so a parent waiting for a dead child's reply would wait forever.  SIGCHLD is
 * blocked but inside pselect(), so it cannot slip in between the test of child_exited and the
 * wait.  What the child sent before it died is still read. */
static ssize_t recv_reply(int fd, void *buf, size_t len, const sigset_t *waitmask)
{
    for (;;) {
        const struct timespec now = { 0, 0 };
        fd_set readable;
        FD_ZERO(&readable);
        FD_SET(fd, &readable);
        int ready = pselect(fd + 1, &readable, NULL, NULL, child_exited ? &now : NULL, waitmask);
        if (ready > 0)
            return read(fd, buf, len);
        if (ready == 0) { /* the child has exited and nothing more is queued */
            errno = ECONNRESET;
            return -1;
        }
        if (errno != EINTR)
            return -1;
    }
}

/* Say what failed, and why (errno): returns the exit status of a failure. */
static int fail(const char *what)
{
    warn("%s", what);
    return IPCLAB_EXIT_FAIL;
}

/* Parent: say "no more data", then print replies until the child's own end of data. */
static int finish(int fd, int type, const sigset_t *waitmask)
{
    char buf[IPCLAB_CHUNK];
    ssize_t n;

    if (send_end(fd, type) == -1)
        return fail("parent: send end of data");
    while ((n = recv_reply(fd, buf, sizeof buf, waitmask)) != 0) {
        if (n == -1)
            return fail("parent: read");
        if (ipclab_write_all(STDOUT_FILENO, buf, (size_t)n) == -1)
            return fail("parent: write stdout");
    }
    return IPCLAB_EXIT_OK;
}

/* Parent, default mode: send stdin a chunk at a time, and read that chunk's whole reply before
 * sending more (one chunk in flight each way: no deadlock, see pipe_duplex.c).  A datagram
 * comes back as one message; on a stream the reply may come in pieces. */
static int converse(int fd, const sigset_t *waitmask)
{
    char buf[IPCLAB_CHUNK];
    ssize_t n;

    while ((n = ipclab_read(STDIN_FILENO, buf, sizeof buf)) != 0) {
        if (n == -1)
            return fail("parent: read stdin");
        if (ipclab_write_all(fd, buf, (size_t)n) == -1)
            return fail("parent: the child went away (send)");
        for (ssize_t got = 0; got < n;) {
            ssize_t r = recv_reply(fd, buf + got, (size_t)(n - got), waitmask);
            if (r == -1)
                return fail("parent: the child went away before it answered");
            if (r == 0) {
                warnx("parent: the child went away before it answered");
                return IPCLAB_EXIT_FAIL;
            }
            got += r;
        }
        if (ipclab_write_all(STDOUT_FILENO, buf, (size_t)n) == -1)
            return fail("parent: write stdout");
    }
    return IPCLAB_EXIT_OK;
}

/* Child: upper-case what arrives and send it back on the same socket, until end of data. */
static int serve(int fd, int type)
{
    char buf[IPCLAB_CHUNK];
    size_t total = 0;
    long reads = 0;
    ssize_t n;

    /* Fix: read()'s count is the length; %s would trust the peer to have sent a NUL. */
    while ((n = ipclab_read(fd, buf, sizeof buf)) != 0) {
        if (n == -1)
            return fail("child: read");
        reads++;
        total += (size_t)n;
        ipclab_upcase(buf, (size_t)n);
        if (ipclab_write_all(fd, buf, (size_t)n) == -1)
            return fail("child: the parent went away (send)");
    }
    warnx("child: end of data: %zu bytes in %ld read() call(s)", total, reads);
    return send_end(fd, type) == -1 ? fail("child: send end of data") : IPCLAB_EXIT_OK;
}

int main(int argc, char *argv[])
{
    int type = SOCK_STREAM;
    long count = 0; /* 0: send stdin */
    int opt;

    ipclab_stderr_by_line();
    ipclab_std_fds();
    while ((opt = getopt(argc, argv, ":dhn:")) != -1) {
        switch (opt) {
        case 'd':
            type = SOCK_DGRAM;
            break;
        case 'n':
            if (!ipclab_parse_long(optarg, 1, MAX_GREETINGS, &count))
                ipclab_usage_error(usage, "-n wants a count from 1 to %d, not '%s'",
                                   MAX_GREETINGS, optarg);
            break;
        case 'h':
            fputs(usage, stdout);
            return IPCLAB_EXIT_OK;
        default:
            ipclab_bad_option(usage, opt, argv);
        }
    }
    if (optind < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);

    ipclab_ignore_sigpipe();
    ipclab_ignore_sigxfsz();

    /* SIGCHLD stays blocked except inside pselect() (see recv_reply). */
    struct sigaction sa = { .sa_handler = on_sigchld, .sa_flags = SA_NOCLDSTOP };
    sigemptyset(&sa.sa_mask);
    sigset_t chld, waitmask;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    if (sigaction(SIGCHLD, &sa, NULL) == -1 || sigprocmask(SIG_BLOCK, &chld, &waitmask) == -1)
        err(IPCLAB_EXIT_FAIL, "sigaction SIGCHLD");

    int sv[2];
    if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) == -1)
        err(IPCLAB_EXIT_FAIL, "socketpair");
    /* The original's one-message exchange, made a finite burst: see pipe_oneway.c. */
    if (count > 0 && ipclab_send_greetings(sv[0], count) == -1)
        err(IPCLAB_EXIT_FAIL, "parent: send");

    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == -1)
        err(IPCLAB_EXIT_FAIL, "fork"); /* Fix: the original never checked fork() */
    if (pid == 0) {
        /* A datagram socket tells the child nothing when the parent dies (no end of file), so
         * ask the kernel for SIGTERM then.  If the parent died before the prctl() call, the
         * child has already been re-parented: check, or that death would go unnoticed. */
        if (sigprocmask(SIG_SETMASK, &waitmask, NULL) == -1 ||
            (type == SOCK_DGRAM && (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != parent)))
            _exit(IPCLAB_EXIT_FAIL);
        close(sv[0]); /* the parent's end; the child's, sv[1], goes both ways */
        _exit(serve(sv[1], type)); /* _exit() closes sv[1] */
    }

    close(sv[1]);
    warnx("parent %ld (sv[0]) talks to child %ld (sv[1]) over a %s socketpair", (long)parent,
          (long)pid, type == SOCK_STREAM ? "stream" : "datagram");
    int status = count > 0 ? IPCLAB_EXIT_OK : converse(sv[0], &waitmask);
    if (status == IPCLAB_EXIT_OK)
        status = finish(sv[0], type, &waitmask);
    else if (type == SOCK_DGRAM)
        send_end(sv[0], type); /* close() is no end for a datagram peer: it would wait on */
    close(sv[0]);
    /* waitpid(): the child's exit status, or its death by a signal, counts in ours. */
    return ipclab_wait_child(pid, status);
}
