/*
 * ipclab.h - the plumbing every ipclab program would otherwise write again.
 *
 * Plumbing only: none of the calls a program is there to teach (pipe, mkfifo, msgget, shmat,
 * mq_open, shm_open, socket, bind, listen, accept, connect, getaddrinfo ...) is made here or in
 * the other common/ headers; each program makes its own, where a student reading it finds them
 * (tests/lesson.bats keeps it so).  Header-only: every function is static inline, so each
 * program still builds on its own with `cc -o /tmp/x fifo/fifo_reader.c` and no library.  The
 * including file chooses its feature-test macro before any #include (ipclab_poll() needs
 * _GNU_SOURCE: ppoll).
 *
 *   I/O         ipclab_write_all(), ipclab_write_counted(), ipclab_read(), ipclab_read_full():
 *               across partial transfers and EINTR; ipclab_upcase(), ipclab_send_greetings()
 *   processes   ipclab_wait_child()
 *   arguments   ipclab_parse_long(), ipclab_usage_error(), ipclab_bad_option(),
 *               ipclab_options_p() with ipclab_path_arg() or ipclab_posix_name_arg()
 *   status      ipclab_stderr_by_line(), ipclab_std_fds() (call both first), ipclab_ready()
 *   run dir     ipclab_run_path(), ipclab_trusted()
 *   signals     ipclab_catch_signals(), ipclab_cleanup_on_signal(), ipclab_signal,
 *               ipclab_die_of_signal(), ipclab_poll(), ipclab_poll_timed(); ipclab_fail()
 *
 * Beside it: peers.h (who is there: record locks, ticks, deadlines), sysv.h (the key file of a
 * System V object, and the check of one found) and sockets.h (socket addresses and the servers' guards).
 */
#ifndef IPCLAB_H
#define IPCLAB_H

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Exit statuses of the command-line contract (README.md, "The command-line contract"). */
enum { IPCLAB_EXIT_OK = 0, IPCLAB_EXIT_FAIL = 1, IPCLAB_EXIT_USAGE = 2 };

/* One chunk of the toolkit's interactive streams (the pipe, socketpair and echo programs):
 * PIPE_BUF bytes, so a pipe write of one chunk is atomic, and a line typed crosses whole. */
#define IPCLAB_CHUNK 4096

/* One chunk of the streams a whole file goes through (fifo_writer and fifo_reader, the UNIX and
 * TCP stream clients and servers): 128 KiB, as cat(1) reads, twice a pipe's default capacity
 * (pipe(7)), so that a read() empties a full pipe and every call moves as much as the kernel
 * can hand over at once.  With 4 KiB the FIFO pair made thirty-two times the calls, and moved
 * a third of what `cat` moves through the same FIFO; the echo pairs moved 2.5 times less. */
#define IPCLAB_STREAM_CHUNK 131072

/*
 * The termination signal caught (see ipclab_catch_signals), 0 if none.
 *
 * This and ipclab_tick below are defined here, not declared static: every ipclab program is
 * one .c file.  Were they static, a second .c file that included this header would get
 * copies of its own, and never see a signal the first file's handler recorded.  As they are,
 * such a program fails to link ("multiple definition of ipclab_signal"): split a program into
 * several files only after moving these definitions into one of them and leaving extern
 * declarations here.
 */
volatile sig_atomic_t ipclab_signal;

/* ---------------------------------------------------------------- I/O */

/*
 * Write all len bytes.  write(2) may write fewer bytes than asked (a pipe or socket that is
 * nearly full, a signal), so loop until everything is out.  ipclab_signal is looked at before
 * every write(), not only after an EINTR: a signal that comes once part is written makes
 * write() return that part, not fail, and a loop whose calls never block never sees an EINTR
 * at all.  Returns 0, or -1 with errno set (EINTR: a termination signal was caught; EPIPE: the
 * reader has gone); *written is the bytes write() took, either way.
 */
