/*
 * unix_stream_server - an upper-casing echo server on a UNIX-domain stream socket.
 *
 * A UNIX-domain socket's address is a path: like a FIFO it has a name, but it is two-way, one
 * connection per client, and the kernel tells the server who each client is (SO_PEERCRED).
 * The server makes a socket, binds it to its path, listens, and accepts each client that
 * connects; a client's bytes come back with ASCII letters upper-cased.  One poll(2) loop serves
 * every client at once, until Ctrl-C or SIGTERM; then the server removes its socket.
 *
 * Run it in two terminals (the server first: a client needs a listening server):
 *     terminal 1:  ./unixsock/unix_stream_server
 *     terminal 2:  ./unixsock/unix_stream_client
 * What you should see in terminal 1 (pids and paths vary), once terminal 2 typed "hello":
 *     unix_stream_server: ready (pid 4242): listening on /tmp/ipclab-1000/unix_stream; ...
 *     unix_stream_server: client 1 connected: pid 4250, uid 1000
 *     hello
 * and in terminal 2 the reply, HELLO.  More clients can connect at the same time.
 *
 * Mirrors seed 001 (dmserver.c, with APUE's serv_listen and serv_accept) and seed 000's
 * AF_UNIX server.  Build alone: cc -o unix_stream_server unix_stream_server.c
 */
#define _GNU_SOURCE /* SO_PEERCRED and struct ucred, accept4, ppoll: Linux */

#include "../common/ipclab.h"
#include "../common/sockets.h"

static const char usage[] =
    "usage: unix_stream_server [-p PATH]\n"
    "  Serve any number of clients on the UNIX stream socket PATH: send each one back what it\n"
    "  sends, ASCII letters upper-cased; print what arrives on stdout and who connects on\n"
    "  stderr.  Runs until SIGINT, SIGTERM or SIGHUP, then removes PATH.\n"
    "  -p PATH  the socket (default: unix_stream in the run directory, see the top README.md)\n"
    "  -h       show this help\n";

#define MAX_CLIENTS 64

static char sock_path[PATH_MAX]; /* the socket file: the handler removes it */

static void remove_socket(void) /* lstat, unlink: async-signal-safe */
{
    ipclab_remove_socket(sock_path);
}

/* One connected client.  A reply waits in out until the client takes it: the server never
 * blocks on one client, and reads nothing more from it until its reply is gone. */
struct client {
    int fd;                 /* -1: a free slot */
    int id;                 /* its number, for the messages */
    pid_t pid;              /* from SO_PEERCRED */
    char out[IPCLAB_STREAM_CHUNK]; /* the reply not yet written */
    size_t out_len, out_off;
    long long bytes;
};

/* APUE's serv_listen(): a stream socket bound to path, listening; close-on-exec, and
 * non-blocking (poll() waits, never accept()).  Returns it, or -1 after a message. */
static int serv_listen(const char *path)
{
    struct sockaddr_un sa;

    /* Fix: the original unlink()ed the path first, stealing the address of a server already
     * running there.  ipclab_socket_path_free() refuses a live one, removes a stale one. */
    if (ipclab_sun(&sa, path) == -1 || ipclab_socket_path_free(&sa, SOCK_STREAM) == -1)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd == -1) {
        warn("socket");
        return -1;
    }
    mode_t old = umask(0177); /* bind() makes the socket file: 0600, only we may connect */
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc == -1 || listen(fd, SOMAXCONN) == -1) {
        warn(rc == -1 ? "bind %s" : "listen %s", path);
        if (rc == 0)
            unlink(path);
        close(fd);
        return -1;
    }
    ipclab_socket_made(path); /* the file removed at the end: this one, no other */
    return fd;
}

/* APUE's serv_accept(): take a new connection, non-blocking, and say who it is: the kernel
 * recorded the client's pid and uid at connect(), and nobody can forge them (SO_PEERCRED). */
static void add_client(int listenfd, struct client *c, int id)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    int fd = accept4(listenfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

    if (fd == -1) {
        if (errno != EAGAIN && errno != ECONNABORTED) /* those: the client gave up first */
            warn("accept");
        return;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
        warn("getsockopt SO_PEERCRED");
        close(fd);
        return;
    }
    *c = (struct client){ .fd = fd, .id = id, .pid = cred.pid };
    warnx("client %d connected: pid %ld, uid %ld", id, (long)cred.pid, (long)cred.uid);
}

static void drop_client(struct client *c, const char *why)
{
    warnx("client %d (pid %ld) %s after %lld bytes", c->id, (long)c->pid, why, c->bytes);
    close(c->fd);
    c->fd = -1;
}

