/*
 * msgq.h - what msgq_send, msgq_recv and msgq_chat share: the message, the limits, the bytes of
 * the key file they lock, the peer check by pidfd, the guards, and the plumbing of their start
 * (options, run directory, signals).  The calls to ftok(3), msgget(2), msgsnd(2), msgrcv(2)
 * and msgctl(2) are in the programs.  Include it after ../common/sysv.h, under _GNU_SOURCE
 * (syscall(2) for pidfd_open is Linux only).
 *
 * The queue's key comes from ftok(3) on a key file in the run directory.  What the queue itself
 * records says who is there: msg_lspid, the pid of the last msgsnd(), and msg_lrpid, the pid
 * of the last msgrcv() (msgctl IPC_STAT).  The record locks on the key file only keep a second
 * msgq_send, msgq_recv or chat side of one type away; a peer of another program holds none.
 */
#ifndef MSGQ_H
#define MSGQ_H

#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/syscall.h>

/* The seed's MSG_SIZE: the most text msgq_chat sends in one message (one typed line). */
#define MSG_SIZE 1024

/* The largest text any ipclab program sends, and the buffer every receiver takes it into. */
#define MSGQ_TEXT_MAX 65536

/* The bytes of the key file that msgq_send and msgq_recv lock while they are at work (byte 0
 * while they join or leave; msgq_chat locks the byte of its own type). */
enum { MSGQ_SENDER = 1, MSGQ_RECEIVER = 2 };

/* The ftok(3) project id, as in the seed. */
#define MSGQ_PROJ 'a'

/* Fix: any name but `struct msgbuf`, which glibc's <sys/msg.h> declares under _GNU_SOURCE. */
struct msgq_msg {
    long mtype;                 /* > 0: msgrcv(2) picks messages by it */
    char mtext[MSGQ_TEXT_MAX];  /* the text: any bytes, length given to msgsnd(2) */
};

/*
 * Is process pid still running?  pidfd_open(2) (Linux 5.3 and later) gives a descriptor that
 * poll(2) finds readable once the process has ended, a zombie too (kill(pid, 0) calls a zombie
 * alive).  pid 0, the queue's "nobody yet", is not running.  An older kernel (ENOSYS): kill().
 */
static inline bool msgq_alive(pid_t pid)
{
    if (pid <= 0)
        return false;
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd == -1)
        return errno == ENOSYS ? kill(pid, 0) == 0 || errno == EPERM : errno != ESRCH;
    struct pollfd pfd = { .fd = fd, .events = POLLIN }; /* readable: it has ended */
    int n = poll(&pfd, 1, 0);
    close(fd);
    return n != 1;
}

/* The queue was removed under us (by the peer, or by ipcrm): msgsnd, msgrcv, msgctl say so. */
static inline bool msgque_gone(int error)
{
    return error == EIDRM || error == EINVAL;
}

/* A call on the queue failed: say so, as gone if the queue was removed, and exit 1. */
static inline _Noreturn void msgq_failed(const char *call, const char *gone)
{
    if (msgque_gone(errno))
        errx(IPCLAB_EXIT_FAIL, "%s", gone);
    err(IPCLAB_EXIT_FAIL, "%s", call);
}

/*
 * msgget() finds a queue by its key alone, and another user who makes one first on our key
 * (ftok() of a path is easy to compute) reads what we send and feeds us what we receive --
 * root's msgget() grants a queue of any mode.  So its creator and owner must be us, and its
 * mode closed to others (ipclab_sysv_trusted); if not, say why and exit 1, leaving it alone.
 */
static inline void guard_queue_is_ours(int msqid, const char *path, const struct msqid_ds *ds)
{
    char what[PATH_MAX + 64];

    snprintf(what, sizeof what, "queue %d (key from %s)", msqid, path);
    if (!ipclab_sysv_trusted(what, &ds->msg_perm))
        exit(IPCLAB_EXIT_FAIL);
}

/*
 * One sender (role MSGQ_SENDER) and one receiver (MSGQ_RECEIVER) per queue: two would mix
 * their streams, or share out the messages.  Refuse (exit 1) if another msgq_send or msgq_recv
 * holds the record lock on byte role of the key file, or if other, the process the queue last
 * recorded in that role (msg_lspid or msg_lrpid), still runs: a peer of another program holds
 * no lock.  Then take the lock.
 */
