/*
 * pmq.h - what pmq_send and pmq_recv share: the queue's size, the bytes of their record locks,
 * their options, and the guards.  The calls to mq_open(3), mq_getattr(3), mq_timedsend(3),
 * mq_timedreceive(3) and mq_unlink(3) are in the programs.
 *
 * The queue is the interface (msgq/README.md, "The POSIX pair"): an empty message ends the
 * stream, and a side that leaves before the end removes the queue's name, which the other sees
 * as a link count of 0 (fstat(2) of the descriptor: on Linux an mqd_t is a file descriptor of
 * the mqueue file system).  Beside that, pmq_send and pmq_recv each hold a record lock on one
 * byte of the queue while they work, so that the other notices when it is killed; a peer that
 * holds none is never taken for gone.
 */
#ifndef PMQ_H
#define PMQ_H

#include <mqueue.h>

#include "../common/peers.h"

/* Every queue the pair creates: at most PMQ_MAXMSG messages of at most PMQ_MSGSIZE bytes
 * (Linux's defaults and, unprivileged, its limits: fs.mqueue.msg_max, msgsize_max). */
#define PMQ_MAXMSG 10
#define PMQ_MSGSIZE 8192

/* The bytes of the queue that pmq_send and pmq_recv lock while they work. */
enum { PMQ_SENDER = 1, PMQ_RECEIVER = 2 };

/* How long one wait lasts before a side looks at its peer again; and, a sender done sending,
 * before it looks again whether its receiver has taken everything. */
#define PMQ_WAIT_MS 200
#define PMQ_DRAIN_MS 10

/* The options: -p /NAME into name (NAME_MAX + 2 bytes), and -s SIZE for pmq_send (size not
 * NULL); -h prints the usage.  Then the termination signals are caught (flag only). */
static inline void pmq_options(int argc, char *argv[], const char *usage, char *name, long *size)
{
    int opt;

    ipclab_stderr_by_line();
    ipclab_std_fds();
    ipclab_posix_name(name, NAME_MAX + 2, "pmq");
    while ((opt = getopt(argc, argv, size != NULL ? ":hp:s:" : ":hp:")) != -1) {
        if (opt == 'p') {
            ipclab_posix_name_arg(name, NAME_MAX + 2, optarg, usage);
        } else if (opt == 's') {
            if (!ipclab_parse_long(optarg, 1, PMQ_MSGSIZE, size))
                ipclab_usage_error(usage, "-s wants a message size from 1 to %d bytes (the "
                                   "queue's mq_msgsize), not '%s'", PMQ_MSGSIZE, optarg);
        } else {
            ipclab_other_option(usage, opt, argv); /* -h, or a usage error */
        }
    }
    if (optind < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    ipclab_catch_signals();
}

/* Does the name still lead to queue q?  A queue has one name: while its link count is not 0. */
static inline bool pmq_named(mqd_t q)
{
    struct stat st;

    return fstat((int)q, &st) == 0 && st.st_nlink > 0;
}

/* mq_open() finds a queue by its name alone: another user who made ours first (mode 0666)
 * would read what we send.  Refuse (exit 1) a queue not ours, or open to others. */
static inline void guard_queue_is_ours(mqd_t q, const char *name)
{
    struct stat st;

    if (fstat((int)q, &st) == -1)
        err(IPCLAB_EXIT_FAIL, "fstat %s", name);
    if (!ipclab_trusted(name, st.st_uid, st.st_mode))
        exit(IPCLAB_EXIT_FAIL);
}

/* Take the record lock of role (PMQ_SENDER or PMQ_RECEIVER) on q; refuse (exit 1) if another
 * program holds it: one sender and one receiver per queue. */
static inline void guard_one_per_role(mqd_t q, off_t role, const char *name)
{
    const char *who = role == PMQ_SENDER ? "pmq_send" : "pmq_recv";
    pid_t other = ipclab_lock_holder((int)q, role);

    if (other != 0)
        errx(IPCLAB_EXIT_FAIL, "another %s (pid %ld) is already %s on %s", who, (long)other,
             role == PMQ_SENDER ? "sending" : "receiving", name);
    if (ipclab_lock((int)q, role, F_WRLCK, false) == -1)
        err(IPCLAB_EXIT_FAIL, "lock %s", name);
}

/* A sender refuses (exit 1) a queue that holds an earlier stream's messages, rather than mix
 * its own into them, or whose messages are smaller than its -s SIZE. */
static inline void guard_queue_takes_a_stream(const struct mq_attr *attr, const char *name,
                                              long size)
{
    if (attr->mq_curmsgs > 0)
        errx(IPCLAB_EXIT_FAIL, "%s already holds %ld message(s) that no receiver has read; run "
             "pmq_recv to read them, or remove the queue (rm /dev/mqueue%s)", name,
             attr->mq_curmsgs, name);
    if (attr->mq_msgsize < size)
        errx(IPCLAB_EXIT_FAIL, "%s takes messages of at most %ld bytes; -s %ld is too big", name,
             attr->mq_msgsize, size);
}

/* Has the peer left before the end?  Its name removed (a side that gives up removes it), or
 * the record lock on byte role, seen held before (*seen), now gone: killed.  A peer that holds
 * no lock is never taken for gone.  The lock is looked at first, so that a count of messages
 * read after it is final. */
static inline bool pmq_peer_left(mqd_t q, off_t role, bool *seen)
{
    bool here = ipclab_lock_holder((int)q, role) > 0;

    *seen = *seen || here;
    return !pmq_named(q) || (*seen && !here);
}

#endif /* PMQ_H */
