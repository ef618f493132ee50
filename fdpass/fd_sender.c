/*
 * fd_sender - open a file, read its first bytes, and pass the open descriptor to fd_receiver.
 *
 * sendmsg(2) with an SCM_RIGHTS control message (unix(7), cmsg(3)) hands the receiver a
 * descriptor for the same open file description as ours: the same offset.  We read the first
 * COUNT bytes ourselves (and print them), pass the descriptor, and wait for the receiver's one
 * byte back, 'D': it has printed the rest.  Then our descriptor's offset is at the end of the
 * file, though we read nothing more: the receiver's reads moved it.  What crosses is the open
 * file, not our number for it: the receiver gets the lowest number free in its own table.
 * The steps: 1 open  2 socket, connect  3 read COUNT bytes  4 sendmsg  5 read the 'D'  6 lseek
 *
 * Run it in two terminals, the receiver first:
 *     terminal 1:  ./fdpass/fd_receiver
 *     terminal 2:  ./fdpass/fd_sender -n 20 README.md
 * What you should see in terminal 2 (pids and sizes vary):
 *     # ipclab — Linux i          (the first 20 bytes, which the sender read itself)
 *     fd_sender: read 20 bytes of README.md myself; passing descriptor 3 (offset 20) to ...
 *     fd_sender: the receiver is done; my descriptor's offset is now 35977, the end of the
 *     file: its reads moved my offset too -- one open file description, shared
 *
 * Mirrors seed 002, 传送文件描述符 (发送进程).  Build alone:
 *     cc -o fd_sender fd_sender.c
 */
#define _GNU_SOURCE /* SO_PEERCRED (guard_receiver_is_ours), the handler that cleans up: Linux */

#include "fdpass.h" /* ../common/sockets.h and ipclab.h, options and guards */

static const char usage[] =
    "usage: fd_sender [-p PATH] [-n COUNT] FILE\n"
    "  Open FILE, read its first COUNT bytes (printed on stdout), then pass the open file\n"
    "  descriptor to fd_receiver over the UNIX socket PATH; it reads on from the same offset.\n"
    "  -p PATH   the socket (default: fdpass in the run directory, see the top README.md)\n"
    "  -n COUNT  the bytes to read before passing the descriptor, 0 to 1048576 (default 64)\n"
    "  -h        show this help\n";

int main(int argc, char *argv[])
{
    char path[PATH_MAX] = "";
    long count = 64;
    const char *file = fdpass_begin(argc, argv, usage, path, &count); /* Ctrl-C: ends at once */

    /* 1. The file whose open file description we share. */
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        err(IPCLAB_EXIT_FAIL, "%s", file);
    /* 2. A stream socket, connected to the receiver's address: AF_UNIX and its path. */
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock == -1)
        err(IPCLAB_EXIT_FAIL, "socket");
    struct sockaddr_un sa = { .sun_family = AF_UNIX }; /* the rest zeroed */
    guard_sun_path_fits(path); /* 107 bytes at most, and the NUL */
    /* Fix: a path too long for sun_path is refused above, never cut short as strncpy() did. */
    strcpy(sa.sun_path, path);
    int rc = connect(sock, (struct sockaddr *)&sa, sizeof sa);
    if (rc == -1 && (errno == ENOENT || errno == ECONNREFUSED))
        errx(IPCLAB_EXIT_FAIL, "no server at %s; start it with ./fdpass/fd_receiver", path);
    if (rc == -1)
        err(IPCLAB_EXIT_FAIL, "connect %s", path);
    guard_receiver_is_ours(sock, path); /* it gets our file, with our rights to it */

    /* 3. Read the first COUNT bytes ourselves: that moves the file's offset. */
    static char first[1048576];
    ssize_t got = ipclab_read_full(fd, first, (size_t)count);
    if (got == -1)
        err(IPCLAB_EXIT_FAIL, "read %s", file);
    if (ipclab_write_all(STDOUT_FILENO, first, (size_t)got) == -1)
        err(IPCLAB_EXIT_FAIL, "write stdout");
    off_t before = lseek(fd, 0, SEEK_CUR); /* -1: a pipe, which has no offset */
    if (before == -1)
        warnx("read %zd bytes of %s myself; passing descriptor %d to the receiver", got, file, fd);
    else
        warnx("read %zd bytes of %s myself%s; passing descriptor %d (offset %lld) to the "
              "receiver", got, file, got < count ? " (all there was: it is shorter than -n)" : "",
              fd, (long long)before);

    /* 4. sendmsg(): one data byte (control data travel only with data on a stream socket),
     * and a control message at level SOL_SOCKET, of type SCM_RIGHTS, holding one int: fd. */
    char byte = 'F';
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    /* Fix: aligned for the struct cmsghdr CMSG_FIRSTHDR() points into it. */
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = { 0 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                          .msg_controllen = sizeof control };
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
    if (sendmsg(sock, &msg, MSG_NOSIGNAL) == -1)
        err(IPCLAB_EXIT_FAIL, errno == EPIPE ? "the receiver has gone" : "sendmsg");

    /* 5. Wait for the receiver's end message, 'D': the whole file printed.  The end of the
     * connection is not "done": a receiver that failed or was killed closes it too. */
    ssize_t n = read(sock, &byte, 1);
    if (n == -1 && errno != ECONNRESET)
        err(IPCLAB_EXIT_FAIL, "read");
    /* 6. Where our own descriptor's offset stands now. */
    off_t after = lseek(fd, 0, SEEK_CUR);
    if (n != 1 || byte != 'D')
        errx(IPCLAB_EXIT_FAIL, "the receiver went away before it was done (no 'D' came): it "
             "failed, refused the descriptor, was killed or sends none (see its messages); my "
             "descriptor's offset is now %lld", (long long)after);
    struct stat st;
    if (after == -1)
        warnx("the receiver is done (%s is not seekable: no offset to show)", file);
    else if (after == before)
        warnx("the receiver is done; my descriptor's offset is still %lld: there was nothing "
              "left to read", (long long)after);
    else
        warnx("the receiver is done; my descriptor's offset is now %lld%s: its reads moved my "
              "offset too -- one open file description, shared", (long long)after,
              fstat(fd, &st) == 0 && after == st.st_size ? ", the end of the file" : "");
    close(sock);
    close(fd);
    return IPCLAB_EXIT_OK;
}
