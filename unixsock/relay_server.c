/*
 * relay_server - pass messages between named clients, with one poll() loop.
 *
 * Clients connect to the server's UNIX stream socket, say their name, then send each other
 * messages by name through it: the server is the switchboard.  One slow or silent client must
 * never hold up the others, so every socket is non-blocking, and each client has a buffer for
 * what it sent that is not yet a whole frame, and a queue of what waits to be sent to it.
 * The frame format is in relay.h.
 *
 * Run it in three terminals: ./unixsock/relay_server first, then ./unixsock/relay_client alice
 * and ./unixsock/relay_client bob.  Alice types "bob hello there"; bob sees "alice: hello
 * there", and the server says who joins and leaves ("alice (pid 4250) joined").
 *
 * Mirrors seed 003 (the select() server that relays between clients A and B).  Build alone:
 *     cc -o relay_server relay_server.c
 */
#define _GNU_SOURCE /* SO_PEERCRED and struct ucred, accept4, ppoll: Linux */

#include "../common/ipclab.h"
#include "../common/sockets.h"
#include "relay.h"

static const char usage[] =
    "usage: relay_server [-p PATH]\n"
    "  Relay messages between named clients (relay_client) on the UNIX stream socket PATH.\n"
    "  Runs until SIGINT, SIGTERM or SIGHUP, then removes PATH.\n"
    "  -p PATH  the socket (default: relay in the run directory, see the top README.md)\n"
    "  -h       show this help\n";

#define MAX_CLIENTS 64
/* What may wait for one client before the server gives up on it: 64 frames of the largest
 * size.  Memory stays bounded however slowly a client reads. */
#define OUT_MAX (64 * RELAY_FRAME_MAX)

struct client {
    int fd;                        /* -1: a free slot */
    pid_t pid;
    char name[RELAY_NAME_MAX + 1]; /* "" until its hello */
    char in[RELAY_FRAME_MAX];      /* bytes received, not yet a whole frame */
    size_t in_len;
    char out[OUT_MAX];             /* frames waiting to be sent to it */
    size_t out_len;
};

static struct client clients[MAX_CLIENTS];

/* Close c's connection, saying why (why NULL: nothing to say). */
static void drop(struct client *c, const char *why)
{
    if (why != NULL)
        warnx("%s (pid %ld) %s", c->name[0] != '\0' ? c->name : "a client", (long)c->pid, why);
    close(c->fd);
    c->fd = -1;
}

/* Queue a frame for c.  Returns 0, or -1 if c's queue is full: it is not reading. */
static int queue(struct client *c, char type, const char *name, const char *body, size_t len)
{
    if (c->out_len + RELAY_HEADER + strlen(name) + len > OUT_MAX)
        return -1;
    c->out_len += relay_encode(c->out + c->out_len, type, name, body, len);
    return 0;
}

/* Tell c what went wrong with an error frame.  fatal: disconnect it too, after one last try,
 * without waiting, to send what is queued.  A client whose queue cannot take even the error is
 * not reading: it is disconnected as well. */
static void refuse(struct client *c, const char *msg, bool fatal)
{
    bool queued = queue(c, RELAY_ERROR, "", msg, strlen(msg)) == 0;

    if (fatal) {
        char why[RELAY_FRAME_MAX + 32];
        if (queued)
            send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        snprintf(why, sizeof why, "is refused: %s", msg);
        drop(c, why);
    } else if (!queued) {
        drop(c, "is not reading: disconnected");
    }
}

static struct client *find(const char *name)
{
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].fd != -1 && strcmp(clients[i].name, name) == 0)
            return &clients[i];
    return NULL;
}

/* One whole frame from c: a hello names it, a send is queued for its addressee. */
static void handle(struct client *c, const struct relay_frame *f)
{
    char msg[128];
    struct client *other = find(f->name);

    if (f->type == RELAY_HELLO && c->name[0] == '\0' && other == NULL) {
        memcpy(c->name, f->name, sizeof c->name);
        warnx("%s (pid %ld) joined", c->name, (long)c->pid);
        if (queue(c, RELAY_WELCOME, "", "", 0) == -1)
            drop(c, "is not reading: disconnected");
    } else if (f->type == RELAY_HELLO && c->name[0] == '\0') {
        snprintf(msg, sizeof msg, "the name %s is taken", f->name);
        refuse(c, msg, true);
    } else if (f->type != RELAY_SEND || c->name[0] == '\0') {
        refuse(c, c->name[0] == '\0' ? "the first frame must be a hello" : "unexpected frame",
               true);
    } else if (other == NULL) {
        snprintf(msg, sizeof msg, "no client named %s", f->name);
        refuse(c, msg, false);
    } else if (queue(other, RELAY_DELIVER, c->name, f->body, f->body_len) == -1) {
        drop(other, "is not reading its messages: disconnected");
    }
}

/* Handle every whole frame among the bytes c has sent (c->in), and keep what is left of an
 * incomplete one for later: a stream has no message boundaries, so one read() may bring half a
 * frame, or three.  A malformed frame disconnects c.  (fuzz/relay_frames.c calls this.) */
