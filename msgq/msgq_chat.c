/*
 * msgq_chat - two people chat through one System V message queue, by message type.
 *
 * Side 1 sends its lines as type 2 and takes type 1, side 2 the other way round: msgrcv(2)
 * picks each side's messages out of the one queue by type.  As in the original, the process
 * forks: the parent sends your lines, the child prints what comes (msgrcv() cannot wait in one
 * poll() with a read() of the keyboard).  The steps: 1 ftok  2 msgget, msgctl IPC_STAT  3 fork
 * 4 read, msgsnd (parent); msgrcv, write (child)  5 an empty message: goodbye; msgctl IPC_RMID.
 *
 * Run it in two terminals, either first:  ./msgq/msgq_chat 1 2   and   ./msgq/msgq_chat 2 1
 * Each says "msgq_chat: ready (pid 4242): you are 1, talking to 2 on queue 5 ...", then
 * "msgq_chat: 2 (pid 4250) is here".  A line typed on one side appears on the other ("1: "
 * first, in a terminal).  When one side leaves (Ctrl-D, Ctrl-C, kill -9) the other says so and
 * ends; the last one out removes the queue.  Another program as a side: msgq/README.md.
 *
 * Mirrors seed 004, 消息队列 demo (`./a.out 1`, `./a.out 2`).  Build alone: cc -o msgq_chat msgq_chat.c
 */
#define _GNU_SOURCE /* syscall(SYS_pidfd_open) in msgq.h: Linux only */

#include "../common/ipclab.h"
#include "../common/peers.h"
#include "../common/sysv.h"
#include "msgq.h"

static const char usage[] =
    "usage: msgq_chat [-p PATH] MYTYPE PEERTYPE\n"
    "  Chat through a System V queue: lines typed here go out as type PEERTYPE; messages of\n"
    "  type MYTYPE are printed here (types 1 to LONG_MAX; the other side swaps the two).\n"
    "  -p PATH  the key file ftok(3) makes the key of (default: msgq_chat in the run directory)\n"
    "  -h       show this help\n";

enum { PEER_LEFT = 0, PEER_LOST = 1 }; /* the child's exit status: how the chat ended */

static char path[PATH_MAX]; /* the key file */
static int keyfd = -1, msqid = -1, how = -1; /* how: the child's end, -1 while it runs */
static long me, peer;
static pid_t child = -1;
static bool joined, made;
static struct msgq_msg message; /* the parent's to send, the child's to print */

/* Has the child ended?  Then how says how (it is reaped once). */
static bool child_ended(void)
{
    int wstatus;

    if (how == -1 && child > 0 && waitpid(child, &wstatus, WNOHANG) == child)
        how = wstatus == 0 ? PEER_LEFT : PEER_LOST; /* exit 0, or 1 or a signal */
    return how != -1;
}

/* atexit, in the parent (the child ends with _exit()).  Leaving first: an empty message says
 * goodbye; our lock on byte ME becomes a read lock, and another empty message stops our child
 * once it has printed what came before (a signal, or 1 s waiting: SIGTERM).  Then, if no lock
 * is held (looked at under byte 0's), nobody is left: remove the queue and the key file. */
static void leave(void)
{
    static struct msgq_msg bye; /* no text */

    if (joined && child > 0 && !child_ended()) { /* never kill(-1): everyone */
        bye.mtype = peer;
        if (msgsnd(msqid, &bye, 0, IPC_NOWAIT) == -1 && !msgque_gone(errno))
            warn("msgsnd goodbye");
        ipclab_lock(keyfd, me, F_RDLCK, false); /* msgq_side_leaving() */
        bye.mtype = me;
        if (ipclab_signal || msgsnd(msqid, &bye, 0, IPC_NOWAIT) == -1)
            kill(child, SIGTERM);
        for (int looks = 0; waitpid(child, NULL, 0) == -1 && errno == EINTR; looks++)
            if (ipclab_signal || looks == 5) /* a signal, or 1 s of a stdout that takes none */
                kill(child, SIGTERM);
    }
    if (joined && child != 0 && ipclab_door_to_leave(keyfd, 0) == 0 &&
        ipclab_lock(keyfd, me, F_UNLCK, false) == 0 && ipclab_lock_holder(keyfd, -1) == 0) {
        if (msgctl(msqid, IPC_RMID, NULL) == -1 && !msgque_gone(errno))
            warn("msgctl IPC_RMID");
        ipclab_key_file_remove(path, keyfd);
    }
    if (keyfd != -1)
        close(keyfd); /* our record locks go with it */
    ipclab_die_of_signal();
}

/* The child: print the messages of type me ("PEER: " first, in a terminal) until an empty one,
 * the peer's goodbye or our parent's stop (PEER_LEFT); PEER_LOST: the peer gone without one. */
