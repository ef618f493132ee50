/*
 * msgq_chat - two people chat through one System V message queue, by message type.
 *
 * One queue carries both directions.  Side 1 sends its lines as type 2 and takes the messages
 * of type 1; side 2 the other way round: msgrcv(2) picks each side's messages out of the
 * shared queue by their type.  As in the original, the process forks: the parent reads your
 * lines and sends them, the child receives and prints (msgrcv() cannot wait together with a
 * read() of the keyboard in one poll()).
 *
 * Run it in two terminals, either one first:
 *     terminal 1:  ./msgq/msgq_chat 1 2
 *     terminal 2:  ./msgq/msgq_chat 2 1
 * What you should see in terminal 1 (queue id, pids and path vary):
 *     msgq_chat: ready (pid 4242): you are 1, talking to 2 on queue 5 (key from ...); type
 *     lines to send them, Ctrl-D to leave
 *     msgq_chat: 2 (pid 4250) is here
 * Each line typed on one side appears on the other, marked "2: " (or "1: ") in a terminal.
 * When one side leaves (Ctrl-D, Ctrl-C, kill, even kill -9) the other says so and ends too;
 * the last one out removes the queue and its key file.
 *
 * Mirrors seed 004, 消息队列 demo (`./a.out 1` and `./a.out 2`).  Build alone:
 *     cc -o msgq_chat msgq_chat.c
 */
#define _XOPEN_SOURCE 700 /* System V IPC and setitimer() are XSI */

#include "../common/ipclab.h"
#include "../common/peers.h"
#include "../common/sysv.h"
#include "msgq.h"

static const char usage[] =
    "usage: msgq_chat [-p PATH] MYTYPE PEERTYPE\n"
    "  Chat through one System V message queue: lines typed here go out as messages of type\n"
    "  PEERTYPE; messages of type MYTYPE are printed here.  The other side swaps the two.\n"
    "  Types are 1 to LONG_MAX.  Either side may start first.\n"
    "  -p PATH  the key file: ftok(3) makes the queue's key from it (default: msgq_chat in the\n"
    "           run directory, see the top README.md)\n"
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

/* The child's exit statuses: how the conversation ended, as the parent learns it. */
enum { PEER_LEFT = 0, PEER_LOST = 1 };

/* Print one message, marked "PEER: " if peer > 0.  While draining (a signal came, and
 * ipclab_write_all() refuses), each part in one write(2) that must take it all: a stdout that
 * blocks past a SIGALRM, or a new signal, ends the drain. */
static int print_msg(long peer, const char *text, size_t n, bool draining)
{
    char prefix[32];
    int len = peer > 0 ? snprintf(prefix, sizeof prefix, "%ld: ", peer) : 0;

    if (draining)
        return write(STDOUT_FILENO, prefix, (size_t)len) == len &&
               write(STDOUT_FILENO, text, n) == (ssize_t)n ? 0 : -1;
    return ipclab_write_all(STDOUT_FILENO, prefix, (size_t)len) == -1 ||
           ipclab_write_all(STDOUT_FILENO, text, n) == -1 ? -1 : 0;
}

/*
 * The child: print the messages of type me until the peer's goodbye (an empty message).
 * Returns PEER_LEFT, or PEER_LOST: the peer vanished, the queue was removed, our parent died,
 * or a signal came (the parent's SIGTERM as it leaves: what is queued then is printed first,
 * without waiting, as far as stdout takes it at once, and no more -- a peer that sends without
 * end would keep it here).  It ends when its parent does: left behind, it would wait in
 * msgrcv() for ever.
 */
