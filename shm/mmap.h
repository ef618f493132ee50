/*
 * mmap.h - what mmap_writer and mmap_reader share: the layout of the file they both map, the
 * checks of a file found, and the SIGBUS that a file truncated under its mapping brings.  The
 * calls of the lesson (open, ftruncate, mmap, msync, munmap) are in the two programs.  Include
 * it after ../common/peers.h, with _GNU_SOURCE (program_invocation_short_name).
 */
#ifndef MMAP_H
#define MMAP_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>

/*
 * The length and the state are C11 atomics in the file: the writer stores them with release
 * order after the data they announce, the reader loads them with acquire order before it reads
 * that data, so a length the reader sees never runs ahead of the bytes.  Across processes only
 * a lock-free atomic works: one that is not would take a lock kept in the process's own
 * memory, which the other process never sees.
 */
#if ATOMIC_INT_LOCK_FREE != 2
#error "the file's length and state need lock-free atomic ints"
#endif

/* The mark that begins every file of ours: a file without it is never written, or removed. */
#define MMAP_MARK "ipclab mmap v1\n" /* 15 bytes and a NUL: the 16 of mark[] */

/* The bytes of the file record-locked (common/peers.h): byte 0 while a writer makes or replaces
 * the file (readers take it shared, to find the file whole); byte 1 while a writer writes --
 * the kernel drops it when the writer ends, kill -9 included. */
enum { MMAP_MAKING = 0, MMAP_WRITER = 1 };

/* The state: the writer's way to say that it is done, since a file has no end of file to wait
 * for (its size is fixed, and reading it never blocks). */
enum { MMAP_WRITING = 0, MMAP_DONE = 1, MMAP_FULL = 2 /* done, but its input did not fit */ };

#define MMAP_DEFAULT_SIZE 1048576L
#define MMAP_MAX_SIZE 1073741824L /* 1 GiB: the length is 32 bits */

/* The file: this header, then size bytes of data.  Native byte order (xxd shows it). */
struct mmap_head {
    char mark[16];          /* MMAP_MARK */
    uint32_t size;          /* bytes of data after the header, fixed when the file is made */
    _Atomic uint32_t len;   /* bytes of data written so far */
    _Atomic uint32_t state; /* MMAP_WRITING, MMAP_DONE or MMAP_FULL */
    uint32_t unused;
    unsigned char data[];
};
_Static_assert(sizeof(struct mmap_head) == 32, "the data begin at byte 32 (0x20)");

/*
 * Before its lock is touched: is the file open on fd a regular file of ours, closed to others?
 * (Its owner could hold byte 0 for ever; whoever else may open it could write what we print.)
 */
static inline bool mmap_found_ok(int fd, const char *path)
{
    struct stat st;

    if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
        warnx("%s exists and is not a regular file; refusing to use it (name another path with "
              "-p)", path);
        return false;
    }
    return ipclab_trusted(path, st.st_uid, st.st_mode);
}

/* Does the file open on fd, of size bytes, begin with our mark and a size that matches it?
 * If not, says so: it is somebody's file, and stays as it is. */
static inline bool mmap_file_ours(int fd, const char *path, off_t size)
{
    char head[20]; /* the mark and the size */
    uint32_t data;

    if (size > (off_t)sizeof(struct mmap_head) && pread(fd, head, sizeof head, 0) == 20 &&
        memcmp(head, MMAP_MARK, 16) == 0) {
        memcpy(&data, head + 16, sizeof data);
        if (data > 0 && data <= MMAP_MAX_SIZE && size == (off_t)(sizeof(struct mmap_head) + data))
            return true;
    }
    warnx("%s is not an ipclab mmap file (it does not begin with the mark \"ipclab mmap v1\" and "
          "a size that matches its %lld bytes); refusing to use it, and leaving it as it is "
          "(name another path with -p)", path, (long long)size);
    return false;
}

/*
 * SIGBUS.  A mapping may be longer than its file: `truncate -s 0 FILE` while we have it mapped
 * leaves our pages pointing past the end.  Touching one raises SIGBUS (not SIGSEGV: the address
 * is mapped, there is just no file behind it); a full file system does the same to a write.
 * Its default action kills us with a core dump and no word, so a handler says what happened
 * and ends the program, calling only async-signal-safe functions (signal-safety(7): write,
 * _exit, memcpy and strlen are; printf and warnx are not).  The message is put together
 * beforehand; the handler adds the byte, in digits of its own.
 */
