/*
 * msgq_send - send stdin through a System V message queue, as typed messages.
 *
 * A message queue is a list of messages the kernel keeps: msgsnd(2) appends one, with a type (a
 * positive long); msgrcv(2) takes the oldest of the type it asks for, whole, or waits for one.
 * Unlike a pipe it keeps message boundaries, and it outlives the processes (`ipcs -q`).
 * The steps: 1 ftok  2 msgget  3 msgctl IPC_STAT  4 read stdin  5 msgsnd each chunk, then an
 * empty message: the end  6 stay until the receiver has taken them all.
 *
 * Run it in two terminals, either first:  ./msgq/msgq_recv   and   ./msgq/msgq_send
 * Type "hello queue", Ctrl-D: msgq_recv prints it, then "msgq_recv: end message: 12 bytes in 1
 * message(s)", and removes the queue.  Any program may take either side (msgq/README.md).
 *
 * Mirrors seed 004, 消息队列 (the sending half).  Build alone: cc -o msgq_send msgq_send.c
 */
#define _GNU_SOURCE /* syscall(SYS_pidfd_open) in msgq.h: Linux only */

#include "../common/ipclab.h"
#include "../common/peers.h"
#include "../common/sysv.h"
#include "msgq.h"

static const char usage[] =
    "usage: msgq_send [-p PATH] [-t TYPE] [-s SIZE]\n"
    "  Send stdin as messages of type TYPE, at most SIZE bytes each, then an empty one: the end.\n"
    "  -p PATH  the key file ftok(3) makes the key of (default: msgq in the run directory)\n"
    "  -t TYPE  the messages' type, 1 to LONG_MAX (default 1)\n"
    "  -s SIZE  the most bytes in one message, 1 to kernel.msgmax (default: kernel.msgmax)\n"
    "  -h       show this help\n";

static char path[PATH_MAX];     /* the key file */
static int keyfd = -1, msqid = -1;
static struct msqid_ds ds;      /* the queue when we joined */
static bool keep = true, made; /* keep it: not joined yet, or all sent; made the key file */

/* atexit: giving up, remove the queue (the receiver's msgrcv() fails: EIDRM) and the key file. */
static void leave(void)
{
    if (!keep && ipclab_door_to_leave(keyfd, 0) == 0) { /* record lock on byte 0: nobody joins */
        if (msgctl(msqid, IPC_RMID, NULL) == -1 && !msgque_gone(errno))
            warn("msgctl IPC_RMID");
        ipclab_key_file_remove(path, keyfd);
    }
    if (keyfd != -1)
        close(keyfd); /* our record locks go with it */
    ipclab_die_of_signal();
}

/* Exit on a signal.  After a SIGALRM (every 200 ms), or once ended, look at the receiver (the
 * last msgrcv()'s pid, msg_lrpid): exit if it is gone before it took all; ended, true if not. */
static bool all_taken(bool ended, ssize_t len)
{
    struct msqid_ds now = { .msg_qnum = 0 }; /* empty if the receiver removed it, ended */

    if (ipclab_signal)
        exit(IPCLAB_EXIT_FAIL); /* leave() cleans up */
    if (!ended && !ipclab_tick)
        return false;
    ipclab_tick = 0;
    if (msgctl(msqid, IPC_STAT, &now) == -1 && !(ended && msgque_gone(errno)))
        msgq_failed("msgctl IPC_STAT", "the queue has been removed: the receiver has left");
    guard_still_fits(msqid, &now, len); /* msg_qbytes lowered under the message waiting? */
    if ((ended && now.msg_qnum == 0) || now.msg_lrpid == ds.msg_lrpid)
        return ended; /* all taken (or removed by the receiver); or none came: they wait */
    if (msgq_alive(now.msg_lrpid))
        return false;
    /* Fix: count again once it is gone: it may take the last message and end in between. */
    if (ended && (msgctl(msqid, IPC_STAT, &now) == -1 || now.msg_qnum == 0))
        return true;
    errx(IPCLAB_EXIT_FAIL, "the receiver is gone before it took everything (%lu message(s) "
         "left in the queue; killed?)", (unsigned long)now.msg_qnum);
}

int main(int argc, char *argv[])
{
    long type = 1, size;
    long long total = 0, count = 0;

    msgq_begin(argc, argv, usage, path, &type, &size); /* options, run directory, signals */
    /* Fix: clean up at exit, not in the handler: msgctl(), remove(), exit() are not all safe. */
    atexit(leave);
    keyfd = msgq_key_file(path, &made); /* locks byte 0 while we join */
    /* 1. ftok(3): a key from the key file's inode and device, and a project id. */
    key_t key = ftok(path, MSGQ_PROJ);
    if (key == (key_t)-1)
        err(IPCLAB_EXIT_FAIL, "ftok %s", path);
    do {
        /* 2. msgget(2): the queue of that key, made if missing, mode 0600; 3. its IPC_STAT. */
        msqid = msgget(key, IPC_CREAT | 0600);
        if (msqid == -1)
            err(IPCLAB_EXIT_FAIL, "msgget (key from %s)", path);
        if (msgctl(msqid, IPC_STAT, &ds) == -1)
            err(IPCLAB_EXIT_FAIL, "msgctl IPC_STAT queue %d", msqid);
        guard_queue_is_ours(msqid, path, &ds);                      /* another user's? */
        guard_one_per_role(keyfd, MSGQ_SENDER, ds.msg_lspid, path); /* two mix streams */
    } while (msgq_broken_rest(msqid, &ds) && msgctl(msqid, IPC_RMID, NULL) == 0); /* anew */
    guard_queue_empty(msqid, &ds);      /* an earlier sender's messages wait for a receiver */
    guard_size_fits(msqid, &ds, &size); /* a message over msg_qbytes would wait for ever */
    keep = false;
    ipclab_lock(keyfd, 0, F_UNLCK, false); /* joined: others may come */
    ipclab_ready("queue %d (key from %s); sending type %ld messages of up to %ld bytes", msqid,
                 path, type, size);
    static struct msgq_msg msg;
    msg.mtype = type;
    for (;;) {
        all_taken(false, -1); /* every pass: read() of a file, msgsnd() with room never fail */
        /* 4. read(2): each chunk of stdin is one message, a line from a terminal. */
        ssize_t n = read(STDIN_FILENO, msg.mtext, (size_t)size);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            err(IPCLAB_EXIT_FAIL, "read stdin");
        /* 5. msgsnd(2): one message of n bytes, 0 the end; it waits while the queue is full. */
        while (msgsnd(msqid, &msg, (size_t)n, 0) == -1) {
            if (errno != EINTR)
                msgq_failed("msgsnd", "the queue has been removed: the receiver has left");
            all_taken(false, n);
        }
        if (n == 0)
            break;
        total += n;
        count++;
    }
    warnx("end of input: %lld bytes in %lld message(s), then the empty end message", total, count);
    /* 6. No call waits for a queue to empty: look every 10 ms until the receiver took all. */
    while (!all_taken(true, -1))
        poll(NULL, 0, 10);
    keep = true;
    return IPCLAB_EXIT_OK;
}
