/*
 * pipe_oneway - an anonymous pipe from a parent process to its child.
 *
 * pipe(2) gives two descriptors: [0] reads, [1] writes.  The pipe has no name, so only
 * processes that inherit those descriptors through fork(2) can use it.  Here the parent
 * writes and the child reads and prints.  When the parent closes its write end the child's
 * read() returns 0, end of file -- provided every other copy of the write end is closed too,
 * the child's own included.
 *
 * The steps: 1 pipe  2 fork  3 each process closes the end it does not use  4 the parent
 * writes, the child reads until end of file  5 the parent closes its end and waits for the child.
 *
 * Run it (one terminal: both sides are this one program):
 *     printf 'hello\nworld\n' | ./pipe/pipe_oneway     # stdin -> pipe -> stdout
 *     ./pipe/pipe_oneway -n 3                           # the original's demo, finite
 * What you should see with -n 3 (pids vary):
 *     pipe_oneway: parent: wrote 3 messages, 24 bytes, in 3 write() calls
 *     pipe_oneway: parent 4242 writes, child 4243 reads
 *     hello 1
 *     hello 2
 *     hello 3
 *     pipe_oneway: child: end of data: 24 bytes in 1 read() call(s)
 * Three writes, one read: a pipe carries bytes, not messages.
 *
 * Mirrors seed 004, 无名管道 (the first demo).  Build alone: cc -o pipe_oneway pipe_oneway.c
 */
#define _POSIX_C_SOURCE 200809L

#include "pipe.h"

static const char usage[] =
    "usage: pipe_oneway [-n COUNT]\n"
    "  The parent sends its stdin through a pipe to its child, which prints it on stdout.\n"
    "  -n COUNT  instead of stdin, send COUNT greetings \"hello N\\n\" (1 to 100), the demo this\n"
    "            program mirrors (README.md, Sources), finite: all are written before the child\n"
    "            exists, so it reads them in one go\n"
    "  -h        show this help\n";

int main(int argc, char *argv[])
{
    ipclab_stderr_by_line();                   /* parent and child share stderr: whole lines */
    ipclab_std_fds();                          /* 0, 1 and 2 open, so the pipe is not one of them */
    long count = greeting_options(argc, argv, usage, NULL);
    ipclab_ignore_sigxfsz();                   /* stdout past ulimit -f: EFBIG, not death */
    /* Fix: the original left this commented out: a write to a pipe nobody reads killed it. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        err(IPCLAB_EXIT_FAIL, "signal");

    int pipefd[2];                             /* [0]: read end, [1]: write end */
    if (pipe(pipefd) == -1)
        err(IPCLAB_EXIT_FAIL, "pipe");

    /* Fix: the original wrote "hello" each second for ever; -n writes COUNT, before fork(). */
    long total = 0;
    for (long i = 1; i <= count; i++) {        /* 892 bytes at most: no write() blocks */
        char msg[32];
        int len = snprintf(msg, sizeof msg, "hello %ld\n", i);
        if (write(pipefd[1], msg, (size_t)len) == -1)
            err(IPCLAB_EXIT_FAIL, "parent: write");
        total += len;
    }
    if (count > 0)
        warnx("parent: wrote %ld messages, %ld bytes, in %ld write() calls", count, total, count);

    pid_t pid = fork();
    /* Fix: the original let -1 fall past both branches. */
    if (pid == -1)
        err(IPCLAB_EXIT_FAIL, "fork");

    char buf[IPCLAB_CHUNK];                    /* 4096 bytes: PIPE_BUF */
    ssize_t n = 0;
    if (pid == 0) {
        /* Fix: the original left this commented out: its own write end kept EOF away. */
        close(pipefd[1]);                      /* the child reads */
        size_t bytes = 0;
        long reads = 0;
        for (;;) {
            n = read(pipefd[0], buf, sizeof buf);
            if (n == -1)
                err(IPCLAB_EXIT_FAIL, "child: read");
            /* Fix: the original read on for ever; 0 is end of file: every write end is closed. */
            if (n == 0)
                break;
            reads++;
            bytes += (size_t)n;
            /* Fix: the original printed a 30-byte buffer with %s: n bytes, NULs too, go out. */
            for (ssize_t off = 0, w; off < n; off += w) /* stdout may take part: loop */
                if ((w = write(STDOUT_FILENO, buf + off, (size_t)(n - off))) == -1)
                    err(IPCLAB_EXIT_FAIL, "child: write stdout");
        }
        warnx("child: end of data: %zu bytes in %ld read() call(s)", bytes, reads);
        close(pipefd[0]);
        _exit(IPCLAB_EXIT_OK);
    }

    /* Fix: the original kept the read end: with its child gone, write() would block for ever. */
    close(pipefd[0]);                          /* the parent writes */
    warnx("parent %ld writes, child %ld reads", (long)getpid(), (long)pid);
    while (count == 0) {
        n = read(STDIN_FILENO, buf, sizeof buf);
        if (n == -1)
            err(IPCLAB_EXIT_FAIL, "parent: read stdin");
        if (n == 0)
            break;                             /* end of stdin */
        n = write(pipefd[1], buf, (size_t)n);  /* n <= PIPE_BUF: all n bytes go in, or none */
        if (n == -1) {
            warn("parent: the child stopped reading (write)"); /* EPIPE */
            break;
        }
    }
    close(pipefd[1]);                          /* end of file for the child */

    /* Fix: the original never waited: its child stayed a zombie, and how it ended unknown. */
    int wstatus;
    if (waitpid(pid, &wstatus, 0) == -1)
        err(IPCLAB_EXIT_FAIL, "waitpid");
    if (WIFSIGNALED(wstatus))
        warnx("parent: child %ld was killed by signal %d (%s)", (long)pid, WTERMSIG(wstatus),
              strsignal(WTERMSIG(wstatus)));
    return n == -1 || wstatus != 0 ? IPCLAB_EXIT_FAIL : IPCLAB_EXIT_OK;
}