static inline int ipclab_write_counted(int fd, const void *buf, size_t len, size_t *written)
{
    const char *p = buf;

    *written = 0;
    while (*written < len) {
        if (ipclab_signal) {
            errno = EINTR;
            return -1;
        }
        ssize_t n = write(fd, p + *written, len - *written);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            return -1;
        *written += (size_t)n;
    }
    return 0;
}

/* ipclab_write_counted(), when only all or nothing matters. */
static inline int ipclab_write_all(int fd, const void *buf, size_t len)
{
    size_t written;

    return ipclab_write_counted(fd, buf, len, &written);
}

/*
 * read(2), with ipclab_signal looked at before every call, as ipclab_write_all does (so a loop
 * that reads a file or /dev/zero, which never blocks, still ends on Ctrl-C).  Returns what
 * read() returns: bytes read, 0 at end of file, -1 with errno set (EINTR: a termination signal).
 */
static inline ssize_t ipclab_read(int fd, void *buf, size_t len)
{
    for (;;) {
        if (ipclab_signal) {
            errno = EINTR;
            return -1;
        }
        ssize_t n = read(fd, buf, len);
        if (n != -1 || errno != EINTR)
            return n;
    }
}

/*
 * Read until len bytes have arrived or EOF comes.  A stream (pipe, FIFO, stream socket) keeps
 * no message boundaries: one read(2) may return any part of what the peer wrote.  Returns the
 * number of bytes read (less than len only at EOF), or -1 with errno set.
 */
