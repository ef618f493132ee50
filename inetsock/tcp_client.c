/*
 * tcp_client - send stdin to tcp_server, print its upper-cased replies: unix_stream_client's twin.
 *
 * The steps: 1 getaddrinfo(): the server's addresses  2 socket(), connect() to each in turn
 * until one answers (the kernel gives us a port)  3 poll() stdin and the socket  4 read()
 * stdin, send() it  5 at its end, shutdown(SHUT_WR)  6 read() and print the replies (a stream
 * keeps no message boundaries) until the server closes  7 close().
 *
 * Run it in two terminals (the server first), or with a file: tcp_client < in > out.
 *     terminal 1:  ./inetsock/tcp_server
 *     terminal 2:  ./inetsock/tcp_client      (or a server of socat's: see inetsock/README.md)
 * What you should see in terminal 2, typing "hello" and then Ctrl-D:
 *     tcp_client: connected to 127.0.0.1 port 5555 from 127.0.0.1 port 40188
 *     hello
 *     HELLO
 *     tcp_client: the server closed the connection: 6 bytes sent, 6 received
 *
 * Mirrors seed 000's AF_INET client (steps 1 and 2: clt_afinet_conn_init and its connect).
 * Build alone: cc -o tcp_client tcp_client.c
 */
#define _GNU_SOURCE /* program_invocation_short_name (ipclab_cleanup_at_exit): Linux */

#include "../unixsock/stream.h"

static const char usage[] =
    "usage: tcp_client [-H HOST] [-P PORT]\n"
    "  Send stdin to tcp_server at TCP port PORT of HOST and print what it sends back; at end\n"
    "  of input, wait for the last of it.\n"
    "  -H HOST  the server's host: a name, IPv4 or IPv6 address (default " IPCLAB_INET_HOST ")\n"
    "  -P PORT  the server's port (default " IPCLAB_INET_PORT ")\n"
    "  -h       show this help\n";

int main(int argc, char *argv[])
{
    const char *host = IPCLAB_INET_HOST;
    char port[6] = IPCLAB_INET_PORT, where[IPCLAB_ADDR_MAX], self[IPCLAB_ADDR_MAX];

    tcp_begin(argc, argv, usage, &host, port, sizeof port, 1);
    ipclab_cleanup_at_exit(NULL); /* Ctrl-C: die of it at once, even in connect() */

    /* 1. The server's addresses, IPv4 or IPv6, from a name or a number. */
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICSERV }, *list, *ai;
    /* Fix: seed 000 took inet_pton()'s 0 (not an address) for success; this looks it up. */
    int rc = getaddrinfo(host, port, &hints, &list);
    if (rc != 0)
        errx(IPCLAB_EXIT_FAIL, "cannot resolve host '%s': %s", host,
             rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));

    /* 2. socket() and connect() to each address in turn, until a server answers. */
    int sock = -1;
    for (ai = list; ai != NULL && sock == -1; ai = ai->ai_next) {
        ipclab_addr_str(ai->ai_addr, ai->ai_addrlen, where, sizeof where);
        sock = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (sock == -1) {
            warn("socket for %s", where);
            continue;
        }
        if (connect(sock, ai->ai_addr, ai->ai_addrlen) == -1) {
            if (errno == ECONNREFUSED)
                warnx("no server at %s (connection refused); start it with "
                      "./inetsock/tcp_server", where);
            else
                warn("cannot connect to %s", where);
            /* Fix: seed 000 leaked the socket on every error path. */
            close(sock);
            sock = -1;
        }
    }
    freeaddrinfo(list);
    if (sock == -1)
        exit(IPCLAB_EXIT_FAIL);
    ipclab_local_addr(sock, self, sizeof self); /* the port the kernel gave us at connect() */
    warnx("connected to %s from %s", where, self);

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
