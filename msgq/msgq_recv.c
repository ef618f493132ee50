/*
 * msgq_recv - print the messages of one type that arrive on a System V message queue.
 *
 * msgrcv(2) with a positive type takes the oldest message of exactly that type and leaves the
 * others in the queue; it waits while there is none.  Every message is printed as it is, bytes
 * and all (NUL included, nothing added).  The empty message msgq_send sends last ends it.
 * The steps: 1 ftok  2 msgget  3 msgctl IPC_STAT  4 msgrcv, write each message  5 msgctl
 * IPC_RMID once the end message came.
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./msgq/msgq_recv
 *     terminal 2:  ./msgq/msgq_send
 * What you should see in terminal 1 (queue id and path vary), once terminal 2 has sent a line
 * and pressed Ctrl-D:
 *     msgq_recv: ready (pid 4243): queue 3 (key from /tmp/ipclab-1000/msgq); waiting for type 1
 *     hello queue
 *     msgq_recv: end message: 12 bytes in 1 message(s)
 * Any program may send: what it must do is in msgq/README.md.
 *
 * Who removes the queue: msgq_recv, when it leaves: after the end message, or once its sender
 * has gone.  It removes the key file with it.  A receiver that leaves before the end message
 * (a signal, an error) while its sender is still there leaves the queue to the sender, which
 * must learn that not everything was taken.  A second receiver on the same queue is refused:
 * two receivers of one type would each get some of the messages.
 *
 * Mirrors seed 004, 消息队列 (the receiving half of its demo).  Build alone:
 *     cc -o msgq_recv msgq_recv.c
 */
#define _GNU_SOURCE /* syscall(SYS_pidfd_open) in msgq.h: Linux only */

#include "../common/ipclab.h"
#include "../common/peers.h"
#include "../common/sysv.h"
#include "msgq.h"

static const char usage[] =
    "usage: msgq_recv [-p PATH] [-t TYPE]\n"
    "  Print the messages of type TYPE that arrive on a System V message queue, until an\n"
    "  empty message (the end); then remove the queue.\n"
    "  -p PATH  the key file: ftok(3) makes the queue's key from it (default: msgq in the run\n"
    "           directory, see the top README.md)\n"
    "  -t TYPE  the type to receive, 1 to LONG_MAX (default 1)\n"
    "  -h       show this help\n";

static char path[PATH_MAX]; /* the key file */
static int keyfd = -1, msqid = -1;
static bool joined, ended;  /* ended: the end message came */

/*
 * atexit: msgctl(2) IPC_RMID removes the queue, and we the key file -- unless we leave before
 * the end message while the sender (msg_lspid, the last msgsnd()'s pid) still runs: then the
 * queue is left to it (it sees us go, says not everything was taken, and removes it; our
 * removal would look to it like "all taken").  Then die of the signal caught, if one was.
 */
static void leave(void)
{
    struct msqid_ds ds;

    if (joined && ipclab_door_to_leave(keyfd, 0) == 0) { /* record lock on byte 0: nobody joins */
        if (!ended && msgctl(msqid, IPC_STAT, &ds) == 0 && msgq_alive(ds.msg_lspid)) {
            warnx("leaving the queue to the sender (pid %ld), which is still there: it "
                  "removes it", (long)ds.msg_lspid);
        } else {
            if (msgctl(msqid, IPC_RMID, NULL) == -1 && !msgque_gone(errno))
                warn("msgctl IPC_RMID");
            ipclab_key_file_remove(path, keyfd);
        }
    }
    if (keyfd != -1)
        close(keyfd); /* our record locks go with it */
    ipclab_die_of_signal();
}

