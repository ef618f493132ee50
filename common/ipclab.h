/*
 * ipclab.h - the plumbing every ipclab program would otherwise write again.
 *
 * Plumbing only: none of the calls a program is there to teach (pipe, mkfifo, msgget, shmat,
 * mq_open, shm_open, socket, bind, listen, accept, connect, getaddrinfo ...) is made here;
 * each program makes its own, where a student reading it finds them (tests/lesson.bats keeps
 * it so).  What is here is what a student should not have to read first: options, status
 * lines, the run directory, signals, complete reads and writes, who-is-there locks and ticks,
 * and the checks that keep a program from trusting what it finds.
 *
 * Header-only: every function is static inline (a program that leaves one unused gets no
 * warning), so each program still builds on its own with `cc -o /tmp/x fifo/fifo_reader.c`
 * and no library.  The including file chooses its feature-test macro before any #include;
 * this header needs POSIX.1-2008, and ipclab_poll() _GNU_SOURCE.
 *
 *   I/O         ipclab_write_all()   write everything, across partial writes and EINTR
 *               ipclab_read()        read(2) with EINTR retried
 *               ipclab_read_full()   read exactly n bytes unless EOF comes first
 *               ipclab_upcase()      the toolkit's echo service: upper-case ASCII letters
 *               ipclab_send_greetings()  the seeds' "hello" loop, made finite
 *   processes   ipclab_wait_child()  reap a child and say how it ended
 *   arguments   ipclab_parse_long()  strtol(3) with every check; ipclab_usage_error();
 *               ipclab_path_arg()    the -p PATH option; ipclab_bad_option()
 *               ipclab_posix_name_arg(), ipclab_posix_name()  -p /NAME for POSIX objects
 *   run dir     ipclab_run_path()    $IPCLAB_DIR, $XDG_RUNTIME_DIR/ipclab or /tmp/ipclab-UID,
 *                                    created 0700 and refused if anyone else could get in
 *   trust       ipclab_trusted()     refuse an object found rather than made unless it is ours
 *                                    and closed to others; ipclab_sysv_trusted() (IPC_STAT's)
 *   signals     ipclab_catch_signals(), ipclab_signal, ipclab_die_of_signal(),
 *               ipclab_poll(), ipclab_poll_timed() (need _GNU_SOURCE: ppoll)
 *   peers       ipclab_lock(), ipclab_lock_holder()  who is there, by fcntl record locks;
 *               ipclab_door_to_leave()  the door taken to remove what was shared
 *               ipclab_deadline()    an absolute time for mq_timedsend, sem_timedwait ...
 *               ipclab_key_file_open(), ipclab_key_file_remove()  the file a key or lock lives in
 *                                    (marked IPCLAB_KEY_MARK: never the user's own file)
 *               ipclab_start_ticks(), ipclab_stop_ticks(), ipclab_tick  wake a blocked call 5
 *                                    times a second (need _XOPEN_SOURCE: setitimer)
 *   sockets     (need _GNU_SOURCE) ipclab_sun() (sockaddr_un, a long path refused),
 *               ipclab_socket_path_free() (before bind: a stale socket of ours removed,
 *               anything else refused), ipclab_sun_answers() (is a server there?),
 *               ipclab_server_is_ours() (SO_PEERCRED: a client's check of its server),
 *               ipclab_remove_socket(); ipclab_addr_str() ("ADDRESS port PORT"),
 *               ipclab_local_addr() (ours, so), ipclab_port_arg() (-P PORT);
 *               ipclab_sun_str(), ipclab_udp_bad_source(), ipclab_fd_spare(): the servers'
 *               guards against what a peer hands them
 *   errors      ipclab_fail()        warn (unless EINTR), return -1; ipclab_peer_cred()
 *                                    SO_PEERCRED of a connected UNIX socket
 *   status      ipclab_ready()       the "<program>: ready" line tests and demos wait for;
 *               ipclab_stderr_by_line()  one write(2) per status line; ipclab_std_fds()
 *                                    descriptors 0-2 never closed (call both first)
 */
#ifndef IPCLAB_H
#define IPCLAB_H

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(_GNU_SOURCE)
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#endif
#if defined(_XOPEN_SOURCE) || defined(_GNU_SOURCE)
#include <sys/time.h>
#endif

