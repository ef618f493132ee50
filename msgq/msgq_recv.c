/*
 * msgq_recv - print the messages of one type that arrive on a System V message queue.
 *
 * msgrcv(2) with a positive type takes the oldest message of exactly that type and leaves the
 * others in the queue; it waits while there is none.  Every message is printed as it is, bytes
 * and all (NUL included, nothing added).  The empty message msgq_send sends last ends it.
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./msgq/msgq_recv
 *     terminal 2:  ./msgq/msgq_send
 * What you should see in terminal 1 (queue id and path vary), once terminal 2 has sent a line
 * and pressed Ctrl-D:
 *     msgq_recv: ready (pid 4243): queue 3 (key from /tmp/ipclab-1000/msgq); waiting for type 1
 *     hello queue
 *     msgq_recv: end message: 12 bytes in 1 message(s)
 *
 * Who removes the queue: msgq_recv, when it leaves: after the end message, or when its sender
 * has gone.  It removes the key file with it.  A receiver that leaves before the end message
 * (a signal, an error) while its sender is still there leaves the queue to the sender, which
 * must learn that not everything was taken.  A second msgq_recv on the same queue is refused:
 * two receivers of one type would each get some of the messages.
 *
 * Mirrors seed 004, 消息队列 (the receiving half of its demo).  Build alone:
 *     cc -o msgq_recv msgq_recv.c
 */
#define _XOPEN_SOURCE 700 /* System V IPC and setitimer() are XSI */

#include "../common/ipclab.h"
#include "../common/peers.h"
#include "../common/sysv.h"
#include "msgq.h"

static const char usage[] =
    "usage: msgq_recv [-p PATH] [-t TYPE]\n"
    "  Print the messages of type TYPE that arrive on a System V message queue, until the\n"
    "  empty message msgq_send sends last; then remove the queue.\n"
    "  -p PATH  the key file: ftok(3) makes the queue's key from it (default: msgq in the run\n"
    "           directory, see the top README.md)\n"
    "  -t TYPE  the type to receive, 1 to LONG_MAX (default 1)\n"
    "  -h       show this help\n";

/* creat_or_get_msgque() (the seed's name), as in msgq_send.c: ftok(3) makes the key, msgget(2)
 * the queue, and IPC_STAT says whose a queue found is.  Returns its id, or -1. */
static int creat_or_get_msgque(const char *path)
{
    key_t key = ftok(path, MSGQ_PROJ);
    if (key == (key_t)-1) {
        warn("ftok %s", path);
        return -1;
    }
    int msqid = msgget(key, IPC_CREAT | 0600);
    if (msqid == -1)
        return msgq_msgget_failed(path);
    struct msqid_ds ds;
    if (msgctl(msqid, IPC_STAT, &ds) == -1) {
        warn("msgctl IPC_STAT queue %d (key from %s)", msqid, path);
        return -1;
    }
    return msgq_trusted(msqid, path, &ds) ? msqid : -1;
}

/* msgctl(2) IPC_RMID, as in msgq_send.c.  Returns 0, or -1 after a message. */
static int remove_msgque(int msqid)
{
    if (msgctl(msqid, IPC_RMID, NULL) == -1 && !msgque_gone(errno)) {
        warn("msgctl IPC_RMID");
        return -1;
    }
    return 0;
}

/*
 * At a tick: is the sender still there?  Returns 0 (wait on) or IPC_NOWAIT: the sender is gone
 * though one has sent on this queue, so the next msgrcv() must not wait -- if no message of
 * ours is left, none will ever come.
 */
static int sender_check(int msqid, int keyfd)
{
    struct msqid_ds ds;

    if (ipclab_lock_holder(keyfd, MSGQ_SENDER) > 0)
        return 0;
    if (msgctl(msqid, IPC_STAT, &ds) == 0 && ds.msg_lspid == 0)
        return 0; /* nobody has sent yet: wait for a sender */
    return IPC_NOWAIT;
}

/*
 * Print the messages of type `type` until the end message.  Returns 0 at the end message, -1
 * otherwise.  Fix: a failed msgrcv() fails again at once once the queue is gone (EIDRM, then
 * EINVAL), so a loop that ignores it spins; and mtext is bytes, not a string: printf("%s")
 * stops at a NUL and overruns a full buffer, so write(2) prints the length msgrcv() returned.
 */
