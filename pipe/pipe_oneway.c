/*
 * pipe_oneway - an anonymous pipe from a parent process to its child.
 *
 * pipe(2) gives two descriptors: [0] reads, [1] writes.  The pipe has no name, so only
 * processes that inherit those descriptors through fork(2) can use it.  Here the parent
 * writes and the child reads and prints.  When the parent closes its write end the child's
 * read() returns 0, end of file -- provided every other copy of the write end is closed too,
 * the child's own included.
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

#include "../common/ipclab.h"

static const char usage[] =
    "usage: pipe_oneway [-n COUNT]\n"
    "  The parent sends its stdin through a pipe to its child, which prints it on stdout.\n"
    "  -n COUNT  instead of stdin, send COUNT greetings \"hello N\\n\" (1 to 100), the demo this\n"
    "            program mirrors (README.md, Sources), finite: all are written before the child\n"
    "            exists, so it reads them in one go\n"
    "  -h        show this help\n";

#define MAX_GREETINGS 100

/* Parent, default mode: copy stdin into the pipe.  Returns the exit status. */
static int send_stdin(int fd)
{
    char buf[IPCLAB_CHUNK];
    ssize_t n;

    while ((n = ipclab_read(STDIN_FILENO, buf, sizeof buf)) != 0) {
        if (n == -1) {
            warn("parent: read stdin");
            return IPCLAB_EXIT_FAIL;
        }
        /* Fix: the original ignored write()'s result; a partial write lost the rest. */
        if (ipclab_write_all(fd, buf, (size_t)n) == -1) {
            /* Fix: SIGPIPE is ignored, so a vanished child is reported, not a silent death. */
            warn("parent: the child stopped reading (write)");
            return IPCLAB_EXIT_FAIL;
        }
    }
    return IPCLAB_EXIT_OK;
}

/* Child: print everything the pipe brings until end of file.  Returns the exit status. */
static int child_read(int fd)
{
    char buf[IPCLAB_CHUNK];
    size_t total = 0;
    long reads = 0;
    ssize_t n;

    /*
     * Fix: the original read into a 30-byte buffer, zeroed it, and printed it with %s: a read
     * that filled all 30 bytes had no terminator, and NUL bytes cut the output short.  The
     * bytes go to stdout exactly as they came, as many as read() says it returned.
     */
    while ((n = ipclab_read(fd, buf, sizeof buf)) != 0) {
        if (n == -1) {
            warn("child: read");
            return IPCLAB_EXIT_FAIL;
        }
        reads++;
        total += (size_t)n;
        if (ipclab_write_all(STDOUT_FILENO, buf, (size_t)n) == -1) {
            warn("child: write stdout");
            return IPCLAB_EXIT_FAIL;
        }
    }
    /* Fix: the original looped forever; read() returning 0 is the end of the data. */
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

    int pipefd[2]; /* [0]: read end, [1]: write end */
    if (pipe(pipefd) == -1)
        err(IPCLAB_EXIT_FAIL, "pipe");
    if (count > 0) {
        /*
         * Fix: the original wrote "hello" every second forever and never looked at write()'s
         * result.  Here COUNT greetings are written before fork(), while nobody reads, so the
         * child finds them all waiting in the pipe.  At most 100 short lines: far below a
         * pipe's capacity (at least 4096 bytes, 65536 by default), so no write can block.
         */
        long total = ipclab_send_greetings(pipefd[1], count);
        if (total == -1)
            err(IPCLAB_EXIT_FAIL, "parent: write");
        warnx("parent: wrote %ld messages, %ld bytes, in %ld write() calls", count, total, count);
    }

    pid_t pid = fork();
    if (pid == -1)
        err(IPCLAB_EXIT_FAIL, "fork"); /* Fix: the original let -1 fall past both branches */
    if (pid == 0) {
        /*
         * Fix: the original left the child's copy of the write end open (the close was
         * commented out).  A pipe reports end of file only when every write end is closed,
         * so its child could never see EOF.
         */
        close(pipefd[1]);
        int status = child_read(pipefd[0]);
        close(pipefd[0]);
        _exit(status);
    }

    /* Fix: the parent closes the read end it does not use, so if the child dies, the
     * parent's write() fails with EPIPE instead of filling the pipe and blocking forever. */
    close(pipefd[0]);
    warnx("parent %ld writes, child %ld reads", (long)getpid(), (long)pid);
    int status = count > 0 ? IPCLAB_EXIT_OK : send_stdin(pipefd[1]);
    close(pipefd[1]); /* end of file for the child */
    /* Fix: the original never called wait(). */
    return ipclab_wait_child(pid, status);
}