static void take_frames(struct client *c)
{
    struct relay_frame f;
    const char *why;
    size_t used = 0;
    ssize_t len;

    while ((len = relay_decode(c->in + used, c->in_len - used, &f, &why)) > 0) {
        used += (size_t)len;
        handle(c, &f);
        if (c->fd == -1)
            return;
    }
    if (len == -1) {
        char msg[96];
        snprintf(msg, sizeof msg, "malformed frame (%s): disconnected", why);
        refuse(c, msg, true);
        return;
    }
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
}

/* c is readable: gather bytes, handle every whole frame. */
static void receive(struct client *c)
{
    ssize_t n = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);

    if (n == -1 && (errno == EINTR || errno == EAGAIN))
        return;
    /* Fix: 0 is end of file, the client gone.  Left in the poll set, its socket would be
     * readable for ever, 0 bytes each time: a busy loop.  Gone is gone, at once. */
    if (n <= 0) {
        /* Fix: a connection that ends before its first byte is no client: another
         * relay_server asking whether this one is live (ipclab_socket_path_free), say. */
        if (c->name[0] == '\0' && c->in_len == 0)
            drop(c, NULL);
        else
            drop(c, n == 0 ? "left" : "went away (connection reset)");
        return;
    }
    c->in_len += (size_t)n;
    take_frames(c);
}

/* c is writable: send what waits for it, as much as its socket takes now. */
static void flush(struct client *c)
{
    ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);

    if (n == -1) {
        if (errno != EINTR && errno != EAGAIN)
            drop(c, "went away");
        return;
    }
    memmove(c->out, c->out + n, c->out_len - (size_t)n);
    c->out_len -= (size_t)n;
}

/* A client waits in the listen queue: accept it into the free slot c, non-blocking like every
 * socket here (no read or write may wait on one client), and note its pid (SO_PEERCRED). */
static void add_client(int listenfd, struct client *c)
{
    struct ucred cred;
    int fd = accept4(listenfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

    if (fd == -1) {
        if (errno != EAGAIN && errno != ECONNABORTED) /* those: the client gave up first */
            warn("accept");
        return;
    }
    if (ipclab_peer_cred(fd, &cred) == -1) {
        close(fd);
        return;
    }
    c->fd = fd;
    c->pid = cred.pid;
    c->name[0] = '\0';
    c->in_len = c->out_len = 0;
}

/* Relay until a termination signal: one poll() over the listening socket and every client. */
static void serve(int listenfd)
{
    struct pollfd fds[MAX_CLIENTS + 1];
    int most = MAX_CLIENTS; /* lowered to what ulimit -n allows, once it is hit */

    for (int i = 0; i < MAX_CLIENTS; i++)
        clients[i].fd = -1;
    for (;;) {
        struct client *free_slot = NULL;
        int connected = 0, used = 0; /* used: the slots up to the last one taken */
        for (int i = 0; i < MAX_CLIENTS; i++) {
            struct client *c = &clients[i];
            fds[i + 1] = (struct pollfd){ .fd = c->fd,
                                          .events = (short)(POLLIN | (c->out_len ? POLLOUT : 0)) };
            if (c->fd == -1 && free_slot == NULL)
                free_slot = c;
            if (c->fd != -1) {
                connected++;
                used = i + 1;
            }
        }
        /* A new client only when there is a slot for it (a negative fd: not watched). */
        fds[0] = (struct pollfd){ .fd = free_slot && connected < most ? listenfd : -1,
                                  .events = POLLIN };
        /* Fix: poll() refuses more entries than the process may have descriptors (EINVAL,
         * with ulimit -n 64 or less): only the slots up to the last one taken are watched. */
        if (ipclab_poll(fds, (nfds_t)used + 1) == -1) {
            ipclab_fail("poll");
            return;
        }
        /* Fix: accept() with no descriptor left (EMFILE) spins the loop: ipclab_accept_room()
         * looks for one first, and lowers most while there is none. */
        if ((fds[0].revents & POLLIN) && ipclab_accept_room(listenfd, connected, &most))
            add_client(listenfd, free_slot);
        if (most == 0)
            return; /* nobody could ever be served */
        for (int i = 0; i < MAX_CLIENTS; i++) {
            struct client *c = &clients[i];
            short ev = fds[i + 1].revents;
            if (c->fd == -1 || fds[i + 1].fd != c->fd)
                continue;
            if (ev & POLLOUT)
                flush(c);
            if (c->fd != -1 && (ev & (POLLIN | POLLHUP | POLLERR)))
                receive(c);
        }
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
        ipclab_run_path(path, sizeof path, "relay");
    ipclab_catch_signals();

    /* Where clients connect: a stale socket of ours is removed, anything else refused. */
    struct sockaddr_un sa;
    if (ipclab_sun(&sa, path) == -1 || ipclab_socket_path_free(&sa, SOCK_STREAM) == -1)
        return IPCLAB_EXIT_FAIL;
    /* Non-blocking: poll() says when a client waits, and accept() never blocks the loop. */
    int listenfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (listenfd == -1)
        err(IPCLAB_EXIT_FAIL, "socket");
    mode_t old = umask(0177); /* bind() makes the socket file: 0600, only we may connect */
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
    ipclab_ready("relaying on %s; up to %d clients", path, MAX_CLIENTS);
    serve(listenfd);

    for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].fd != -1)
            close(clients[i].fd);
    close(listenfd);
    ipclab_remove_socket(path);
    ipclab_die_of_signal();
    return IPCLAB_EXIT_FAIL; /* a signal, a failed poll() or no descriptor left ends it */
}