static int print_msgs(int msqid, int keyfd, long type)
{
    static struct msgq_msg msg;
    long long total = 0, count = 0;
    int flags = 0;

    for (;;) {
        /* msgrcv(2): the oldest message of our type, whole; it waits while there is none. */
        ssize_t n = msgrcv(msqid, &msg, sizeof msg.mtext, type, flags);
        if (n == -1) {
            if (errno == EINTR) {
                if (ipclab_signal)
                    return -1;
                if (ipclab_tick) {
                    ipclab_tick = 0;
                    flags = sender_check(msqid, keyfd);
                }
                continue;
            }
            struct msqid_ds ds;
            if (errno == ENOMSG && msgctl(msqid, IPC_STAT, &ds) == 0 && ds.msg_qnum > 0)
                warnx("the sender has left, and none of the %lu message(s) it left in the queue "
                      "has type %ld (dropped with the queue)", (unsigned long)ds.msg_qnum, type);
            else if (errno == ENOMSG)
                warnx("the sender vanished before its end message (killed?): %lld bytes in %lld "
                      "message(s) received, the rest is lost", total, count);
            else if (msgque_gone(errno))
                warnx("the queue was removed before the end message: the sender gave up after "
                      "%lld bytes", total);
            else if (errno == E2BIG)
                warnx("a message longer than %zu bytes came; not an ipclab sender?",
                      sizeof msg.mtext);
            else
                warn("msgrcv");
            return -1;
        }
        if (n == 0) {
            warnx("end message: %lld bytes in %lld message(s)", total, count);
            return 0;
        }
        if (ipclab_write_all(STDOUT_FILENO, msg.mtext, (size_t)n) == -1) {
            if (errno != EINTR)
                warn("write stdout");
            return -1;
        }
        total += n;
        count++;
    }
}

int main(int argc, char *argv[])
{
    char path[PATH_MAX] = "";
    long type = 1;

    ipclab_stderr_by_line();
    ipclab_std_fds();
    msgq_options(argc, argv, usage, path, sizeof path, &type, NULL);
    if (path[0] == '\0')
        ipclab_run_path(path, sizeof path, "msgq");

    ipclab_catch_signals();
    /* msgrcv(2) has no timeout and no descriptor to poll: SIGALRM 5 times a second (no
     * SA_RESTART) ends a blocked msgrcv() with EINTR, so the loop can look at the sender's lock
     * and at ipclab_signal -- a Ctrl-C just before msgrcv() blocks is seen at the next tick. */
    ipclab_start_ticks();

    bool made;
    int keyfd = ipclab_key_file_open(path, &made); /* the key file, its door held */
    if (keyfd == -1) {
        ipclab_die_of_signal();
        return IPCLAB_EXIT_FAIL;
    }
    int msqid = creat_or_get_msgque(path);
    if (msqid == -1) {
        msgq_key_file_drop(path, keyfd, made);
        ipclab_die_of_signal();
        return IPCLAB_EXIT_FAIL;
    }
    pid_t other = ipclab_lock_holder(keyfd, MSGQ_RECEIVER);
    if (other != 0 || ipclab_lock(keyfd, MSGQ_RECEIVER, F_WRLCK, false) == -1) {
        warnx("another msgq_recv (pid %ld) is already receiving on %s", (long)other, path);
        close(keyfd);
        return IPCLAB_EXIT_FAIL;
    }
    struct msqid_ds ds;
    if (ipclab_lock_holder(keyfd, MSGQ_SENDER) == 0 && msgctl(msqid, IPC_STAT, &ds) == 0 &&
        msgq_broken_rest(msqid, &ds)) {
        /* Drop them with their queue, and make a new, empty one on the same key. */
        msqid = remove_msgque(msqid) == 0 ? creat_or_get_msgque(path) : -1;
        if (msqid == -1) {
            close(keyfd);
            return IPCLAB_EXIT_FAIL;
        }
    }
    ipclab_lock(keyfd, 0, F_UNLCK, false); /* the door */
    ipclab_ready("queue %d (key from %s); waiting for type %ld", msqid, path, type);

    int status = print_msgs(msqid, keyfd, type);

    /* Leaving before the end message while the sender is there?  Leave the queue to it: it sees
     * us go, says not everything was taken, and removes it (our removal would look to it like
     * "all taken").  Otherwise msgctl(2) IPC_RMID removes the queue, and we the key file. */
    if (ipclab_door_to_leave(keyfd, 0) == 0) {
        pid_t sender = status == 0 || msgctl(msqid, IPC_STAT, &ds) == -1
                           ? 0 : ipclab_lock_holder(keyfd, MSGQ_SENDER);
        if (sender > 0) {
            warnx("leaving the queue to the sender (pid %ld), which is still there: it "
                  "removes it", (long)sender);
        } else {
            remove_msgque(msqid);
            ipclab_key_file_remove(path, keyfd);
        }
    }
    close(keyfd);
    ipclab_die_of_signal();
    return status == 0 ? IPCLAB_EXIT_OK : IPCLAB_EXIT_FAIL;
}