static char mmap_bus_head[64], mmap_bus_tail[PATH_MAX + 160];
static const unsigned char *mmap_bus_base;

static inline void mmap_on_sigbus(int signo, siginfo_t *info, void *context)
{
    char digits[24], msg[sizeof mmap_bus_head + sizeof digits + sizeof mmap_bus_tail];
    char *p = digits + sizeof digits;
    uintptr_t byte = (uintptr_t)info->si_addr - (uintptr_t)mmap_bus_base;

    (void)signo;
    (void)context;
    do
        *--p = (char)('0' + byte % 10);
    while ((byte /= 10) != 0);
    size_t head = strlen(mmap_bus_head), num = (size_t)(digits + sizeof digits - p);
    memcpy(msg, mmap_bus_head, head);
    memcpy(msg + head, p, num);
    memcpy(msg + head + num, mmap_bus_tail, strlen(mmap_bus_tail));
    if (write(STDERR_FILENO, msg, head + num + strlen(mmap_bus_tail)) == -1)
        _exit(IPCLAB_EXIT_FAIL); /* nothing more to do if stderr fails */
    _exit(IPCLAB_EXIT_FAIL);
}

/* Say what a SIGBUS in the mapping at base, of the file path, means. */
static inline void mmap_catch_sigbus(const char *path, const void *base)
{
    struct sigaction sa = { .sa_sigaction = mmap_on_sigbus, .sa_flags = SA_SIGINFO };

    snprintf(mmap_bus_head, sizeof mmap_bus_head, "%s: SIGBUS at byte ",
             program_invocation_short_name);
    snprintf(mmap_bus_tail, sizeof mmap_bus_tail, " of the mapping of %s: the file is shorter "
             "than its mapping (truncated under us?) or its file system is full; leaving\n", path);
    mmap_bus_base = base;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, NULL) == -1)
        err(IPCLAB_EXIT_FAIL, "sigaction SIGBUS");
}

/* The options of mmap_writer (with_size: -p PATH -s BYTES) and mmap_reader (-p PATH): the
 * path in path (the run directory's "mmap" by default); returns the size (-s, else the default).
 * The reader, which makes nothing, then dies at once of a termination signal. */
static inline long mmap_options(int argc, char *argv[], const char *usage, char *path,
                                size_t path_size, bool with_size)
{
    long size = MMAP_DEFAULT_SIZE;
    int opt;

    ipclab_stderr_by_line();
    ipclab_std_fds();
    while ((opt = getopt(argc, argv, with_size ? ":hp:s:" : ":hp:")) != -1) {
        if (opt == 'p') {
            ipclab_path_arg(path, path_size, optarg, usage);
        } else if (opt == 's') {
            if (!ipclab_parse_long(optarg, 1, MMAP_MAX_SIZE, &size))
                ipclab_usage_error(usage, "-s wants a size from 1 to %ld bytes, not '%s'",
                                   MMAP_MAX_SIZE, optarg);
        } else {
            ipclab_other_option(usage, opt, argv); /* -h, or a usage error */
        }
    }
    if (optind < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (path[0] == '\0')
        ipclab_run_path(path, path_size, "mmap");
    if (!with_size) {
        ipclab_catch_signals();
        ipclab_cleanup_at_exit(NULL);
    }
    return size;
}

/* Is the writer gone?  It holds a write lock on byte 1 while it writes; the kernel drops the
 * lock when the writer ends, kill -9 included.  F_GETLK names who holds it. */
static inline bool mmap_writer_gone(int fd)
{
    struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = MMAP_WRITER,
                          .l_len = 1 };

    if (fcntl(fd, F_GETLK, &lock) == -1)
        err(IPCLAB_EXIT_FAIL, "fcntl F_GETLK");
    return lock.l_type == F_UNLCK;
}