static inline ssize_t ipclab_read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    size_t got = 0;

    while (got < len) {
        ssize_t n = ipclab_read(fd, p + got, len - got);
        if (n == -1)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* The reply of the toolkit's echo services: ASCII letters upper-cased, every other byte kept. */
static inline void ipclab_upcase(char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (buf[i] >= 'a' && buf[i] <= 'z')
            buf[i] = (char)(buf[i] - 'a' + 'A');
}

/*
 * The seeds' demo loop, made finite: COUNT writes of "hello N\n", one write() each.  Returns the
 * number of bytes written, or -1 with errno set.
 */
static inline long ipclab_send_greetings(int fd, long count)
{
    long total = 0;

    for (long i = 1; i <= count; i++) {
        char msg[32];
        int len = snprintf(msg, sizeof msg, "hello %ld\n", i);
        if (ipclab_write_all(fd, msg, (size_t)len) == -1)
            return -1;
        total += len;
    }
    return total;
}

/* ---------------------------------------------------------------- processes */

/*
 * Reap child pid and say how it ended if it did not end well.  Returns status (the caller's own
 * verdict) if the child exited 0, else IPCLAB_EXIT_FAIL.  The seeds never waited for their
 * children: a parent must, or the child stays a zombie and its failure goes unseen.
 */
static inline int ipclab_wait_child(pid_t pid, int status)
{
    int wstatus;

    while (waitpid(pid, &wstatus, 0) == -1)
        if (errno != EINTR)
            err(IPCLAB_EXIT_FAIL, "waitpid");
    if (WIFSIGNALED(wstatus)) {
        warnx("parent: child %ld was killed by signal %d (%s)", (long)pid, WTERMSIG(wstatus),
              strsignal(WTERMSIG(wstatus)));
        return IPCLAB_EXIT_FAIL;
    }
    if (WEXITSTATUS(wstatus) != 0)
        return IPCLAB_EXIT_FAIL;
    return status;
}

/* ---------------------------------------------------------------- arguments */

/* Parse a whole decimal number in [min, max]: no sign games, no trailing junk, no overflow. */
static inline bool ipclab_parse_long(const char *s, long min, long max, long *out)
{
    char *end;

    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* A usage error: "<program>: <reason>", then the usage text, on stderr; exit status 2. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static inline _Noreturn void ipclab_usage_error(const char *usage, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vwarnx(fmt, ap);
    va_end(ap);
    fputs(usage, stderr);
    exit(IPCLAB_EXIT_USAGE);
}

/*
 * getopt(3) returned '?' (unknown option) or ':' (missing argument; the option string must
 * start with ':').  getopt's own message would name the program by its whole argv[0]; err(3)
 * and this one use the short name, like every other message.
 *
 * getopt knows only one-letter options, so "--help" reaches it as the letters '-', 'h', 'e' ...
 * of one argument: the first, '-', is unknown (optopt), and optind still points at the argument,
 * which getopt leaves only once it has read all its letters.  "--help" is taken as -h, the habit
 * of every GNU user; any other "--word" is named whole.
 */
/* cppcheck-suppress constParameter ; main's char *argv[] would not convert to const char *const[] in C */
static inline _Noreturn void ipclab_bad_option(const char *usage, int opt, char *const argv[])
{
    const char *arg = argv[optind];

    if (opt == ':')
        ipclab_usage_error(usage, "option -%c needs an argument", optopt);
    if (optopt == '-' && arg != NULL && strncmp(arg, "--", 2) == 0) {
        if (strcmp(arg, "--help") == 0) {
            fputs(usage, stdout);
            exit(IPCLAB_EXIT_OK);
        }
        ipclab_usage_error(usage, "unknown option %s (the one long option is --help)", arg);
    }
    ipclab_usage_error(usage, "unknown option -%c", optopt);
}

/* -p PATH: copy arg into buf (size PATH_MAX), or a usage error if it is empty or too long. */
static inline void ipclab_path_arg(char *buf, size_t size, const char *arg, const char *usage)
{
    if (arg[0] == '\0' || strlen(arg) >= size)
        ipclab_usage_error(usage, "-p wants a path of 1 to %zu bytes", size - 1);
    memcpy(buf, arg, strlen(arg) + 1);
}

/*
 * -p /NAME for a POSIX queue, shared memory object or semaphore: a slash, then 1 to NAME_MAX
 * bytes with no other slash (mq_overview(7), shm_overview(7)).  buf holds NAME_MAX + 2 bytes.
 */
static inline void ipclab_posix_name_arg(char *buf, size_t size, const char *arg,
                                         const char *usage)
{
    size_t len = strlen(arg);

    if (arg[0] != '/' || len < 2 || len > NAME_MAX || len >= size || strchr(arg + 1, '/') != NULL)
        ipclab_usage_error(usage, "-p wants a name like /myname: a slash, then 1 to %d bytes "
                           "with no other slash, not '%s'", NAME_MAX - 1, arg);
    memcpy(buf, arg, len + 1);
}

/*
 * The options of a program whose one option is -p: -h prints the usage on stdout and exits 0;
 * -p ARG goes to take() -- ipclab_path_arg for a path, ipclab_posix_name_arg for a /NAME --
 * which checks it and copies it into buf; anything else is a usage error (exit 2).  Returns
 * the index in argv of the first operand (argc if there is none).
 */
static inline int ipclab_options_p(int argc, char *argv[], const char *usage,
                                   void (*take)(char *, size_t, const char *, const char *),
                                   char *buf, size_t size)
{
    int opt;

    while ((opt = getopt(argc, argv, ":hp:")) != -1) {
        if (opt == 'p') {
            take(buf, size, optarg, usage);
        } else if (opt == 'h') {
            fputs(usage, stdout);
            exit(IPCLAB_EXIT_OK);
        } else {
            ipclab_bad_option(usage, opt, argv);
        }
    }
    return optind;
}

/* The default POSIX name: one per user and program pair, /ipclab-<uid>-<what>. */
static inline void ipclab_posix_name(char *buf, size_t size, const char *what)
{
    snprintf(buf, size, "/ipclab-%ld-%s", (long)geteuid(), what);
}

/* ---------------------------------------------------------------- status */

/*
 * Call first in main().  err(3) and warn(3) write the program name, the message and the newline
 * in separate calls; on an unbuffered stderr each is its own write(2), so when a parent and its
 * child (or the two sides of a demo) share one stderr, a line of one can be cut in two by the
 * other.  Line-buffered, each status line leaves in one write(2) as soon as it is complete, so
 * the ready line is still out at once.  (Every message ends with a newline, so nothing is left
 * in the buffer when a process forks or calls _exit.)
 */
static inline void ipclab_stderr_by_line(void)
{
    setvbuf(stderr, NULL, _IOLBF, BUFSIZ);
}

/*
 * Make sure descriptors 0, 1 and 2 are open before anything else is: call it first.  A program
 * started with one of them closed (`prog >&-`) would otherwise be given that number by its first
 * open(), shm_open() or socket() -- the lowest free one -- and then print into its own FIFO,
 * shared memory object or socket.  A closed one is taken by /dev/null opened the wrong way for
 * it (stdin write-only, stdout and stderr read-only), so that using it still fails with EBADF,
 * as it would have closed.
 */
static inline void ipclab_std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
            continue;
        int null = open("/dev/null", (fd == STDIN_FILENO ? O_WRONLY : O_RDONLY));
        if (null != fd)
            _exit(IPCLAB_EXIT_FAIL); /* /dev/null missing: there is no sane way to say so */
    }
}

