/*
 * msgq.h - what msgq_send, msgq_recv and msgq_chat share: the message, the limits, and the
 * seed's creat_or_get_msgque() with its bugs fixed.  Include it after ../common/ipclab.h.
 *
 * The queue's key comes from ftok(3) on a key file in the run directory.  The key file is also
 * where each side holds its role lock (see "peers" in ipclab.h), so a side can tell whether its
 * peer is still there: a System V queue does not say.
 */
#ifndef MSGQ_H
#define MSGQ_H

#include <sys/ipc.h>
#include <sys/msg.h>

/* The seed's MSG_SIZE: the default size of a message's text. */
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
 * Get the queue of path's key, creating it (mode 0600) if it is missing, and check it before
 * use.  Fix: a queue found was used whatever it was, and a queue is found by its key alone:
 * another user who makes one first on our key (ftok() of a path is easy to compute) reads what
 * we send and feeds us what we receive -- root's msgget() grants a queue of any mode.  So its
 * creator (cuid) and its owner (uid; IPC_SET can hand the uid to anyone, not the cuid) must both
 * be us, and its mode must give others nothing (ipclab_trusted).  Returns the id, or -1 after a
 * message (the queue refused is left as it is).
 */
static inline int msgq_get(const char *path)
{
    key_t key = ftok(path, MSGQ_PROJ);
    if (key == (key_t)-1) {
        warn("ftok %s", path);
        return -1;
    }
    int msqid = msgget(key, IPC_CREAT | 0600);
    if (msqid == -1) {
        if (errno == EACCES) /* not root: the queue exists, and we may not use it */
            warnx("the queue of the key from %s is not yours (msgget: %s); refusing to use it",
                  path, strerror(EACCES));
        else
            warn("msgget (key from %s)", path);
        return -1;
    }
    struct msqid_ds ds;
    char what[PATH_MAX + 64];
    snprintf(what, sizeof what, "queue %d (key from %s)", msqid, path);
    if (msgctl(msqid, IPC_STAT, &ds) == -1) {
        warn("msgctl IPC_STAT %s", what);
        return -1;
    }
    if (ds.msg_perm.cuid != geteuid()) {
        warnx("%s was made by uid %ld, not by you (uid %ld); refusing to use it", what,
              (long)ds.msg_perm.cuid, (long)geteuid());
        return -1;
    }
    return ipclab_trusted(what, ds.msg_perm.uid, ds.msg_perm.mode) ? msqid : -1;
}

/*
 * creat_or_get_msgque(): open the key file path (creating it 0600, or refusing a file that is
 * not a key file) and hold its door (see ipclab_key_file_open), and create or get the queue,
 * mode 0600, refusing another user's (msgq_get).  Returns the queue id and puts the key file's
 * descriptor in *keyfd, door held; or -1 (errno EINTR: a termination signal came while we
 * waited at the door; otherwise after a message).
 *
 * Fix: the original made ./msgfile and the queue mode 0664 (anyone in the group could read and
 * write them), never closed the key file's descriptor, and ended the program from inside the
 * helper with exit(-1), which a shell sees as status 255.
 */
static inline int creat_or_get_msgque(const char *path, int *keyfd)
{
    bool made;
    int fd = ipclab_key_file_open(path, &made);
    if (fd == -1)
        return -1;
    int msqid = msgq_get(path);
    if (msqid == -1) {
        if (made)
            ipclab_key_file_remove(path, fd); /* ours, door held; one we found is not */
        close(fd);
        return -1;
    }
    *keyfd = fd;
    return msqid;
}

/* Remove the queue and its key file (call it holding the door).  Either may be gone already. */
static inline void remove_msgque(int msqid, const char *path, int keyfd)
{
    if (msgctl(msqid, IPC_RMID, NULL) == -1 && errno != EIDRM && errno != EINVAL)
        warn("msgctl IPC_RMID");
    ipclab_key_file_remove(path, keyfd);
}

/* Remove queue msqid and make a new, empty one with the same key (call it holding the door).
 * Returns the new queue's id, or -1. */
static inline int renew_msgque(int msqid, const char *path)
{
    msgctl(msqid, IPC_RMID, NULL);
    return msgq_get(path); /* another user's may have taken the key meanwhile: checked again */
}

/*
 * Call it joining, holding the door, with no peer there.  If the queue holds messages of which a
 * receiver has already taken some (msg_lrpid, the pid of the last msgrcv, is set), they are the
 * rest of a transfer whose receiver was killed after its sender had left: a stream without its
 * beginning, and nobody left to finish or remove it.  (A receiver that ends well removes the
 * queue; a sender stays while its receiver takes its messages, see msgq_send.c.)  Drop them and
 * start on a new queue.  Messages nobody has taken yet (msg_lrpid 0) wait for their receiver.
 * Returns the queue id to use, or -1.
 */
static inline int drop_broken_rest(int msqid, const char *path)
{
    struct msqid_ds ds;

    if (msgctl(msqid, IPC_STAT, &ds) == -1 || ds.msg_qnum == 0 || ds.msg_lrpid == 0)
        return msqid;
    warnx("dropping %lu message(s) left in queue %d: the rest of a transfer whose receiver "
          "(pid %ld) was killed after its sender had left", (unsigned long)ds.msg_qnum, msqid,
          (long)ds.msg_lrpid);
    return renew_msgque(msqid, path);
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

#endif /* MSGQ_H */
