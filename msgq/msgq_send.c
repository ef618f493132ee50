/*
 * msgq_send - send stdin through a System V message queue, as typed messages.
 *
 * A message queue is a list of messages kept by the kernel.  msgsnd(2) appends a message with a
 * type (a positive long); msgrcv(2) takes the first message of the type it asks for, whole, or
 * waits until one comes.  Unlike a pipe, the queue keeps message boundaries, and it outlives
 * the processes: messages sent before any receiver exists wait in the kernel (`ipcs -q`).
 *
 * msgq_send cuts its stdin into messages of at most SIZE bytes (each read() of stdin becomes
 * one message: a line from a terminal, SIZE bytes from a file), sends them with type TYPE, and
 * ends with an empty message, which tells msgq_recv that nothing more will come.
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./msgq/msgq_recv
 *     terminal 2:  ./msgq/msgq_send
 * What you should see in terminal 2 (queue id and path vary), then type lines, then Ctrl-D:
 *     msgq_send: ready (pid 4242): queue 3 (key from /tmp/ipclab-1000/msgq); sending type 1 ...
 *     hello queue
 *     msgq_send: end of input: 12 bytes in 1 message(s), then the empty end message
 * Terminal 1 prints "hello queue", then "msgq_recv: end message: 12 bytes in 1 message(s)".
 *
 * Who removes the queue: msgq_recv, once it has read the end message; msgq_send when it gives
 * up: a signal, an error, or a receiver gone before the end (see send_stdin).
 *
 * Mirrors seed 004, 消息队列 (the sending half of its demo).  Build alone:
 *     cc -o msgq_send msgq_send.c
 */
#define _XOPEN_SOURCE 700 /* System V IPC and setitimer() are XSI */

#include <poll.h>

#include "../common/ipclab.h"
#include "../common/peers.h"
#include "../common/sysv.h"
#include "msgq.h"

static const char usage[] =
    "usage: msgq_send [-p PATH] [-t TYPE] [-s SIZE]\n"
    "  Send stdin through a System V message queue as messages of type TYPE, each at most SIZE\n"
    "  bytes; an empty message marks the end.  msgq_recv prints them.\n"
    "  -p PATH  the key file: ftok(3) makes the queue's key from it (default: msgq in the run\n"
    "           directory, see the top README.md)\n"
    "  -t TYPE  the messages' type, 1 to LONG_MAX (default 1)\n"
    "  -s SIZE  the most bytes in one message, 1 to kernel.msgmax (default: kernel.msgmax)\n"
    "  -h       show this help\n";

/* creat_or_get_msgque() (the seed's name): the queue of path's key, made if it is missing.
 * Returns its id, or -1 after a message. */
static int creat_or_get_msgque(const char *path)
{
    /* ftok(3): a key from the file's inode and device, and a project id. */
    key_t key = ftok(path, MSGQ_PROJ);
    if (key == (key_t)-1) {
        warn("ftok %s", path);
        return -1;
    }
    /* msgget(2): the queue of that key, or with IPC_CREAT a new one, mode 0600: ours only. */
    int msqid = msgget(key, IPC_CREAT | 0600);
    if (msqid == -1)
        return msgq_msgget_failed(path);
    /* msgctl(2) IPC_STAT: whose is it?  A queue found may be another user's (msgq.h). */
    struct msqid_ds ds;
    if (msgctl(msqid, IPC_STAT, &ds) == -1) {
        warn("msgctl IPC_STAT queue %d (key from %s)", msqid, path);
        return -1;
    }
    return msgq_trusted(msqid, path, &ds) ? msqid : -1;
}

/* msgctl(2) IPC_RMID: remove the queue at once, messages and all (it may be gone already).
 * Returns 0, or -1 after a message. */
static int remove_msgque(int msqid)
{
    if (msgctl(msqid, IPC_RMID, NULL) == -1 && !msgque_gone(errno)) {
        warn("msgctl IPC_RMID");
        return -1;
    }
    return 0;
}

/* A message longer than the queue's msg_qbytes never fits: msgsnd() would wait for ever.  The
 * queue may hold less than kernel.msgmnb (made under a smaller one, or lowered by msgctl
 * IPC_SET): send messages that fit, and say so.  A queue that takes none is refused. */