/* The ready line: "<program>: ready (pid N): <what>", out at once (see ipclab_stderr_by_line). */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static inline void ipclab_ready(const char *fmt, ...)
{
    char what[PATH_MAX + 128];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    warnx("ready (pid %ld): %s", (long)getpid(), what);
}

/* ---------------------------------------------------------------- run directory */

/*
 * Refuse (exit 1) a run directory whose name has a ".." component, or whose path passes
 * through a symbolic link owned by neither root nor us: another user could point that link,
 * and so our run directory, anywhere.  The last component is left to the caller.
 */
static inline void ipclab_guard_path_has_no_foreign_link(const char *dir)
{
    char prefix[PATH_MAX];
    struct stat st;

    for (size_t start = 0, end;; start = end + 1) {
        end = start + strcspn(dir + start, "/");
        if (end - start == 2 && dir[start] == '.' && dir[start + 1] == '.')
            errx(IPCLAB_EXIT_FAIL, "run directory %s: its name has a \"..\" component; "
                 "refusing to use it", dir);
        if (dir[end] == '\0')
            return; /* the last component: the caller's */
        if (end == start || end >= sizeof prefix)
            continue; /* the root, "//", or too long to be a name */
        memcpy(prefix, dir, end);
        prefix[end] = '\0';
        if (lstat(prefix, &st) == 0 && S_ISLNK(st.st_mode) && st.st_uid != 0 &&
            st.st_uid != geteuid())
            errx(IPCLAB_EXIT_FAIL, "run directory %s: its path passes through %s, a symbolic "
                 "link of uid %ld; refusing to use it", dir, prefix, (long)st.st_uid);
    }
}

/*
 * Put the run directory's name in buf: $IPCLAB_DIR, else $XDG_RUNTIME_DIR/ipclab, else
 * /tmp/ipclab-<uid>.  Create it mode 0700 if it is missing.  Refuse (exit 1) if it is not a
 * directory of ours that nobody else can enter, or if its name passes through another user's
 * symbolic link: in a shared /tmp another user could otherwise plant a symlink or a FIFO of
 * their own where our rendezvous names go.
 */
