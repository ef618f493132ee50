/*
 * relay.h - the frame format relay_server and relay_client speak, and its limits.  Include it
 * after ../common/sockets.h.
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

#endif /* RELAY_H */