/* Exit statuses of the command-line contract (README.md, "The command-line contract"). */
enum { IPCLAB_EXIT_OK = 0, IPCLAB_EXIT_FAIL = 1, IPCLAB_EXIT_USAGE = 2 };

/* One chunk of a stream copy: PIPE_BUF bytes, so a pipe write of one chunk is atomic. */
#define IPCLAB_CHUNK 4096

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
 * nearly full, a signal), so loop until everything is out.  An EINTR is retried unless a
 * termination signal was caught, so Ctrl-C still ends a blocked writer.  Returns 0, or -1
 * with errno set (EPIPE: the reader has gone).
 */

static inline int ipclab_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n == -1) {
            if (errno == EINTR && !ipclab_signal)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * read(2), with an EINTR retried unless a termination signal was caught (as ipclab_write_all
 * does).  Returns what read() returns: bytes read, 0 at end of file, -1 with errno set.
 */
static inline ssize_t ipclab_read(int fd, void *buf, size_t len)
{
    ssize_t n;

    do
        n = read(fd, buf, len);
    while (n == -1 && errno == EINTR && !ipclab_signal);
    return n;
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
 * Put the run directory's name in buf: $IPCLAB_DIR, else $XDG_RUNTIME_DIR/ipclab, else
 * /tmp/ipclab-<uid>.  Create it mode 0700 if it is missing.  Refuse (exit 1) if it is not a
 * directory of ours that nobody else can enter: in a shared /tmp another user could otherwise
 * plant a symlink or a FIFO of their own where our rendezvous names go.
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

/*
 * The same for a System V queue, segment or semaphore set, from the ipc_perm its IPC_STAT gave:
 * its creator (cuid) must be us as well -- IPC_SET hands the owner (uid) to anyone, never the
 * creator.  what names it in the message ("queue 7 (key from PATH)").
 */
static inline bool ipclab_sysv_trusted(const char *what, const struct ipc_perm *perm)
{
    if (perm->cuid != geteuid()) {
        warnx("%s was made by uid %ld, not by you (uid %ld); refusing to use it", what,
              (long)perm->cuid, (long)geteuid());
        return false;
    }
    return ipclab_trusted(what, perm->uid, perm->mode);
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
 * it created.  The handler records the signal and nothing else: the main code sees a blocking
 * call fail with EINTR (the handler is installed without SA_RESTART), finds ipclab_signal set,
 * cleans up outside the handler and then dies of the same signal (ipclab_die_of_signal), so
 * its parent, a shell, sees "killed by SIGINT" as it would without the handler.
 *
 * One blocking call needs more: open(2) on a FIFO, which waits for the peer.  A signal that
 * lands after the program last looked at ipclab_signal but before open() blocks is recorded
 * and then ignored while open() waits.  No call opens a file with signals atomically unblocked
 * (as ppoll and pselect wait), so the FIFO programs run the ticks (below) while they open: a
 * tick ends the wait with EINTR, and the program looks at ipclab_signal again.
 */
static inline void ipclab_on_signal(int signo)
{
    ipclab_signal = signo;
}

static const int ipclab_term_signals[] = { SIGINT, SIGTERM, SIGHUP };

static inline void ipclab_term_sigset(sigset_t *set)
{
    sigemptyset(set);
    for (size_t i = 0; i < sizeof ipclab_term_signals / sizeof ipclab_term_signals[0]; i++)
        sigaddset(set, ipclab_term_signals[i]);
}

/* SIGPIPE would kill us silently when the reader goes away; ignored, write() fails with EPIPE. */
static inline void ipclab_ignore_sigpipe(void)
{
    struct sigaction sa = { .sa_handler = SIG_IGN };

    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPIPE, &sa, NULL) == -1)
        err(IPCLAB_EXIT_FAIL, "sigaction SIGPIPE");
}

/* Catch SIGINT, SIGTERM and SIGHUP (flag only, no SA_RESTART); ignore SIGPIPE. */
static inline void ipclab_catch_signals(void)
{
    struct sigaction sa = { .sa_handler = ipclab_on_signal };

    ipclab_term_sigset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocked read() or write() returns EINTR */
    for (size_t i = 0; i < sizeof ipclab_term_signals / sizeof ipclab_term_signals[0]; i++)
        if (sigaction(ipclab_term_signals[i], &sa, NULL) == -1)
            err(IPCLAB_EXIT_FAIL, "sigaction");
    ipclab_ignore_sigpipe();
}

/* After cleaning up: if a termination signal was caught, die of it; otherwise return. */
static inline void ipclab_die_of_signal(void)
{
    int signo = ipclab_signal;

    if (signo == 0)
        return;
    warnx("%s: cleaned up, leaving", signo == SIGINT ? "SIGINT" : signo == SIGTERM ? "SIGTERM"
                                     : signo == SIGHUP ? "SIGHUP" : "signal");
    struct sigaction sa = { .sa_handler = SIG_DFL };
    sigemptyset(&sa.sa_mask);
    sigaction(signo, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(signo);
    /* cppcheck-suppress unreachableCode ; raise() returns if the signal cannot be delivered */
    _exit(128 + signo);
}

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

/* ---------------------------------------------------------------- peers: locks and ticks */

/*
 * A System V queue or segment, a POSIX queue or shared memory object, says nothing when the
 * process at the other end dies: a msgrcv() or sem_wait() waits on for a peer that will never
 * come back.  Record locks fill the gap.  While a program plays a role (sender, receiver, chat
 * side N), it holds a write lock on one byte of a file both sides open, and the kernel drops
 * that lock when the process ends, however it ends -- SIGKILL included.  So F_GETLK on the
 * peer's byte tells a live peer from one that has vanished.  (Record locks belong to the
 * process: a child does not inherit its parent's.)
 */

/* fcntl(F_SETLK or, with wait, F_SETLKW) on the one byte at offset byte.  type: F_WRLCK,
 * F_RDLCK or F_UNLCK.  Returns 0, or -1 with errno set (EAGAIN or EACCES: someone holds it;
 * EINTR: a termination signal came while we waited). */
static inline int ipclab_lock(int fd, off_t byte, short type, bool wait)
{
    struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1 };
    int rc;

    do
        rc = fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl);
    while (rc == -1 && errno == EINTR && !ipclab_signal);
    return rc;
}

