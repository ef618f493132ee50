/*
 * fd_receiver - receive an open file descriptor over a UNIX-domain socket, and read on from it.
 *
 * A descriptor is a process's handle on an "open file description": the kernel object that
 * holds the file's offset and status flags.  Two processes that open one file get two
 * descriptions, each with its own offset.  Passed with sendmsg(2) and SCM_RIGHTS (unix(7),
 * cmsg(3)), a descriptor arrives as a new descriptor in the receiver that refers to the *same*
 * description as the sender's: one offset, shared.  This is what the original asks ("can two
 * processes share one file table entry?") and never shows.  Here the sender reads the first
 * part of a file itself, passes the descriptor, and the receiver reads on from where the sender
 * stopped -- without being told where that is.
 *
 * When the whole file is printed, the receiver sends one byte back, so that the sender can tell
 * "done" from "gone" (failed, killed): both close the connection.
 *
 * Run it in two terminals, the receiver first (the sender connects to it):
 *     terminal 1:  ./fdpass/fd_receiver
 *     terminal 2:  ./fdpass/fd_sender -n 20 README.md
 * What you should see in terminal 1 (pids and paths vary):
 *     fd_receiver: ready (pid 4242): waiting for fd_sender on /tmp/ipclab-1000/fdpass
 *     fd_receiver: fd_sender pid 4250 (uid 1000) passed a descriptor
 *     fd_receiver: received descriptor 5; its offset is already 20: the sender's reads moved it
 *     ... the rest of README.md, from its 21st byte ...
 *     fd_receiver: printed 9107 bytes, from offset 20 to the end of the file
 *
 * Mirrors seed 002, 传送文件描述符 (接收进程).  Build alone:
 *     cc -o fd_receiver fd_receiver.c
 */
#define _GNU_SOURCE /* SO_PEERCRED and struct ucred, MSG_CMSG_CLOEXEC, accept4, ppoll: Linux */

#include "../common/ipclab.h"

static const char usage[] =
    "usage: fd_receiver [-p PATH]\n"
    "  Wait for fd_sender on the UNIX socket PATH, receive the open file descriptor it passes,\n"
    "  and print the file from wherever the sender stopped reading to the end; then leave.\n"
    "  -p PATH  the socket (default: fdpass in the run directory, see README.md)\n"
    "  -h       show this help\n";

/* What recv_fd() found, when it found no descriptor. */
enum { NO_FD = -1, NOTHING_SENT = -2 };

/* The byte we send back once the whole file is printed: fd_sender.c waits for it. */
#define DONE_BYTE 'D'

/* How long a connection may stay silent before it gives way to the next one. */
#define SILENT_MS 5000

/*
 * How many descriptors the SCM_RIGHTS message cmsg holds: as many as its cmsg_len says, but
 * never more than lie inside msg's control buffer.  (fuzz/fd_cmsg.c found the first version
 * believing cmsg_len alone, twice: closing "descriptors" read from past the buffer, and taking
 * one that the buffer cut in half.  The kernel never writes such a length; a receiver should
 * not have to trust that.)
 */
static size_t passed_count(const struct msghdr *msg, struct cmsghdr *cmsg)
{
    const unsigned char *data = CMSG_DATA(cmsg);
    size_t room = (size_t)((const unsigned char *)msg->msg_control + msg->msg_controllen - data);
    size_t len = cmsg->cmsg_len > CMSG_LEN(0) ? cmsg->cmsg_len - CMSG_LEN(0) : 0;

    return (len < room ? len : room) / sizeof(int);
}

/* Close every descriptor an SCM_RIGHTS message brought: refused, they must not stay open. */
static void close_passed(const struct msghdr *msg, struct cmsghdr *cmsg)
{
    size_t count = passed_count(msg, cmsg);

    for (size_t i = 0; i < count; i++) {
        int fd;
        memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof fd, sizeof fd);
        close(fd);
    }
}

/*
 * Inspect what came with the byte recvmsg() read: msg's control messages and flags.  Returns
 * the one descriptor passed, or NO_FD after a message, with every descriptor that came closed.
 * (A function of its own so that fuzz/fd_cmsg.c can hand it any control buffer.)
 *
 * Fix: the original took CMSG_DATA() of whatever CMSG_FIRSTHDR() returned -- NULL when no
 * descriptor came -- without checking the level, the type, the length or MSG_CTRUNC.
 */
