/*
 * pmq_send - msgq_send's twin over a POSIX message queue.
 *
 * A POSIX queue (mq_overview(7)) is named like a file, "/name", instead of by a System V key;
 * it is opened, closed and unlinked like one; its messages carry a priority instead of a type;
 * and mq_timedsend(3)/mq_timedreceive(3) can wait with a timeout, which msgsnd()/msgrcv() cannot.
 * pmq_send cuts stdin into messages of at most SIZE bytes (each read() one message) and ends
 * with an empty message; pmq_recv prints them.
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./msgq/pmq_recv
 *     terminal 2:  ./msgq/pmq_send
 * What you should see in terminal 2, then type lines, then Ctrl-D:
 *     pmq_send: ready (pid 4242): queue /ipclab-1000-pmq; sending messages of up to 8192 bytes
 *     hello posix queue
 *     pmq_send: end of input: 18 bytes in 1 message(s), then the empty end message
 * While it runs, `cat /dev/mqueue/ipclab-1000-pmq` shows the queue (where /dev/mqueue is
 * mounted).
 *
 * Who removes the queue (mq_unlink): pmq_recv, once it has read the end message; pmq_send only
 * when it gives up: a signal, an error, a receiver gone before the end (see send_stdin).
 *
 * Beyond the seeds: the System V pair (msgq_send, msgq_recv) done the POSIX way.  Build alone
 * (glibc before 2.34 keeps mq_open in librt):
 *     cc -o pmq_send pmq_send.c -lrt
 */
#define _POSIX_C_SOURCE 200809L

#include <poll.h>

#include "../common/ipclab.h"
#include "../common/peers.h"
#include "pmq.h"

static const char usage[] =
    "usage: pmq_send [-p /NAME] [-s SIZE]\n"
    "  Send stdin through a POSIX message queue as messages of at most SIZE bytes; an empty\n"
    "  message marks the end.  pmq_recv prints them.\n"
    "  -p /NAME  the queue's name (default: /ipclab-<uid>-pmq)\n"
    "  -s SIZE   the most bytes in one message, 1 to 8192 (default 8192)\n"
    "  -h        show this help\n";

/* The queue name, made if it is missing, its door held (pmq.h).  Returns it, or (mqd_t)-1
 * after a message or on a termination signal. */
static mqd_t open_queue(const char *name)
{
    /* A queue's size is fixed when it is made: PMQ_MAXMSG messages of at most PMQ_MSGSIZE. */
    struct mq_attr attr = { .mq_maxmsg = PMQ_MAXMSG, .mq_msgsize = PMQ_MSGSIZE };

    for (;;) {
        /* mq_open(3): O_RDWR whichever side we are, for the write locks; mode 0600. */
        mqd_t q = mq_open(name, O_RDWR | O_CREAT, 0600, &attr);
        if (q == (mqd_t)-1) {
            warn("mq_open %s", name);
            return q;
        }
        int held = pmq_trusted(name, q) ? pmq_hold_door(name, q) : -1;
        if (held == 1)
            return q;
        mq_close(q);
        if (held == -1)
            return (mqd_t)-1;
        /* 0: removed while we waited at the door: open the name again */
    }
}

/*
 * Is the receiver still there?  0: yes, or none has come yet; -1: it came and went (or the
 * queue failed), after a message.  A receiver has come if we saw its lock, or if fewer than
 * sent messages wait: someone took some.  Once ended (the end message sent), also 1: it has
 * taken every message, or none has come and they wait for one.
 */
static int check_receiver(mqd_t q, long long sent, bool *seen, bool ended)
{
    struct mq_attr attr;

    /* Fix: the receiver's lock first, then the count: a receiver takes the last message before
     * its lock goes, so once the lock is gone, the count read next is final (as in msgq_send.c). */
    bool here = ipclab_lock_holder((int)q, PMQ_RECEIVER) > 0;
    if (mq_getattr(q, &attr) == -1) {
        warn("mq_getattr");
        return -1;
    }
    if (ended && attr.mq_curmsgs == 0)
        return 1;
    *seen = *seen || here || attr.mq_curmsgs < sent;
    if (here)
        return 0;
    if (!*seen)
        return ended ? 1 : 0; /* no receiver yet: the messages wait in the queue until one comes */
    warnx("the receiver has left (or was killed) before the end");
    return -1;
}

/* Send stdin, then the end message, and stay until a receiver that came has taken it all, as
 * msgq_send does.  Returns 0 when all of it is sent (and taken), -1 otherwise. */
