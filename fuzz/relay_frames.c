/*
 * relay_frames - fuzz harness for the relay server's frame handling: relay_decode() and
 * relay_encode() (unixsock/relay.h), and take_frames() with everything it calls in
 * unixsock/relay_server.c (the per-client buffers, hellos, names, delivery, refusals).
 *
 * The server reads whatever its clients send; a hostile or broken client must cost the server
 * nothing but its own connection.  This harness plays three clients at once.  Its input is a
 * script of chunks, each "byte W, byte N, N bytes": client (W & 63) % 3 sends the N bytes (split
 * wherever the fuzzer likes, as a stream splits them).  A client the server has dropped comes
 * back as a new connection.  Bit 7 of W first lets the server send what waits for everyone;
 * bit 6 sends the chunk REPEAT times over (so that a short input can fill a client's queue).
 * After each chunk it checks, besides what AddressSanitizer and UBSan catch:
 *   - no client's buffers are over their limits, and no whole frame is left unhandled;
 *   - every client that said hello has a valid name, and no two have the same;
 *   - what waits to be sent to a client is a sequence of well-formed frames;
 *   - decoding is exact: a frame that decodes re-encodes to the same bytes.
 * Each client is a real socketpair, because the server sends refusals and closes connections.
 *
 * Run by `make fuzz` (libFuzzer); built plainly, it replays inputs (see harness.h):
 *     ./fuzz/relay_frames fuzz/corpus/relay_frames fuzz/regressions/relay_frames
 */
#define _GNU_SOURCE /* as relay_server.c: SO_PEERCRED, accept4, ppoll */

#include "harness.h"

/* The program itself, its main() out of the way. */
#define main relay_server_main
#include "../unixsock/relay_server.c"
#undef main


#define PLAYERS 3
#define REPEAT 512

static int client_end[PLAYERS]; /* the client's own end of each connection */
static bool partial[PLAYERS]; /* a flush() sent part of a frame: the queue starts mid-frame */

static void connect_player(int i)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == -1)
        abort();
    clients[i] = (struct client){ .fd = sv[0], .pid = 1000 + i };
    client_end[i] = sv[1];
    partial[i] = false;
}

static void drain(int i)
{
    char buf[4096];
    while (read(client_end[i], buf, sizeof buf) > 0)
        ;
}

/* A frame that decodes comes back the same when encoded. */
static void check_round_trip(const char *buf, size_t len)
{
    struct relay_frame f;
    const char *why;
    char again[RELAY_FRAME_MAX];
    ssize_t n = relay_decode(buf, len, &f, &why);

    CHECK(n >= -1 && n <= (ssize_t)len);
    if (n <= 0)
        return;
    CHECK(strlen(f.name) <= RELAY_NAME_MAX && f.body_len <= RELAY_BODY_MAX);
    CHECK(f.body >= buf && f.body + f.body_len <= buf + len);
    CHECK(relay_encode(again, f.type, f.name, f.body, f.body_len) == (size_t)n);
    CHECK(memcmp(again, buf, (size_t)n) == 0);
}

static void check_client(int i)
{
    struct client *c = &clients[i];
    struct relay_frame f;
    const char *why;

    CHECK(c->in_len <= sizeof c->in && c->out_len <= sizeof c->out);
    CHECK(relay_decode(c->in, c->in_len, &f, &why) == 0); /* the rest of a frame, at most */
    CHECK(c->name[0] == '\0' || relay_name_ok(c->name, strlen(c->name)));
    for (int j = 0; j < i; j++)
        CHECK(clients[j].fd == -1 || c->name[0] == '\0' || strcmp(c->name, clients[j].name) != 0);
    if (partial[i])
        return;
    for (size_t at = 0; at < c->out_len;) {
        ssize_t n = relay_decode(c->out + at, c->out_len - at, &f, &why);
        CHECK(n > 0);
        at += (size_t)n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_round_trip((const char *)data, size);

    for (int i = 0; i < MAX_CLIENTS; i++)
        clients[i].fd = -1;
    for (int i = 0; i < PLAYERS; i++)
        connect_player(i);
    while (size >= 2) {
        int who = (data[0] & 63) % PLAYERS;
        int times = (data[0] & 0x40) ? REPEAT : 1;
        size_t len = data[1] < size - 2 ? data[1] : size - 2;
        if (data[0] & 0x80) {
            for (int i = 0; i < PLAYERS; i++) {
                if (clients[i].fd != -1 && clients[i].out_len > 0) {
                    flush(&clients[i]);
                    partial[i] = partial[i] || clients[i].out_len > 0;
                    drain(i);
                }
            }
        }
        data += 2;
        size -= 2;
        struct client *c = &clients[who];
        if (c->fd == -1) { /* dropped: the same player connects again */
            close(client_end[who]);
            connect_player(who);
        }
        for (int t = 0; t < times && c->fd != -1; t++) {
            /* What one read() could bring: no more than the room left. */
            size_t n = len < sizeof c->in - c->in_len ? len : sizeof c->in - c->in_len;
            memcpy(c->in + c->in_len, data, n);
            c->in_len += n;
            take_frames(c);
        }
        data += len;
        size -= len;
        for (int i = 0; i < PLAYERS; i++)
            if (clients[i].fd != -1)
                check_client(i);
    }
    for (int i = 0; i < PLAYERS; i++) {
        if (clients[i].fd != -1)
            close(clients[i].fd);
        close(client_end[i]);
    }
    return 0;
}