static int take_fd(struct msghdr *msg)
{
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(msg);
    bool rights = cmsg != NULL && cmsg->cmsg_level == SOL_SOCKET &&
                  cmsg->cmsg_type == SCM_RIGHTS;
    if (msg->msg_flags & MSG_CTRUNC) {
        /* The kernel closed the descriptors that did not fit; we close those that did. */
        if (rights)
            close_passed(msg, cmsg);
        warnx("more descriptors came than the control buffer holds (MSG_CTRUNC): refusing "
              "them all");
        return NO_FD;
    }
    if (!rights) {
        warnx("a byte came, but no descriptor with it");
        return NO_FD;
    }
    if (cmsg->cmsg_len != CMSG_LEN(sizeof(int)) || passed_count(msg, cmsg) != 1) {
        /* CMSG_SPACE(sizeof(int)) rounds up: on 64-bit Linux there is room for two. */
        warnx("%zu descriptors came where one was expected: refusing them all",
              passed_count(msg, cmsg));
        close_passed(msg, cmsg);
        return NO_FD;
    }
    int fd;
    memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
    return fd;
}

/*
 * Receive one descriptor passed with SCM_RIGHTS.  Returns it (close-on-exec); NOTHING_SENT if
 * the peer closed the connection without sending a byte (a server's "is anyone there?" probe
 * does that); NO_FD after a message.
 *
 * Fix: the original pointed iov_base at the string literal "", so recvmsg() wrote the data byte
 * into read-only memory (undefined behaviour).  Fix: its control buffer was a char array, not
 * aligned for struct cmsghdr; the union below is.  Fix: the descriptor it got was not
 * close-on-exec, so any program it ran would inherit it; MSG_CMSG_CLOEXEC sets that atomically.
 */
static int recv_fd(int sock)
{
    char byte;
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                          .msg_controllen = sizeof control.buf };
    ssize_t n;

    do
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (n == -1 && errno == EINTR && !ipclab_signal);
    if (n == -1) {
        if (errno != EINTR)
            warn("recvmsg");
        return NO_FD;
    }
    if (n == 0)
        return NOTHING_SENT;
    return take_fd(&msg);
}

/*
 * Wait until conn has something to read: a byte (with the descriptor, we hope), or its end.  A
 * sender may be slow (fd_sender reads its first COUNT bytes after connecting, from a terminal
 * perhaps), so a silent connection is not dropped for being silent -- only once it has been
 * for SILENT_MS and another connection is waiting behind it.  Returns 1 when conn is readable,
 * 0 to drop it, -1 after a termination signal or a message.
 *
 * Fix: recvmsg() waited on a connection that never sent a byte for ever, and every sender
 * behind it with it.  (Waiting in ppoll() also closes a gap: a SIGTERM that landed just before
 * a blocking recvmsg() was recorded, and recvmsg() waited on regardless.)
 */
static int wait_first_byte(int conn, int listenfd, long pid)
{
    struct pollfd p[2] = { { .fd = conn, .events = POLLIN }, { .fd = listenfd, .events = POLLIN } };
    int n = ipclab_poll_timed(p, 1, SILENT_MS);

    if (n == 0) {
        warnx("pid %ld has sent nothing for %d s: dropped as soon as another sender comes", pid,
              SILENT_MS / 1000);
        n = ipclab_poll(p, 2);
    }
    if (n == -1) {
        if (errno != EINTR)
            warn("poll");
        return -1;
    }
    if (p[0].revents != 0)
        return 1;
    warnx("dropping pid %ld, silent for %d s and more: another sender waits", pid,
          SILENT_MS / 1000);
    return 0;
}

/*
 * Print fd from its current offset to the end.  Fix: the original printed what one read() of
 * 1024 bytes returned, and no more.  Returns 0, or -1 after a message.
 */