static int send_stdin(mqd_t q, size_t size)
{
    static char buf[PMQ_MSGSIZE];
    struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
    long long total = 0, count = 0;
    bool seen = false;

    for (;;) {
        /* Wait until stdin has something to read, looking at the receiver every PMQ_WAIT_MS. */
        int ready;
        while ((ready = poll(&in, 1, PMQ_WAIT_MS)) != 1) {
            if (ready == -1 && errno != EINTR) {
                warn("poll");
                return -1;
            }
            if (ipclab_signal || check_receiver(q, count, &seen, false) == -1)
                return -1;
        }
        ssize_t n = ipclab_read(STDIN_FILENO, buf, size); /* looks at ipclab_signal first */
        if (n == -1) {
            if (errno != EINTR)
                warn("read stdin");
            return -1;
        }
        /* mq_timedsend(3), priority 0: while the queue is full (the receiver is slow, or not
         * there yet) it waits, until the deadline: then look at the receiver, and again. */
        for (;;) {
            struct timespec deadline = ipclab_deadline(PMQ_WAIT_MS);
            if (mq_timedsend(q, buf, (size_t)n, 0, &deadline) == 0)
                break;
            if (errno != ETIMEDOUT && errno != EINTR) {
                warn("mq_send");
                return -1;
            }
            if (ipclab_signal || check_receiver(q, count, &seen, false) == -1)
                return -1;
        }
        if (n == 0)
            break;
        total += n;
        count++;
    }
    warnx("end of input: %lld bytes in %lld message(s), then the empty end message", total, count);
    int taken = -1; /* no call waits for a queue to empty: look every PMQ_DRAIN_MS */
    while (!ipclab_signal && (taken = check_receiver(q, count + 1, &seen, true)) == 0)
        poll(NULL, 0, PMQ_DRAIN_MS);
    return taken == 1 && !ipclab_signal ? 0 : -1;
}

/* Join the queue and take the sender's role lock.  Refuse if another pmq_send is at work on
 * it, or if messages of an earlier one still wait for a receiver.  Returns the queue, or -1. */
static mqd_t join(const char *name, size_t size)
{
    mqd_t q = open_queue(name);
    if (q == (mqd_t)-1)
        return q;
    struct mq_attr attr;
    pid_t other = ipclab_lock_holder((int)q, PMQ_SENDER);
    bool ok = false;
    if (other != 0)
        warnx("another pmq_send (pid %ld) is already sending on %s", (long)other, name);
    else if (mq_getattr(q, &attr) == -1)
        warn("mq_getattr");
    else if (attr.mq_curmsgs > 0)
        warnx("%s already holds %ld message(s) that no receiver has read; run pmq_recv to read "
              "them, or remove the queue (rm /dev/mqueue%s)", name, attr.mq_curmsgs, name);
    else if (attr.mq_msgsize < (long)size)
        warnx("%s takes messages of at most %ld bytes; -s %zu is too big", name,
              attr.mq_msgsize, size);
    else if (ipclab_lock((int)q, PMQ_SENDER, F_WRLCK, false) == -1)
        warn("lock %s", name);
    else
        ok = true;
    ipclab_lock((int)q, PMQ_DOOR, F_UNLCK, false);
    if (ok)
        return q;
    mq_close(q);
    return (mqd_t)-1;
}

int main(int argc, char *argv[])
{
    char name[NAME_MAX + 2] = "";
    long size = PMQ_MSGSIZE; /* the queue's limit: the most one mq_send() may move */
    int opt;

    ipclab_stderr_by_line();
    ipclab_std_fds();
    while ((opt = getopt(argc, argv, ":hp:s:")) != -1) {
        if (opt == 'p') {
            ipclab_posix_name_arg(name, sizeof name, optarg, usage);
        } else if (opt == 's') {
            if (!ipclab_parse_long(optarg, 1, PMQ_MSGSIZE, &size))
                ipclab_usage_error(usage, "-s wants a message size from 1 to %d bytes (the "
                                   "queue's mq_msgsize), not '%s'", PMQ_MSGSIZE, optarg);
        } else if (opt == 'h') {
            fputs(usage, stdout);
            return IPCLAB_EXIT_OK;
        } else {
            ipclab_bad_option(usage, opt, argv);
        }
    }
    if (optind < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (name[0] == '\0')
        ipclab_posix_name(name, sizeof name, "pmq");

    ipclab_catch_signals();
    mqd_t q = join(name, (size_t)size);
    if (q == (mqd_t)-1) {
        ipclab_die_of_signal();
        return IPCLAB_EXIT_FAIL;
    }
    ipclab_ready("queue %s; sending messages of up to %ld bytes", name, size);
    int status = send_stdin(q, (size_t)size);
    if (status == -1 && ipclab_door_to_leave((int)q, PMQ_DOOR) == 0 && pmq_named(q) &&
        mq_unlink(name) == -1 && errno != ENOENT) /* the name, if it is still q's */
        warn("mq_unlink %s", name);
    mq_close(q);
    ipclab_die_of_signal();
    return status == 0 ? IPCLAB_EXIT_OK : IPCLAB_EXIT_FAIL;
}
