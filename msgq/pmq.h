/*
 * pmq.h - what pmq_send and pmq_recv share: the queue's name and size, opening it, removing it.
 * Include it after ../common/ipclab.h.
 *
 * A POSIX queue has a name ("/something"), not a key, and no key file: so the role locks that
 * tell each side whether its peer is still there (see "peers" in ipclab.h) are taken on the
 * queue's own descriptor.  On Linux an mqd_t is a file descriptor of the mqueue file system,
 * and fcntl(2) locks work on it; POSIX does not promise that, so this part is Linux's.
 */
#ifndef PMQ_H
#define PMQ_H

#include <mqueue.h>

/* Every queue the pair creates: at most PMQ_MAXMSG messages of at most PMQ_MSGSIZE bytes
 * (Linux's defaults and, unprivileged, its limits: fs.mqueue.msg_max, msgsize_max). */
#define PMQ_MAXMSG 10
#define PMQ_MSGSIZE 8192

/* Bytes of the queue locked by the door, the sender and the receiver while at work. */
enum { PMQ_DOOR = 0, PMQ_SENDER = 1, PMQ_RECEIVER = 2 };

/* How long one wait lasts before a side looks at its peer again. */
#define PMQ_WAIT_MS 200

/* Are a and b the same queue?  (An mqueue descriptor has an inode, as any file does.) */
static inline bool pmq_same(mqd_t a, mqd_t b)
{
    struct stat sa, sb;

    return fstat((int)a, &sa) == 0 && fstat((int)b, &sb) == 0 && sa.st_ino == sb.st_ino &&
           sa.st_dev == sb.st_dev;
}

/*
 * Create or open the queue name (mode 0600, PMQ_MAXMSG x PMQ_MSGSIZE; oflag O_RDWR, as a write
 * lock needs a descriptor open for writing), close-on-exec as every
 * mqueue descriptor is, and hold its door (see ipclab_key_file_open): then check that the name
 * still means this queue -- it may have been removed, and made again, while we waited.
 * Returns the descriptor, door held, or (mqd_t)-1: errno EINTR on a termination signal,
 * otherwise after a message.
 */
static inline mqd_t pmq_open(const char *name, int oflag)
{
    struct mq_attr attr = { .mq_maxmsg = PMQ_MAXMSG, .mq_msgsize = PMQ_MSGSIZE };

    for (;;) {
        mqd_t q = mq_open(name, oflag | O_CREAT, 0600, &attr);
        if (q == (mqd_t)-1) {
            warn("mq_open %s", name);
            return q;
        }
        if (ipclab_lock((int)q, PMQ_DOOR, F_WRLCK, true) == -1) {
            int saved = errno;
            if (saved != EINTR)
                warn("lock %s", name);
            mq_close(q);
            errno = saved;
            return (mqd_t)-1;
        }
        mqd_t now = mq_open(name, O_RDONLY);
        bool same = now != (mqd_t)-1 && pmq_same(q, now);
        if (now != (mqd_t)-1)
            mq_close(now);
        if (same)
            return q;
        mq_close(q); /* removed while we waited at the door: start again */
    }
}

/* Remove the queue's name, if it still means q (call it holding the door). */
static inline void pmq_remove(const char *name, mqd_t q)
{
    mqd_t now = mq_open(name, O_RDONLY);

    if (now == (mqd_t)-1)
        return;
    if (pmq_same(q, now) && mq_unlink(name) == -1 && errno != ENOENT)
        warn("mq_unlink %s", name);
    mq_close(now);
}

#endif /* PMQ_H */
