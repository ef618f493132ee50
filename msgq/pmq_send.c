/*
 * pmq_send - msgq_send's twin over a POSIX message queue.
 *
 * A POSIX queue (mq_overview(7)) is named like a file, "/name"; it is opened, closed and
 * unlinked like one, and its messages carry a priority instead of a type.  The steps: 1 mq_open
 * (made if missing)  2 read stdin, mq_send each read as one message  3 an empty message ends
 * the stream  4 stay until the receiver has taken it all.  pmq_recv prints the messages.
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./msgq/pmq_recv
 *     terminal 2:  ./msgq/pmq_send
 * What you should see in terminal 2, then type lines, then Ctrl-D:
 *     pmq_send: ready (pid 4242): queue /ipclab-1000-pmq; sending messages of up to 8192 bytes
 *     hello posix queue
 *     pmq_send: end of input: 18 bytes in 1 message(s), then the empty end message
 * While it runs, `cat /dev/mqueue/ipclab-1000-pmq` shows the queue.
 *
 * Beyond the seeds: the System V pair (msgq_send, msgq_recv) done the POSIX way.  Build alone
 * (glibc before 2.34 keeps mq_open in librt):
 *     cc -o pmq_send pmq_send.c -lrt
 */
#define _POSIX_C_SOURCE 200809L

#include "../common/ipclab.h"
#include "pmq.h"

static const char usage[] =
    "usage: pmq_send [-p /NAME] [-s SIZE]\n"
    "  Send stdin through a POSIX message queue as messages of at most SIZE bytes; an empty\n"
    "  message marks the end.  pmq_recv prints them.\n"
    "  -p /NAME  the queue's name (default: /ipclab-<uid>-pmq)\n"
    "  -s SIZE   the most bytes in one message, 1 to 8192 (default 8192)\n"
    "  -h        show this help\n";

static char name[NAME_MAX + 2];
static mqd_t q;
static bool seen, done; /* a pmq_recv's lock seen; the stream delivered, or left for a receiver */

/* atexit: a sender that gives up removes the name (if still q's): the receiver sees it go. */
static void remove_queue(void)
{
    if (!done && pmq_named(q) && mq_unlink(name) == -1)
        warn("mq_unlink %s", name);
    mq_close(q);
    ipclab_die_of_signal();
}

/* Five times a second, and after each read of stdin: leave on a signal, or if the receiver has
 * left before the end (pmq.h). */
static void look_at_receiver(void)
{
    if (ipclab_signal)
        exit(IPCLAB_EXIT_FAIL);
    if (pmq_peer_left(q, PMQ_RECEIVER, &seen))
        errx(IPCLAB_EXIT_FAIL, "the receiver has left (or was killed) before the end");
}

int main(int argc, char *argv[])
{
    static char buf[PMQ_MSGSIZE];
    long size = PMQ_MSGSIZE; /* the queue's limit: the most one mq_send() may move */
    pmq_options(argc, argv, usage, name, &size);

    /* 1. Open the queue by its name, made if missing: mode 0600, 10 messages of 8192 bytes.
     *    O_RDWR, though we only send: a record lock needs a descriptor open for writing. */
    struct mq_attr attr = { .mq_maxmsg = PMQ_MAXMSG, .mq_msgsize = PMQ_MSGSIZE };
    q = mq_open(name, O_RDWR | O_CREAT, 0600, &attr);
    if (q == (mqd_t)-1)
        err(IPCLAB_EXIT_FAIL, "mq_open %s", name);
    guard_queue_is_ours(q, name);              /* not another user's, not open to others */
    guard_one_per_role(q, PMQ_SENDER, name);   /* lock on byte 1: pmq_recv sees us go */
    if (mq_getattr(q, &attr) == -1)            /* a queue found may be of another size */
        err(IPCLAB_EXIT_FAIL, "mq_getattr %s", name);
    guard_queue_takes_a_stream(&attr, name, size); /* empty, messages of -s bytes fit */
    atexit(remove_queue);
    ipclab_ready("queue %s; sending messages of up to %ld bytes", name, size);

    long long total = 0, count = 0;
    struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
    for (;;) {
        /* 2. Wait for input, looking at the receiver every PMQ_WAIT_MS; one read, one message. */
        int ready = poll(&in, 1, PMQ_WAIT_MS);
        if (ready == -1 && errno != EINTR)
            err(IPCLAB_EXIT_FAIL, "poll");
        look_at_receiver();
        if (ready != 1)
            continue;
        ssize_t n = read(STDIN_FILENO, buf, (size_t)size);
        if (n == -1 && errno != EINTR)
            err(IPCLAB_EXIT_FAIL, "read stdin");
        if (n == -1)
            continue;
        /* 3. Priority 0.  A full queue makes mq_timedsend() wait, until the deadline; then we
         *    look at the receiver, and wait again.  n == 0: the empty end message. */
        struct timespec deadline = ipclab_deadline(PMQ_WAIT_MS);
        while (mq_timedsend(q, buf, (size_t)n, 0, &deadline) == -1) {
            if (errno != ETIMEDOUT && errno != EINTR)
                err(IPCLAB_EXIT_FAIL, "mq_send");
            look_at_receiver();
            deadline = ipclab_deadline(PMQ_WAIT_MS);
        }
        if (n == 0)
            break;
        total += n;
        count++;
    }
    warnx("end of input: %lld bytes in %lld message(s), then the empty end message", total, count);

    /* 4. No call waits for a queue to empty: look every PMQ_DRAIN_MS until the receiver has
     *    taken it all.  If none has taken any, they wait in the queue for one. */
    for (;;) {
        bool left = pmq_peer_left(q, PMQ_RECEIVER, &seen); /* first: then the count is final */
        if (mq_getattr(q, &attr) == -1)
            err(IPCLAB_EXIT_FAIL, "mq_getattr %s", name);
        if (attr.mq_curmsgs == 0 || (!left && !seen && attr.mq_curmsgs == count + 1))
            break;
        if (left)
            errx(IPCLAB_EXIT_FAIL, "the receiver has left (or was killed) before the end");
        if (ipclab_signal)
            exit(IPCLAB_EXIT_FAIL);
        poll(NULL, 0, PMQ_DRAIN_MS);
    }
    done = true;
    return IPCLAB_EXIT_OK; /* atexit: mq_close */
}
