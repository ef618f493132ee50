/*
 * pmq_recv - msgq_recv's twin over a POSIX message queue: print what pmq_send sends.
 *
 * The steps: 1 mq_open (made if missing)  2 mq_getattr: the buffer must hold the queue's
 * largest message (mq_msgsize), or mq_receive() fails with EMSGSIZE  3 mq_receive the oldest
 * message, whole, and print it, until the empty one  4 mq_unlink the name.  It waits with
 * mq_timedreceive(3), which gives up at a deadline, so that it can look at its sender.
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./msgq/pmq_recv
 *     terminal 2:  ./msgq/pmq_send
 * What you should see in terminal 1, once terminal 2 has sent a line and pressed Ctrl-D:
 *     pmq_recv: ready (pid 4243): queue /ipclab-1000-pmq; waiting for messages
 *     hello posix queue
 *     pmq_recv: end message: 18 bytes in 1 message(s)
 * Any sender will do that sends with mq_send(3) and ends with an empty message: see
 * msgq/README.md, "The POSIX pair", for one in python.
 *
 * Who removes the queue (mq_unlink): pmq_recv, when it leaves, whatever the reason; and
 * pmq_send, if it gives up before the end.
 *
 * Beyond the seeds: the System V pair (msgq_send, msgq_recv) done the POSIX way.  Build alone
 * (glibc before 2.34 keeps mq_open in librt):
 *     cc -o pmq_recv pmq_recv.c -lrt
 */
#define _POSIX_C_SOURCE 200809L

#include "../common/ipclab.h"
#include "pmq.h"

static const char usage[] =
    "usage: pmq_recv [-p /NAME]\n"
    "  Print the messages that arrive on a POSIX message queue, until an empty message\n"
    "  (pmq_send sends one last); then remove the queue.\n"
    "  -p /NAME  the queue's name (default: /ipclab-<uid>-pmq)\n"
    "  -h        show this help\n";

static char name[NAME_MAX + 2];
static mqd_t q;
static bool done; /* the end message came */

/* atexit: remove the name, if it is still q's.  The queue itself goes once every descriptor of
 * it is closed; a sender still there sees its link count 0 and knows we have gone. */
static void remove_queue(void)
{
    struct mq_attr attr;

    if (!done && mq_getattr(q, &attr) == 0 && attr.mq_curmsgs > 0)
        warnx("leaving before the end message: the %ld message(s) still queued are lost",
              attr.mq_curmsgs);
    if (pmq_named(q) && mq_unlink(name) == -1)
        warn("mq_unlink %s", name);
    mq_close(q);
    ipclab_die_of_signal();
}

int main(int argc, char *argv[])
{
    pmq_options(argc, argv, usage, name, NULL);

    /* 1. Open the queue by its name, made if missing: mode 0600, 10 messages of 8192 bytes.
     *    O_RDWR, though we only receive: a record lock needs a descriptor open for writing. */
    struct mq_attr attr = { .mq_maxmsg = PMQ_MAXMSG, .mq_msgsize = PMQ_MSGSIZE };
    q = mq_open(name, O_RDWR | O_CREAT, 0600, &attr);
    if (q == (mqd_t)-1)
        err(IPCLAB_EXIT_FAIL, "mq_open %s", name);
    guard_queue_is_ours(q, name);              /* not another user's, not open to others */
    guard_one_per_role(q, PMQ_RECEIVER, name); /* lock on byte 2: pmq_send sees us go */
    atexit(remove_queue);

    /* 2. A queue found may be of another size: the buffer must hold its largest message. */
    if (mq_getattr(q, &attr) == -1)
        err(IPCLAB_EXIT_FAIL, "mq_getattr %s", name);
    char *buf = malloc((size_t)attr.mq_msgsize);
    if (buf == NULL)
        err(IPCLAB_EXIT_FAIL, "malloc");
    ipclab_ready("queue %s; waiting for messages", name);

    long long total = 0, count = 0;
    bool seen = false, sender_left = false;
    for (;;) {
        if (ipclab_signal)
            exit(IPCLAB_EXIT_FAIL);
        /* 3. The oldest message of the highest priority, whole.  Once the sender has left,
         *    all it sent is queued: take it without waiting (a deadline already past). */
        struct timespec deadline = ipclab_deadline(sender_left ? 0 : PMQ_WAIT_MS);
        ssize_t n = mq_timedreceive(q, buf, (size_t)attr.mq_msgsize, NULL, &deadline);
        if (n == 0)
            break;                             /* the empty message: the end */
        if (n > 0) {
            if (ipclab_write_all(STDOUT_FILENO, buf, (size_t)n) == -1 && errno != EINTR)
                err(IPCLAB_EXIT_FAIL, "write stdout");
            total += n;
            count++;
        } else if (errno != ETIMEDOUT && errno != EINTR) {
            err(IPCLAB_EXIT_FAIL, "mq_timedreceive");
        } else if (sender_left && errno == ETIMEDOUT) {
            errx(IPCLAB_EXIT_FAIL, "the sender vanished before its end message (killed?): %lld "
                 "bytes in %lld message(s) received, the rest is lost", total, count);
        }
        /* After each message and wait, a peer check: the name removed, or a lock seen, gone? */
        sender_left = sender_left || pmq_peer_left(q, PMQ_SENDER, &seen);
    }
    warnx("end message: %lld bytes in %lld message(s)", total, count);
    done = true;
    free(buf);
    return IPCLAB_EXIT_OK; /* 4. atexit: mq_unlink, mq_close */
}
