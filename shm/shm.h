/*
 * shm.h - what shm_writer and shm_reader share: the options, the segment's layout, the two
 * signals, the look at the peer, and the guards (the FIFO, the reader's PID, the segment found).
 * The lesson's calls (ftok, shmget, shmat, shmdt, shmctl, mkfifo, open, kill, sigsuspend) are
 * in the two programs.  Include it after ../common/sysv.h.
 */
#ifndef SHM_H
#define SHM_H

#include <dirent.h>
#include <poll.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "../fifo/fifo.h" /* the FIFO's guards: guard_fifo_is_ours(), guard_opened_fifo_is_ours() */

/* The seed's SHM_SIZE: the whole segment, header included; ftok(3)'s project id. */
#define SHM_SIZE 4096
#define SHM_PROJ 'b'

/* The segment: the writer's pid, then how many bytes of data are valid (0: the end). */
struct shm_area {
    long writer_pid; /* whom the reader answers */
    long len;        /* any bytes pass, NULs included */
    char data[SHM_SIZE - 2 * sizeof(long)];
};

/* The writer says "a buffer is ready" with SIGUSR1, the reader "done with it" with SIGUSR2. */
#define SHM_NOTE SIGUSR1
#define SHM_ACK SIGUSR2

/* -p PATH (the key file; the FIFO is PATH.fifo), then stderr by line and 0-2 open. */
static inline void shm_options(int argc, char *argv[], const char *usage, char *path,
                               char *fifo)
{
    ipclab_stderr_by_line();
    ipclab_std_fds();
    path[0] = '\0';
    if (ipclab_options_p(argc, argv, usage, ipclab_path_arg, path, PATH_MAX) < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (path[0] == '\0')
        ipclab_run_path(path, PATH_MAX, "shm");
    if (snprintf(fifo, PATH_MAX, "%s.fifo", path) >= PATH_MAX)
        ipclab_usage_error(usage, "-p: the path is too long");
}

static volatile sig_atomic_t shm_signalled; /* SHM_NOTE (reader) or SHM_ACK (writer) came */

static inline void shm_on_signal(int signo)
{
    (void)signo;
    shm_signalled = 1;
}

/*
 * Catch SIGINT, SIGTERM and SIGHUP (the handler notes the signal), ask for a SIGALRM every
 * 200 ms (each ends a blocked call with EINTR, to look at the peer), and catch signo, blocked
 * until the sigsuspend(*waitmask) that waits for it: one sent early stays pending, not lost.
 */
static inline void shm_catch(int signo, sigset_t *waitmask)
{
    struct sigaction sa = { .sa_handler = shm_on_signal };
    sigset_t block;

    ipclab_catch_signals();
    ipclab_start_ticks();
    sigemptyset(&sa.sa_mask);
    sigemptyset(&block);
    sigaddset(&block, signo);
    /* Fix: sigaction(), not signal(): System V's signal() resets the handler after one. */
    if (sigaction(signo, &sa, NULL) == -1 || sigprocmask(SIG_BLOCK, &block, waitmask) == -1)
        err(IPCLAB_EXIT_FAIL, "sigaction");
    sigdelset(waitmask, signo);
}

/* A call failed: say so (unless a termination signal ended it) and exit 1. */
static inline _Noreturn void shm_die(const char *what)
{
    if (errno != EINTR || !ipclab_signal)
        warn("%s", what);
    exit(IPCLAB_EXIT_FAIL);
}

/*
 * A blocked call was interrupted: exit 1 if by a termination signal, or if the peer has gone
 * -- its end of the FIFO closed: POLLHUP on the writer's read end, POLLERR on the reader's
 * write end -- unless its answer is already pending (a peer may answer and then exit).
 */
static inline void shm_exit_if_gone(int fifo_fd, const char *peer, const sigset_t *waitmask)
{
    struct pollfd p = { .fd = fifo_fd, .events = 0 };
    sigset_t pending;

    if (ipclab_signal)
        exit(IPCLAB_EXIT_FAIL);
    if (shm_signalled || sigpending(&pending) == -1 ||
        (sigismember(&pending, SHM_NOTE) && !sigismember(waitmask, SHM_NOTE)) ||
        (sigismember(&pending, SHM_ACK) && !sigismember(waitmask, SHM_ACK)))
        return;
    if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)) != 0)
        errx(IPCLAB_EXIT_FAIL, "the %s has gone (its end of the FIFO closed)", peer);
}

/* ---------------------------------------------------------------- guards (README: hardening) */

