/*
 * fd_receiver - receive an open file descriptor over a UNIX-domain socket, and read on from it.
 *
 * A descriptor passed with sendmsg(2) and SCM_RIGHTS (unix(7), cmsg(3)) arrives as a new
 * descriptor for the *same* open file description as the sender's: the kernel object that
 * holds the file's offset (two open()s of one file make two).  The sender reads the first part
 * of a file and passes the descriptor; we read on from where it stopped, without being told
 * where that is, then send one byte back: 'D', done.
 * The steps: 1 socket  2 bind  3 listen  4 accept, SO_PEERCRED  5 recvmsg  6 read to the end
 *   7 send 'D'  8 close; the socket file is unlinked at exit.
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
#define _GNU_SOURCE /* SO_PEERCRED and struct ucred, MSG_CMSG_CLOEXEC, accept4: Linux */

#include "fdpass.h" /* ../common/sockets.h and ipclab.h, options and guards */

static const char usage[] =
    "usage: fd_receiver [-p PATH]\n"
    "  Wait for fd_sender on the UNIX socket PATH, receive the open file descriptor it passes,\n"
    "  and print the file from wherever the sender stopped reading to the end; then leave.\n"
    "  -p PATH  the socket (default: fdpass in the run directory, see the top README.md)\n"
    "  -h       show this help\n";

enum { NO_FD = -1 }; /* take_fd(): no descriptor taken */

static char socket_path[PATH_MAX];

static void remove_socket(void) /* lstat, unlink: async-signal-safe */
{
    if (guard_still_our_socket(socket_path)) /* not one another receiver bound there since */
        unlink(socket_path);
}

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
 * closed.  Level, type, count and MSG_CTRUNC are all checked before CMSG_DATA() is read. */
static int take_fd(struct msghdr *msg)
{
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(msg);
    /* Fix: CMSG_FIRSTHDR() is NULL when no control message came: looked at first. */
    bool rights = cmsg != NULL && cmsg->cmsg_level == SOL_SOCKET &&
                  cmsg->cmsg_type == SCM_RIGHTS;
    size_t count = rights ? passed_count(msg, cmsg) : 0;
    int fd;

    if (msg->msg_flags & MSG_CTRUNC) /* some did not fit: the buffer, or ulimit -n */
        guard_descriptor_table_full(count); /* says which */
    else if (!rights)
        warnx("a byte came, but no descriptor with it");
    else if (cmsg->cmsg_len != CMSG_LEN(sizeof(int)) || count != 1) /* room for two: 64-bit */
        warnx("%zu descriptors came where one was expected: refusing them all", count);
    else {
        memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
        return fd;
    }
    for (size_t i = 0; i < count; i++) { /* refused, they must not stay open */
        memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof fd, sizeof fd);
        close(fd);
    }
    return NO_FD;
}

