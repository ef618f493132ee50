/*
 * fd_receiver - receive an open file descriptor over a UNIX-domain socket, and read on from it.
 *
 * A descriptor passed with sendmsg(2) and SCM_RIGHTS (unix(7), cmsg(3)) arrives as a new
 * descriptor that refers to the *same* "open file description" as the sender's: the kernel
 * object that holds the file's offset (two open()s of one file make two).  Here the sender
 * reads the first part of a file, passes the descriptor, and the receiver reads on from where
 * the sender stopped, without being told where that is; then it sends one byte back: "done".
 *
 * Run it in two terminals, the receiver first (the sender connects to it):
 *     terminal 1:  ./fdpass/fd_receiver
 *     terminal 2:  ./fdpass/fd_sender -n 20 README.md
 * Terminal 1 says "received descriptor 5; its offset is already 20: the sender's reads moved
 * it", then prints README.md from its 21st byte (README.md shows a whole run).
 *
 * Mirrors seed 002, 传送文件描述符 (接收进程).  Build alone:
 *     cc -o fd_receiver fd_receiver.c
 */
#define _GNU_SOURCE /* SO_PEERCRED and struct ucred, MSG_CMSG_CLOEXEC, accept4, ppoll: Linux */

#include "../common/ipclab.h"
#include "../common/sockets.h"

static const char usage[] =
    "usage: fd_receiver [-p PATH]\n"
    "  Wait for fd_sender on the UNIX socket PATH, receive the open file descriptor it passes,\n"
    "  and print the file from wherever the sender stopped reading to the end; then leave.\n"
    "  -p PATH  the socket (default: fdpass in the run directory, see the top README.md)\n"
    "  -h       show this help\n";

/* What recv_fd() found, when it found no descriptor. */
enum { NO_FD = -1, NOTHING_SENT = -2 };

/* The byte we send back once the whole file is printed (fd_sender.c waits for it), and how long
 * a connection may stay silent before it gives way to the next one. */
#define DONE_BYTE 'D'
#define SILENT_MS 5000

/* How many descriptors the SCM_RIGHTS message cmsg holds: as many as its cmsg_len says, but
 * never more than lie inside msg's control buffer (fuzz/fd_cmsg.c checks it). */
static size_t passed_count(const struct msghdr *msg, struct cmsghdr *cmsg)
{
    const unsigned char *data = CMSG_DATA(cmsg);
    size_t room = (size_t)((const unsigned char *)msg->msg_control + msg->msg_controllen - data);
    size_t len = cmsg->cmsg_len > CMSG_LEN(0) ? cmsg->cmsg_len - CMSG_LEN(0) : 0;

    return (len < room ? len : room) / sizeof(int);
}

/* Inspect what came with the byte recvmsg() read (fuzz/fd_cmsg.c hands it any control buffer).
 * Returns the one descriptor passed, or NO_FD after a message, every descriptor that came
 * closed.  Fix: CMSG_FIRSTHDR() is NULL when no control message came, and one may be of
 * another level, type or count: all are checked, and MSG_CTRUNC, before CMSG_DATA() is read. */
static int take_fd(struct msghdr *msg)
{
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(msg);
    bool rights = cmsg != NULL && cmsg->cmsg_level == SOL_SOCKET &&
                  cmsg->cmsg_type == SCM_RIGHTS;
    size_t count = rights ? passed_count(msg, cmsg) : 0;
    int fd;
    long full = (msg->msg_flags & MSG_CTRUNC) ? ipclab_descriptors_full() : 0;

    if (full > 0 && count == 0) {
        /* Fix: MSG_CTRUNC was taken for too many descriptors; it also means no room for one. */
        warnx("a descriptor came, but this process has none free to receive it: all %ld that "
              "ulimit -n allows are open (EMFILE, MSG_CTRUNC); the kernel dropped the passed "
              "descriptor (the sender's stays open)", full);
    } else if (full > 0) {
        /* those received took the last free descriptors; the kernel dropped the rest */
        warnx("%zu descriptor(s) came, and more that this process had none free for: all %ld "
              "that ulimit -n allows are open (EMFILE, MSG_CTRUNC); the kernel dropped those "
              "(the sender's stay open): refusing them all", count, full);
    } else if (msg->msg_flags & MSG_CTRUNC) {
        /* The kernel closed the descriptors that did not fit; we close those that did. */
        warnx("more descriptors came than the control buffer holds (MSG_CTRUNC): refusing "
              "them all");
    } else if (!rights) {
        warnx("a byte came, but no descriptor with it");
    } else if (cmsg->cmsg_len != CMSG_LEN(sizeof(int)) || count != 1) {
        /* CMSG_SPACE(sizeof(int)) rounds up: on 64-bit Linux there is room for two. */
        warnx("%zu descriptors came where one was expected: refusing them all", count);
    } else {
        memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
        return fd;
    }
    for (size_t i = 0; i < count; i++) { /* refused, they must not stay open */
        memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof fd, sizeof fd);
        close(fd);
    }
    return NO_FD;
}

