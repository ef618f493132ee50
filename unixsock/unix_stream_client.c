/*
 * unix_stream_client - send stdin to unix_stream_server and print its upper-cased replies.
 *
 * The steps: 1 socket()  2 connect() it to the server's path  3 poll() stdin and the socket
 * 4 read() stdin, send() it  5 at its end, shutdown(SHUT_WR)  6 read() and print the replies
 * (a stream keeps no message boundaries) until the server closes  7 close().
 *
 * Run it in two terminals (the server first), or with a file: unix_stream_client < in > out.
 *     terminal 1:  ./unixsock/unix_stream_server
 *     terminal 2:  ./unixsock/unix_stream_client  (or a server of socat's: see unixsock/README.md)
 * What you should see in terminal 2, typing "hello" and then Ctrl-D:
 *     unix_stream_client: connected to /tmp/ipclab-1000/unix_stream
 *     hello
 *     HELLO
 *     unix_stream_client: the server closed the connection: 6 bytes sent, 6 received
 *
 * Mirrors seed 001 (dmclient.c; steps 1 and 2 are APUE's cli_conn()) and seed 000's AF_UNIX
 * client.  Build alone: cc -o unix_stream_client unix_stream_client.c
 */
#define _GNU_SOURCE /* SO_PEERCRED (guard_server_is_ours): Linux */

#include "stream.h"

static const char usage[] =
    "usage: unix_stream_client [-p PATH]\n"
    "  Send stdin to unix_stream_server over the UNIX stream socket PATH and print what it\n"
    "  sends back; at end of input, wait for the last of it.\n"
    "  -p PATH  the server's socket (default: unix_stream in the run directory, see the top\n"
    "           README.md)\n"
    "  -h       show this help\n";

int main(int argc, char *argv[])
{
    char path[PATH_MAX] = "";

    unix_stream_begin(argc, argv, usage, path, sizeof path);
    ipclab_cleanup_at_exit(NULL); /* Ctrl-C: die of it at once, even in connect() */

    /* 1. A stream socket.  It needs no address of its own: SO_PEERCRED names us. */
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock == -1)
        err(IPCLAB_EXIT_FAIL, "socket");

    /* 2. connect() to the server's path; it waits while the server's listen queue is full. */
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    guard_sun_path_fits(path);                          /* too long: refused, never cut */
    strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
    if (connect(sock, (struct sockaddr *)&addr, sizeof addr) == -1) {
        if (errno == ENOENT || errno == ECONNREFUSED)
            errx(IPCLAB_EXIT_FAIL, "no server at %s; start it with "
                 "./unixsock/unix_stream_server", path);
        err(IPCLAB_EXIT_FAIL, "connect %s", path);
    }
    guard_server_is_ours(sock, path);                   /* with -p: another user's server? */
    warnx("connected to %s", path);

    static char out[IPCLAB_STREAM_CHUNK], in[IPCLAB_STREAM_CHUNK];
    size_t len = 0, off = 0; /* out: read from stdin; off: how much of it is sent */
    long long sent = 0, received = 0;
    bool eof = false; /* stdin has ended, and we half-closed */
    for (;;) {
        /* 3. poll(): stdin, once all it gave is sent; the socket, for replies and for room. */
        struct pollfd fds[2] = {
            { .fd = eof || len > 0 ? -1 : STDIN_FILENO, .events = POLLIN },
            { .fd = sock, .events = POLLIN | (len > 0 ? POLLOUT : 0) },
        };
        if (poll(fds, 2, -1) == -1)
            err(IPCLAB_EXIT_FAIL, "poll");
        /* 4. read() stdin; send() what the socket takes now, the rest on POLLOUT (blocking, it
         * would wait for a server that waits for us to read its replies). */
        if (fds[0].revents != 0) {
            ssize_t n = read(STDIN_FILENO, out, sizeof out);
            if (n == -1)
                err(IPCLAB_EXIT_FAIL, "read stdin");
            /* 5. End of input: shutdown() our half; the server reads end of file. */
            if (n == 0 && shutdown(sock, SHUT_WR) == -1)
                err(IPCLAB_EXIT_FAIL, "shutdown");
            eof = n == 0;
            len = (size_t)n, off = 0;
        }
        if (len > 0) {
            /* Fix: the seed ignored write()'s result, and lost what a partial write left. */
            ssize_t n = send(sock, out + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n == -1 && errno != EAGAIN)
                err(IPCLAB_EXIT_FAIL, "send");
            if (n > 0)
                off += (size_t)n, sent += n;
            if (off == len)
                len = 0;
        }
        /* 6. read() what came back and print it; 0: the server has closed. */
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            /* Fix: the seed read once per line sent; a stream keeps no message boundaries. */
            ssize_t n = read(sock, in, sizeof in);
            if (n == -1)
                err(IPCLAB_EXIT_FAIL, "read");
            if (n == 0)
                break;
            if (ipclab_write_all(STDOUT_FILENO, in, (size_t)n) == -1)
                err(IPCLAB_EXIT_FAIL, "write stdout");
            received += n;
        }
    }
    if (!eof)
        errx(IPCLAB_EXIT_FAIL, "the server closed the connection before our end of input");
    warnx("the server closed the connection: %lld bytes sent, %lld received", sent, received);
    close(sock); /* 7. */
    return IPCLAB_EXIT_OK;
}
