/*
 * pipe_duplex - a parent and its child talk both ways over two pipes.
 *
 * A pipe carries bytes one way only, so a conversation needs two: "down" from parent to child
 * and "up" from child to parent.  Each process closes the two ends it does not use.  The child
 * is a tiny echo service: it upper-cases what comes down and sends it back up; the parent
 * prints the replies.
 *
 * Run it (one terminal: both sides are this one program):
 *     printf 'hello\nworld\n' | ./pipe/pipe_duplex      # each chunk of stdin goes down, back up
 *     ./pipe/pipe_duplex -n 3                            # the original's demo, finite
 * What you should see with -n 3 (pids vary):
 *     pipe_duplex: parent 4242 talks to child 4243 over two pipes
 *     HELLO 1
 *     HELLO 2
 *     HELLO 3
 *     pipe_duplex: child: end of data: 24 bytes in 1 read() call(s)
 *
 * Mirrors seed 004, 父子进程双向通信Demo.  Build alone: cc -o pipe_duplex pipe_duplex.c
 */
#define _POSIX_C_SOURCE 200809L

#include "../common/ipclab.h"

static const char usage[] =
    "usage: pipe_duplex [-n COUNT]\n"
    "  The parent sends its stdin down one pipe to its child, which sends it back up another\n"
    "  pipe upper-cased; the parent prints the replies on stdout.\n"
    "  -n COUNT  instead of stdin, send COUNT greetings \"hello N\\n\" (1 to 100), all written\n"
    "            before the child exists, so it reads them in one go\n"
    "  -h        show this help\n";

#define MAX_GREETINGS 100

/* Copy what arrives on fd to stdout until end of file.  Returns 0 or -1. */
static int print_until_eof(int fd)
{
    char buf[IPCLAB_CHUNK];
    ssize_t n;

    while ((n = ipclab_read(fd, buf, sizeof buf)) != 0) {
        if (n == -1) {
            warn("parent: read");
            return -1;
        }
        if (ipclab_write_all(STDOUT_FILENO, buf, (size_t)n) == -1) {
            warn("parent: write stdout");
            return -1;
        }
    }
    return 0;
}

/*
 * Parent, default mode: send stdin a chunk at a time and wait for that chunk's reply before
 * reading more.  Fix: the original wrote and read in a fixed rhythm held together by sleep(1).
 * In lockstep at most one chunk (4096 bytes, far below a pipe's capacity) is in flight each
 * way, so parent and child can never both block writing into full pipes: that deadlock is what
 * an unbounded "write everything, then read the replies" would risk.  The reply may come back
 * in pieces (a pipe keeps no boundaries), so the parent reads until it has all of it.
 */
static int converse(int down, int up)
{
    char buf[IPCLAB_CHUNK];
    ssize_t n;

    while ((n = ipclab_read(STDIN_FILENO, buf, sizeof buf)) != 0) {
        if (n == -1) {
            warn("parent: read stdin");
            return IPCLAB_EXIT_FAIL;
        }
        if (ipclab_write_all(down, buf, (size_t)n) == -1) {
            warn("parent: the child stopped reading (write)");
            return IPCLAB_EXIT_FAIL;
        }
        ssize_t got = ipclab_read_full(up, buf, (size_t)n);
        if (got != n) {
            if (got == -1)
                warn("parent: read");
            else
                warnx("parent: the child went away before it answered");
            return IPCLAB_EXIT_FAIL;
        }
        if (ipclab_write_all(STDOUT_FILENO, buf, (size_t)n) == -1) {
            warn("parent: write stdout");
            return IPCLAB_EXIT_FAIL;
        }
    }
    return IPCLAB_EXIT_OK;
}

/* Child: upper-case whatever comes down and send it back up, until end of file. */
static int serve(int down, int up)
{
    char buf[IPCLAB_CHUNK];
    size_t total = 0;
    long reads = 0;
    ssize_t n;

    /* Fix: the original ignored read()'s result and printed a 30-byte buffer with %s. */
    while ((n = ipclab_read(down, buf, sizeof buf)) != 0) {
        if (n == -1) {
            warn("child: read");
            return IPCLAB_EXIT_FAIL;
        }
        reads++;
        total += (size_t)n;
        ipclab_upcase(buf, (size_t)n);
        if (ipclab_write_all(up, buf, (size_t)n) == -1) {
            warn("child: the parent stopped reading (write)");
            return IPCLAB_EXIT_FAIL;
        }
    }
    warnx("child: end of data: %zu bytes in %ld read() call(s)", total, reads);
    return IPCLAB_EXIT_OK;
}

int main(int argc, char *argv[])
{
    long count = 0; /* 0: send stdin */
    int opt;

    ipclab_stderr_by_line();
    ipclab_std_fds();
    while ((opt = getopt(argc, argv, ":hn:")) != -1) {
        switch (opt) {
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

    int pipefd1[2], pipefd2[2]; /* 1: parent -> child ("down"); 2: child -> parent ("up") */
    if (pipe(pipefd1) == -1 || pipe(pipefd2) == -1)
        err(IPCLAB_EXIT_FAIL, "pipe");
    /* The original's endless hello/world loop, made finite: see pipe_oneway.c. */
    if (count > 0 && ipclab_send_greetings(pipefd1[1], count) == -1)
        err(IPCLAB_EXIT_FAIL, "parent: write");

    pid_t pid = fork();
    if (pid == -1)
        err(IPCLAB_EXIT_FAIL, "fork"); /* Fix: the original let -1 fall past both branches */
    if (pid == 0) {
        close(pipefd1[1]);
        close(pipefd2[0]);
        int status = serve(pipefd1[0], pipefd2[1]);
        close(pipefd1[0]);
        close(pipefd2[1]); /* end of file for the parent */
        _exit(status);
    }

    close(pipefd1[0]);
    close(pipefd2[1]);
    warnx("parent %ld talks to child %ld over two pipes", (long)getpid(), (long)pid);
    int status = count > 0 ? IPCLAB_EXIT_OK : converse(pipefd1[1], pipefd2[0]);
    close(pipefd1[1]); /* end of file for the child, which then closes its end of "up" */
    if (status == IPCLAB_EXIT_OK && print_until_eof(pipefd2[0]) == -1)
        status = IPCLAB_EXIT_FAIL;
    close(pipefd2[0]);
    /* Reap the child (the original never did): no zombie, and its failure is ours. */
    return ipclab_wait_child(pid, status);
}