/* Receive one descriptor passed with SCM_RIGHTS.  Returns it; NOTHING_SENT if the peer closed
 * the connection without a byte (a server's "is anyone there?" probe); NO_FD after a message. */
static int recv_fd(int sock)
{
    char byte; /* Fix: recvmsg() writes the data byte there: a real buffer, never "" */
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    union { /* Fix: a char array may not be aligned for the struct cmsghdr inside: a union is */
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                          .msg_controllen = sizeof control.buf };
    ssize_t n;

    /* Fix: MSG_CMSG_CLOEXEC, or any program we run would inherit the descriptor. */
    do
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (n == -1 && errno == EINTR && !ipclab_signal);
    if (n == -1)
        return ipclab_fail("recvmsg"); /* NO_FD */
    return n == 0 ? NOTHING_SENT : take_fd(&msg);
}

/* Wait until conn has something to read (a byte, with the descriptor we hope, or its end).  A
 * blocking recvmsg() would wait for ever on a silent connection, and every sender behind it;
 * but a sender may be slow, so conn is dropped only once silent SILENT_MS while another waits.
 * Returns 1 when conn is readable, 0 to drop it, -1 after a termination signal or a message. */
static int wait_first_byte(int conn, int listenfd, long pid)
{
    struct pollfd p[2] = { { .fd = conn, .events = POLLIN }, { .fd = listenfd, .events = POLLIN } };
    int n = ipclab_poll_timed(p, 1, SILENT_MS);

    if (n == 0) {
        warnx("pid %ld has sent nothing for %d s: dropped as soon as another sender comes", pid,
              SILENT_MS / 1000);
        n = ipclab_poll(p, 2);
    }
    if (n == -1)
        return ipclab_fail("poll");
    if (p[0].revents != 0)
        return 1;
    warnx("dropping pid %ld, silent for %d s and more: another sender waits", pid,
          SILENT_MS / 1000);
    return 0;
}

/* Print fd from its current offset to the end, read after read; then tell the sender on conn
 * so, with one byte.  Fix: the end of the connection alone says nothing: a receiver that failed
 * or was killed mid-file closes it too.  Returns 0 once the file is printed, or -1. */
static int print_rest(int fd, int conn)
{
    char buf[IPCLAB_CHUNK];
    off_t start = lseek(fd, 0, SEEK_CUR);
    long long total = 0;
    ssize_t n = 1; /* not yet at the end */

    if (start == 0)
        warnx("received descriptor %d; its offset is 0: the sender read none of it", fd);
    else if (start != -1)
        warnx("received descriptor %d; its offset is already %lld: the sender's reads moved it",
              fd, (long long)start);
    else
        warnx("received descriptor %d (not a seekable file: no offset to show)", fd);
    /* Fix: reading /dev/zero into a stdout that never blocks (/dev/null), no call fails with
     * EINTR: a SIGTERM would go unseen.  The flag is looked at between chunks. */
    while (!ipclab_signal && (n = ipclab_read(fd, buf, sizeof buf)) > 0) {
        if (ipclab_write_all(STDOUT_FILENO, buf, (size_t)n) == -1)
            return ipclab_fail("write stdout");
        total += n;
    }
    if (n == -1)
        return ipclab_fail("read the received descriptor");
    if (n > 0) /* a termination signal came */
        return -1;
    if (start != -1)
        warnx("printed %lld bytes, from offset %lld to the end of the file", total,
              (long long)start);
    else
        warnx("printed %lld bytes, to the end", total);

    char byte = DONE_BYTE;
    do
        n = send(conn, &byte, 1, MSG_NOSIGNAL);
    while (n == -1 && errno == EINTR && !ipclab_signal);
    if (n == -1 && errno != EINTR) /* the sender gone: a note, our work is done */
        warn("could not tell the peer that the file is printed");
    return 0;
}