/* msgrcv() failed for good: say why (the error, and how much came before), and exit 1. */
static _Noreturn void lost(long type, long long total, long long count)
{
    struct msqid_ds ds;

    if (errno == ENOMSG && msgctl(msqid, IPC_STAT, &ds) == 0 && ds.msg_qnum > 0)
        errx(IPCLAB_EXIT_FAIL, "the sender has left, and none of the %lu message(s) it left in "
             "the queue has type %ld (dropped with the queue)", (unsigned long)ds.msg_qnum, type);
    if (errno == ENOMSG)
        errx(IPCLAB_EXIT_FAIL, "the sender vanished before its end message (killed?): %lld "
             "bytes in %lld message(s) received, the rest is lost", total, count);
    if (msgque_gone(errno))
        errx(IPCLAB_EXIT_FAIL, "the queue was removed before the end message: the sender gave "
             "up after %lld bytes", total);
    if (errno == E2BIG)
        errx(IPCLAB_EXIT_FAIL, "a message longer than %d bytes came", MSGQ_TEXT_MAX);
    err(IPCLAB_EXIT_FAIL, "msgrcv");
}

/* Has the sender ended?  The queue records the last msgsnd()'s pid (msg_lspid; 0: nobody has
 * sent yet, and we wait for a sender).  A pidfd says whether it still runs. */
static bool sender_gone(void)
{
    struct msqid_ds ds;

    return msgctl(msqid, IPC_STAT, &ds) == 0 && ds.msg_lspid != 0 && !msgq_alive(ds.msg_lspid);
}

int main(int argc, char *argv[])
{
    long type = 1;
    long long total = 0, count = 0;
    bool made;

    msgq_begin(argc, argv, usage, path, &type, NULL); /* options, run directory, signals */
    /* Fix: clean up at exit, not in the handler: msgctl(), remove(), exit() are not all safe. */
    atexit(leave);
    keyfd = msgq_key_file(path, &made); /* made if missing; locks byte 0 while we join */
    /* 1. ftok(3): a key from the key file's inode and device, and a project id. */
    key_t key = ftok(path, MSGQ_PROJ);
    if (key == (key_t)-1)
        err(IPCLAB_EXIT_FAIL, "ftok %s", path);
    struct msqid_ds ds;
    do {
        /* 2. msgget(2): the queue of that key, or with IPC_CREAT a new one, mode 0600. */
        msqid = msgget(key, IPC_CREAT | 0600);
        if (msqid == -1)
            err(IPCLAB_EXIT_FAIL, "msgget (key from %s)", path);
        /* 3. msgctl(2) IPC_STAT: whose it is, what it holds, who used it last. */
        if (msgctl(msqid, IPC_STAT, &ds) == -1)
            err(IPCLAB_EXIT_FAIL, "msgctl IPC_STAT queue %d", msqid);
        guard_queue_is_ours(msqid, path, &ds);                        /* another user's? */
        guard_one_per_role(keyfd, MSGQ_RECEIVER, ds.msg_lrpid, path); /* two share it out */
    } while (msgq_broken_rest(msqid, &ds) && msgctl(msqid, IPC_RMID, NULL) == 0); /* anew */
    joined = true;
    ipclab_lock(keyfd, 0, F_UNLCK, false); /* joined: others may come */
    ipclab_ready("queue %d (key from %s); waiting for type %ld", msqid, path, type);

    static struct msgq_msg msg;
    int flags = 0;
    for (;;) {
        /* 4. msgrcv(2): the oldest message of our type, whole; it waits while there is none. */
        ssize_t n = msgrcv(msqid, &msg, sizeof msg.mtext, type, flags);
        if (n == -1 && errno == EINTR) { /* a SIGALRM every 200 ms, or a signal */
            if (ipclab_signal)
                exit(IPCLAB_EXIT_FAIL); /* leave() cleans up */
            flags = sender_gone() ? IPC_NOWAIT : 0; /* then all it sent is queued */
            continue;
        }
        /* Fix: a failed msgrcv() fails again at once once the queue is gone: do not retry. */
        if (n == -1)
            lost(type, total, count);
        if (n == 0)
            break;
        /* Fix: mtext is bytes, not a string: write(2) the length msgrcv() returned. */
        if (ipclab_write_all(STDOUT_FILENO, msg.mtext, (size_t)n) == -1) {
            if (errno != EINTR)
                warn("write stdout");
            exit(IPCLAB_EXIT_FAIL);
        }
        total += n;
        count++;
    }
    ended = true;
    warnx("end message: %lld bytes in %lld message(s)", total, count);
    return IPCLAB_EXIT_OK; /* 5. leave() removes the queue */
}