static bool guard_size_fits(int msqid, const struct msqid_ds *ds, long *size)
{
    if (ds->msg_qbytes >= (unsigned long)*size)
        return true;
    if (ds->msg_qbytes == 0) {
        warnx("queue %d takes no message: its msg_qbytes is 0; refusing to use it", msqid);
        return false;
    }
    warnx("queue %d holds at most %lu bytes (its msg_qbytes), less than %ld: sending messages "
          "of up to %lu bytes", msqid, (unsigned long)ds->msg_qbytes, *size,
          (unsigned long)ds->msg_qbytes);
    *size = (long)ds->msg_qbytes;
    return true;
}

/* The same while a message waits to go: msg_qbytes lowered under it since we joined.  Returns
 * true if it still fits, false after a message. */
static bool guard_still_fits(int msqid, size_t len)
{
    struct msqid_ds ds;

    if (msgctl(msqid, IPC_STAT, &ds) == -1 || (len <= ds.msg_qbytes && ds.msg_qbytes > 0))
        return true; /* a queue gone is msgsnd()'s to report */
    warnx("queue %d now holds at most %lu bytes (its msg_qbytes, lowered by msgctl IPC_SET): a "
          "message of %zu bytes never fits; giving up", msqid, (unsigned long)ds.msg_qbytes, len);
    return false;
}

/* What the sender knows of the receiver. */
struct receiver {
    bool seen;        /* a receiver has been here during this run */
    pid_t first_rpid; /* msg_lrpid (last msgrcv's pid) when we joined */
};

/*
 * Is the receiver still there?  0: yes, or none has come yet; -1: it left before it took
 * everything, after a message.  Once ended (the end message sent), also 1: it has taken every
 * message; or none since we came (msg_lrpid unchanged): no receiver of our type, which would
 * never take them -- they wait, as before any receiver came.
 */
static int check_receiver(int msqid, int keyfd, struct receiver *r, bool ended)
{
    struct msqid_ds ds;

    /* Fix: the receiver's lock first, then the queue: a receiver takes the last message (and
     * removes the queue) before its lock goes, so once the lock is gone, what IPC_STAT says
     * next is final. */
    bool here = ipclab_lock_holder(keyfd, MSGQ_RECEIVER) > 0;
    if (msgctl(msqid, IPC_STAT, &ds) == -1) {
        if (ended && msgque_gone(errno))
            return 1; /* only a receiver that had the end message removes it */
        return msgq_failed("msgctl IPC_STAT", "the queue has been removed: the receiver has left");
    }
    if (ended && (ds.msg_qnum == 0 || ds.msg_lrpid == r->first_rpid))
        return 1;
    r->seen = r->seen || here;
    if (here || (!r->seen && ds.msg_lrpid == r->first_rpid))
        return 0; /* no receiver yet: the messages wait in the queue until one comes */
    if (ds.msg_qnum == 0)
        warnx("the receiver is gone before the end (it took all we sent so far; killed, or "
              "Ctrl-C?)");
    else
        warnx("the receiver is gone before it took everything (%lu message(s) left in the "
              "queue; killed?)", (unsigned long)ds.msg_qnum);
    return -1;
}

/*
 * Send stdin as messages of type type, then the empty end message; then stay until a receiver
 * that has been taking them has taken every one: killed first, it would leave the rest for the
 * next msgq_recv to print as a stream of its own.  Returns 0 when all of it is sent (and taken,
 * if a receiver is taking it), -1 otherwise.
 */