static int receive(pid_t parent)
{
    char mark[32]; /* "PEER: " */
    int flags = 0, len = isatty(STDOUT_FILENO) ? snprintf(mark, sizeof mark, "%ld: ", peer) : 0;
    pid_t seen = 0, other = 0; /* the peer, once seen; a peer of another program */
    struct msqid_ds ds;

    ipclab_start_ticks(); /* a timer is not inherited across fork() */
    for (;;) {
        /* 4. msgrcv(2): only the messages of type me. */
        ssize_t n = msgrcv(msqid, &message, sizeof message.mtext, me, flags);
        if (n > 0 && (ipclab_write_all(STDOUT_FILENO, mark, (size_t)len) == -1 ||
                      ipclab_write_all(STDOUT_FILENO, message.mtext, (size_t)n) == -1))
            return PEER_LOST; /* a signal (looked at before each write), or stdout gone */
        if (n > 0)
            continue;
        if (n == 0 && !msgq_side_leaving(keyfd, me)) /* not our parent's stop */
            warnx("%ld has left the chat", peer);
        if (n == 0)
            return PEER_LEFT;
        if (errno == EINTR && (ipclab_signal || getppid() != parent))
            return PEER_LOST; /* told to stop, or nobody reads the keyboard any more */
        if (errno == EINTR) { /* a SIGALRM every 200 ms: where is the peer? */
            pid_t pid = ipclab_lock_holder(keyfd, peer); /* a msgq_chat locks byte PEER */
            if (pid <= 0 && msgctl(msqid, IPC_STAT, &ds) == 0 && ds.msg_lspid != parent)
                other = ds.msg_lspid; /* another program: the last sender, not our parent */
            if (pid <= 0)
                pid = msgq_alive(other) ? other : 0;
            if (pid > 0 && seen == 0)
                warnx("%ld (pid %ld) is here", peer, (long)pid);
            seen = seen != 0 ? seen : pid;
            flags = pid == 0 && seen != 0 ? IPC_NOWAIT : 0; /* gone: all it sent is queued */
            continue;
        }
        if (errno == ENOMSG)
            warnx("%ld vanished without saying goodbye (killed?)", peer);
        else
            warn("msgrcv"); /* EIDRM: the queue was removed */
        return PEER_LOST;
    }
}

int main(int argc, char *argv[])
{
    msgq_chat_begin(argc, argv, usage, path, &me, &peer); /* options, run directory, signals */
    /* Fix: clean up at exit, not in the handler: msgctl(), remove(), exit() are not all safe. */
    atexit(leave);
    keyfd = msgq_key_file(path, &made); /* made if missing; locks byte 0 while we join */
    /* 1. ftok(3): a key from the key file's inode and device, and a project id. */
    key_t key = ftok(path, MSGQ_PROJ);
    if (key == (key_t)-1)
        err(IPCLAB_EXIT_FAIL, "ftok %s", path);
    struct msqid_ds ds;
    do {
        /* 2. msgget(2): the queue of that key, made if missing, mode 0600; and its IPC_STAT. */
        msqid = msgget(key, IPC_CREAT | 0600);
        if (msqid == -1)
            err(IPCLAB_EXIT_FAIL, "msgget (key from %s)", path);
        if (msgctl(msqid, IPC_STAT, &ds) == -1)
            err(IPCLAB_EXIT_FAIL, "msgctl IPC_STAT queue %d", msqid);
        guard_queue_is_ours(msqid, path, &ds); /* made first by another user? */
        guard_type_free(keyfd, me, path);      /* record lock on byte ME: one side per type */
    } while (msgq_chat_left_over(keyfd, &ds) && msgctl(msqid, IPC_RMID, NULL) == 0);
    joined = true;
    ipclab_lock(keyfd, 0, F_UNLCK, false); /* joined: others may come */
    ipclab_ready("you are %ld, talking to %ld on queue %d (key from %s); type lines to send "
                 "them, Ctrl-D to leave", me, peer, msqid, path);

    /* 3. fork(2): the child prints what comes, the parent sends what you type. */
    pid_t parent = getpid();
    child = fork();
    if (child == -1)
        err(IPCLAB_EXIT_FAIL, "fork");
    if (child == 0) {
        int status = receive(parent);
        close(keyfd); /* record locks are per process: this drops none of the parent's */
        _exit(status);
    }
    message.mtype = peer;
    while (!ipclab_signal && !child_ended()) { /* every pass: a file never makes read() wait */
        /* 4. read(2) a line (or a chunk of a file); msgsnd(2) it as a message of type peer. */
        ssize_t n = read(STDIN_FILENO, message.mtext, MSG_SIZE);
        if (n == -1 && errno == EINTR)
            continue; /* a SIGALRM every 200 ms: has the child ended? */
        if (n == -1)
            err(IPCLAB_EXIT_FAIL, "read stdin");
        if (n == 0) {
            warnx("you have left the chat; telling %ld", peer);
            break;
        }
        while (msgsnd(msqid, &message, (size_t)n, 0) == -1 && !ipclab_signal && !child_ended())
            if (errno != EINTR) /* EINTR: a SIGALRM while the queue is full */
                msgq_failed("msgsnd", "the queue has been removed");
    }
    return how == PEER_LOST ? IPCLAB_EXIT_FAIL : IPCLAB_EXIT_OK; /* 5. leave() at exit */
}