static inline void ipclab_run_dir(char *buf, size_t size)
{
    const char *env;
    int n;

    if ((env = getenv("IPCLAB_DIR")) != NULL && *env != '\0')
        n = snprintf(buf, size, "%s", env);
    else if ((env = getenv("XDG_RUNTIME_DIR")) != NULL && *env != '\0')
        n = snprintf(buf, size, "%s/ipclab", env);
    else
        n = snprintf(buf, size, "/tmp/ipclab-%ld", (long)geteuid());
    if (n < 0 || (size_t)n >= size)
        errx(IPCLAB_EXIT_FAIL, "run directory name is too long");
    /* lstat("link/") and lstat("link/.") follow the link: drop a trailing "/" or "/." first. */
    while (n > 1 && (buf[n - 1] == '/' || (buf[n - 1] == '.' && buf[n - 2] == '/')))
        buf[--n] = '\0';
    ipclab_guard_path_has_no_foreign_link(buf);

    if (mkdir(buf, 0700) == -1 && errno != EEXIST)
        err(IPCLAB_EXIT_FAIL, "cannot create run directory %s", buf);

    struct stat st;
    if (lstat(buf, &st) == -1)
        err(IPCLAB_EXIT_FAIL, "run directory %s", buf);
    if (!S_ISDIR(st.st_mode))
        errx(IPCLAB_EXIT_FAIL, "run directory %s is not a directory%s; refusing to use it", buf,
             S_ISLNK(st.st_mode) ? " but a symbolic link" : "");
    if (st.st_uid != geteuid())
        errx(IPCLAB_EXIT_FAIL, "run directory %s belongs to uid %ld, not to you (uid %ld); "
             "refusing to use it", buf, (long)st.st_uid, (long)geteuid());
    if ((st.st_mode & 077) != 0)
        errx(IPCLAB_EXIT_FAIL, "run directory %s has mode %03o: others can get in; "
             "refusing to use it (chmod 700 %s)", buf, (unsigned)(st.st_mode & 0777), buf);
}

/*
 * Trust in what we find.  An object this program did not create -- a key file, a System V
 * queue or segment, a POSIX queue or shared memory object -- may have been made first by
 * another user, to read what we send or to feed us what we receive.  Before using one, a
 * program checks who owns it (fstat(2) of its descriptor, or IPC_STAT's ipc_perm: then both
 * uid and cuid, since a creator can hand the uid to someone else) and that nobody else may use
 * it.  Returns true if owner is us and mode gives group and others nothing; otherwise says why
 * ("WHAT belongs to uid N, not to you") and returns false.
 */
static inline bool ipclab_trusted(const char *what, uid_t owner, mode_t mode)
{
    if (owner != geteuid()) {
        warnx("%s belongs to uid %ld, not to you (uid %ld); refusing to use it", what,
              (long)owner, (long)geteuid());
        return false;
    }
    if ((mode & 077) != 0) {
        warnx("%s has mode %03o: other users can use it; refusing to use it", what,
              (unsigned)(mode & 0777));
        return false;
    }
    return true;
}

/* buf = <run directory>/<name>. */
static inline void ipclab_run_path(char *buf, size_t size, const char *name)
{
    char dir[PATH_MAX];

    ipclab_run_dir(dir, sizeof dir);
    int n = snprintf(buf, size, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= size)
        errx(IPCLAB_EXIT_FAIL, "path %s/%s is too long", dir, name);
}

/* ---------------------------------------------------------------- signals */

/*
 * Termination signals (SIGINT, SIGTERM, SIGHUP) are caught so that a program can remove what
 * it created; it must still end within 0.5 s, whatever it is doing.  Two ways, as the cleanup
 * allows:
 *
 * - Async-signal-safe calls only (unlink, close, lstat, geteuid: signal-safety(7)), as the
 *   removal of a socket file is: after ipclab_cleanup_on_signal(), the handler does the cleanup
 *   itself, says so and dies of the signal, wherever the program is -- in poll(), or in a
 *   write() to a stdout that nobody reads.
 * - Otherwise (msgctl, shm_unlink, a wait for a lock), the handler records the signal in
 *   ipclab_signal and nothing else.  Installed without SA_RESTART, it makes a blocked call fail
 *   with EINTR; but a call that does not block (a read of /dev/zero, a write to /dev/null, a
 *   msgrcv with messages waiting) never fails, so every pass of a loop looks at ipclab_signal
 *   (ipclab_read and ipclab_write_all do, before each call), not only an EINTR.  Out of the
 *   loop, main cleans up and dies of the same signal (ipclab_die_of_signal), so its parent, a
 *   shell, sees "killed by SIGINT" as it would without the handler.
 *
 * One blocking call needs more: open(2) on a FIFO, which waits for the peer.  A signal that
 * lands after the program last looked at ipclab_signal but before open() blocks is recorded
 * and then ignored while open() waits.  No call opens a file with signals atomically unblocked
 * (as ppoll and pselect wait), so the FIFO programs run the ticks (peers.h) while they open: a
 * tick ends the wait with EINTR, and the program looks at ipclab_signal again.
 */