/*
 * Take the door (the write lock on byte byte) to leave: wait for it whatever interrupts the
 * wait -- a tick, a second Ctrl-C -- since whoever holds it holds it only while joining or
 * leaving, and removing an object without it could undo a peer's join.  (A holder stopped with
 * SIGSTOP keeps us waiting, as it keeps its peers; kill -9 still ends us.)  Returns 0, or -1
 * after a message: then remove nothing.
 */
static inline int ipclab_door_to_leave(int fd, off_t byte)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1 };
    int rc;

    while ((rc = fcntl(fd, F_SETLKW, &fl)) == -1 && errno == EINTR)
        ;
    if (rc == -1)
        warn("cannot take the door to leave: leaving everything in place");
    return rc;
}

/* Who holds a lock on the byte at offset byte?  Its pid, 0 if nobody (our own locks do not
 * count), -1 with errno set on error.  byte < 0: anywhere in the file. */
static inline pid_t ipclab_lock_holder(int fd, off_t byte)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte < 0 ? 0 : byte,
                        .l_len = byte < 0 ? 0 : 1 };

    if (fcntl(fd, F_GETLK, &fl) == -1)
        return -1;
    return fl.l_type == F_UNLCK ? 0 : fl.l_pid;
}

/*
 * What every key file holds, and nothing else.  A program given -p PATH removes its key file
 * when it leaves -- and PATH may name a file that is no key file at all: the user's notes,
 * or, run as root, /etc/passwd.  The mark tells the two apart: a program uses a file it finds
 * only if it holds exactly this line, and removes only such a file.
 */
#define IPCLAB_KEY_MARK "ipclab key file\n"

/* Does the file open on fd hold exactly IPCLAB_KEY_MARK? */
static inline bool ipclab_key_file_marked(int fd)
{
    char buf[sizeof IPCLAB_KEY_MARK]; /* one byte more than the mark: a longer file differs */
    ssize_t n = pread(fd, buf, sizeof buf, 0);

    return n == (ssize_t)sizeof buf - 1 && memcmp(buf, IPCLAB_KEY_MARK, sizeof buf - 1) == 0;
}

/*
 * Make the key file path, mark and all, unless something is there already.  It is written
 * under a name of its own (mkstemp(3): mode 0600, a name nobody else has), then link(2)ed to
 * path, which fails with EEXIST if path exists: so the file at path holds the mark from the
 * moment anyone can open it, and what was there before is never touched.  Returns 1 with the
 * new file's inode in *made if we made it, 0 if something was there, -1 after a message.
 */
