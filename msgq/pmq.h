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

/* How long one wait lasts before a side looks at its peer again; and, a sender done sending,
 * before it looks again whether its receiver has taken everything (see pmq_send.c). */
#define PMQ_WAIT_MS 200
#define PMQ_DRAIN_MS 10

/*
 * Does the name still lead to queue q?  A queue has exactly one name, so it does while q's link
 * count is not 0; mq_unlink() makes it 0.  (Opening the name again to compare would not do:
 * closing any descriptor of a file drops every record lock the process holds on it, the door
 * included -- fcntl(2)'s best-known trap.)
 */
static inline bool pmq_named(mqd_t q)
{
    struct stat st;

    return fstat((int)q, &st) == 0 && st.st_nlink > 0;
}

/*
 * Create or open the queue name (mode 0600, PMQ_MAXMSG messages of PMQ_MSGSIZE bytes), for
 * reading and writing whichever side we are: a write lock needs a descriptor open for writing.
 * Then hold its door (see ipclab_key_file_open), and check that the name still means this queue:
 * it may have been removed, and made again, while we waited.  Returns the descriptor
 * (close-on-exec, as every mqueue descriptor is), door held; or (mqd_t)-1: errno EINTR on a
 * termination signal, otherwise after a message.
 */
static inline mqd_t pmq_open(const char *name)
{
    struct mq_attr attr = { .mq_maxmsg = PMQ_MAXMSG, .mq_msgsize = PMQ_MSGSIZE };

    for (;;) {
        mqd_t q = mq_open(name, O_RDWR | O_CREAT, 0600, &attr);
        if (q == (mqd_t)-1) {
            warn("mq_open %s", name);
            return q;
        }
        /* Fix: a queue of that name that another user made first (mode 0666, say) was used:
         * they read what we send, or feed us what we receive.  Refuse one not ours, or open
         * to others -- before waiting at its door, which its owner could hold for ever. */
        struct stat st;
        if (fstat((int)q, &st) == -1 || !ipclab_trusted(name, st.st_uid, st.st_mode)) {
            mq_close(q);
            errno = EACCES;
            return (mqd_t)-1;
        }
        if (ipclab_lock((int)q, PMQ_DOOR, F_WRLCK, true) == -1) {
            int saved = errno;
            if (saved != EINTR)
                warn("lock %s", name);
            mq_close(q);
            errno = saved;
            return (mqd_t)-1;
        }
        if (pmq_named(q))
            return q;
        mq_close(q); /* removed while we waited at the door: start again */
    }
}

/* Remove the queue's name, if it still means q (call it holding the door: only a holder of
 * q's door removes q's name, so nobody else can between the check and the unlink). */
static inline void pmq_remove(const char *name, mqd_t q)
{
    if (pmq_named(q) && mq_unlink(name) == -1 && errno != ENOENT)
        warn("mq_unlink %s", name);
}

#endif /* PMQ_H */