static inline void guard_one_per_role(int keyfd, off_t role, pid_t other, const char *path)
{
    const char *doing = role == MSGQ_SENDER ? "sending" : "receiving";
    pid_t holder = ipclab_lock_holder(keyfd, role);

    if (holder != 0)
        errx(IPCLAB_EXIT_FAIL, "another %s (pid %ld) is already %s on %s",
             role == MSGQ_SENDER ? "msgq_send" : "msgq_recv", (long)holder, doing, path);
    if (msgq_alive(other))
        errx(IPCLAB_EXIT_FAIL, "another process (pid %ld) is already %s on %s", (long)other,
             doing, path);
    if (ipclab_lock(keyfd, role, F_WRLCK, false) == -1)
        err(IPCLAB_EXIT_FAIL, "lock %s", path);
}

/*
 * Messages in the queue of which a receiver has already taken some (msg_lrpid set), with
 * neither that receiver nor the last sender (msg_lspid) running: the rest of a transfer whose
 * receiver was killed after its sender had left, a stream without its beginning and nobody to
 * finish it.  Then say so and return true: drop them with the queue, and start on a new one.
 * Messages nobody has taken yet (msg_lrpid 0) wait for their receiver.
 */
static inline bool msgq_broken_rest(int msqid, const struct msqid_ds *ds)
{
    if (ds->msg_qnum == 0 || ds->msg_lrpid == 0 || msgq_alive(ds->msg_lrpid) ||
        msgq_alive(ds->msg_lspid))
        return false;
    warnx("dropping %lu message(s) left in queue %d: the rest of a transfer whose receiver "
          "(pid %ld) was killed after its sender had left", (unsigned long)ds->msg_qnum, msqid,
          (long)ds->msg_lrpid);
    return true;
}

/* A type is one chat side's: refuse (exit 1) a second msgq_chat of type me, which holds the
 * record lock on byte me of the key file; then take it. */
static inline void guard_type_free(int keyfd, long me, const char *path)
{
    pid_t holder = ipclab_lock_holder(keyfd, me);

    if (holder != 0)
        errx(IPCLAB_EXIT_FAIL, "type %ld is taken: another msgq_chat (pid %ld) is %ld on %s", me,
             (long)holder, me, path);
    if (ipclab_lock(keyfd, me, F_WRLCK, false) == -1)
        err(IPCLAB_EXIT_FAIL, "lock %s", path);
}

/* Is the chat side of type me leaving?  It holds a write lock on byte me of the key file while
 * it chats, and a read lock (still held: nobody takes its type or removes the queue) while it
 * leaves, so that its child tells the empty message that stops it from the peer's goodbye. */
static inline bool msgq_side_leaving(int keyfd, long me)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = me, .l_len = 1 };

    return fcntl(keyfd, F_GETLK, &fl) == 0 && fl.l_type == F_RDLCK;
}

/*
 * Messages in the chat's queue with nobody in the chat -- no record lock held on the key file,
 * and their last sender (msg_lspid) ended -- are a killed chat's last words: say so and return
 * true (drop them with the queue, and make a new one) rather than show them to the next chat.
 */
static inline bool msgq_chat_left_over(int keyfd, const struct msqid_ds *ds)
{
    if (ds->msg_qnum == 0 || ipclab_lock_holder(keyfd, -1) != 0 || msgq_alive(ds->msg_lspid))
        return false;
    warnx("dropping %lu message(s) left in the queue by a chat that was killed",
          (unsigned long)ds->msg_qnum);
    return true;
}

/* An earlier sender's messages wait for their receiver: ours would be appended to them. */
static inline void guard_queue_empty(int msqid, const struct msqid_ds *ds)
{
    if (ds->msg_qnum > 0)
        errx(IPCLAB_EXIT_FAIL, "queue %d already holds %lu message(s) that no receiver has "
             "read; run msgq_recv to read them, or `ipcrm -q %d` to drop them", msqid,
             (unsigned long)ds->msg_qnum, msqid);
}

/*
 * A message longer than the queue's msg_qbytes never fits: msgsnd() would wait for ever.  The
 * queue may hold less than kernel.msgmnb (made under a smaller one, or lowered by msgctl
 * IPC_SET): send messages that fit (*size), and say so.  A queue that takes none is refused.
 */
static inline void guard_size_fits(int msqid, const struct msqid_ds *ds, long *size)
{
    if (ds->msg_qbytes >= (unsigned long)*size)
        return;
    if (ds->msg_qbytes == 0)
        errx(IPCLAB_EXIT_FAIL, "queue %d takes no message: its msg_qbytes is 0; refusing to "
             "use it", msqid);
    warnx("queue %d holds at most %lu bytes (its msg_qbytes), less than %ld: sending messages "
          "of up to %lu bytes", msqid, (unsigned long)ds->msg_qbytes, *size,
          (unsigned long)ds->msg_qbytes);
    *size = (long)ds->msg_qbytes;
}

/* The same while a message of len bytes (-1: none) waits to go, ds the queue's IPC_STAT now:
 * msg_qbytes lowered under it since. */