int main(int argc, char *argv[])
{
    fdpass_begin(argc, argv, usage, socket_path, NULL); /* options; Ctrl-C ends it at once */
    guard_stdout_writable();               /* closed: the file would go into our socket */
    ipclab_cleanup_at_exit(remove_socket); /* at exit and on SIGINT, SIGTERM, SIGHUP */

    /* 1. A stream socket, and its address: AF_UNIX and a path, in a zeroed sockaddr_un. */
    int listenfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listenfd == -1)
        err(IPCLAB_EXIT_FAIL, "socket");
    struct sockaddr_un sa = { .sun_family = AF_UNIX }; /* the rest zeroed */
    guard_sun_path_fits(socket_path); /* 107 bytes at most, and the NUL */
    /* Fix: a path too long for sun_path is refused above, never cut short as strncpy() did. */
    strcpy(sa.sun_path, socket_path);
    /* 2. bind() makes the socket file, mode 0600; one a killed receiver left is unlinked. */
    guard_path_free_or_stale(&sa); /* a live receiver's, another user's, not a socket */
    if (unlink(socket_path) == 0)
        warnx("removed the stale socket %s (its server is gone)", socket_path);
    umask(0177); /* the file bind() makes is 0600: no other uid can connect */
    if (bind(listenfd, (struct sockaddr *)&sa, sizeof sa) == -1)
        err(IPCLAB_EXIT_FAIL, "bind %s", socket_path);
    ipclab_socket_made(socket_path); /* remove_socket() unlinks this file, no other */
    /* 3. listen(): from now on senders can connect. */
    if (listen(listenfd, SOMAXCONN) == -1)
        err(IPCLAB_EXIT_FAIL, "listen %s", socket_path);
    warnx("ready (pid %ld): waiting for fd_sender on %s", (long)getpid(), socket_path);

    /* The message recvmsg() fills: one data byte, and room for one descriptor. */
    /* Fix: recvmsg() writes the data byte here: a real buffer, never a string literal. */
    char byte;
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    /* Fix: aligned for the struct cmsghdr inside, which a plain char array may not be. */
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control };
    struct ucred cred;
    socklen_t len = sizeof cred;
    int conn;
    for (;;) {
        /* 4. accept() a sender; the kernel recorded its pid and uid at connect(). */
        conn = accept4(listenfd, NULL, NULL, SOCK_CLOEXEC);
        if (conn == -1)
            err(IPCLAB_EXIT_FAIL, "accept");
        if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
            err(IPCLAB_EXIT_FAIL, "getsockopt SO_PEERCRED");
        guard_sender_is_us(&cred); /* another uid's descriptor could read what they can */
        if (!guard_silent_while_another_waits(conn, listenfd, (long)cred.pid)) {
            /* 5. recvmsg(): the byte, and the descriptor in the control message. */
            msg.msg_controllen = sizeof control;
            /* Fix: MSG_CMSG_CLOEXEC, or any program we run would inherit the descriptor. */
            ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
            if (n == -1)
                err(IPCLAB_EXIT_FAIL, "recvmsg");
            if (n == 1)
                break;
        }
        close(conn); /* silent, or closed without a byte: another receiver's probe, say */
    }
    int fd = take_fd(&msg);
    if (fd == NO_FD) {
        close(conn); /* our descriptors back before we go (ulimit -n: none was free) */
        close(listenfd);
        return IPCLAB_EXIT_FAIL;
    }
    warnx("peer pid %ld (uid %ld) passed a descriptor", (long)cred.pid, (long)cred.uid);

    /* 6. Read from the offset the sender left to the end: the lesson's proof. */
    off_t start = lseek(fd, 0, SEEK_CUR);
    if (start > 0)
        warnx("received descriptor %d; its offset is already %lld: the sender's reads moved it",
              fd, (long long)start);
    else
        warnx("received descriptor %d; its offset is %s", fd, start == 0 ?
              "0: the sender read none of it" : "unknown (not a seekable file)");
    char buf[IPCLAB_CHUNK];
    long long total = 0;
    /* Fix: read() to the end of the file, not once (the seed printed 1024 bytes at most). */
    for (ssize_t got; (got = read(fd, buf, sizeof buf)) != 0; total += got) {
        if (got == -1)
            err(IPCLAB_EXIT_FAIL, "read the received descriptor");
        if (ipclab_write_all(STDOUT_FILENO, buf, (size_t)got) == -1)
            err(IPCLAB_EXIT_FAIL, "write stdout");
    }
    if (start != -1)
        warnx("printed %lld bytes, from offset %lld to the end of the file", total,
              (long long)start);
    else
        warnx("printed %lld bytes, to the end", total);

    /* 7. One byte back, 'D': done.  (The end of the connection alone would not say it: a
     * receiver that fails, or is killed, closes it too.) */
    if (send(conn, "D", 1, MSG_NOSIGNAL) == -1)
        warn("could not tell the peer that the file is printed");
    /* 8. Close; exit unlinks the socket file (remove_socket). */
    close(fd);
    close(conn);
    close(listenfd);
    return IPCLAB_EXIT_OK;
}