static int print_rest(int fd)
{
    char buf[IPCLAB_CHUNK];
    off_t start = lseek(fd, 0, SEEK_CUR);
    long long total = 0;

    if (start != -1)
        warnx("received descriptor %d; its offset is already %lld: the sender's reads moved it",
              fd, (long long)start);
    else
        warnx("received descriptor %d (not a seekable file: no offset to show)", fd);
    for (;;) {
        /* Fix: a descriptor for /dev/zero or a large file, and a stdout that never blocks (a
         * file, /dev/null): no read() or write() waits, so none fails with EINTR, and a SIGTERM
         * went unseen while the copy ran on.  The flag is looked at between chunks. */
        if (ipclab_signal)
            return -1;
        ssize_t n = ipclab_read(fd, buf, sizeof buf);
        if (n == -1) {
            if (errno != EINTR)
                warn("read the received descriptor");
            return -1;
        }
        if (n == 0)
            break;
        if (ipclab_write_all(STDOUT_FILENO, buf, (size_t)n) == -1) {
            if (errno != EINTR)
                warn("write stdout");
            return -1;
        }
        total += n;
    }
    if (start != -1)
        warnx("printed %lld bytes, from offset %lld to the end of the file", total,
              (long long)start);
    else
        warnx("printed %lld bytes, to the end", total);
    return 0;
}

/*
 * Tell the sender that the whole file is printed: one byte.  Fix: the sender took the end of
 * the connection for "done"; but a receiver that failed or was killed mid-file closes it too
 * (the kernel closes a dead process's descriptors).  A sender that has already gone does not
 * change what we did: that is only a note.
 */
static void tell_done(int conn)
{
    char byte = DONE_BYTE;
    ssize_t n;

    do
        n = send(conn, &byte, 1, MSG_NOSIGNAL);
    while (n == -1 && errno == EINTR && !ipclab_signal);
    if (n == -1 && errno != EINTR)
        warn("could not tell fd_sender that the file is printed");
}

int main(int argc, char *argv[])
{
    char path[PATH_MAX] = "";
    int opt;

    ipclab_stderr_by_line();
    ipclab_std_fds();
    while ((opt = getopt(argc, argv, ":hp:")) != -1) {
        switch (opt) {
        case 'p':
            ipclab_path_arg(path, sizeof path, optarg, usage);
            break;
        case 'h':
            fputs(usage, stdout);
            return IPCLAB_EXIT_OK;
        default:
            ipclab_bad_option(usage, opt);
        }
    }
    if (optind < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    /* Fix: the original used the fixed /tmp/socket, which any user could have taken. */
    if (path[0] == '\0')
        ipclab_run_path(path, sizeof path, "fdpass");

    /* Fix: started with stdout closed (>&-), the receiver printed the file into its own
     * listening socket: a new descriptor takes the lowest free number, and 1 was free.  Now
     * ipclab_std_fds() holds 1 with a read-only /dev/null; refuse at once, not when a file
     * comes. */
    int out = fcntl(STDOUT_FILENO, F_GETFL);
    if (out == -1 || (out & O_ACCMODE) == O_RDONLY) {
        errno = EBADF;
        err(IPCLAB_EXIT_FAIL, "stdout (nowhere to print the file)");
    }
    ipclab_catch_signals();
    int listenfd = ipclab_serv_listen(path, SOCK_STREAM);
    if (listenfd == -1)
        return IPCLAB_EXIT_FAIL;
    ipclab_ready("waiting for fd_sender on %s", path);

    int status = IPCLAB_EXIT_FAIL;
    for (bool again = true; again;) {
        struct ucred cred;
        int conn = ipclab_serv_accept(listenfd, &cred, true);
        if (conn == -1)
            break;
        again = false;
        /* A descriptor from another user would let us read whatever they can: only our own. */
        if (cred.uid != geteuid()) {
            warnx("pid %ld connected; refusing a descriptor from uid %ld: only uid %ld's are "
                  "taken", (long)cred.pid, (long)cred.uid, (long)geteuid());
        } else {
            int ready = wait_first_byte(conn, listenfd, (long)cred.pid);
            int fd = ready == 1 ? recv_fd(conn) : NO_FD;
            if (ready == 0 || fd == NOTHING_SENT) {
                /* Someone connected and left without a word -- another fd_receiver asking
                 * whether this one is alive, say -- or stayed silent while another waits.
                 * Not a sender: on to the next. */
                again = true;
            } else if (fd >= 0) {
                warnx("fd_sender pid %ld (uid %ld) passed a descriptor", (long)cred.pid,
                      (long)cred.uid);
                if (print_rest(fd) == 0) {
                    tell_done(conn);
                    status = IPCLAB_EXIT_OK;
                }
                close(fd);
            }
        }
        close(conn); /* with no DONE_BYTE before it: the sender's cue that we failed */
    }
    close(listenfd);
    /* Fix: the original never removed its socket file; the next bind() failed. */
    ipclab_remove_socket(path);
    ipclab_die_of_signal();
    return status;
}