static inline void guard_still_fits(int msqid, const struct msqid_ds *ds, ssize_t len)
{
    if (len < 0 || ((size_t)len <= ds->msg_qbytes && ds->msg_qbytes > 0))
        return;
    errx(IPCLAB_EXIT_FAIL, "queue %d now holds at most %lu bytes (its msg_qbytes, lowered by "
         "msgctl IPC_SET): a message of %zd bytes never fits; giving up", msqid,
         (unsigned long)ds->msg_qbytes, len);
}

/* A kernel limit from /proc/sys/kernel (msgmax, msgmnb), or fallback if it cannot be read. */
static inline long msgq_kernel_limit(const char *name, long fallback)
{
    char file[64];
    long value;

    snprintf(file, sizeof file, "/proc/sys/kernel/%s", name);
    FILE *f = fopen(file, "r");
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

/* ipclab_key_file_open() (common/sysv.h), or exit 1: the key file, made if missing (*made), its
 * byte 0 locked while we join -- or leave: then nobody joins in between. */
static inline int msgq_key_file(const char *path, bool *made)
{
    int fd = ipclab_key_file_open(path, made);

    if (fd == -1)
        exit(IPCLAB_EXIT_FAIL);
    return fd;
}

/*
 * The start every msgq program shares, after its options: stderr by line, the key file's path
 * (default: name in the run directory), the termination signals caught -- the handler only
 * records them: the cleanup calls msgctl(), which is not async-signal-safe -- and a SIGALRM
 * every 200 ms, which ends a blocked msgsnd() or msgrcv() with EINTR (msgrcv has no timeout
 * and no descriptor to poll), so a program can look at its peer and at the signal caught.
 */
static inline void msgq_start(char *path, const char *name)
{
    if (path[0] == '\0')
        ipclab_run_path(path, PATH_MAX, name);
    ipclab_catch_signals();
    ipclab_start_ticks();
}

/*
 * msgq_send's and msgq_recv's start: -p PATH, the key file (path holds PATH_MAX bytes); -t
 * TYPE; -s SIZE (msgq_send's: size not NULL; its default is the largest); -h prints the usage
 * and exits 0.  Anything else, an operand included, is a usage error (exit 2).  Then
 * msgq_start().
 */
static inline void msgq_begin(int argc, char *argv[], const char *usage, char *path, long *type,
                              long *size)
{
    long msgmax, msgmnb, max = msgq_size_max(&msgmax, &msgmnb);
    int opt;

    ipclab_stderr_by_line();
    ipclab_std_fds();
    if (size != NULL)
        *size = max;
    while ((opt = getopt(argc, argv, size != NULL ? ":hp:t:s:" : ":hp:t:")) != -1) {
        if (opt == 'p') {
            ipclab_path_arg(path, PATH_MAX, optarg, usage);
        } else if (opt == 't') {
            /* Fix: check the type: atol("abc") is 0, and msgrcv() of type 0 takes every type. */
            if (!ipclab_parse_long(optarg, 1, LONG_MAX, type))
                ipclab_usage_error(usage, "-t wants a message type from 1 to %ld, not '%s'",
                                   LONG_MAX, optarg);
        } else if (opt == 's') {
            if (!ipclab_parse_long(optarg, 1, max, size))
                ipclab_usage_error(usage, "-s wants a message size from 1 to %ld bytes (the "
                                   "kernel's msgmax %ld, queue capacity %ld), not '%s'",
                                   max, msgmax, msgmnb, optarg);
        } else {
            ipclab_other_option(usage, opt, argv); /* -h, or a usage error */
        }
    }
    if (optind < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    msgq_start(path, "msgq");
}

/* msgq_chat's start: [-p PATH] MYTYPE PEERTYPE, two different types from 1 to LONG_MAX, into
 * *me and *peer; then msgq_start(). */
static inline void msgq_chat_begin(int argc, char *argv[], const char *usage, char *path,
                                   long *me, long *peer)
{
    ipclab_stderr_by_line();
    ipclab_std_fds();
    int first = ipclab_options_p(argc, argv, usage, ipclab_path_arg, path, PATH_MAX);
    if (argc - first != 2)
        ipclab_usage_error(usage, "give two types: yours, then your peer's (e.g. 1 2)");
    for (int i = 0; i < 2; i++)
        if (!ipclab_parse_long(argv[first + i], 1, LONG_MAX, i == 0 ? me : peer))
            ipclab_usage_error(usage, "a type is a number from 1 to %ld, not '%s'", LONG_MAX,
                               argv[first + i]);
    if (*me == *peer)
        ipclab_usage_error(usage, "the two types must differ: with %ld and %ld you would read "
                           "your own messages", *me, *peer);
    msgq_start(path, "msgq_chat");
}

#endif /* MSGQ_H */
