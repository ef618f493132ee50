/*
 * relay_client - talk to other clients by name, through relay_server.
 *
 * The client connects, says its name, and then does two things at once with poll(2): each line
 * you type, "bob hello there", goes to the server addressed to bob; each message the server
 * relays to you is printed as "alice: hello there".  The server's complaints (no such client,
 * name taken) are printed on stderr.  End of input (Ctrl-D) leaves.
 *
 * Run it in three terminals: ./unixsock/relay_server first, then ./unixsock/relay_client alice
 * and ./unixsock/relay_client bob.  Alice types "bob hello there", then "carol hi", and sees:
 *     relay_client: you are alice; type "NAME message" to send, Ctrl-D to leave
 *     relay_client: server: no client named carol
 * and bob sees "alice: hello there".
 *
 * Mirrors seed 003 (ClientA and ClientB, now one program with a name).  Build alone:
 *     cc -o relay_client relay_client.c
 */
#define _GNU_SOURCE /* ppoll (ipclab_poll), SO_PEERCRED (ipclab_server_is_ours): Linux */

#include "../common/ipclab.h"
#include "../common/sockets.h"
#include "relay.h"

static const char usage[] =
    "usage: relay_client [-p PATH] NAME\n"
    "  Join relay_server on the UNIX socket PATH as NAME (1 to 32 ASCII letters, digits, - or _).\n"
    "  Each line typed, \"OTHER message\", is sent to the client named OTHER; messages for NAME\n"
    "  are printed as \"SENDER: message\".  Ctrl-D leaves.\n"
    "  -p PATH  the server's socket (default: relay in the run directory, see the top\n"
    "           README.md)\n"
    "  -h       show this help\n";

/* A line typed: "DEST text".  Send it, or say why not (locally: nothing is sent). */
static int send_line(int sock, char *line, size_t len)
{
    char frame[RELAY_FRAME_MAX];
    char *space = memchr(line, ' ', len);
    size_t name_len = space != NULL ? (size_t)(space - line) : len;

    if (len == 0)
        return 0;
    if (space == NULL || !relay_name_ok(line, name_len)) {
        warnx("type \"NAME message\": a name (1 to %d ASCII letters, digits, - or _), a space, "
              "then the message", RELAY_NAME_MAX);
        return 0;
    }
    size_t body_len = len - name_len - 1;
    if (body_len > RELAY_BODY_MAX) {
        warnx("a message holds at most %d bytes; this one has %zu: not sent", RELAY_BODY_MAX,
              body_len);
        return 0;
    }
    line[name_len] = '\0';
    size_t n = relay_encode(frame, RELAY_SEND, line, space + 1, body_len);
    if (ipclab_write_all(sock, frame, n) == -1) {
        if (errno == EPIPE)
            warnx("the server has gone");
        else if (errno != EINTR) /* Ctrl-C while the server's socket was full */
            warn("send");
        return -1;
    }
    return 0;
}

/* stdin is readable: gather what was typed and send every whole line.  At end of input, a last
 * line without a newline is sent too.  A line too long for any message is dropped whole
 * (*skipping until its newline).  Returns 1 at end of input, 0 to go on, -1 on error. */
static int take_input(int sock, char *buf, size_t *len, size_t size, bool *skipping)
{
    ssize_t n = read(STDIN_FILENO, buf + *len, size - *len);

    if (n == -1) {
        if (errno == EINTR)
            return 0;
        warn("read stdin");
        return -1;
    }
    if (n == 0) {
        int rc = *skipping ? 0 : send_line(sock, buf, *len);
        *len = 0;
        return rc == -1 ? -1 : 1;
    }
    *len += (size_t)n;
    char *start = buf, *nl;
    while ((nl = memchr(start, '\n', *len - (size_t)(start - buf))) != NULL) {
        if (*skipping) /* the end of a line too long to send */
            *skipping = false;
        else if (send_line(sock, start, (size_t)(nl - start)) == -1)
            return -1;
        start = nl + 1;
    }
    *len -= (size_t)(start - buf);
    memmove(buf, start, *len);
    if (*len == size) { /* a line longer than any message: say so, drop it to its end */
        if (!*skipping)
            warnx("a line longer than %zu bytes: not sent", size);
        *skipping = true;
        *len = 0;
    }
    return 0;
}

/* The server sent something: print every whole frame.  Returns 0, or -1 when the server has
 * closed the connection or broken the protocol. */
