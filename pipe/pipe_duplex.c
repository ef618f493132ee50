/*
 * pipe_duplex - a parent and its child talk both ways over two pipes.
 *
 * A pipe carries bytes one way only, so a conversation needs two: "down" from parent to child
 * and "up" from child to parent.  Each process closes the two ends it does not use.  The child
 * is a tiny echo service: it upper-cases what comes down and sends it back up; the parent
 * prints the replies.
 *
 * The steps: 1 two pipes  2 fork  3 each process closes the two ends it does not use  4 the
 * parent writes down and reads up, the child reads down and writes up  5 the parent closes
 * "down" (the child's end of file), reads "up" to its end, and waits for the child.
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

#include <ctype.h>

#include "pipe.h"

static const char usage[] =
    "usage: pipe_duplex [-n COUNT]\n"
    "  The parent sends its stdin down one pipe to its child, which sends it back up another\n"
    "  pipe upper-cased; the parent prints the replies on stdout.\n"
    "  -n COUNT  instead of stdin, send COUNT greetings \"hello N\\n\" (1 to 100), all written\n"
    "            before the child exists, so it reads them in one go\n"
    "  -h        show this help\n";

int main(int argc, char *argv[])
{
    ipclab_stderr_by_line();                   /* parent and child share stderr: whole lines */
    ipclab_std_fds();                          /* 0, 1 and 2 open, so no pipe is one of them */
    long count = greeting_options(argc, argv, usage, NULL);
    ipclab_ignore_sigxfsz();                   /* stdout past ulimit -f: EFBIG, not death */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)   /* a pipe nobody reads: EPIPE, not death */
        err(IPCLAB_EXIT_FAIL, "signal");

    int down[2], up[2];                        /* [0]: read end, [1]: write end */
    if (pipe(down) == -1 || pipe(up) == -1)
        err(IPCLAB_EXIT_FAIL, "pipe");

    /* The original's endless hello/world loop, made finite: see pipe_oneway.c. */
    for (long i = 1; i <= count; i++) {
        char msg[32];
        int len = snprintf(msg, sizeof msg, "hello %ld\n", i);
        if (write(down[1], msg, (size_t)len) == -1)
            err(IPCLAB_EXIT_FAIL, "parent: write");
    }

    pid_t pid = fork();
    /* Fix: the original let -1 fall past both branches. */
    if (pid == -1)
        err(IPCLAB_EXIT_FAIL, "fork");

    char buf[IPCLAB_CHUNK];                    /* 4096 bytes: PIPE_BUF */
    ssize_t n = 0, r = 0;
    if (pid == 0) {                            /* the child reads down, writes up */
        close(down[1]);
        close(up[0]);
        size_t bytes = 0;
        long reads = 0;
        for (;;) {
            /* Fix: the original ignored read()'s count and printed 30 bytes with %s. */
            n = read(down[0], buf, sizeof buf);
            if (n == -1)
                err(IPCLAB_EXIT_FAIL, "child: read");
            if (n == 0)
                break;                         /* end of file: the parent closed "down" */
            reads++;
            bytes += (size_t)n;
            for (ssize_t i = 0; i < n; i++)
                buf[i] = (char)toupper((unsigned char)buf[i]); /* the C locale: a-z only */
            if (write(up[1], buf, (size_t)n) == -1) /* n <= PIPE_BUF: all of it, or none */
                err(IPCLAB_EXIT_FAIL, "child: the parent stopped reading (write)");
        }
        warnx("child: end of data: %zu bytes in %ld read() call(s)", bytes, reads);
        close(down[0]);
        close(up[1]);                          /* end of file for the parent */
        _exit(IPCLAB_EXIT_OK);
    }

    close(down[0]);                            /* the parent writes down, reads up */
    close(up[1]);
    warnx("parent %ld talks to child %ld over two pipes", (long)getpid(), (long)pid);
    while (count == 0) {                       /* stdin, one chunk at a time */
        n = read(STDIN_FILENO, buf, sizeof buf);
        if (n == -1)
            err(IPCLAB_EXIT_FAIL, "parent: read stdin");
        if (n == 0)
            break;
        if (write(down[1], buf, (size_t)n) == -1) {
            warn("parent: the child stopped reading (write)"); /* EPIPE */
            break;
        }
        /* Fix: the original kept time with sleep(1); here the whole reply comes before more. */
        for (ssize_t got = 0; got < n; got += r) { /* a pipe keeps no boundaries: in pieces */
            r = read(up[0], buf + got, (size_t)(n - got));
            if (r == -1)
                err(IPCLAB_EXIT_FAIL, "parent: read");
            if (r == 0)
                break;
        }
        if (r == 0) {
            warnx("parent: the child went away before it answered");
            break;
        }
        for (ssize_t off = 0, w; off < n; off += w) /* stdout may take part: loop */
            if ((w = write(STDOUT_FILENO, buf + off, (size_t)(n - off))) == -1)
                err(IPCLAB_EXIT_FAIL, "parent: write stdout");
    }
    close(down[1]);                            /* end of file for the child */

    while (n == 0) {                           /* what is left to come up: -n's replies */
        r = read(up[0], buf, sizeof buf);
        if (r == -1)
            err(IPCLAB_EXIT_FAIL, "parent: read");
        if (r == 0)
            break;                             /* the child has closed "up" */
        for (ssize_t off = 0, w; off < r; off += w)
            if ((w = write(STDOUT_FILENO, buf + off, (size_t)(r - off))) == -1)
                err(IPCLAB_EXIT_FAIL, "parent: write stdout");
    }
    close(up[0]);

    /* Fix: the original never waited: its child stayed a zombie, and how it ended unknown. */
    int wstatus;
    if (waitpid(pid, &wstatus, 0) == -1)
        err(IPCLAB_EXIT_FAIL, "waitpid");
    if (WIFSIGNALED(wstatus))
        warnx("parent: child %ld was killed by signal %d (%s)", (long)pid, WTERMSIG(wstatus),
              strsignal(WTERMSIG(wstatus)));
    return n != 0 || wstatus != 0 ? IPCLAB_EXIT_FAIL : IPCLAB_EXIT_OK;
}
