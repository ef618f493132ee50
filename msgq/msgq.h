/*
 * msgq.h - what msgq_send, msgq_recv and msgq_chat share: the message, the limits, the role
 * locks' bytes, the checks of a queue found, and plumbing: the pair's options, the messages of
 * a failed call or join.  The calls to ftok(3), msgget(2), msgsnd(2), msgrcv(2) and
 * msgctl(2) are in the programs.  Include it after ../common/sysv.h.
 *
 * The queue's key comes from ftok(3) on a key file in the run directory.  The key file is also
 * where each side holds its role lock (see common/peers.h), so a side can tell whether its
 * peer is still there: a System V queue does not say.
 */
#ifndef MSGQ_H
#define MSGQ_H

#include <sys/ipc.h>
#include <sys/msg.h>

/* The seed's MSG_SIZE: the most text msgq_chat sends in one message (one typed line). */
#define MSG_SIZE 1024

/* The largest text any ipclab program sends, and the buffer every receiver takes it into. */
#define MSGQ_TEXT_MAX 65536

/* The bytes of the key file that msgq_send and msgq_recv lock while they are at work (byte 0
 * is the door, see ipclab_key_file_open; msgq_chat locks the byte of its own type). */
enum { MSGQ_SENDER = 1, MSGQ_RECEIVER = 2 };

/* The ftok(3) project id, as in the seed. */
#define MSGQ_PROJ 'a'

/*
 * Fix: the original named this `struct msgbuf`, the very name glibc's <sys/msg.h> declares
 * under _GNU_SOURCE: the program then no longer compiles.  Any name of our own will do.
 */
struct msgq_msg {
    long mtype;                 /* > 0: msgrcv(2) picks messages by it */
    char mtext[MSGQ_TEXT_MAX];  /* the text: any bytes, length given to msgsnd(2) */
};

/*
 * Is the queue whose IPC_STAT is ds (queue msqid, key from path) ours to use?  Fix: msgget()
 * finds a queue by its key alone, and another user who makes one first on our key (ftok() of a
 * path is easy to compute) reads what we send and feeds us what we receive -- root's msgget()
 * grants a queue of any mode.  So before use, its creator (cuid) and its owner (uid; IPC_SET
 * can hand the uid to anyone, not the cuid) must both be us, and its mode must give others
 * nothing (ipclab_trusted).  If not, says why; the queue is left as it is.
 */
static inline bool msgq_trusted(int msqid, const char *path, const struct msqid_ds *ds)
{
    char what[PATH_MAX + 64];

    snprintf(what, sizeof what, "queue %d (key from %s)", msqid, path);
    return ipclab_sysv_trusted(what, &ds->msg_perm);
}

/*
 * Ask it of the queue's IPC_STAT when joining, holding the door, with no peer there.  If the queue
 * holds messages of which a receiver has already taken some (msg_lrpid, the pid of the last
 * msgrcv, is set), they are the rest of a transfer whose receiver was killed after its sender
 * had left: a stream without its beginning, and nobody left to finish or remove it.  (A receiver
 * that ends well removes the queue; a sender stays while its receiver takes its messages, see
 * msgq_send.c.)  Then says so and returns true: drop them with the queue, and start on a new
 * one.  Messages nobody has taken yet (msg_lrpid 0) wait for their receiver.
 */
static inline bool msgq_broken_rest(int msqid, const struct msqid_ds *ds)
{
    if (ds->msg_qnum == 0 || ds->msg_lrpid == 0)
        return false;
    warnx("dropping %lu message(s) left in queue %d: the rest of a transfer whose receiver "
          "(pid %ld) was killed after its sender had left", (unsigned long)ds->msg_qnum, msqid,
          (long)ds->msg_lrpid);
    return true;
}

/* The queue was removed under us (by the peer, or by ipcrm): msgsnd, msgrcv, msgctl say so. */
static inline bool msgque_gone(int error)
{
    return error == EIDRM || error == EINVAL;
}

/* A kernel limit from /proc/sys/kernel (msgmax, msgmnb), or fallback if it cannot be read. */
static inline long msgq_kernel_limit(const char *name, long fallback)
{
    char path[64];
    long value;

    snprintf(path, sizeof path, "/proc/sys/kernel/%s", name);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return fallback;
    if (fscanf(f, "%ld", &value) != 1 || value <= 0)
        value = fallback;
    fclose(f);
    return value;
}