static void (*volatile ipclab_cleanup)(void); /* the handler's cleanup, once it does it */
static const char *ipclab_name = "";          /* the program's name, for the handler */

static inline const char *ipclab_signal_name(int signo)
{
    return signo == SIGINT ? "SIGINT" : signo == SIGTERM ? "SIGTERM" : signo == SIGHUP ? "SIGHUP"
                                                                                      : "signal";
}

static const int ipclab_term_signals[] = { SIGINT, SIGTERM, SIGHUP };

static inline void ipclab_term_sigset(sigset_t *set)
{
    sigemptyset(set);
    for (size_t i = 0; i < sizeof ipclab_term_signals / sizeof ipclab_term_signals[0]; i++)
        sigaddset(set, ipclab_term_signals[i]);
}

/* Die of signo as if it had not been caught: the default action of SIGINT, SIGTERM and SIGHUP
 * back, the three unblocked (one pending kills at once), signo raised again.
 * Async-signal-safe calls only: the handler calls it too. */
static inline _Noreturn void ipclab_raise_again(int signo)
{
    struct sigaction sa = { .sa_handler = SIG_DFL };
    sigset_t set;

    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof ipclab_term_signals / sizeof ipclab_term_signals[0]; i++)
        sigaction(ipclab_term_signals[i], &sa, NULL);
    ipclab_term_sigset(&set);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(signo);
    /* cppcheck-suppress unreachableCode ; raise() returns if the signal cannot be delivered */
    _exit(128 + signo);
}

static inline void ipclab_on_signal(int signo)
{
    ipclab_signal = signo;
    void (*clean)(void) = ipclab_cleanup;
    if (clean == NULL)
        return;
    atomic_signal_fence(memory_order_acquire); /* what was set before ipclab_cleanup is seen */
    clean();
    /* "<program>: SIGINT: cleaned up, leaving", in one write(2): warnx() is not safe here */
    const char *part[] = { ipclab_name, ": ", ipclab_signal_name(signo),
                           ": cleaned up, leaving\n" };
    char msg[128];
    size_t len = 0;
    for (size_t i = 0; i < sizeof part / sizeof part[0]; i++)
        for (const char *c = part[i]; *c != '\0' && len < sizeof msg; c++)
            msg[len++] = *c;
    /* Only if stderr takes it within 0.1 s: a stderr nobody reads (a paused pager) would keep
     * us in write() for good, with every termination signal blocked.  Said or not, die. */
    struct pollfd err_out = { .fd = STDERR_FILENO, .events = POLLOUT };
    if (poll(&err_out, 1, 100) == 1 && (err_out.revents & POLLOUT) &&
        write(STDERR_FILENO, msg, len) == -1) {
        /* stderr gone: nothing to say it on */
    }
    ipclab_raise_again(signo);
}

/* SIGPIPE would kill us silently when the reader goes away; ignored, write() fails with EPIPE. */
static inline void ipclab_ignore_sigpipe(void)
{
    struct sigaction sa = { .sa_handler = SIG_IGN };

    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPIPE, &sa, NULL) == -1)
        err(IPCLAB_EXIT_FAIL, "sigaction SIGPIPE");
}

/* SIGXFSZ would kill us silently when a file passes `ulimit -f`; ignored, write() and
 * ftruncate() fail with EFBIG, reported and cleaned up after like any other failure. */
static inline void ipclab_ignore_sigxfsz(void)
{
    struct sigaction sa = { .sa_handler = SIG_IGN };

    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGXFSZ, &sa, NULL) == -1)
        err(IPCLAB_EXIT_FAIL, "sigaction SIGXFSZ");
}

