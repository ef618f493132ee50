/*
 * pmq.h - what pmq_send and pmq_recv share: the queue's size, the role locks' bytes, and the
 * checks of a queue opened.  The calls to mq_open(3), mq_timedsend(3), mq_timedreceive(3) and
 * mq_unlink(3) are in the programs.  Include it after ../common/peers.h.
 *
 * A POSIX queue has a name ("/something"), not a key, and no key file: so the role locks that
 * tell each side whether its peer is still there (see common/peers.h) are taken on the
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
 * included -- fcntl(2)'s best-known trap.)  Ask it holding the door before mq_unlink(): only a
 * holder of q's door removes q's name, so nobody else can between the check and the unlink.
 */
static inline bool pmq_named(mqd_t q)
{
    struct stat st;

    return fstat((int)q, &st) == 0 && st.st_nlink > 0;
}

/*
 * Is queue q, just opened as name, ours to use?  Fix: mq_open() finds a queue by its name alone,
 * and another user who makes ours first (mode 0666, say) reads what we send or feeds us what we
 * receive.  So fstat(2) of its descriptor (on Linux a file of the mqueue file system) must show
 * a queue of ours, closed to others (ipclab_trusted) -- before we wait at its door, which its
 * owner could hold for ever.  If not, says why; the queue is left as it is.
 */
static inline bool pmq_trusted(const char *name, mqd_t q)
{
    struct stat st;

    return fstat((int)q, &st) == 0 && ipclab_trusted(name, st.st_uid, st.st_mode);
}

/*
 * Hold the door of queue q, just opened as name: the write lock on byte PMQ_DOOR (see
 * ipclab_key_file_open).  Then check that the name still means q: it may have been removed, and
 * made again, while we waited.  Returns 1: held; 0: q was removed meanwhile (close it, open the
 * name again); -1: errno EINTR on a termination signal, otherwise after a message.
 */
static inline int pmq_hold_door(const char *name, mqd_t q)
{
    if (ipclab_lock((int)q, PMQ_DOOR, F_WRLCK, true) == -1) {
        if (errno != EINTR)
            warn("lock %s", name);
        return -1;
    }
    return pmq_named(q) ? 1 : 0;
}

#endif /* PMQ_H */