static inline int ipclab_key_file_make(const char *path, struct stat *made)
{
    char tmp[PATH_MAX];

    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
        warnx("%s: the path is too long for a key file", path);
        return -1;
    }
    int fd = mkstemp(tmp);
    if (fd == -1) {
        warn("cannot create the key file %s", path);
        return -1;
    }
    int rc = ipclab_write_all(fd, IPCLAB_KEY_MARK, sizeof IPCLAB_KEY_MARK - 1) == -1 ||
             fstat(fd, made) == -1 ? -1 : link(tmp, path);
    int saved = errno;
    unlink(tmp);
    close(fd);
    if (rc == 0)
        return 1;
    if (saved == EEXIST)
        return 0;
    errno = saved;
    warn("cannot create the key file %s", path);
    return -1;
}

/*
 * Is fd, opened on path, a key file we may use: a regular file of ours, closed to others
 * (ipclab_trusted), that holds the mark?  If not, says why: nothing is written to it, and
 * nothing removed.
 */
static inline bool ipclab_key_file_ok(int fd, const char *path)
{
    struct stat st;

    if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
        warnx("%s exists and is not a regular file; refusing to use it (remove it, or name "
              "another path with -p)", path);
        return false;
    }
    if (!ipclab_trusted(path, st.st_uid, st.st_mode))
        return false;
    if (!ipclab_key_file_marked(fd)) {
        warnx("%s is not an ipclab key file (it does not hold just the line \"ipclab key "
              "file\"); refusing to use it, and leaving it as it is (name another path with -p)",
              path);
        return false;
    }
    return true;
}

/*
 * Open the key file path -- the file ftok(3) makes a System V key of, and where the role locks
 * live -- creating it (mode 0600, marked: see IPCLAB_KEY_MARK) if it is missing, and hold its
 * door: the write lock on byte 0.  A program holds the door only while it joins (creates or
 * opens the IPC object, takes its role lock) or while it removes the object and the file, so
 * that one program's removal never interleaves with another's creation; release it with
 * ipclab_lock(fd, 0, F_UNLCK, false).  If the file was removed while we waited at the door,
 * the one we hold is no longer the one at path, and we start again.  Fix: the programs opened
 * whatever was at path, O_CREAT and all, and removed it when they left: -p ~/notes lost the
 * notes.  A file found rather than made is used only if ipclab_key_file_ok() says it is a key
 * file, and only a key file is ever removed.  *made says whether this
 * call made the file (so that a program that gives up at once removes only a file of its
 * own).  Returns the descriptor (close-on-exec), or -1: errno EINTR when a termination signal
 * ended the wait, otherwise after a message.
 */
static inline int ipclab_key_file_open(const char *path, bool *made)
{
    for (;;) {
        struct stat ours = { 0 }, st, now;
        int rc = 0;
        if (lstat(path, &st) == -1) {
            if (errno != ENOENT) {
                warn("%s", path);
                return -1;
            }
            if ((rc = ipclab_key_file_make(path, &ours)) == -1)
                return -1;
            if (lstat(path, &st) == -1) {
                if (errno == ENOENT)
                    continue; /* already removed by its last user: start again */
                warn("%s", path);
                return -1;
            }
        }
        /* Never open what is not a regular file: opening a device can do things. */
        if (!S_ISREG(st.st_mode)) {
            warnx("%s exists and is not a regular file; refusing to use it (remove it, or name "
                  "another path with -p)", path);
            return -1;
        }
        int fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd == -1) {
            if (errno == ENOENT)
                continue;
            warn("%s", path);
            return -1;
        }
        if (!ipclab_key_file_ok(fd, path) || fstat(fd, &st) == -1) {
            close(fd);
            return -1;
        }
        *made = rc == 1 && st.st_ino == ours.st_ino && st.st_dev == ours.st_dev;
        if (ipclab_lock(fd, 0, F_WRLCK, true) == -1) {
            int saved = errno;
            if (saved != EINTR)
                warn("lock %s", path);
            close(fd);
            errno = saved;
            return -1;
        }
        if (lstat(path, &now) == 0 && now.st_ino == st.st_ino && now.st_dev == st.st_dev)
            return fd;
        close(fd); /* removed, and maybe made again, while we waited: start again */
    }
}

