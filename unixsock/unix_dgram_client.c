/*
 * unix_dgram_client - send stdin to unix_dgram_server as datagrams, print the replies.
 *
 * Each read() of stdin (a line from a terminal, at most 4096 bytes from a file) becomes one
 * datagram.  To be answered, the client binds an address of its own (a socket file in the run
 * directory, removed when it leaves), then connect()s to the server: the default destination,
 * and the only sender it takes datagrams from.  It sends a datagram, waits for its reply, sends
 * the next; at end of input, an empty datagram, answered by an empty one.  A datagram socket
 * gets no end of file when the server dies, so while it waits the client looks, five times a
 * second, whether a server still answers at the path.
 *
 * Run it in two terminals (the server first):
 *     terminal 1:  ./unixsock/unix_dgram_server
 *     terminal 2:  ./unixsock/unix_dgram_client
 * What you should see in terminal 2, typing "hello", then Ctrl-D:
 *     unix_dgram_client: bound to /tmp/ipclab-1000/unix_dgram_client.4250; server ...
 *     hello
 *     HELLO
 *     unix_dgram_client: end of input: 6 bytes in 1 datagram(s), each answered
 *
 * Mirrors seed 002, Domain UDP (客户端样例).  Build alone:
 *     cc -o unix_dgram_client unix_dgram_client.c
 */
#define _GNU_SOURCE /* ppoll (ipclab_poll_timed): Linux */

#include "../common/ipclab.h"
#include "../common/sockets.h"

#include <dirent.h>

static const char usage[] =
    "usage: unix_dgram_client [-p PATH]\n"
    "  Send stdin to unix_dgram_server over the UNIX datagram socket PATH, one datagram of at\n"
    "  most 4096 bytes per read, and print each reply.  The client binds its own socket,\n"
    "  unix_dgram_client.<pid> in the run directory, so that the server can answer.\n"
    "  -p PATH  the server's socket (default: unix_dgram in the run directory, see the top\n"
    "           README.md)\n"
    "  -h       show this help\n";

#define DGRAM_MAX 4096

/* Wait for the reply to what we sent, and print it.  Returns its length, or -1. */
static ssize_t await_reply(int fd, const char *server)
{
    static char buf[DGRAM_MAX];
    struct pollfd p = { .fd = fd, .events = POLLIN };
    struct sockaddr_un sa;

    for (;;) {
        int ready = ipclab_poll_timed(&p, 1, 200); /* -1, EINTR: a termination signal */
        if (ready == -1) {
            if (errno != EINTR)
                warn("poll");
            return -1;
        }
        if (ready == 0) { /* no reply yet: does a server still answer at the path? */
            if (ipclab_sun(&sa, server) == -1 || ipclab_sun_answers(&sa, SOCK_DGRAM) != 1) {
                warnx("the server at %s has gone; no reply will come", server);
                return -1;
            }
            continue;
        }
        ssize_t n = recv(fd, buf, sizeof buf, MSG_TRUNC);
        if (n == -1) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            warn("recv");
            return -1;
        }
        if (n > DGRAM_MAX) {
            warnx("a reply of %zd bytes came, more than %d: cut short (MSG_TRUNC)", n,
                  DGRAM_MAX);
            return -1;
        }
        if (ipclab_write_all(STDOUT_FILENO, buf, (size_t)n) == -1) {
            if (errno != EINTR)
                warn("write stdout");
            return -1;
        }
        return n;
    }
}

/* Send stdin, datagram by datagram, each answered before the next; then the empty end. */
static int talk(int fd, const char *server)
{
    static char buf[DGRAM_MAX];
    long long total = 0, count = 0;

    for (;;) {
        ssize_t n = ipclab_read(STDIN_FILENO, buf, sizeof buf);
        if (n == -1) {
            if (errno != EINTR)
                warn("read stdin");
            return -1;
        }
        /* A datagram goes whole or not at all.  ECONNREFUSED: the server's path is unbound. */
        if (send(fd, buf, (size_t)n, 0) == -1) {
            if (errno == ECONNREFUSED)
                warnx("the server at %s has gone", server);
            else if (errno != EINTR)
                warn("send");
            return -1;
        }
        ssize_t got = await_reply(fd, server);
        if (got == -1)
            return -1;
        if (got != n) {
            warnx("sent %zd bytes, the reply has %zd", n, got);
            return -1;
        }
        if (n == 0)
            break;
        total += n;
        count++;
    }
    warnx("end of input: %lld bytes in %lld datagram(s), each answered", total, count);
    return 0;
}

