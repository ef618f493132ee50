/*
 * fd_sender - open a file, read its first bytes, and pass the open descriptor to fd_receiver.
 *
 * sendmsg(2) with an SCM_RIGHTS control message (unix(7), cmsg(3)) hands the receiver a
 * descriptor for the same open file description as ours: the same offset.  We read the first
 * COUNT bytes ourselves (and print them), pass the descriptor, and wait until the receiver says
 * (one byte back) that it has printed the rest.  Then our own descriptor's offset is at the end
 * of the file, though we read nothing more: the receiver's reads moved it.  What crosses is the
 * open file, not our number for it: the receiver gets the lowest number free in its own table
 * (not our 3), and not our close-on-exec flag, which belongs to a descriptor, not to the file.
 *
 * Run it in two terminals, the receiver first:
 *     terminal 1:  ./fdpass/fd_receiver
 *     terminal 2:  ./fdpass/fd_sender -n 20 README.md
 * What you should see in terminal 2 (pids and paths vary):
 *     # ipclab — Linux i          (the first 20 bytes, which the sender read itself)
 *     fd_sender: read 20 bytes of README.md myself; passing descriptor 3 (offset 20) to ...
 *     fd_sender: the receiver is done; my descriptor's offset is now 35977, the end of the
 *     file: its reads moved my offset too -- one open file description, shared
 *     (35977: README.md's size as this was written; yours says the size of your file)
 *
 * Mirrors seed 002, 传送文件描述符 (发送进程).  Build alone:
 *     cc -o fd_sender fd_sender.c
 */
#define _GNU_SOURCE /* ppoll (ipclab_poll), SO_PEERCRED (ipclab_server_is_ours): Linux */

#include "../common/ipclab.h"
#include "../common/sockets.h"

/* The byte fd_receiver sends back once it has printed the whole file (fd_receiver.c). */
#define DONE_BYTE 'D'

static const char usage[] =
    "usage: fd_sender [-p PATH] [-n COUNT] FILE\n"
    "  Open FILE, read its first COUNT bytes (printed on stdout), then pass the open file\n"
    "  descriptor to fd_receiver over the UNIX socket PATH; it reads on from the same offset.\n"
    "  -p PATH   the socket (default: fdpass in the run directory, see the top README.md)\n"
    "  -n COUNT  the bytes to read before passing the descriptor, 0 to 1048576 (default 64)\n"
    "  -h        show this help\n";

/*
 * Pass fd with one data byte: a stream socket carries control data only along with real data
 * (at least one byte), and the receiver must read that byte to get it.  Returns 0, or -1.
 */
static int send_fd(int sock, int fd)
{
    char byte = 'F';
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    union { /* Fix: CMSG_FIRSTHDR() points a struct cmsghdr into it: aligned for one */
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                          .msg_controllen = sizeof control.buf };

    /* One control message: at level SOL_SOCKET, of type SCM_RIGHTS, one int: the descriptor. */
    memset(&control, 0, sizeof control);
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
    ssize_t n;
    do
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (n == -1 && errno == EINTR && !ipclab_signal);
    if (n == -1 && errno != EINTR)
        warn(errno == EPIPE ? "the receiver has gone" : "sendmsg");
    return n == 1 ? 0 : -1;
}

/*
 * Wait for the receiver's verdict.  Returns 1 when it sent DONE_BYTE (the whole file printed);
 * 0 when the connection ended without it; -1 if a signal came first, or after a message.
 * Fix: the end of the connection is not "done": the kernel closes it for a receiver killed
 * mid-file, and one that failed or refused the descriptor closes it too.  Only the byte tells.
 */
static int wait_for_receiver(int sock)
{
    struct pollfd p = { .fd = sock, .events = POLLIN };
    char byte;

    for (;;) {
        if (ipclab_poll(&p, 1) == -1) {
            if (errno != EINTR)
                warn("poll");
            return -1;
        }
        ssize_t n = read(sock, &byte, 1);
        if (n == 1)
            return byte == DONE_BYTE;
        if (n == 0 || (n == -1 && errno == ECONNRESET))
            return 0;
        if (n == -1 && errno != EINTR && errno != EAGAIN) {
            warn("read");
            return -1;
        }
    }
}

