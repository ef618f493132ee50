/*
 * fifo.h - what fifo_writer, fifo_reader and fifo_chat share that is not the lesson: their
 * options, and the guards (README.md, "Hardening").  mkfifo(3), open(2), read, write and
 * unlink(2) are in the programs.  Include it after #define _GNU_SOURCE.
 *
 *   fifo_options(), fifo_chat_side()
 *   guard_fifo_is_ours(), guard_opened_fifo_is_ours(), guard_fifo_still_ours()
 *   guard_one_a_one_b() (fifo_chat)
 */
#ifndef FIFO_H
#define FIFO_H

#include "../common/ipclab.h"

#include <sys/file.h> /* flock(2) */

/* Status lines by line, descriptors 0-2 open, then -h and -p PATH (into path, size bytes).
 * Returns the index in argv of the first operand. */
static inline int fifo_options(int argc, char *argv[], const char *usage, char *path,
                               size_t size)
{
    ipclab_stderr_by_line();
    ipclab_std_fds();
    return ipclab_options_p(argc, argv, usage, ipclab_path_arg, path, size);
}

/* fifo_chat's options and its one operand, the side: returns 'a' or 'b', or exits 2. */
static inline char fifo_chat_side(int argc, char *argv[], const char *usage, char *prefix,
                                  size_t size)
{
    int side = fifo_options(argc, argv, usage, prefix, size);

    if (side == argc)
        ipclab_usage_error(usage, "say which side you are: a or b");
    if (side < argc - 1)
        ipclab_usage_error(usage, "one side only: a or b");
    if (strcmp(argv[side], "a") != 0 && strcmp(argv[side], "b") != 0)
        ipclab_usage_error(usage, "the side is a or b, not '%s'", argv[side]);
    return argv[side][0];
}

/* The name is a FIFO of ours that nobody else may open (lstat: a symbolic link is not
 * followed).  Anything else -- a regular file, a link, another user's FIFO, a FIFO of mode
 * 0644 -- is refused: exit 1, and it is left alone. */
static inline void guard_fifo_is_ours(const char *path)
{
    struct stat st;

    if (lstat(path, &st) == -1)
        err(IPCLAB_EXIT_FAIL, "%s", path);
    if (!S_ISFIFO(st.st_mode))
        errx(IPCLAB_EXIT_FAIL, "%s exists and is not a FIFO; refusing to use it (remove it, or "
             "name another path with -p)", path);
    if (!ipclab_trusted(path, st.st_uid, st.st_mode))
        exit(IPCLAB_EXIT_FAIL);
}

/* What open() reached is such a FIFO too: the name may have been replaced since lstat(). */
static inline void guard_opened_fifo_is_ours(int fd, const char *path)
{
    struct stat st;

    if (fstat(fd, &st) == -1 || !S_ISFIFO(st.st_mode))
        errx(IPCLAB_EXIT_FAIL, "%s is no longer a FIFO", path);
    if (!ipclab_trusted(path, st.st_uid, st.st_mode))
        exit(IPCLAB_EXIT_FAIL);
}

/* True if path is still a FIFO of ours closed to others: the only kind a program removes.
 * lstat and geteuid only, both async-signal-safe (signal-safety(7)): a handler may call it. */
static inline bool guard_fifo_still_ours(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0 && S_ISFIFO(st.st_mode) && st.st_uid == geteuid() &&
           (st.st_mode & 077) == 0;
}

/* One a and one b: flock(2) on lock, the FIFO this side reads, opened without waiting.  The
 * kernel drops the lock when the side ends, however it ends.  A second side of the same
 * letter is refused with _exit(): the FIFOs are the first one's, not ours to remove. */
static inline void guard_one_a_one_b(int lock, char me, const char *prefix)
{
    if (flock(lock, LOCK_EX | LOCK_NB) == 0)
        return;
    if (errno != EWOULDBLOCK)
        err(IPCLAB_EXIT_FAIL, "flock");
    warnx("another fifo_chat %c is in the chat on %s.a2b and .b2a; refusing (one a, one b: "
          "leave that one first)", me, prefix);
    _exit(IPCLAB_EXIT_FAIL);
}

#endif /* FIFO_H */