/* Close the FIFO (fd; -1: not open) and remove it if it is one of ours closed to others. */
static inline void shm_remove_fifo(const char *path, int fd)
{
    struct stat st;

    if (fd != -1)
        close(fd);
    if (lstat(path, &st) == 0 && S_ISFIFO(st.st_mode) && st.st_uid == geteuid() &&
        (st.st_mode & 077) == 0 && unlink(path) == -1 && errno != ENOENT)
        warn("cannot remove %s", path);
}

/* Leaving: at the write lock on byte 0 of the key file, remove it (if it still is the key file
 * open on keyfd; -1: none), and close it. */
static inline void shm_remove_key_file(const char *path, int keyfd)
{
    if (keyfd == -1)
        return;
    if (ipclab_door_to_leave(keyfd, 0) == 0)
        ipclab_key_file_remove(path, keyfd);
    close(keyfd);
}

/* Does process pid hold open the FIFO we have open on fd?  Every descriptor of a process is a
 * link in /proc/PID/fd (Linux).  1 if it does, 0 if not, -1 if we cannot look (said). */
static inline int shm_holds_fifo(pid_t pid, int fd)
{
    char dir[64], link[PATH_MAX];
    struct stat ours, st;
    bool found = false;

    snprintf(dir, sizeof dir, "/proc/%ld/fd", (long)pid);
    if (kill(pid, 0) == -1 || fstat(fd, &ours) == -1)
        return 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        if (errno == ENOENT || errno == EACCES) /* gone, or another user's */
            return 0;
        warn("cannot tell whether pid %ld holds the FIFO open: %s", (long)pid, dir);
        return -1;
    }
    for (struct dirent *e; !found && (e = readdir(d)) != NULL;) {
        snprintf(link, sizeof link, "%s/%s", dir, e->d_name);
        found = e->d_name[0] != '.' && stat(link, &st) == 0 && st.st_ino == ours.st_ino &&
                st.st_dev == ours.st_dev;
    }
    closedir(d);
    return found ? 1 : 0;
}

/*
 * The PID read (n bytes of it) from the FIFO on fd: a whole pid_t, positive, and a process that
 * holds the FIFO open, or exit 1.  Fix: kill(0, ...) would signal our own process group,
 * kill(-1, ...) every process we own, and any other pid a bystander.
 */
static inline void guard_pid_is_the_reader(pid_t pid, ssize_t n, int fd, const char *fifo)
{
    if (n != (ssize_t)sizeof pid)
        errx(IPCLAB_EXIT_FAIL, "%s closed after %zd of the %zu bytes of a PID: the reader has "
             "gone", fifo, n, sizeof pid);
    if (pid <= 0)
        errx(IPCLAB_EXIT_FAIL, "refusing the PID %ld from %s: kill() of it would signal %s",
             (long)pid, fifo, pid == -1 ? "every process we may signal"
                              : pid == 0 ? "our whole process group" : "a whole process group");
    int holds = shm_holds_fifo(pid, fd);
    if (holds == 0)
        errx(IPCLAB_EXIT_FAIL, "refusing the PID %ld from %s: no process of ours with the FIFO "
             "open has it", (long)pid, fifo);
    if (holds != 1)
        exit(IPCLAB_EXIT_FAIL);
}

/*
 * What the segment says, read once: a length that fits room, and a writer pid that holds the
 * FIFO on fd (looked up once per pid: *checked).  Fix: whoever can write the segment chooses
 * the pid, and so the process our SIGUSR2 would kill.
 */
static inline void guard_segment_names_the_writer(long len, pid_t writer, size_t room, int fd,
                                                  pid_t *checked)
{
    if (len < 0 || (size_t)len > room || writer <= 0)
        errx(IPCLAB_EXIT_FAIL, "the segment holds nonsense (length %ld, writer %ld): not our "
             "writer?", len, (long)writer);
    if (writer == *checked)
        return;
    int holds = shm_holds_fifo(writer, fd);
    if (holds == 0)
        errx(IPCLAB_EXIT_FAIL, "refusing to signal the PID %ld the segment names as the "
             "writer's: no process of ours with the FIFO open has it", (long)writer);
    if (holds != 1)
        exit(IPCLAB_EXIT_FAIL);
    *checked = writer;
}

/*
 * The segment shmid (key from path), whose IPC_STAT is *ds: ours to use?  Its creator (cuid)
 * and owner must be us and its mode closed to others, or exit 1, the segment left as it is.
 * Fix: root's shmget() grants a segment of any mode; another user may make one on our key.
 */
static inline void guard_segment_is_ours(int shmid, const char *path, const struct shmid_ds *ds)
{
    char what[PATH_MAX + 64];

    snprintf(what, sizeof what, "segment %d (key from %s)", shmid, path);
    if (!ipclab_sysv_trusted(what, &ds->shm_perm))
        exit(IPCLAB_EXIT_FAIL);
}

#endif /* SHM_H */