int main(int argc, char *argv[])
{
    char path[PATH_MAX] = "";
    long count = 64;
    int opt;

    ipclab_stderr_by_line();
    ipclab_std_fds();
    while ((opt = getopt(argc, argv, ":hp:n:")) != -1) {
        switch (opt) {
        case 'p':
            ipclab_path_arg(path, sizeof path, optarg, usage);
            break;
        case 'n':
            if (!ipclab_parse_long(optarg, 0, 1048576, &count))
                ipclab_usage_error(usage, "-n wants a count of bytes from 0 to 1048576, not '%s'",
                                   optarg);
            break;
        case 'h':
            fputs(usage, stdout);
            return IPCLAB_EXIT_OK;
        default:
            ipclab_bad_option(usage, opt, argv);
        }
    }
    if (argc - optind != 1)
        ipclab_usage_error(usage, argc == optind ? "name the file to pass"
                                                 : "one file only");
    const char *file = argv[optind];
    if (path[0] == '\0')
        ipclab_run_path(path, sizeof path, "fdpass");
    ipclab_catch_signals();

    /* The file whose open file description we share. */
    int fd = open(file, O_RDONLY | O_CLOEXEC); /* a FIFO's open() waits: Ctrl-C ends it */
    if (fd == -1) {
        ipclab_die_of_signal();
        err(IPCLAB_EXIT_FAIL, "%s", file);
    }
    /* The receiver's address (a path too long for sun_path is refused), a socket, connect(). */
    struct sockaddr_un sa;
    if (ipclab_sun(&sa, path) == -1)
        return IPCLAB_EXIT_FAIL;
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock == -1)
        err(IPCLAB_EXIT_FAIL, "socket");
    if (connect(sock, (struct sockaddr *)&sa, sizeof sa) == -1) {
        if (errno == ENOENT || errno == ECONNREFUSED)
            warnx("no server at %s; start it with ./fdpass/fd_receiver", path);
        else if (errno != EINTR || !ipclab_signal) /* a Ctrl-C ends a wait on a full queue */
            warn("connect %s", path);
        close(sock);
        return IPCLAB_EXIT_FAIL;
    }
    /* Whoever listens on the path gets our open file, with our rights to it: as root, a file
     * only root may read.  Pass it only to a receiver of our own uid (it checks ours too). */
    if (!ipclab_server_is_ours(sock, path, "receiver", "pass it a descriptor"))
        return IPCLAB_EXIT_FAIL;
    static char first[1048576];
    ssize_t got = ipclab_read_full(fd, first, (size_t)count);
    if (got == -1) {
        ipclab_die_of_signal(); /* Ctrl-C while the file kept us waiting */
        err(IPCLAB_EXIT_FAIL, "read %s", file);
    }
    if (ipclab_write_all(STDOUT_FILENO, first, (size_t)got) == -1) {
        ipclab_die_of_signal(); /* Ctrl-C while a full stdout kept us waiting */
        err(IPCLAB_EXIT_FAIL, "write stdout");
    }
    int status = IPCLAB_EXIT_FAIL;
    off_t before = lseek(fd, 0, SEEK_CUR);
    if (before == -1)
        warnx("read %zd bytes of %s myself; passing descriptor %d to the receiver", got, file,
              fd);
    else
        warnx("read %zd bytes of %s myself%s; passing descriptor %d (offset %lld) to the receiver",
              got, file, got < count ? " (all there was: it is shorter than -n)" : "", fd,
              (long long)before);
    int verdict = send_fd(sock, fd) == 0 ? wait_for_receiver(sock) : -1;
    if (verdict == 0) {
        warnx("the receiver went away before it was done: it failed, refused the descriptor "
              "or was killed (see its messages)");
    } else if (verdict == 1) {
        off_t after = lseek(fd, 0, SEEK_CUR);
        struct stat st;
        if (after == -1)
            warnx("the receiver is done (%s is not seekable: no offset to show)", file);
        else if (after == before)
            warnx("the receiver is done; my descriptor's offset is still %lld: there was "
                  "nothing left to read", (long long)after);
        else
            warnx("the receiver is done; my descriptor's offset is now %lld%s: its reads moved "
                  "my offset too -- one open file description, shared", (long long)after,
                  fstat(fd, &st) == 0 && after == st.st_size ? ", the end of the file" : "");
        status = IPCLAB_EXIT_OK;
    }
    close(sock);
    close(fd);
    ipclab_die_of_signal();
    return status;
}
