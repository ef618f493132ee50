/*
 * ipclab.h - the plumbing every ipclab program would otherwise write again, none of the calls
 * it teaches (tests/lesson.bats).  Static inline: each program builds alone with cc.  I/O,
 * arguments, status lines, the run directory and signals; beside it peers.h (record locks, a
 * SIGALRM every 200 ms), sysv.h (key files), sockets.h (socket plumbing and guards).
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

/* One chunk of the interactive streams: PIPE_BUF bytes, so a pipe write of one is atomic. */
#define IPCLAB_CHUNK 4096

/* One chunk of the streams a whole file goes through (the FIFO and stream socket pairs):
 * 128 KiB, as cat(1) reads, twice a pipe's default capacity (pipe(7)). */
#define IPCLAB_STREAM_CHUNK 131072

/* The termination signal caught (see ipclab_catch_signals), 0 if none.  Defined, not static:
 * a second .c file including this header fails to link rather than miss the signal. */
volatile sig_atomic_t ipclab_signal;

/* ---------------------------------------------------------------- I/O */

/* Write all len bytes (write(2) may take fewer), ipclab_signal looked at before each call.
 * Returns 0, or -1 with errno (EINTR: a termination signal); *written: what write() took. */
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

/* read(2), with ipclab_signal looked at before every call, as ipclab_write_all() does. */
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

/* Read until len bytes have arrived or end of file: a stream keeps no message boundaries.
 * Returns the bytes read (fewer than len only at end of file), or -1 with errno set. */
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

/* An option the caller's loop does not take itself: -h (or "--help") prints the usage and
 * exits 0; anything else getopt(3) returned ('?', or ':' -- the option string starts with ':')
 * is a usage error. */
/* cppcheck-suppress constParameter ; main's char *argv[] would not convert to const char *const[] in C */
static inline _Noreturn void ipclab_other_option(const char *usage, int opt, char *const argv[])
{
    const char *arg = argv[optind];

    if (opt == 'h' || (optopt == '-' && arg != NULL && strcmp(arg, "--help") == 0)) {
        fputs(usage, stdout);
        exit(IPCLAB_EXIT_OK);
    }
    if (opt == ':')
        ipclab_usage_error(usage, "option -%c needs an argument", optopt);
    if (optopt == '-' && arg != NULL && strncmp(arg, "--", 2) == 0)
        ipclab_usage_error(usage, "unknown option %s (the one long option is --help)", arg);
    ipclab_usage_error(usage, "unknown option -%c", optopt);
}

/* -p PATH: copy arg into buf (size PATH_MAX), or a usage error if it is empty or too long. */
static inline void ipclab_path_arg(char *buf, size_t size, const char *arg, const char *usage)
{
    if (arg[0] == '\0' || strlen(arg) >= size)
        ipclab_usage_error(usage, "-p wants a path of 1 to %zu bytes", size - 1);
    memcpy(buf, arg, strlen(arg) + 1);
}

/* -p /NAME for a POSIX object: a slash, then 1 to NAME_MAX bytes with no other slash. */
static inline void ipclab_posix_name_arg(char *buf, size_t size, const char *arg,
                                         const char *usage)
{
    size_t len = strlen(arg);

    if (arg[0] != '/' || len < 2 || len > NAME_MAX || len >= size || strchr(arg + 1, '/') != NULL)
        ipclab_usage_error(usage, "-p wants a name like /myname: a slash, then 1 to %d bytes "
                           "with no other slash, not '%s'", NAME_MAX - 1, arg);
    memcpy(buf, arg, len + 1);
}

/* The options of a program whose one option is -p (take: ipclab_path_arg or
 * ipclab_posix_name_arg); -h prints the usage.  Returns the index of the first operand. */
static inline int ipclab_options_p(int argc, char *argv[], const char *usage,
                                   void (*take)(char *, size_t, const char *, const char *),
                                   char *buf, size_t size)
{
    int opt;

    while ((opt = getopt(argc, argv, ":hp:")) != -1) {
        if (opt == 'p') {
            take(buf, size, optarg, usage);
        } else {
            ipclab_other_option(usage, opt, argv); /* -h, or a usage error */
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

/* Call first in main(): each status line leaves in one write(2), so that the lines of a parent
 * and its child sharing a stderr never cut each other. */
static inline void ipclab_stderr_by_line(void)
{
    setvbuf(stderr, NULL, _IOLBF, BUFSIZ);
}

/* Call first in main(): a closed descriptor 0, 1 or 2 becomes /dev/null opened the wrong way
 * (using it still fails), so that the program's first open(), shm_open() or socket() never
 * takes its number and the program never prints into its own FIFO or socket. */
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

/* Refuse (exit 1) a run directory with a ".." component, or whose path passes through a
 * symbolic link owned by neither root nor us.  The last component is the caller's. */
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

/* The run directory in buf: $IPCLAB_DIR, else $XDG_RUNTIME_DIR/ipclab, else /tmp/ipclab-<uid>;
 * made 0700 if missing.  Refused (exit 1) unless a directory of ours nobody else can enter. */
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

/* An object we did not create may have been made first by another user: true if owner is us
 * and mode gives others nothing; otherwise says why and returns false. */
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
 * SIGINT, SIGTERM and SIGHUP are caught so that a program removes what it made and still ends
 * within 0.5 s: after ipclab_cleanup_at_exit() the handler does an async-signal-safe cleanup
 * and dies of the signal; otherwise it records the signal in ipclab_signal, every loop looks at
 * it, and main cleans up and dies of it (ipclab_die_of_signal).  README.md, "Decisions".
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
/* From now on clean() runs at every exit -- return from main, exit(), err() -- and on a
 * termination signal, in the handler (async-signal-safe calls only), which then says so and
 * dies of it.  NULL: nothing to remove yet, a signal ends the program at once.  After
 * ipclab_catch_signals(); once more with what to remove, once that exists. */
static inline void ipclab_nothing_to_clean(void)
{
}

static inline void ipclab_cleanup_at_exit(void (*clean)(void))
{
    if (clean != NULL && atexit(clean) != 0)
        errx(IPCLAB_EXIT_FAIL, "atexit");
    ipclab_name = program_invocation_short_name;
    atomic_signal_fence(memory_order_release); /* the name, and what clean() uses, set first */
    ipclab_cleanup = clean != NULL ? clean : ipclab_nothing_to_clean;
    if (ipclab_signal)
        ipclab_on_signal(ipclab_signal);
}
#endif

#endif /* IPCLAB_H */
