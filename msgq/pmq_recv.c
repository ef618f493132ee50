/*
 * pmq_recv - msgq_recv's twin over a POSIX message queue: print what pmq_send sends.
 *
 * mq_timedreceive(3) takes the oldest message of the highest priority, whole, waiting at most
 * until a deadline.  The buffer must hold the queue's largest message (mq_msgsize), or the call
 * fails with EMSGSIZE.  Every message is printed as it is; the empty message ends it.
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./msgq/pmq_recv
 *     terminal 2:  ./msgq/pmq_send
 * What you should see in terminal 1, once terminal 2 has sent a line and pressed Ctrl-D:
 *     pmq_recv: ready (pid 4243): queue /ipclab-1000-pmq; waiting for messages
 *     hello posix queue
 *     pmq_recv: end message: 18 bytes in 1 message(s)
 *
 * Who removes the queue (mq_unlink): pmq_recv, when it leaves, whatever the reason.  A second
 * pmq_recv on the same queue is refused.
 *
 * Beyond the seeds: the System V pair (msgq_send, msgq_recv) done the POSIX way.  Build alone
 * (glibc before 2.34 keeps mq_open in librt):
 *     cc -o pmq_recv pmq_recv.c -lrt
 */
#define _POSIX_C_SOURCE 200809L

#include "../common/ipclab.h"
#include "../common/peers.h"
#include "pmq.h"

static const char usage[] =
    "usage: pmq_recv [-p /NAME]\n"
    "  Print the messages that arrive on a POSIX message queue, until the empty message\n"
    "  pmq_send sends last; then remove the queue.\n"
    "  -p /NAME  the queue's name (default: /ipclab-<uid>-pmq)\n"
    "  -h        show this help\n";

/* The queue name, made if it is missing (mode 0600, PMQ_MAXMSG messages of PMQ_MSGSIZE), its
 * door held: as in pmq_send.c.  Returns it, or (mqd_t)-1. */
static mqd_t open_queue(const char *name)
{
    struct mq_attr attr = { .mq_maxmsg = PMQ_MAXMSG, .mq_msgsize = PMQ_MSGSIZE };

    for (;;) {
        /* O_RDWR, though we only receive: the fcntl(2) write locks on the queue (its door, our
         * role) need a descriptor open for writing -- and on Linux an mqd_t is one (pmq.h). */
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
    }
}

/* Print the messages until the end message.  Returns 0 at the end message, -1 otherwise. */
static int print_msgs(mqd_t q, char *buf, size_t size)
{
    long long total = 0, count = 0;
    bool seen = false, draining = false;

    for (;;) {
        /* A signal that came between two waits ended none of them: the timeout is our tick. */
        if (ipclab_signal)
            return -1;
        /* Draining: the sender is gone, so whatever it sent is queued; do not wait (a deadline
         * long past, 1970). */
        struct timespec deadline = { 0, 0 };
        if (!draining)
            deadline = ipclab_deadline(PMQ_WAIT_MS);
        ssize_t n = mq_timedreceive(q, buf, size, NULL, &deadline);
        if (n > 0) {
            if (ipclab_write_all(STDOUT_FILENO, buf, (size_t)n) == -1) {
                if (errno != EINTR)
                    warn("write stdout");
                return -1;
            }
            total += n;
            count++;
            continue;
        }
        if (n == 0) {
            warnx("end message: %lld bytes in %lld message(s)", total, count);
            return 0;
        }
        if (errno == EINTR) {
            if (ipclab_signal)
                return -1;
            continue;
        }
        if (errno != ETIMEDOUT) {
            warn("mq_timedreceive");
            return -1;
        }
        if (draining) {
            warnx("the sender vanished before its end message (killed?): %lld bytes in %lld "
                  "message(s) received, the rest is lost", total, count);
            return -1;
        }
        /* A wait ran out: is the sender still there? */
        if (ipclab_lock_holder((int)q, PMQ_SENDER) > 0)
            seen = true;
        else if (seen || count > 0)
            draining = true;
    }
}

int main(int argc, char *argv[])
{
    char name[NAME_MAX + 2] = "";

    ipclab_stderr_by_line();
    ipclab_std_fds();
    if (ipclab_options_p(argc, argv, usage, ipclab_posix_name_arg, name, sizeof name) < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (name[0] == '\0')
        ipclab_posix_name(name, sizeof name, "pmq");

    ipclab_catch_signals();
    mqd_t q = open_queue(name);
    if (q == (mqd_t)-1) {
        ipclab_die_of_signal();
        return IPCLAB_EXIT_FAIL;
    }
    struct mq_attr attr;
    pid_t other = ipclab_lock_holder((int)q, PMQ_RECEIVER);
    char *buf = NULL;
    bool ok = false;
    if (other != 0)
        warnx("another pmq_recv (pid %ld) is already receiving on %s", (long)other, name);
    else if (mq_getattr(q, &attr) == -1 || (buf = malloc((size_t)attr.mq_msgsize)) == NULL)
        warn("mq_getattr");
    else if (ipclab_lock((int)q, PMQ_RECEIVER, F_WRLCK, false) == -1)
        warn("lock %s", name);
    else
        ok = true;
    ipclab_lock((int)q, PMQ_DOOR, F_UNLCK, false);
    if (!ok) {
        mq_close(q);
        free(buf);
        return IPCLAB_EXIT_FAIL;
    }
    ipclab_ready("queue %s; waiting for messages", name);

    int status = print_msgs(q, buf, (size_t)attr.mq_msgsize);

    if (ipclab_door_to_leave((int)q, PMQ_DOOR) == 0 && pmq_named(q) && mq_unlink(name) == -1 &&
        errno != ENOENT) /* the name, if it is still q's */
        warn("mq_unlink %s", name);
    mq_close(q);
    free(buf);
    ipclab_die_of_signal();
    return status == 0 ? IPCLAB_EXIT_OK : IPCLAB_EXIT_FAIL;
}
