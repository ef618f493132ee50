/*
 * relay.h - the frame format relay_server and relay_client speak, and its limits; then what
 * the two do besides the lesson: their options, and the guards (each one line in the program;
 * the reasons in unixsock/README.md, "Hardening: the relay's guards").  No socket the lesson is
 * about is made here.
 *
 * A stream socket carries bytes, not messages, so the relay puts each message in a frame whose
 * header says how long it is:
 *
 *     byte 0     type: 'H' hello (client: "my name is NAME"), 'W' welcome (server: "you are
 *                in"), 'S' send (client: "deliver BODY to NAME"), 'D' deliver (server: "NAME
 *                sent you BODY"), 'E' error (server: BODY says what went wrong)
 *     byte 1     the length of NAME, 0 to RELAY_NAME_MAX (0 only in 'W' and 'E')
 *     bytes 2-3  the length of BODY, 0 to RELAY_BODY_MAX, big-endian
 *     then NAME, then BODY (any bytes)
 *
 * A name is 1 to 32 ASCII letters, digits, '-' or '_'.  A frame that breaks any of this is
 * malformed: the server disconnects its sender, and only its sender.
 */
#ifndef RELAY_H
#define RELAY_H

#include "../common/ipclab.h"
#include "../common/sockets.h"

#define RELAY_NAME_MAX 32
#define RELAY_BODY_MAX 1024
#define RELAY_HEADER 4
#define RELAY_FRAME_MAX (RELAY_HEADER + RELAY_NAME_MAX + RELAY_BODY_MAX)

enum { RELAY_HELLO = 'H', RELAY_WELCOME = 'W', RELAY_SEND = 'S', RELAY_DELIVER = 'D',
       RELAY_ERROR = 'E' };

/* One decoded frame; name is NUL-terminated, body is not. */
struct relay_frame {
    char type;
    char name[RELAY_NAME_MAX + 1];
    size_t body_len;
    const char *body; /* points into the buffer the frame was decoded from */
};