/* Catch SIGINT, SIGTERM and SIGHUP (flag only, no SA_RESTART); ignore SIGPIPE and SIGXFSZ. */
static inline void ipclab_catch_signals(void)
{
    struct sigaction sa = { .sa_handler = ipclab_on_signal };

    ipclab_term_sigset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocked read() or write() returns EINTR */
    for (size_t i = 0; i < sizeof ipclab_term_signals / sizeof ipclab_term_signals[0]; i++)
        if (sigaction(ipclab_term_signals[i], &sa, NULL) == -1)
            err(IPCLAB_EXIT_FAIL, "sigaction");
    ipclab_ignore_sigpipe();
    ipclab_ignore_sigxfsz();
}

/* After cleaning up: if a termination signal was caught, die of it; otherwise return. */
static inline void ipclab_die_of_signal(void)
{
    int signo = ipclab_signal;

    if (signo == 0)
        return;
    warnx("%s: cleaned up, leaving", ipclab_signal_name(signo));
    ipclab_raise_again(signo);
}

#if defined(_GNU_SOURCE)
/*
 * From now on, a termination signal makes the handler call clean() -- async-signal-safe calls
 * only -- say "<program>: SIGINT: cleaned up, leaving" and die of the signal at once; clean
 * may be NULL, nothing to remove.  Call it once what clean() removes exists (a signal caught
 * before is acted on here and now), after ipclab_catch_signals().
 */
static inline void ipclab_nothing_to_clean(void)
{
}

static inline void ipclab_cleanup_on_signal(void (*clean)(void))
{
    ipclab_name = program_invocation_short_name;
    atomic_signal_fence(memory_order_release); /* the name, and what clean() uses, set first */
    ipclab_cleanup = clean != NULL ? clean : ipclab_nothing_to_clean;
    if (ipclab_signal)
        ipclab_on_signal(ipclab_signal);
}
#endif

#if defined(_GNU_SOURCE)
/*
 * poll(2) without a lost wake-up.  Checking ipclab_signal and then calling poll() leaves a gap:
 * a signal that arrives in between is recorded, and poll() then waits on regardless.  So the
 * termination signals are blocked while we look, and ppoll() unblocks them atomically for the
 * wait itself.  ms is the longest wait in milliseconds, < 0 for no limit.  Returns what ppoll
 * returns (0: the time ran out); -1 with errno EINTR once a signal was caught.  (ppoll is in
 * POSIX.1-2024; glibc declares it only under _GNU_SOURCE.)
 */
static inline int ipclab_poll_timed(struct pollfd *fds, nfds_t nfds, long ms)
{
    const struct timespec limit = { ms / 1000, ms % 1000 * 1000000L };
    sigset_t term, old, during;

    ipclab_term_sigset(&term);
    sigprocmask(SIG_BLOCK, &term, &old);
    int rc;
    if (ipclab_signal) {
        errno = EINTR;
        rc = -1;
    } else {
        during = old;
        for (size_t i = 0; i < sizeof ipclab_term_signals / sizeof ipclab_term_signals[0]; i++)
            sigdelset(&during, ipclab_term_signals[i]);
        rc = ppoll(fds, nfds, ms < 0 ? NULL : &limit, &during);
    }
    int saved = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return rc;
}

/* ipclab_poll_timed() with no time limit. */
static inline int ipclab_poll(struct pollfd *fds, nfds_t nfds)
{
    return ipclab_poll_timed(fds, nfds, -1);
}
#endif

/*
 * A call failed: say so (warn(3): "what: strerror"), unless a termination signal interrupted it
 * -- the program is leaving, and ipclab_die_of_signal() says why.  Returns -1, so that a
 * function can end with `return ipclab_fail("poll");`.
 */
static inline int ipclab_fail(const char *what)
{
    if (errno != EINTR)
        warn("%s", what);
    return -1;
}

#endif /* IPCLAB_H */