/*
 * Remove the key file path if it is still the file open on fd, and still a key file (call it
 * holding the door).  Whoever leaves last removes it, whether it made the file or found it: the
 * mark, checked when it was opened and again here, says it is a key file.
 */
static inline void ipclab_key_file_remove(const char *path, int fd)
{
    struct stat st, now;

    if (fstat(fd, &st) == 0 && lstat(path, &now) == 0 && now.st_ino == st.st_ino &&
        now.st_dev == st.st_dev && ipclab_key_file_marked(fd) && unlink(path) == -1 &&
        errno != ENOENT)
        warn("cannot remove %s", path);
}

/* The absolute CLOCK_REALTIME time ms milliseconds from now, as mq_timedreceive(3),
 * mq_timedsend(3) and sem_timedwait(3) want their deadline. */
static inline struct timespec ipclab_deadline(long ms)
{
    struct timespec t;

    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += ms % 1000 * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

#if defined(_XOPEN_SOURCE) || defined(_GNU_SOURCE)
/*
 * A blocking msgrcv(), msgsnd() or sem_wait() has no timeout and no descriptor to poll, so a
 * program that must also look after its peer asks for SIGALRM five times a second.  The
 * handler sets ipclab_tick and nothing else; installed without SA_RESTART, it makes the blocked
 * call fail with EINTR (System V IPC calls and sem_wait() fail with EINTR after any handler, see
 * signal(7)), and the program looks at its peer and waits again.  The same tick closes the gap
 * that ppoll() closes elsewhere: a termination signal that lands just before msgrcv() blocks is
 * seen at the next tick, a fifth of a second later, not never.  The timer is not inherited by
 * a child of fork(): a child that needs ticks starts its own.
 */
#define IPCLAB_TICK_MS 200

volatile sig_atomic_t ipclab_tick; /* not static: see ipclab_signal */

static inline void ipclab_on_tick(int signo)
{
    (void)signo;
    ipclab_tick = 1;
}

static inline void ipclab_start_ticks(void)
{
    struct sigaction sa = { .sa_handler = ipclab_on_tick };
    const struct timeval every = { 0, IPCLAB_TICK_MS * 1000L };
    struct itimerval timer = { every, every };

    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) == -1 || setitimer(ITIMER_REAL, &timer, NULL) == -1)
        err(IPCLAB_EXIT_FAIL, "setitimer");
}

/* Stop the ticks, errno left as it was: call it right after the call they kept waking. */
static inline void ipclab_stop_ticks(void)
{
    const struct itimerval none = { { 0, 0 }, { 0, 0 } };
    int saved = errno;

    if (setitimer(ITIMER_REAL, &none, NULL) == -1)
        err(IPCLAB_EXIT_FAIL, "setitimer");
    errno = saved;
}
#endif

#if defined(_GNU_SOURCE)
/* ---------------------------------------------------------------- UNIX-domain sockets */

/*
 * Fill *sa with path.  Fix: the seeds left sockaddr_un unzeroed and copied the path with
 * strncpy(), which silently cuts a path too long for sun_path (108 bytes on Linux) -- and then
 * binds or connects to another name.  Here the address is zeroed and a long path is an error
 * that says so.  Returns 0, or -1 after a message.
 */
static inline int ipclab_sun(struct sockaddr_un *sa, const char *path)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa->sun_path) {
        warnx("socket path %s is %zu bytes long; a UNIX socket's path holds at most %zu (name "
              "a shorter one with -p)", path, strlen(path), sizeof sa->sun_path - 1);
        return -1;
    }
    memcpy(sa->sun_path, path, strlen(path) + 1);
    return 0;
}

/*
 * Does anything answer on the socket *sa?  A connect() with a socket of type: 1 if something
 * does (a live server, a live client's own address), 0 if nobody does (ECONNREFUSED: the socket
 * file of a process that has gone, a killed one's say), -1 if it cannot tell (errno says why).
 * A datagram connect() sends nothing, so the probe is invisible to whoever is there.
 */
static inline int ipclab_sun_answers(const struct sockaddr_un *sa, int type)
{
    int probe = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (probe == -1)
        return -1;
    int rc = connect(probe, (const struct sockaddr *)sa, sizeof *sa);
    int saved = errno;
    close(probe);
    errno = saved;
    if (rc == 0)
        return 1;
    return saved == ECONNREFUSED ? 0 : -1;
}

