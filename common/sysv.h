/* sysv.h - the System V programs' key file (ftok(3) makes the key of it; marked, so that a
 * file of the user's is never taken or removed) and the check of an object found. */
#ifndef IPCLAB_SYSV_H
#define IPCLAB_SYSV_H

#include "peers.h"
#include <sys/ipc.h>

/* What every key file holds, and nothing else: -p PATH may name the user's notes, or, as root,
 * /etc/passwd; a file is used, and removed, only if it holds exactly this line. */
#define IPCLAB_KEY_MARK "ipclab key file\n"

/* Does the file open on fd hold exactly IPCLAB_KEY_MARK? */
static inline bool ipclab_key_file_marked(int fd)
{
    char buf[sizeof IPCLAB_KEY_MARK]; /* one byte more than the mark: a longer file differs */
    ssize_t n = pread(fd, buf, sizeof buf, 0);

    return n == (ssize_t)sizeof buf - 1 && memcmp(buf, IPCLAB_KEY_MARK, sizeof buf - 1) == 0;
}

/* Make the key file path, mark and all, unless something is there: written under a name of
 * its own (mkstemp), then link(2)ed to path, so it holds the mark from the moment anyone can
 * open it.  Returns 1 (its inode in *made), 0 if something was there, -1 after a message. */
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
    if (saved != EINTR || !ipclab_signal) /* a signal: ipclab_die_of_signal() says why */
        warn("cannot create the key file %s", path);
    return -1;
}

/* Is fd, opened on path, a key file we may use: ours, closed to others, holding the mark?  If
 * not, says why: nothing is written to it, nothing removed. */
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

/* Open the key file path, made (0600, marked) if missing, holding the write lock on byte 0
 * (only while joining or removing; release: ipclab_lock(fd, 0, F_UNLCK, false)).  *made: we
 * made it.  Returns the descriptor, or -1: EINTR on a termination signal, else said. */
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

/* Remove the key file path if it is still the file open on fd and still a key file (call it
 * holding byte 0).  Whoever leaves last removes it. */
static inline void ipclab_key_file_remove(const char *path, int fd)
{
    struct stat st, now;

    if (fstat(fd, &st) == 0 && lstat(path, &now) == 0 && now.st_ino == st.st_ino &&
        now.st_dev == st.st_dev && ipclab_key_file_marked(fd) && unlink(path) == -1 &&
        errno != ENOENT)
        warn("cannot remove %s", path);
}

/* ipclab_trusted() for a System V object, from its IPC_STAT ipc_perm: its creator (cuid) must
 * be us too (IPC_SET hands the uid to anyone, never the cuid).  what names it. */
static inline bool ipclab_sysv_trusted(const char *what, const struct ipc_perm *perm)
{
    if (perm->cuid != geteuid()) {
        warnx("%s was made by uid %ld, not by you (uid %ld); refusing to use it", what,
              (long)perm->cuid, (long)geteuid());
        return false;
    }
    return ipclab_trusted(what, perm->uid, perm->mode);
}

#endif /* IPCLAB_SYSV_H */