static int receive(int msqid, int keyfd, long me, long peer, pid_t parent)
{
    static struct msgq_msg msg;
    bool label = isatty(STDOUT_FILENO) == 1, seen = false;
    int flags = 0;
    long last = -1; /* after a signal: the messages still to print, those queued then */

    ipclab_start_ticks(); /* a timer is not inherited across fork() */
    for (;;) {
        struct msqid_ds ds;
        if (ipclab_signal && last == -1) { /* every pass: messages may never stop coming */
            last = msgctl(msqid, IPC_STAT, &ds) == 0 ? (long)ds.msg_qnum : 0;
            flags = IPC_NOWAIT; /* draining: what is queued now, no more */
        }
        if (last == 0)
            return PEER_LOST;
        ssize_t n = msgrcv(msqid, &msg, sizeof msg.mtext, me, flags); /* only type me */
        if (n > 0) {
            if (print_msg(label ? peer : 0, msg.mtext, (size_t)n, last >= 0) == -1)
                return PEER_LOST;
            last -= last > 0;
            continue;
        }
        if (n == 0) {
            warnx("%ld has left the chat", peer);
            return PEER_LEFT;
        }
        if (errno == EINTR) {
            if (getppid() != parent)
                return PEER_LOST;
            if (ipclab_tick) {
                ipclab_tick = 0;
                pid_t holder = ipclab_lock_holder(keyfd, peer);
                if (holder > 0 && !seen)
                    warnx("%ld (pid %ld) is here", peer, (long)holder);
                seen = seen || holder > 0;
                /* Gone without a goodbye?  Then whatever it sent is already queued: take it
                 * without waiting, and if nothing is left, it has vanished. */
                flags = holder == 0 && seen ? IPC_NOWAIT : 0;
            }
            continue;
        }
        if (errno == ENOMSG && last > 0) /* all that was queued is printed */
            return PEER_LOST;
        if (errno == ENOMSG)
            warnx("%ld vanished without saying goodbye (killed?)", peer);
        else
            msgq_failed("msgrcv", "the queue has been removed");
        return PEER_LOST;
    }
}

/* Has the child ended?  Then put how (PEER_LEFT or PEER_LOST) in *how. */
static bool child_ended(pid_t child, int *how)
{
    int wstatus;

    if (waitpid(child, &wstatus, WNOHANG) != child)
        return false;
    *how = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == PEER_LEFT ? PEER_LEFT : PEER_LOST;
    return true;
}

/* The parent: send each chunk typed (a line, from a terminal) as a message of type peer, until
 * end of input, a signal, or the child's end.  Returns PEER_LEFT or PEER_LOST if the child
 * ended (the peer left or vanished), -1 if we are the ones leaving. */
static int send_typed(int msqid, long peer, pid_t child)
{
    static struct msgq_msg msg;
    int how = -1;

    msg.mtype = peer;
    for (;;) {
        if (ipclab_signal) /* every pass: read() of a file, msgsnd() with room, never fail */
            return how;
        ssize_t n = read(STDIN_FILENO, msg.mtext, MSG_SIZE);
        if (n == -1) {
            if (errno != EINTR) {
                warn("read stdin");
                return -1;
            }
            if (ipclab_signal || child_ended(child, &how))
                return how; /* a tick lets us see the child's end while we wait for input */
            continue;
        }
        if (n == 0) {
            warnx("you have left the chat; telling %ld", peer);
            return -1;
        }
        /* msgsnd(2), type peer: it waits while the queue is full (a tick: has the child ended?) */
        while (msgsnd(msqid, &msg, (size_t)n, 0) == -1) {
            if (errno != EINTR)
                return msgq_failed("msgsnd", "the queue has been removed");
            if (ipclab_signal || child_ended(child, &how))
                return how;
        }
    }
}

/* Join the chat: key file, queue, and the lock on the byte of our own type.  Messages in the
 * queue with nobody in the chat are a killed chat's last words: dropped, with their queue, for
 * a new, empty one.  Returns the queue id, or -1. */