/*
 * Make the path sa names free for a server's bind(2) of a socket of type (SOCK_STREAM or
 * SOCK_DGRAM), as APUE's serv_listen() should have.  What is already there decides: nothing --
 * go on; a socket a live server answers on -- refuse, and that server keeps serving; a socket
 * of ours nobody answers on (left by a server that was killed) -- stale: remove it, and say so;
 * anything else, another user's socket included -- refuse, never remove.  (The seeds unlink()ed
 * the path unconditionally, stealing a live server's address, or failed with "Address already
 * in use" on every run after a crash.)  Returns 0, or -1 after a message.
 */
static inline int ipclab_socket_path_free(const struct sockaddr_un *sa, int type)
{
    const char *path = sa->sun_path;
    struct stat st;

    if (lstat(path, &st) == -1)
        return 0;
    if (!S_ISSOCK(st.st_mode)) {
        warnx("%s exists and is not a socket; refusing to use it (remove it, or name "
              "another path with -p)", path);
        return -1;
    }
    if (st.st_uid != geteuid()) {
        warnx("%s is a socket of uid %ld's, not yours (uid %ld); refusing to use or remove "
              "it (name another path with -p)", path, (long)st.st_uid, (long)geteuid());
        return -1;
    }
    int answers = ipclab_sun_answers(sa, type);
    if (answers == 1) {
        warnx("%s is already in use by a running server; refusing to take it over", path);
        return -1;
    }
    if (answers == -1) {
        warn("%s: cannot tell whether a server is there", path);
        return -1;
    }
    if (unlink(path) == -1 && errno != ENOENT) {
        warn("cannot remove the stale socket %s", path);
        return -1;
    }
    warnx("removed the stale socket %s (its server is gone)", path);
    return 0;
}

/*
 * Is the server at the other end of the connected UNIX socket fd one of ours?  A client told
 * to connect to a path outside the run directory (-p /tmp/...) may find another user's server
 * there, which would read what we send -- or, for fd_sender, be handed our open file.  The
 * kernel recorded the server's credentials at listen() time (SO_PEERCRED, unix(7)); the server
 * cannot forge them.  Returns true if its uid is ours; otherwise says so ("the WHO on PATH is
 * uid N's ...; refusing to REFUSING") and returns false.
 */
static inline bool ipclab_server_is_ours(int fd, const char *path, const char *who,
                                         const char *refusing)
{
    struct ucred cred;
    socklen_t len = sizeof cred;

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
        warn("SO_PEERCRED %s", path);
        return false;
    }
    if (cred.uid == geteuid())
        return true;
    warnx("the %s on %s is uid %ld's, not yours (uid %ld); refusing to %s", who, path,
          (long)cred.uid, (long)geteuid(), refusing);
    return false;
}

/* Remove path if it is a socket of ours (never a file, or a socket, someone else put there). */
static inline void ipclab_remove_socket(const char *path)
{
    struct stat st;

    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_uid == geteuid() &&
        unlink(path) == -1 && errno != ENOENT)
        warn("cannot remove %s", path);
}

/* ---------------------------------------------------------------- Internet sockets */

/* The inetsock programs' defaults: the loopback address, so that nothing is reachable from
 * another machine unless -H says so, and one fixed port, below Linux's ephemeral range
 * (32768-60999), for TCP and UDP alike. */
#define IPCLAB_INET_HOST "127.0.0.1"
#define IPCLAB_INET_PORT "5555"

/* Room for "ADDRESS port PORT", the way the toolkit prints an Internet socket address: the
 * longest numeric IPv6 address with a scope (INET6_ADDRSTRLEN + IF_NAMESIZE) and the port. */
#define IPCLAB_ADDR_MAX 96

/* -P PORT: a decimal number from min to 65535 (min 0 for a server: any free port; 1 for a
 * client), kept as the string getaddrinfo(3) wants; or a usage error.  buf holds 6 bytes. */
static inline void ipclab_port_arg(char *buf, size_t size, const char *arg, long min,
                                   const char *usage)
{
    long port;

    if (!ipclab_parse_long(arg, min, 65535, &port))
        ipclab_usage_error(usage, "-P wants a port number from %ld to 65535, not '%s'%s", min,
                           arg, min > 0 && strcmp(arg, "0") == 0 ?
                           " (0, any free port, is for a server)" : "");
    snprintf(buf, size, "%ld", port);
}