/* Accept a connection on listenfd, waiting in ppoll() (which a termination signal ends).  The
 * peer's pid and uid, recorded by the kernel at connect(), go in *cred.  Returns it, or -1
 * after a signal or a message: another uid's connection is refused. */
static int accept_sender(int listenfd, struct ucred *cred)
{
    struct pollfd p = { .fd = listenfd, .events = POLLIN };
    int conn;

    /* EAGAIN: nobody yet; ECONNABORTED: a client gave up before we took it.  Wait, and again. */
    while ((conn = accept4(listenfd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
            warn("accept");
            return -1;
        }
        if (ipclab_poll(&p, 1) == -1)
            return ipclab_fail("poll");
    }
    if (ipclab_peer_cred(conn, cred) == 0) {
        if (cred->uid == geteuid())
            return conn;
        /* A descriptor from another user would let us read whatever they can: only our own. */
        warnx("pid %ld connected; refusing a descriptor from uid %ld: only uid %ld's are taken",
              (long)cred->pid, (long)cred->uid, (long)geteuid());
    }
    close(conn);
    return -1;
}

int main(int argc, char *argv[])
{
    char path[PATH_MAX] = "";

    ipclab_stderr_by_line();
    ipclab_std_fds();
    if (ipclab_options_p(argc, argv, usage, ipclab_path_arg, path, sizeof path) < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (path[0] == '\0')
        ipclab_run_path(path, sizeof path, "fdpass");

    /* Fix: with stdout closed (>&-), the socket would take descriptor 1 (the lowest free) and
     * the file go into it.  ipclab_std_fds() put a read-only /dev/null there: refuse now. */
    int out = fcntl(STDOUT_FILENO, F_GETFL);
    if (out == -1 || (out & O_ACCMODE) == O_RDONLY) {
        errno = EBADF;
        err(IPCLAB_EXIT_FAIL, "stdout (nowhere to print the file)");
    }
    ipclab_catch_signals();

    /* Where senders connect: a stale socket of ours is removed, anything else refused. */
    struct sockaddr_un sa;
    if (ipclab_sun(&sa, path) == -1 || ipclab_socket_path_free(&sa, SOCK_STREAM) == -1)
        return IPCLAB_EXIT_FAIL;
    /* Non-blocking, so that accept_sender() waits in ppoll(), where a signal is never lost. */
    int listenfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (listenfd == -1)
        err(IPCLAB_EXIT_FAIL, "socket");
    mode_t old = umask(0177); /* the file bind() creates is 0600: no other uid can connect */
    int rc = bind(listenfd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc == -1)
        err(IPCLAB_EXIT_FAIL, "bind %s", path);
    ipclab_socket_made(path); /* the file removed at the end: this one, no other */
    if (listen(listenfd, SOMAXCONN) == -1) {
        warn("listen %s", path);
        unlink(path);
        return IPCLAB_EXIT_FAIL;
    }
    ipclab_ready("waiting for fd_sender on %s", path);

    int status = IPCLAB_EXIT_FAIL;
    for (bool again = true; again;) {
        struct ucred cred;
        int conn = accept_sender(listenfd, &cred);
        if (conn == -1)
            break;
        int ready = wait_first_byte(conn, listenfd, (long)cred.pid);
        int fd = ready == 1 ? recv_fd(conn) : NO_FD;
        /* Connected and left without a word (another fd_receiver asking whether this one is
         * alive, say), or silent while another waits: on to the next. */
        again = ready == 0 || fd == NOTHING_SENT;
        if (fd >= 0) {
            warnx("peer pid %ld (uid %ld) passed a descriptor", (long)cred.pid, (long)cred.uid);
            if (print_rest(fd, conn) == 0)
                status = IPCLAB_EXIT_OK;
            close(fd);
        }
        close(conn); /* with no DONE_BYTE before it: the sender's cue that we failed */
    }
    close(listenfd);
    ipclab_remove_socket(path);
    ipclab_die_of_signal();
    return status;
}