/* Remove the sockets that killed clients left (kill -9 gives no chance to clean up): a socket
 * nobody answers on is stale (ipclab_sun_answers); a live client's answers, and stays. */
static void remove_stale_clients(void)
{
    static const char prefix[] = "unix_dgram_client.";
    char dir[PATH_MAX];
    struct dirent *e;

    ipclab_run_dir(dir, sizeof dir);
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        char path[PATH_MAX];
        struct sockaddr_un sa;
        struct stat st;
        if (strncmp(e->d_name, prefix, sizeof prefix - 1) != 0 ||
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path ||
            lstat(path, &st) == -1 || !S_ISSOCK(st.st_mode) || ipclab_sun(&sa, path) == -1)
            continue;
        if (ipclab_sun_answers(&sa, SOCK_DGRAM) == 0 && unlink(path) == 0)
            warnx("removed %s: a client that was killed left it", path);
    }
    closedir(d);
}

/* Is the server at path one of ours?  Told -p /tmp/..., a client may find another user's server
 * there, which would read all it sends.  A datagram socket has no peer credentials, so the
 * socket file tells: its owner made it with bind().  (Someone who could rename files in that
 * directory could swap it after we look: name a directory only you can write to.) */
static bool server_is_ours(const char *path)
{
    struct stat st;

    if (lstat(path, &st) == -1)
        warn("%s", path);
    else if (st.st_uid != geteuid())
        warnx("the server on %s is uid %ld's, not yours (uid %ld); refusing to send it your "
              "input", path, (long)st.st_uid, (long)geteuid());
    else
        return true;
    return false;
}

/* A socket bound to self, our own address for the server to answer (0600), then connect()ed
 * to the server; blocking: a send() waits for room.  Returns it, or -1 after a message. */
static int cli_conn(const char *self, const char *server)
{
    struct sockaddr_un me, sa;

    if (ipclab_sun(&me, self) == -1 || ipclab_socket_path_free(&me, SOCK_DGRAM) == -1 ||
        ipclab_sun(&sa, server) == -1)
        return -1;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        warn("socket");
        return -1;
    }
    mode_t old = umask(0177); /* our address, a socket file, is 0600 like the server's */
    int rc = bind(fd, (struct sockaddr *)&me, sizeof me);
    umask(old);
    if (rc == -1) {
        warn("bind %s", self);
        close(fd);
        return -1;
    }
    ipclab_socket_made(self); /* the file removed at the end: this one, no other */
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
        if (errno == ENOENT || errno == ECONNREFUSED)
            warnx("no server at %s; start it with ./unixsock/unix_dgram_server", server);
        else
            warn("connect %s", server);
        close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char *argv[])
{
    char server[PATH_MAX] = "", self[PATH_MAX], name[64];

    ipclab_stderr_by_line();
    ipclab_std_fds();
    if (ipclab_options_p(argc, argv, usage, ipclab_path_arg, server, sizeof server) < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (server[0] == '\0')
        ipclab_run_path(server, sizeof server, "unix_dgram");

    ipclab_catch_signals();
    /* Fix: the original client bound no address, so the server had nowhere to send a reply. */
    remove_stale_clients();
    snprintf(name, sizeof name, "unix_dgram_client.%ld", (long)getpid());
    ipclab_run_path(self, sizeof self, name);
    int status = IPCLAB_EXIT_FAIL, fd = cli_conn(self, server);
    if (fd != -1 && server_is_ours(server)) {
        warnx("bound to %s; server %s", self, server);
        status = talk(fd, server) == 0 ? IPCLAB_EXIT_OK : IPCLAB_EXIT_FAIL;
    }
    if (fd != -1)
        close(fd);
    ipclab_remove_socket(self);
    ipclab_die_of_signal();
    return status;
}