/*
 * The options of an inetsock program that has no others: -H HOST (*host then points into
 * argv), -P PORT (see ipclab_port_arg; min_port 0 for a server, 1 for a client), -h; anything
 * else is a usage error (exit 2).  Returns the index in argv of the first operand.
 */
static inline int ipclab_options_inet(int argc, char *argv[], const char *usage,
                                      const char **host, char *port, size_t size, long min_port)
{
    int opt;

    while ((opt = getopt(argc, argv, ":hH:P:")) != -1) {
        if (opt == 'H') {
            *host = optarg;
        } else if (opt == 'P') {
            ipclab_port_arg(port, size, optarg, min_port, usage);
        } else if (opt == 'h') {
            fputs(usage, stdout);
            exit(IPCLAB_EXIT_OK);
        } else {
            ipclab_bad_option(usage, opt, argv);
        }
    }
    if ((*host)[0] == '\0')
        ipclab_usage_error(usage, "-H wants a host name or address");
    return optind;
}

/*
 * Put "ADDRESS port PORT" in buf, both numeric (getnameinfo(3) with NI_NUMERICHOST and
 * NI_NUMERICSERV: no name lookup).  Fix: seed 000 put the AF_INET peer in a struct sockaddr_un,
 * and converted nothing back to host byte order; getnameinfo() knows every family.
 */