static int send_stdin(int msqid, int keyfd, long type, size_t size)
{
    static struct msgq_msg msg;
    struct receiver r = { false, 0 };
    long long total = 0, count = 0;

    struct msqid_ds ds;
    if (msgctl(msqid, IPC_STAT, &ds) == 0)
        r.first_rpid = ds.msg_lrpid;
    msg.mtype = type;
    for (;;) {
        if (ipclab_signal) /* every pass: read() of a file, msgsnd() with room, never fail */
            return -1;
        ssize_t n = read(STDIN_FILENO, msg.mtext, size);
        if (n == -1) {
            if (errno != EINTR) {
                warn("read stdin");
                return -1;
            }
            /* A tick (or a signal): while we wait for input, the receiver may leave. */
            if (ipclab_signal || check_receiver(msqid, keyfd, &r, false) == -1)
                return -1;
            continue;
        }
        /* msgsnd(2): one message, n bytes; it waits while the queue is full (msgmnb bytes). */
        while (msgsnd(msqid, &msg, (size_t)n, 0) == -1) {
            if (errno != EINTR)
                return msgq_failed("msgsnd", "the queue has been removed: the receiver has left");
            if (ipclab_signal || check_receiver(msqid, keyfd, &r, false) == -1 ||
                !guard_still_fits(msqid, (size_t)n))
                return -1; /* a tick: the receiver may have gone while the queue is full */
        }
        if (n == 0)
            break;
        total += n;
        count++;
    }
    warnx("end of input: %lld bytes in %lld message(s), then the empty end message", total, count);
    enum { DRAIN_MS = 10 }; /* no call waits for a queue to empty: look every DRAIN_MS */
    int taken = -1;
    while (!ipclab_signal && (taken = check_receiver(msqid, keyfd, &r, true)) == 0)
        poll(NULL, 0, DRAIN_MS);
    return taken == 1 && !ipclab_signal ? 0 : -1;
}

/* Join the queue: key file (its door held), queue, and the sender's role lock.  Refuse if
 * another msgq_send is at work on it, or if messages of an earlier one still wait for a
 * receiver: ours would be appended to theirs.  Returns the queue id, or -1. */
static int join(const char *path, int *keyfd, long *size)
{
    bool made;
    *keyfd = ipclab_key_file_open(path, &made);
    if (*keyfd == -1)
        return -1;
    int msqid = creat_or_get_msgque(path);
    if (msqid == -1)
        return msgq_key_file_drop(path, *keyfd, made);
    struct msqid_ds ds;
    pid_t other = ipclab_lock_holder(*keyfd, MSGQ_SENDER);
    if (other != 0) {
        warnx("another msgq_send (pid %ld) is already sending on %s", (long)other, path);
        msqid = -1;
    } else if (msgctl(msqid, IPC_STAT, &ds) == -1) {
        warn("msgctl IPC_STAT");
        msqid = -1;
    } else if (ipclab_lock_holder(*keyfd, MSGQ_RECEIVER) == 0 && msgq_broken_rest(msqid, &ds)) {
        /* Drop them with their queue, and make a new, empty one on the same key. */
        msqid = remove_msgque(msqid) == 0 ? creat_or_get_msgque(path) : -1;
    } else if (ds.msg_qnum > 0) {
        warnx("queue %d already holds %lu message(s) that no receiver has read; run msgq_recv "
              "to read them, or `ipcrm -q %d` to drop them", msqid, (unsigned long)ds.msg_qnum,
              msqid);
        msqid = -1;
    } else if (!guard_size_fits(msqid, &ds, size)) {
        msqid = -1;
    }
    return msgq_join_end(path, *keyfd, msqid, MSGQ_SENDER);
}

int main(int argc, char *argv[])
{
    char path[PATH_MAX] = "";
    long type = 1, msgmax, msgmnb, size = msgq_size_max(&msgmax, &msgmnb); /* the largest */

    ipclab_stderr_by_line();
    ipclab_std_fds();
    msgq_options(argc, argv, usage, path, sizeof path, &type, &size);
    if (path[0] == '\0')
        ipclab_run_path(path, sizeof path, "msgq");

    /* Fix: a signal handler may call only async-signal-safe functions (signal-safety(7)), and
     * msgctl(), remove() and exit() are not all so: ours only records the signal. */
    ipclab_catch_signals();
    ipclab_start_ticks();

    int keyfd;
    int msqid = join(path, &keyfd, &size);
    if (msqid == -1) {
        ipclab_die_of_signal();
        return IPCLAB_EXIT_FAIL;
    }
    ipclab_ready("queue %d (key from %s); sending type %ld messages of up to %ld bytes", msqid,
                 path, type, size);
    int status = send_stdin(msqid, keyfd, type, (size_t)size);
    /* Giving up: remove the queue, so a receiver is told at once (EIDRM) rather than waiting
     * for an end message that will not come. */
    if (status == -1 && ipclab_door_to_leave(keyfd, 0) == 0) {
        remove_msgque(msqid);
        ipclab_key_file_remove(path, keyfd);
    }
    close(keyfd);
    ipclab_die_of_signal();
    return status == 0 ? IPCLAB_EXIT_OK : IPCLAB_EXIT_FAIL;
}