/*
 * mmap_reader opened path on fd: is it a file a writer has made whole?  Refused (said, exit 1)
 * unless it is a regular file of ours closed to others with our mark.  Waits while a writer
 * holds byte 0 (it makes the file inside that lock), so a file is never found half made.
 * Returns true with its stat in *st; false, fd closed, if it is not made yet (created and still
 * empty, or removed by a new writer meanwhile): look again later.
 */
static inline bool mmap_file_made(int fd, const char *path, struct stat *st)
{
    if (!mmap_found_ok(fd, path))
        exit(IPCLAB_EXIT_FAIL);
    if (ipclab_lock(fd, MMAP_MAKING, F_RDLCK, true) == -1 || fstat(fd, st) == -1)
        err(IPCLAB_EXIT_FAIL, "lock %s", path);
    ipclab_lock(fd, MMAP_MAKING, F_UNLCK, false);
    if (st->st_nlink == 0 || st->st_size == 0) {
        close(fd);
        return false;
    }
    if (!mmap_file_ours(fd, path, st->st_size))
        exit(IPCLAB_EXIT_FAIL);
    return true;
}

/* What the reader found in the header must be what a writer of ours could have put there. */
static inline void guard_header_sane(const struct mmap_head *head, uint32_t len, uint32_t state,
                                     uint32_t printed, const char *path)
{
    if (len < printed || len > head->size || state > MMAP_FULL)
        errx(IPCLAB_EXIT_FAIL, "%s says %u bytes (state %u) after %u printed, in room for %u: "
             "not our writer's?", path, len, state, printed, head->size);
}

/*
 * mmap_writer found something at path.  If it is an earlier file of ours that no writer is
 * writing, remove it (readers that still map it keep it whole: it goes with their last
 * mapping) and return, to make a new one.  Anything else: said, exit 1.
 */
static inline void guard_remove_earlier_file(const char *path)
{
    struct stat st;

    /* O_NONBLOCK: a FIFO found there must not keep open() waiting; it is refused below. */
    int fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd == -1 && errno == ENOENT)
        return; /* gone meanwhile: make it */
    if (fd == -1 && errno == ELOOP)
        errx(IPCLAB_EXIT_FAIL, "%s is a symbolic link; refusing to follow it", path);
    if (fd == -1)
        err(IPCLAB_EXIT_FAIL, "%s", path);
    if (!mmap_found_ok(fd, path))
        exit(IPCLAB_EXIT_FAIL);
    if (ipclab_lock(fd, MMAP_MAKING, F_WRLCK, true) == -1 || fstat(fd, &st) == -1)
        err(IPCLAB_EXIT_FAIL, "lock %s", path);
    pid_t other = st.st_nlink == 0 ? 0 : ipclab_lock_holder(fd, MMAP_WRITER);
    if (other != 0)
        errx(IPCLAB_EXIT_FAIL, "another mmap_writer (pid %ld) is writing %s", (long)other, path);
    if (st.st_nlink != 0) { /* not removed while we waited at byte 0 */
        if (!mmap_file_ours(fd, path, st.st_size))
            exit(IPCLAB_EXIT_FAIL);
        if (unlink(path) == -1)
            err(IPCLAB_EXIT_FAIL, "unlink %s", path);
        warnx("%s: the earlier file (%lld bytes) removed, to make a new one", path,
              (long long)st.st_size);
    }
    close(fd);
}

/* A file truncated under the mapping and grown back (`truncate -s 0`, then its size) comes back
 * as zeros: our mark and what we wrote are gone, though no access faulted.  Before marking it
 * done: are its size and our mark still there?  If not: said, exit 1. */
static inline void guard_file_still_whole(int fd, const struct mmap_head *head, uint32_t size,
                                          const char *path)
{
    struct stat st;

    /* head->size first: a file shorter than its mapping faults here, and SIGBUS says so */
    if (head->size == size && fstat(fd, &st) == 0 && st.st_size == (off_t)(sizeof *head + size) &&
        memcmp(head->mark, MMAP_MARK, sizeof head->mark) == 0)
        return;
    errx(IPCLAB_EXIT_FAIL, "%s was truncated or overwritten while we wrote (its size or our mark "
         "is gone): it does not hold what we wrote; not marked done", path);
}

#endif /* MMAP_H */
