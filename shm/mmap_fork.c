/*
 * mmap_fork - the smallest shared memory there is: one anonymous mapping, a parent and its child.
 *
 * fork(2) gives the child a copy of the parent's whole memory: the same addresses, the same
 * contents.  Linux copies nothing at that moment: both processes' page tables point at the same
 * physical pages, marked read-only, and the first write to a page by either makes the kernel
 * copy that one page for the writer (copy-on-write).  So the stack, the heap, the globals and
 * every MAP_PRIVATE mapping are copied -- lazily, a page at a time -- and what either process
 * writes there after fork() stays its own.  A MAP_SHARED mapping is the exception: fork() gives
 * the child the very same pages, never a copy, and a write by either is seen by the other.
 * MAP_ANONYMOUS makes such pages without a file: they have no name, so only a child made by
 * fork() after mmap(2) can reach them (as only a child can inherit a pipe).  Descriptors
 * are copied, and the copies share their open files (offsets included); record locks and
 * timers are not inherited at all.
 *
 * Here the parent maps 1 MiB, forks, writes a note into the mapping and tells the child, through
 * a pipe, to look at it: the child says whether it sees the note (the parent to the child).
 * Then the child copies stdin into the mapping and exits; the parent, once waitpid(2) says the
 * child has ended, prints what the mapping holds (the child to the parent).  With -p the
 * mapping is MAP_PRIVATE: each write lands in a copy of its writer's, so the child never sees
 * the note and the parent prints what it had before fork(): nothing.
 *
 * Run it (one terminal: both sides are this one program):
 *     printf 'hello\n' | ./shm/mmap_fork        # MAP_SHARED
 *     printf 'hello\n' | ./shm/mmap_fork -p     # MAP_PRIVATE
 * What you should see without -p (pids vary):
 *     mmap_fork: parent 4242 prints the mapping, child 4243 writes stdin into it (MAP_SHARED)
 *     mmap_fork: child: the parent's note, written after fork(): "parent 4242 was here"
 *     mmap_fork: child: 6 bytes of stdin copied into the mapping
 *     mmap_fork: parent: the child has ended; the mapping holds 6 bytes
 *     hello
 * and with -p, no note for the child, and the parent: "the mapping holds 0 bytes, as before
 * fork(): the child wrote into copies of its own".
 *
 * Beyond the seeds.  Build alone: cc -o mmap_fork mmap_fork.c
 */
#define _GNU_SOURCE /* MAP_ANONYMOUS: in POSIX only since POSIX.1-2024 */

#include <poll.h>
#include <sys/mman.h>

#include "../common/ipclab.h"

static const char usage[] =
    "usage: mmap_fork [-p]\n"
    "  The child copies stdin into an anonymous mapping made before fork(); the parent prints\n"
    "  what the mapping holds once the child has ended (at most 1048576 bytes).\n"
    "  -p  MAP_PRIVATE instead of MAP_SHARED: the child's writes go to copies of its own, and\n"
    "      the parent never sees them\n"
    "  -h  show this help\n";

/* What the mapping holds: a note from the parent, then the child's data. */
struct shared {
    char note[64];    /* written by the parent after fork() */
    size_t len;       /* bytes of data the child has copied */
    char data[1048576];
};