/* Is name[0..len) a valid client name? */
static inline bool relay_name_ok(const char *name, size_t len)
{
    if (len < 1 || len > RELAY_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* Write a frame into buf (RELAY_FRAME_MAX bytes at least).  Returns its length; the caller
 * keeps name and body within the limits. */
static inline size_t relay_encode(char *buf, char type, const char *name, const char *body,
                                  size_t body_len)
{
    size_t name_len = strlen(name);

    buf[0] = type;
    buf[1] = (char)name_len;
    buf[2] = (char)(body_len >> 8);
    buf[3] = (char)(body_len & 0xff);
    memcpy(buf + RELAY_HEADER, name, name_len);
    memcpy(buf + RELAY_HEADER + name_len, body, body_len);
    return RELAY_HEADER + name_len + body_len;
}

/*
 * Decode the frame at the start of buf[0..len).  Returns the frame's length (f filled in), 0 if
 * the frame is not complete yet, or -1 if it is malformed (*why says how).
 */
static inline ssize_t relay_decode(const char *buf, size_t len, struct relay_frame *f,
                                   const char **why)
{
    if (len < RELAY_HEADER)
        return 0;
    char type = buf[0];
    size_t name_len = (unsigned char)buf[1];
    size_t body_len = (size_t)(unsigned char)buf[2] << 8 | (unsigned char)buf[3];
    if (type != RELAY_HELLO && type != RELAY_WELCOME && type != RELAY_SEND &&
        type != RELAY_DELIVER && type != RELAY_ERROR) {
        *why = "unknown frame type";
        return -1;
    }
    if (name_len > RELAY_NAME_MAX) {
        *why = "name length over the limit";
        return -1;
    }
    if (body_len > RELAY_BODY_MAX) {
        *why = "body length over the limit";
        return -1;
    }
    if (len < RELAY_HEADER + name_len + body_len)
        return 0;
    const char *name = buf + RELAY_HEADER;
    bool named = type != RELAY_WELCOME && type != RELAY_ERROR;
    if (named ? !relay_name_ok(name, name_len) : name_len != 0) {
        *why = "bad name";
        return -1;
    }
    f->type = type;
    memcpy(f->name, name, name_len);
    f->name[name_len] = '\0';
    f->body = name + name_len;
    f->body_len = body_len;
    return (ssize_t)(RELAY_HEADER + name_len + body_len);
}

/* ---------------------------------------------------------------- the server's rules
 *
 * What relay_server does with the bytes each client sends, the sockets apart: those stay in
 * relay_server.c, which hands relay_take() its own two functions -- one sends a frame to a
 * client, one disconnects a client.  (fuzz/relay_frames.c drives relay_take() with them.)
 */
#define RELAY_CLIENTS 64

/* What the server knows of the client in a slot (1 to RELAY_CLIENTS). */
struct relay_client {
    bool connected;
    pid_t pid;                     /* SO_PEERCRED's */
    char name[RELAY_NAME_MAX + 1]; /* "" until its hello */
    char in[RELAY_FRAME_MAX];      /* bytes received, not yet a whole frame */
    size_t in_len;
};

typedef void relay_send_fn(int to, char type, const char *name, const char *body, size_t len);
typedef void relay_drop_fn(int i, const char *why);

/*
 * Answer every whole frame among the bytes client i of table has sent, and keep what is left of
 * an incomplete one: a stream has no message boundaries, so one read() may bring half a frame,
 * or three.  The rules: a hello names its sender (a name taken: refused); a send goes on to the
 * client it names, as a delivery from the sender (nobody of that name: an error back, and the
 * sender stays); anything else -- a frame before the hello, a second hello, a malformed frame
 * -- is refused, and disconnects its sender, and only it.  A refusal is an error frame.
 */
static inline void relay_take(struct relay_client *table, int i, relay_send_fn *send_frame,
                              relay_drop_fn *drop)
{
    struct relay_client *c = &table[i];
    struct relay_frame f;
    const char *why = "";
    char msg[RELAY_NAME_MAX + 64], said[sizeof msg + 16];
    size_t used = 0;
    ssize_t len;

    while (c->connected && (len = relay_decode(c->in + used, c->in_len - used, &f, &why)) != 0) {
        int to = 0;
        for (int j = 1; len > 0 && j <= RELAY_CLIENTS; j++)
            to = table[j].connected && strcmp(table[j].name, f.name) == 0 ? j : to;
        bool named = c->name[0] != '\0', hello = len > 0 && f.type == RELAY_HELLO;
        used += len > 0 ? (size_t)len : 0;
        if (hello && !named && to == 0) {
            memcpy(c->name, f.name, sizeof c->name);
            warnx("%s (pid %ld) joined", c->name, (long)c->pid);
            send_frame(i, RELAY_WELCOME, "", "", 0);
            continue;
        }
        if (len > 0 && f.type == RELAY_SEND && named && to != 0) {
            send_frame(to, RELAY_DELIVER, c->name, f.body, f.body_len);
            continue;
        }
        if (len == -1)
            snprintf(msg, sizeof msg, "malformed frame (%s): disconnected", why);
        else if (hello && !named)
            snprintf(msg, sizeof msg, "the name %s is taken", f.name);
        else if (f.type != RELAY_SEND || !named)
            snprintf(msg, sizeof msg, "%s",
                     named ? "unexpected frame" : "the first frame must be a hello");
        else
            snprintf(msg, sizeof msg, "no client named %s", f.name);
        send_frame(i, RELAY_ERROR, "", msg, strlen(msg));
        snprintf(said, sizeof said, "is refused: %s", msg);
        if (c->connected && (len == -1 || f.type != RELAY_SEND || !named))
            drop(i, said);
    }
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
}

/* ---------------------------------------------------------------- the client's lines
 *
 * What relay_client types and prints: a line "NAME message" becomes a send frame to NAME; a
 * delivery is printed "SENDER: message", an error "server: message" on stderr.
 */

/* The longest line relay_client takes: a name, a space, a body, the newline. */
#define RELAY_LINE_MAX (RELAY_NAME_MAX + 1 + RELAY_BODY_MAX + 1)

/*
 * The next line typed, among buf[0..*len) (RELAY_LINE_MAX bytes), as a send frame in frame; at
 * end of input (eof) a last line without its newline too.  Returns the frame's length; 0 when
 * no whole line is left (the rest kept in buf); -1 for a line not sent, after saying why.  A
 * line longer than any message is dropped whole (*skipping until its newline), never sent in
 * parts.
 */
static inline ssize_t relay_take_line(char *buf, size_t *len, bool *skipping, bool eof,
                                      char *frame)
{
    char *nl = memchr(buf, '\n', *len);
    size_t line = nl != NULL ? (size_t)(nl - buf) : *len;

    if (nl == NULL && *len == RELAY_LINE_MAX) { /* longer than any message: drop it */
        if (!*skipping)
            warnx("a line longer than %d bytes: not sent", RELAY_LINE_MAX);
        *skipping = true;
        *len = 0;
        return -1;
    }
    if (nl == NULL && (!eof || *len == 0))
        return 0;
    bool skip = *skipping;
    char *space = memchr(buf, ' ', line);
    size_t name_len = space != NULL ? (size_t)(space - buf) : line;
    ssize_t n = -1;
    *skipping = false;
    if (skip || line == 0)
        n = -1; /* the end of a line too long, or an empty line: nothing to send */
    else if (space == NULL || !relay_name_ok(buf, name_len))
        warnx("type \"NAME message\": a name (1 to %d ASCII letters, digits, - or _), a space, "
              "then the message", RELAY_NAME_MAX);
    else if (line - name_len - 1 > RELAY_BODY_MAX)
        warnx("a message holds at most %d bytes; this one has %zu: not sent", RELAY_BODY_MAX,
              line - name_len - 1);
    else {
        buf[name_len] = '\0';
        n = (ssize_t)relay_encode(frame, RELAY_SEND, buf, space + 1, line - name_len - 1);
    }
    size_t rest = *len - line - (nl != NULL);
    memmove(buf, buf + *len - rest, rest);
    *len = rest;
    return n;
}

/* Print every whole frame the server sent, among buf[0..*len), and keep the rest: a delivery on
 * stdout, "SENDER: BODY" (BODY may hold any byte), an error on stderr, "server: BODY"; the
 * welcome sets *welcomed.  A malformed frame, or stdout gone, ends the program (exit 1). */
static inline void relay_print_frames(char *buf, size_t *len, bool *welcomed)
{
    struct relay_frame f;
    const char *why;
    size_t used = 0;
    ssize_t n;

    while ((n = relay_decode(buf + used, *len - used, &f, &why)) != 0) {
        if (n == -1)
            errx(IPCLAB_EXIT_FAIL, "the server sent a malformed frame (%s)", why);
        used += (size_t)n;
        char line[RELAY_NAME_MAX + 2 + RELAY_BODY_MAX + 1];
        size_t head = (size_t)snprintf(line, sizeof line, "%s: ", f.name);
        memcpy(line + head, f.body, f.body_len);
        line[head + f.body_len] = '\n';
        if (f.type == RELAY_WELCOME)
            *welcomed = true;
        else if (f.type == RELAY_ERROR)
            warnx("server: %.*s", (int)f.body_len, f.body);
        else if (f.type == RELAY_DELIVER &&
                 ipclab_write_all(STDOUT_FILENO, line, head + f.body_len + 1) == -1)
            err(IPCLAB_EXIT_FAIL, "write stdout");
    }
    memmove(buf, buf + used, *len - used);
    *len -= used;
}

/* ---------------------------------------------------------------- options, cleanup, guards */

/*
 * Plumbing first: stderr by line, descriptors 0-2 open, the options -- -p PATH into path
 * (PATH_MAX bytes); for relay_client (client true) one NAME operand, checked and returned --
 * and the termination signals: from then on one ends the program at once, its cleanup done.
 */
static inline const char *relay_begin(int argc, char *argv[], const char *usage, char *path,
                                      bool client)
{
    ipclab_stderr_by_line();
    ipclab_std_fds();
    int first = ipclab_options_p(argc, argv, usage, ipclab_path_arg, path, PATH_MAX);
    if (!client && first < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[first]);
    if (client && argc - first != 1)
        ipclab_usage_error(usage, "give one name: who you are");
    if (client && !relay_name_ok(argv[first], strlen(argv[first])))
        ipclab_usage_error(usage, "a name is 1 to %d ASCII letters, digits, - or _, not '%s'",
                           RELAY_NAME_MAX, argv[first]);
    ipclab_catch_signals();
    ipclab_cleanup_at_exit(NULL);
    return argv[first];
}

/* relay_server: is there a descriptor for one more client (ulimit -n)?  See
 * ipclab_accept_room(): without one, accept() fails with EMFILE and poll() wakes for ever. */
static inline bool guard_room_to_accept(int listenfd, int connected, int *most)
{
    return ipclab_accept_room(listenfd, connected, most);
}

/* relay_client: whoever listens on the path reads what we type; only a server of our own uid
 * (SO_PEERCRED, recorded by the kernel at its listen()).  Exit 1 otherwise. */
static inline void guard_server_is_ours(int sock, const char *path)
{
    if (!ipclab_server_is_ours(sock, path, "relay", "chat through it"))
        exit(IPCLAB_EXIT_FAIL);
}

#endif /* RELAY_H */
