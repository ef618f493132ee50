/*
 * unix_stream_client - send stdin to unix_stream_server and print its upper-cased replies.
 *
 * The client makes a socket and connects it to the server's path.  Then, with poll(2), it
 * sends stdin and prints what comes back: a stream keeps no message boundaries, so one read()
 * is not one answer.  At end of input it half-closes (shutdown(SHUT_WR)) and reads on until
 * the server has answered and closed.
 *
 * Run it in two terminals (the server first):
 *     terminal 1:  ./unixsock/unix_stream_server
 *     terminal 2:  ./unixsock/unix_stream_client
 * What you should see in terminal 2, typing "hello" and then Ctrl-D:
 *     unix_stream_client: connected to /tmp/ipclab-1000/unix_stream
 *     hello
 *     HELLO
 *     unix_stream_client: the server closed the connection: 6 bytes sent, 6 received
 * Whole files work too: ./unixsock/unix_stream_client < in > out.
 *
 * Mirrors seed 001 (dmclient.c, with APUE's cli_conn) and seed 000's AF_UNIX client.  Build
 * alone:
 *     cc -o unix_stream_client unix_stream_client.c
 */
#define _GNU_SOURCE /* ppoll (ipclab_poll), SO_PEERCRED (ipclab_server_is_ours): Linux */

#include "../common/ipclab.h"
#include "../common/sockets.h"

static const char usage[] =
    "usage: unix_stream_client [-p PATH]\n"
    "  Send stdin to unix_stream_server over the UNIX stream socket PATH and print what it\n"
    "  sends back; at end of input, wait for the last of it.\n"
    "  -p PATH  the server's socket (default: unix_stream in the run directory, see the top\n"
    "           README.md)\n"
    "  -h       show this help\n";

struct conv {
    int sock;
    char out[IPCLAB_STREAM_CHUNK]; /* read from stdin, not yet sent */
    size_t out_len, out_off;
    bool in_eof, shut;      /* stdin ended; we half-closed */
    long long sent, received;
};

/* APUE's cli_conn(): a stream socket connected to the server at path, close-on-exec.  A client
 * needs no address of its own: SO_PEERCRED tells the server who it is.  connect() waits while
 * the server's listen queue is full; Ctrl-C ends the wait (EINTR).  Returns the socket, or -1:
 * after a message, or with ipclab_signal set. */
static int cli_conn(const char *path)
{
    struct sockaddr_un sa;

    if (ipclab_sun(&sa, path) == -1)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        warn("socket");
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
        if (errno == ENOENT || errno == ECONNREFUSED)
            warnx("no server at %s; start it with ./unixsock/unix_stream_server", path);
        else if (errno != EINTR || !ipclab_signal)
            warn("connect %s", path);
        close(fd);
        return -1;
    }
    return fd;
}

/* stdin is readable: take a chunk to send, or note its end (talk() then half-closes). */
static int take_input(struct conv *c)
{
    ssize_t n = read(STDIN_FILENO, c->out, sizeof c->out);

    if (n == -1) {
        if (errno == EINTR)
            return 0;
        warn("read stdin");
        return -1;
    }
    c->in_eof = n == 0;
    c->out_len = (size_t)n; /* out_off is 0: send_some() sets it back */
    return 0;
}

/* A send() or read() on the socket failed: 0 if it is only to be tried again (EINTR, EAGAIN),
 * else -1 after a message. */
static int sock_failed(const char *what)
{
    if (errno == EINTR || errno == EAGAIN)
        return 0;
    if (errno == EPIPE || errno == ECONNRESET)
        warnx("the server went away");
    else
        warn("%s", what);
    return -1;
}

/* The socket can take more: send what we can.  Fix: the original ignored write()'s result. */
static int send_some(struct conv *c)
{
    ssize_t n = send(c->sock, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

    if (n == -1)
        return sock_failed("send");
    c->out_off += (size_t)n;
    c->sent += n;
    if (c->out_off == c->out_len)
        c->out_len = c->out_off = 0;
    return 0;
}

/* The server sent something: print it.  Returns 1 when the server has closed, 0 to go on, -1
 * on error.  Fix: one read() per line sent took a stream for messages; replies come split. */
static int print_reply(struct conv *c)
{
    static char buf[IPCLAB_STREAM_CHUNK];
    ssize_t n = read(c->sock, buf, sizeof buf);

    if (n == -1)
        return sock_failed("read");
    if (n == 0)
        return 1;
    if (ipclab_write_all(STDOUT_FILENO, buf, (size_t)n) == -1) {
        if (errno != EINTR)
            warn("write stdout");
        return -1;
    }
    c->received += n;
    return 0;
}

/* Talk until the server closes after our end of input.  Returns 0, or -1. */
static int talk(struct conv *c)
{
    for (;;) {
        if (c->in_eof && c->out_len == 0 && !c->shut) {
            if (shutdown(c->sock, SHUT_WR) == -1) {
                warn("shutdown");
                return -1;
            }
            c->shut = true;
        }
        struct pollfd fds[2] = {
            { .fd = c->in_eof || c->out_len > 0 ? -1 : STDIN_FILENO, .events = POLLIN },
            { .fd = c->sock, .events = POLLIN | (c->out_len > 0 ? POLLOUT : 0) },
        };
        if (ipclab_poll(fds, 2) == -1) {
            if (errno != EINTR)
                warn("poll");
            return -1;
        }
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            int r = print_reply(c);
            if (r == -1)
                return -1;
            if (r == 1) {
                if (c->shut) {
                    warnx("the server closed the connection: %lld bytes sent, %lld received",
                          c->sent, c->received);
                    return 0;
                }
                warnx("the server closed the connection before our end of input");
                return -1;
            }
        }
        if ((fds[1].revents & POLLOUT) && send_some(c) == -1)
            return -1;
        if ((fds[0].revents & (POLLIN | POLLHUP)) && take_input(c) == -1)
            return -1;
    }
}

int main(int argc, char *argv[])
{
    char path[PATH_MAX] = "";

    ipclab_stderr_by_line();
    ipclab_std_fds();
    if (ipclab_options_p(argc, argv, usage, ipclab_path_arg, path, sizeof path) < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (path[0] == '\0')
        ipclab_run_path(path, sizeof path, "unix_stream");

    ipclab_catch_signals();
    struct conv c = { .sock = cli_conn(path) };
    if (c.sock == -1) {
        ipclab_die_of_signal(); /* Ctrl-C while connect() waited */
        return IPCLAB_EXIT_FAIL;
    }
    if (!ipclab_server_is_ours(c.sock, path, "server", "send it your input"))
        return IPCLAB_EXIT_FAIL;
    if (fcntl(c.sock, F_SETFL, fcntl(c.sock, F_GETFL) | O_NONBLOCK) == -1)
        err(IPCLAB_EXIT_FAIL, "fcntl O_NONBLOCK");
    warnx("connected to %s", path);
    int status = talk(&c) == 0 ? IPCLAB_EXIT_OK : IPCLAB_EXIT_FAIL;
    close(c.sock);
    ipclab_die_of_signal();
    return status;
}