static int take_frames(int sock, char *buf, size_t *len, bool *welcomed)
{
    ssize_t n = read(sock, buf + *len, RELAY_FRAME_MAX - *len);

    if (n == -1) {
        if (errno == EINTR)
            return 0;
        warn("read");
        return -1;
    }
    if (n == 0) {
        warnx("the server closed the connection");
        return -1;
    }
    *len += (size_t)n;
    size_t used = 0;
    for (;;) {
        struct relay_frame f;
        const char *why;
        ssize_t flen = relay_decode(buf + used, *len - used, &f, &why);
        if (flen == -1) {
            warnx("the server sent a malformed frame (%s)", why);
            return -1;
        }
        if (flen == 0)
            break;
        used += (size_t)flen;
        if (f.type == RELAY_WELCOME) {
            *welcomed = true;
        } else if (f.type == RELAY_ERROR) {
            warnx("server: %.*s", (int)f.body_len, f.body);
        } else if (f.type == RELAY_DELIVER) { /* "SENDER: BODY\n"; BODY may hold any byte */
            char line[RELAY_NAME_MAX + 2 + RELAY_BODY_MAX + 1];
            size_t hl = (size_t)snprintf(line, sizeof line, "%s: ", f.name);
            memcpy(line + hl, f.body, f.body_len);
            line[hl + f.body_len] = '\n';
            if (ipclab_write_all(STDOUT_FILENO, line, hl + f.body_len + 1) == -1)
                return ipclab_fail("write stdout");
        }
    }
    memmove(buf, buf + used, *len - used);
    *len -= used;
    return 0;
}

/* Join as name, then relay until end of input.  Returns 0, or -1. */
static int chat(int sock, const char *name)
{
    static char typed[RELAY_NAME_MAX + 1 + RELAY_BODY_MAX + 1], got[RELAY_FRAME_MAX];
    size_t typed_len = 0, got_len = 0;
    bool welcomed = false, skipping = false;
    char frame[RELAY_FRAME_MAX];

    if (ipclab_write_all(sock, frame, relay_encode(frame, RELAY_HELLO, name, "", 0)) == -1)
        return ipclab_fail("send");
    for (;;) {
        /* Keyboard input only once the server has let us in (a refused name ends it). */
        struct pollfd fds[2] = { { .fd = sock, .events = POLLIN },
                                 { .fd = welcomed ? STDIN_FILENO : -1, .events = POLLIN } };
        if (ipclab_poll(fds, 2) == -1)
            return ipclab_fail("poll");
        if (fds[0].revents != 0) {
            bool was = welcomed;
            if (take_frames(sock, got, &got_len, &welcomed) == -1)
                return -1;
            if (welcomed && !was)
                warnx("you are %s; type \"NAME message\" to send, Ctrl-D to leave", name);
        }
        if (fds[1].revents != 0) {
            int rc = take_input(sock, typed, &typed_len, sizeof typed, &skipping);
            if (rc != 0)
                return rc == 1 ? 0 : -1;
        }
    }
}

int main(int argc, char *argv[])
{
    char path[PATH_MAX] = "";

    ipclab_stderr_by_line();
    ipclab_std_fds();
    ipclab_options_p(argc, argv, usage, ipclab_path_arg, path, sizeof path);
    if (argc - optind != 1)
        ipclab_usage_error(usage, "give one name: who you are");
    const char *name = argv[optind];
    if (!relay_name_ok(name, strlen(name)))
        ipclab_usage_error(usage, "a name is 1 to %d ASCII letters, digits, - or _, not '%s'",
                           RELAY_NAME_MAX, name);
    if (path[0] == '\0')
        ipclab_run_path(path, sizeof path, "relay");
    ipclab_catch_signals();

    /* The server's address (a path too long for sun_path is refused), then a socket to it. */
    struct sockaddr_un sa;
    if (ipclab_sun(&sa, path) == -1)
        return IPCLAB_EXIT_FAIL;
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock == -1)
        err(IPCLAB_EXIT_FAIL, "socket");
    /* connect() waits while the server's listen queue is full; a Ctrl-C ends the wait. */
    if (connect(sock, (struct sockaddr *)&sa, sizeof sa) == -1) {
        if (errno == ENOENT || errno == ECONNREFUSED)
            warnx("no server at %s; start it with ./unixsock/relay_server", path);
        else if (errno != EINTR || !ipclab_signal)
            warn("connect %s", path);
        close(sock);
        return IPCLAB_EXIT_FAIL;
    }
    /* With -p, whoever listens there reads what we type: only a server of our own uid. */
    if (!ipclab_server_is_ours(sock, path, "relay", "chat through it"))
        return IPCLAB_EXIT_FAIL;
    int status = chat(sock, name) == 0 ? IPCLAB_EXIT_OK : IPCLAB_EXIT_FAIL;
    close(sock);
    ipclab_die_of_signal();
    return status;
}