/* The client sent something: print it, upper-case it, queue it as the reply.  Fix: toupper()
 * on a plain char is undefined for bytes above 127; ipclab_upcase() changes ASCII letters only. */
static void receive(struct client *c)
{
    ssize_t n = read(c->fd, c->out, sizeof c->out);

    if (n == -1) {
        if (errno == ECONNRESET) {
            drop_client(c, "reset the connection");
        } else if (errno != EINTR && errno != EAGAIN) {
            warn("client %d: read", c->id);
            drop_client(c, "failed");
        }
        return;
    }
    if (n == 0) { /* it half-closed, and has had every reply: read only when none waits */
        drop_client(c, "finished");
        return;
    }
    if (ipclab_write_all(STDOUT_FILENO, c->out, (size_t)n) == -1 && errno != EINTR)
        warn("write stdout");
    ipclab_upcase(c->out, (size_t)n);
    c->out_len = (size_t)n; /* out_off is 0: reply() sets it back */
    c->bytes += n;
}

/* Write what we can of the pending reply.  Fix: the original ignored write()'s result, so a
 * partial write lost the rest.  MSG_NOSIGNAL: a client that has gone is EPIPE, not SIGPIPE. */
static void reply(struct client *c)
{
    ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

    if (n == -1) {
        if (errno != EINTR && errno != EAGAIN)
            drop_client(c, "went away before its reply");
        return;
    }
    c->out_off += (size_t)n;
    if (c->out_off == c->out_len)
        c->out_len = c->out_off = 0;
}

/* Serve until a termination signal.  One poll() watches the listening socket and every client:
 * a client with a reply pending is watched for POLLOUT, the others for POLLIN. */
static void serve(int listenfd)
{
    static struct client clients[MAX_CLIENTS];
    struct pollfd fds[MAX_CLIENTS + 1];
    int next_id = 1, most = MAX_CLIENTS; /* lowered to what ulimit -n allows, once it is hit */

    for (int i = 0; i < MAX_CLIENTS; i++)
        clients[i].fd = -1;
    for (;;) {
        int free_slot = -1, connected = 0, used = 0; /* used: the slots up to the last taken */
        for (int i = 0; i < MAX_CLIENTS; i++) {
            struct client *c = &clients[i];
            fds[i + 1] = (struct pollfd){ .fd = c->fd,
                                          .events = c->out_len > 0 ? POLLOUT : POLLIN };
            if (c->fd == -1 && free_slot == -1)
                free_slot = i;
            if (c->fd != -1) {
                connected++;
                used = i + 1;
            }
        }
        /* full: new clients wait in the listen queue */
        fds[0] = (struct pollfd){ .fd = connected >= most ? -1 : listenfd, .events = POLLIN };
        /* Fix: poll() refuses more entries than we may have descriptors (EINVAL, ulimit -n):
         * only the slots up to the last one taken are watched, each once had a descriptor. */
        if (ipclab_poll(fds, (nfds_t)used + 1) == -1) {
            if (errno != EINTR)
                warn("poll");
            break;
        }
        /* Fix: accept() with no descriptor left (EMFILE) spins the loop: ipclab_accept_room()
         * looks for one first, and lowers most while there is none. */
        if ((fds[0].revents & POLLIN) && ipclab_accept_room(listenfd, connected, &most))
            add_client(listenfd, &clients[free_slot], next_id++);
        if (most == 0)
            break; /* nobody could ever be served */
        for (int i = 0; i < MAX_CLIENTS; i++) {
            struct client *c = &clients[i];
            if (c->fd == -1 || fds[i + 1].revents == 0 || fds[i + 1].fd != c->fd)
                continue;
            if (c->out_len > 0)
                reply(c);
            else
                receive(c);
        }
    }
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].fd != -1)
            close(clients[i].fd);
}

int main(int argc, char *argv[])
{
    ipclab_stderr_by_line();
    ipclab_std_fds();
    if (ipclab_options_p(argc, argv, usage, ipclab_path_arg, sock_path, sizeof sock_path) < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (sock_path[0] == '\0')
        ipclab_run_path(sock_path, sizeof sock_path, "unix_stream");

    ipclab_catch_signals();
    int listenfd = serv_listen(sock_path);
    if (listenfd == -1)
        return IPCLAB_EXIT_FAIL;
    /* Ctrl-C or SIGTERM from now on: the handler removes the socket file and dies, at once, even
     * in a write() to a stdout that nobody reads (a paused pager). */
    ipclab_cleanup_on_signal(remove_socket);
    ipclab_ready("listening on %s; up to %d clients at a time", sock_path, MAX_CLIENTS);
    serve(listenfd);
    close(listenfd);
    remove_socket();
    return IPCLAB_EXIT_FAIL; /* a failed poll() or no descriptor left ends it */
}