/* -p: MAP_PRIVATE instead of MAP_SHARED; returns the flag */
static int parse_args(int argc, char *argv[])
{
    int flags = MAP_SHARED, opt;

    ipclab_stderr_by_line();
    ipclab_std_fds();
    while ((opt = getopt(argc, argv, ":hp")) != -1) {
        if (opt == 'p') {
            flags = MAP_PRIVATE;
        } else {
            ipclab_other_option(usage, opt, argv); /* -h, or a usage error */
        }
    }
    if (optind < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    return flags;
}

/* Child: wait for the parent's word, say whether its note is here, copy stdin into m->data.
 * pipe_rd stays open: POLLHUP on it means the parent has gone.  Returns the exit status. */
static int child(struct shared *m, int pipe_rd)
{
    char word;

    /* The parent writes the byte only after its note: once read() returns it, the note (if the
     * page is shared) is there.  A pipe is a real synchronisation; a sleep would be a guess. */
    if (read(pipe_rd, &word, 1) != 1)
        errx(IPCLAB_EXIT_FAIL, "child: the parent has gone before its word");
    if (m->note[0] != '\0')
        warnx("child: the parent's note, written after fork(): \"%s\"", m->note);
    else
        warnx("child: no note from the parent: its write after fork() went to a copy of its own");

    struct pollfd fds[2] = { { .fd = STDIN_FILENO, .events = POLLIN }, { .fd = pipe_rd } };
    for (;;) {
        if (poll(fds, 2, -1) == -1)
            err(IPCLAB_EXIT_FAIL, "child: poll");
        if (fds[1].revents != 0) /* POLLHUP: the parent's write end closed, the parent gone */
            errx(IPCLAB_EXIT_FAIL, "child: the parent has gone: nobody will print the mapping; "
                 "stopping");
        size_t room = sizeof m->data - m->len;
        /* read(2) straight into the mapping: the kernel writes into the shared pages */
        ssize_t n = room > 0 ? read(STDIN_FILENO, m->data + m->len, room)
                             : read(STDIN_FILENO, &word, 1);
        if (n == -1)
            err(IPCLAB_EXIT_FAIL, "child: read stdin");
        if (n == 0)
            break;
        if (room == 0)
            errx(IPCLAB_EXIT_FAIL, "child: input beyond the mapping's %zu bytes: the rest is not "
                 "copied", sizeof m->data);
        m->len += (size_t)n;
    }
    warnx("child: %zu bytes of stdin copied into the mapping", m->len);
    close(pipe_rd);
    return IPCLAB_EXIT_OK;
}

int main(int argc, char *argv[])
{
    int flags = parse_args(argc, argv);
    /* Nothing here has a name to remove: the kernel frees the mapping with its last process,
     * however it ends, so termination signals keep their default action. */
    ipclab_ignore_sigpipe(); /* and SIGXFSZ: EPIPE and EFBIG are said, not a silent death */
    ipclab_ignore_sigxfsz();

    /* 1. fd -1, offset 0: no file behind the pages.  They come zero-filled: note and len empty. */
    struct shared *m = mmap(NULL, sizeof *m, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) /* (void *)-1, not NULL */
        err(IPCLAB_EXIT_FAIL, "mmap");
    int word[2]; /* the parent's "look now"; its end of file tells the child the parent is gone */
    if (pipe(word) == -1)
        err(IPCLAB_EXIT_FAIL, "pipe");

    /* 2. fork(): from here on, two processes, one mapping. */
    pid_t pid = fork();
    if (pid == -1)
        err(IPCLAB_EXIT_FAIL, "fork");
    if (pid == 0) {
        close(word[1]); /* or the child would never see the parent's end close */
        _exit(child(m, word[0]));
    }
    close(word[0]);
    warnx("parent %ld prints the mapping, child %ld writes stdin into it (%s)", (long)getpid(),
          (long)pid, flags == MAP_SHARED ? "MAP_SHARED" : "MAP_PRIVATE");

    /* 3. The parent's note, written after fork(), then the word that says "look now". */
    snprintf(m->note, sizeof m->note, "parent %ld was here", (long)getpid());
    if (write(word[1], "!", 1) == -1)
        warn("parent: write to the child");

    /* 4. waitpid() returns once the child has ended: every write it made is done, and in the
     * parent's view of the mapping if the pages are shared. */
    int status;
    if (waitpid(pid, &status, 0) == -1)
        err(IPCLAB_EXIT_FAIL, "waitpid");
    close(word[1]);
    if (flags == MAP_SHARED)
        warnx("parent: the child has ended; the mapping holds %zu bytes", m->len);
    else
        warnx("parent: the child has ended; the mapping holds %zu bytes, as before fork(): the "
              "child wrote into copies of its own", m->len);
    ssize_t n;
    for (size_t done = 0; done < m->len; done += (size_t)n)
        if ((n = write(STDOUT_FILENO, m->data + done, m->len - done)) == -1)
            err(IPCLAB_EXIT_FAIL, "parent: write stdout");

    /* 5. munmap(): the pages go with the last process that maps them. */
    if (munmap(m, sizeof *m) == -1)
        err(IPCLAB_EXIT_FAIL, "munmap");
    if (WIFSIGNALED(status))
        warnx("parent: the child was killed by signal %d", WTERMSIG(status));
    return WIFEXITED(status) ? WEXITSTATUS(status) : IPCLAB_EXIT_FAIL;
}