static inline void ipclab_addr_str(const struct sockaddr *sa, socklen_t len, char *buf,
                                   size_t size)
{
    char host[64], port[8]; /* numeric: INET6_ADDRSTRLEN (46) and a scope (IF_NAMESIZE, 16) */

    if (getnameinfo(sa, len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        snprintf(buf, size, "an address of family %d", sa->sa_family);
    else
        snprintf(buf, size, "%s port %s", host, port);
}

/* Put the local address of socket fd in buf, as ipclab_addr_str() does: for a client, the port
 * the kernel gave it at connect().  Exits (status 1) if getsockname(2) fails. */
static inline void ipclab_local_addr(int fd, char *buf, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
        err(IPCLAB_EXIT_FAIL, "getsockname");
    ipclab_addr_str((struct sockaddr *)&ss, len, buf, size);
}

/* ---------------------------------------------------------------- the servers' guards
 *
 * What the socket servers check before they trust what a peer hands them (issue 16):
 * ipclab_sun_str() names a UNIX datagram sender by the address length recvfrom(2) returned,
 * ipclab_udp_bad_source() spots a UDP source no answer may go to, ipclab_fd_spare() tells a
 * poll() loop whether accept(2) has a descriptor to give it.
 */

/* Room for a UNIX socket address as ipclab_sun_str() writes it: "@", each of sun_path's bytes
 * as "\xHH" at worst, and the NUL. */
#define IPCLAB_SUN_STR_MAX (4 * sizeof(((struct sockaddr_un *)0)->sun_path) + 2)

/*
 * Put the name of the UNIX socket address sa, len bytes long (as recvfrom(2) or accept(2)
 * returned it), in buf: its path; "@NAME" for an abstract address (unix(7): sun_path[0] is
 * '\0', and the name is every byte after it, NULs included); "an unbound socket" for an
 * address with no name at all.  The kernel does not NUL-terminate sun_path: a path of the full
 * 108 bytes comes with no NUL, so only len says where it ends.  A byte that is not printable
 * ASCII (a control character, a NUL of an abstract name) or a backslash is written "\xHH":
 * a name is a peer's choice, and must not be able to write escape sequences on our terminal.
 * Returns true if the address has a name (one a reply can be sent to).
 */
static inline bool ipclab_sun_str(const struct sockaddr_un *sa, socklen_t len, char *buf,
                                  size_t size)
{
    size_t head = (size_t)((const char *)sa->sun_path - (const char *)sa); /* offsetof */

    if (len <= head) {
        snprintf(buf, size, "an unbound socket");
        return false;
    }
    size_t n = len - head, at = 0, from = 0;
    if (n > sizeof sa->sun_path)
        n = sizeof sa->sun_path;
    if (sa->sun_path[0] == '\0') {
        at = (size_t)snprintf(buf, size, "@");
        from = 1;
    } else {
        n = strnlen(sa->sun_path, n); /* a path ends at its NUL, if len counts one */
    }
    for (size_t i = from; i < n && at + 5 <= size; i++) {
        unsigned char c = (unsigned char)sa->sun_path[i];
        if (c < 0x20 || c >= 0x7f || c == '\\')
            at += (size_t)snprintf(buf + at, size - at, "\\x%02x", c);
        else
            buf[at++] = (char)c;
    }
    if (at < size)
        buf[at] = '\0';
    return true;
}

/*
 * Why a UDP server must not answer a datagram from from (len bytes), or NULL if it may.  self
 * is the server's own address (getsockname(2)).  Port 0 is nobody's: no socket can be bound
 * to it, so such a datagram was forged.  The server's own address and port: an answer would
 * come back to the server as a new datagram, be answered again, and so on for ever (100% CPU,
 * its output without end) -- one forged datagram starts it, since UDP takes any source
 * address on trust.  A server bound to every address (0.0.0.0, ::) is at its port on each of
 * the machine's addresses: a source with its port is itself if the address is one of the
 * machine's, which is what a trial bind(2) to it (port 0) tells.
 */
static inline const char *ipclab_udp_bad_source(const struct sockaddr_storage *self,
                                                const struct sockaddr *from, socklen_t len)
{
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)self,
                             *f4 = (const struct sockaddr_in *)from;
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)self,
                              *f6 = (const struct sockaddr_in6 *)from;
    bool same, any;

    if (from->sa_family == AF_INET && len >= sizeof *f4) {
        if (f4->sin_port == 0)
            return "its source port is 0, which no socket can have (a forged source)";
        if (self->ss_family != AF_INET || f4->sin_port != s4->sin_port)
            return NULL;
        same = f4->sin_addr.s_addr == s4->sin_addr.s_addr;
        any = s4->sin_addr.s_addr == htonl(INADDR_ANY);
    } else if (from->sa_family == AF_INET6 && len >= sizeof *f6) {
        if (f6->sin6_port == 0)
            return "its source port is 0, which no socket can have (a forged source)";
        if (self->ss_family != AF_INET6 || f6->sin6_port != s6->sin6_port)
            return NULL;
        same = memcmp(&f6->sin6_addr, &s6->sin6_addr, sizeof f6->sin6_addr) == 0;
        any = IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr);
    } else {
        return NULL;
    }
    if (!same && any) {
        struct sockaddr_storage probe_addr;
        int probe = socket(from->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        memcpy(&probe_addr, from, len < sizeof probe_addr ? len : sizeof probe_addr);
        if (from->sa_family == AF_INET)
            ((struct sockaddr_in *)&probe_addr)->sin_port = 0;
        else
            ((struct sockaddr_in6 *)&probe_addr)->sin6_port = 0;
        same = probe != -1 && bind(probe, (struct sockaddr *)&probe_addr, len) == 0;
        if (probe != -1)
            close(probe);
    }
    return same ? "it comes from this server's own address and port (a forged source): the "
                  "answer would come back to the server, be answered, and so on for ever"
                : NULL;
}

/*
 * Has this process a descriptor free, for the connection accept(2) would take?  At the limit
 * of open files (ulimit -n), accept() fails with EMFILE and leaves the connection queued: the
 * listening socket stays readable, and a poll() loop that watches it wakes at once, for ever.
 * A descriptor dup'ed from fd and closed at once says whether there is room.
 */
static inline bool ipclab_fd_spare(int fd)
{
    int spare = fcntl(fd, F_DUPFD_CLOEXEC, 0);

    if (spare == -1)
        return false;
    close(spare);
    return true;
}

#endif

/* ---------------------------------------------------------------- short forms */

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

#if defined(_GNU_SOURCE)
/* Who is at the other end of the connected UNIX socket fd: the pid and uid the kernel recorded
 * at connect() (SO_PEERCRED, unix(7); the peer cannot forge them).  Returns 0, or -1 after a
 * message. */
static inline int ipclab_peer_cred(int fd, struct ucred *cred)
{
    socklen_t len = sizeof *cred;

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) == -1) {
        warn("getsockopt SO_PEERCRED");
        return -1;
    }
    return 0;
}
#endif

#endif /* IPCLAB_H */