static int join(const char *path, long me, int *keyfd)
{
    bool made;
    *keyfd = ipclab_key_file_open(path, &made); /* the key file, its door held */
    if (*keyfd == -1)
        return -1;
    int msqid = creat_or_get_msgque(path);
    if (msqid == -1)
        return msgq_key_file_drop(path, *keyfd, made);
    pid_t holder = ipclab_lock_holder(*keyfd, me);
    struct msqid_ds ds;
    if (holder != 0) {
        warnx("type %ld is taken: another msgq_chat (pid %ld) is %ld on %s", me, (long)holder,
              me, path);
        msqid = -1;
    } else if (ipclab_lock_holder(*keyfd, -1) == 0 && msgctl(msqid, IPC_STAT, &ds) == 0 &&
               ds.msg_qnum > 0) {
        warnx("dropping %lu message(s) left in the queue by a chat that was killed",
              (unsigned long)ds.msg_qnum);
        msqid = remove_msgque(msqid) == 0 ? creat_or_get_msgque(path) : -1;
    }
    return msgq_join_end(path, *keyfd, msqid, me);
}

/*
 * Leave.  If we are the ones leaving (how -1), say goodbye and stop the child (otherwise it has
 * ended).  Then, if nobody else is in the chat, remove the queue and the key file.  Our own lock
 * goes first, under the door: if both sides leave at once, the second through the door sees the
 * first gone and removes what is left.
 */
static void leave(int msqid, const char *path, int keyfd, long me, long peer, pid_t child,
                  int how)
{
    if (how == -1) {
        static struct msgq_msg bye; /* sent with no text */
        bye.mtype = peer;
        if (msgsnd(msqid, &bye, 0, IPC_NOWAIT) == -1 && !msgque_gone(errno))
            warn("msgsnd goodbye");
        if (child > 0 && !child_ended(child, &how)) { /* never kill(-1): everyone */
            kill(child, SIGTERM);
            ipclab_wait_child(child, IPCLAB_EXIT_OK);
        }
    }
    if (ipclab_door_to_leave(keyfd, 0) == 0 && ipclab_lock(keyfd, me, F_UNLCK, false) == 0 &&
        ipclab_lock_holder(keyfd, -1) == 0) {
        remove_msgque(msqid);
        ipclab_key_file_remove(path, keyfd);
    }
    close(keyfd);
}

int main(int argc, char *argv[])
{
    char path[PATH_MAX] = "";
    long me, peer;

    ipclab_stderr_by_line();
    ipclab_std_fds();
    ipclab_options_p(argc, argv, usage, ipclab_path_arg, path, sizeof path);
    if (argc - optind != 2)
        ipclab_usage_error(usage, "give two types: yours, then your peer's (e.g. 1 2)");
    for (int i = 0; i < 2; i++)
        if (!ipclab_parse_long(argv[optind + i], 1, LONG_MAX, i == 0 ? &me : &peer))
            ipclab_usage_error(usage, "a type is a number from 1 to %ld, not '%s'", LONG_MAX,
                               argv[optind + i]);
    if (me == peer)
        ipclab_usage_error(usage, "the two types must differ: with %ld and %ld you would read "
                           "your own messages", me, peer);
    if (path[0] == '\0')
        ipclab_run_path(path, sizeof path, "msgq_chat");

    ipclab_catch_signals(); /* in the child too: fork() keeps the handlers */
    ipclab_start_ticks();

    int keyfd;
    int msqid = join(path, me, &keyfd);
    if (msqid == -1) {
        ipclab_die_of_signal();
        return IPCLAB_EXIT_FAIL;
    }
    ipclab_ready("you are %ld, talking to %ld on queue %d (key from %s); type lines to send "
                 "them, Ctrl-D to leave", me, peer, msqid, path);

    pid_t parent = getpid();
    pid_t child = fork();
    if (child == -1) {
        warn("fork");
        leave(msqid, path, keyfd, me, peer, child, -1);
        return IPCLAB_EXIT_FAIL;
    }
    if (child == 0) {
        int status = receive(msqid, keyfd, me, peer, parent);
        close(keyfd); /* fcntl() locks are not inherited: closing it drops none of the parent's */
        _exit(status);
    }

    int how = send_typed(msqid, peer, child);
    leave(msqid, path, keyfd, me, peer, child, how);
    ipclab_die_of_signal();
    return how == PEER_LOST ? IPCLAB_EXIT_FAIL : IPCLAB_EXIT_OK;
}