/*
 * The largest message msgq_send may send, and the size it sends by default.  A message longer
 * than kernel.msgmax is refused by msgsnd() (EINVAL); one longer than the queue's capacity
 * (kernel.msgmnb) could never be sent at all.  The limit is the right size for a stream: each
 * msgsnd() and msgrcv() then moves as much as one call may.  (The seed's 1024 bytes took eight
 * times the calls: the pair moved a quarter of what it moves now.)  *msgmax and *msgmnb get
 * the two limits, for a message.
 */
static inline long msgq_size_max(long *msgmax, long *msgmnb)
{
    *msgmax = msgq_kernel_limit("msgmax", 8192);
    *msgmnb = msgq_kernel_limit("msgmnb", 16384);
    long max = *msgmax < *msgmnb ? *msgmax : *msgmnb;
    return max < MSGQ_TEXT_MAX ? max : MSGQ_TEXT_MAX;
}

/* A call on the queue failed: say so, as gone if the queue was removed.  Returns -1. */
static inline int msgq_failed(const char *call, const char *gone)
{
    if (msgque_gone(errno))
        warnx("%s", gone);
    else
        warn("%s", call);
    return -1;
}

/* msgget(2) failed on the key from path: say why.  Returns -1. */
static inline int msgq_msgget_failed(const char *path)
{
    if (errno == EACCES) /* not root: the queue exists, and we may not use it */
        warnx("the queue of the key from %s is not yours (msgget: %s); refusing to use it", path,
              strerror(EACCES));
    else
        warn("msgget (key from %s)", path);
    return -1;
}

/* Joining failed before the role lock was taken: close the key file, and remove it if we made
 * it (its door is held; one we found is not ours to remove).  Returns -1. */
static inline int msgq_key_file_drop(const char *path, int keyfd, bool made)
{
    if (made)
        ipclab_key_file_remove(path, keyfd);
    close(keyfd);
    return -1;
}

/*
 * The end of msgq_send's and msgq_chat's join, queue msqid found (-1: refused): take the role
 * lock on byte role of the key file, let go of the door, and, failing, close the key file.
 * Returns msqid, or -1.
 */
static inline int msgq_join_end(const char *path, int keyfd, int msqid, off_t role)
{
    if (msqid != -1 && ipclab_lock(keyfd, role, F_WRLCK, false) == -1) {
        warn("lock %s", path);
        msqid = -1;
    }
    ipclab_lock(keyfd, 0, F_UNLCK, false); /* the door */
    if (msqid == -1)
        close(keyfd);
    return msqid;
}

/*
 * The options of msgq_send and msgq_recv: -p PATH, the key file (into path); -t TYPE; -s SIZE
 * (msgq_send's: size not NULL); -h prints the usage and exits 0.  Anything else, an operand
 * included, is a usage error (exit 2).
 */
static inline void msgq_options(int argc, char *argv[], const char *usage, char *path,
                                size_t path_size, long *type, long *size)
{
    int opt;

    while ((opt = getopt(argc, argv, size != NULL ? ":hp:t:s:" : ":hp:t:")) != -1) {
        if (opt == 'p') {
            ipclab_path_arg(path, path_size, optarg, usage);
        } else if (opt == 't') {
            /* Fix: a type of 0 makes msgrcv() take messages of every type, a negative one all
             * types up to it: atol("abc") is 0.  Check it. */
            if (!ipclab_parse_long(optarg, 1, LONG_MAX, type))
                ipclab_usage_error(usage, "-t wants a message type from 1 to %ld, not '%s'",
                                   LONG_MAX, optarg);
        } else if (opt == 's') {
            long msgmax, msgmnb, max = msgq_size_max(&msgmax, &msgmnb);
            if (!ipclab_parse_long(optarg, 1, max, size))
                ipclab_usage_error(usage, "-s wants a message size from 1 to %ld bytes (the "
                                   "kernel's msgmax %ld, queue capacity %ld), not '%s'",
                                   max, msgmax, msgmnb, optarg);
        } else if (opt == 'h') {
            fputs(usage, stdout);
            exit(IPCLAB_EXIT_OK);
        } else {
            ipclab_bad_option(usage, opt, argv);
        }
    }
    if (optind < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
}

#endif /* MSGQ_H */
