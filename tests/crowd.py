"""tests/crowd.py KIND COUNT ADDRESS... - more clients at once than a server has descriptors for.

KIND is stream (unix_stream_server: ADDRESS is its path), tcp (tcp_server: HOST PORT) or relay
(relay_server: its path).  COUNT clients connect, each says one thing (a line; for the relay, a
hello frame), and nobody reads yet: those the server cannot take wait in its listen queue.
Then "connected COUNT" on stderr, and a wait for a line on stdin: meanwhile the test looks at
the server.  After that line, each client that has its answer (the line upper-cased; the
relay's welcome frame) leaves, which gives the server a descriptor for one that waits, and so
on until every client has had its answer: "answered COUNT", exit 0.  A wrong answer, or none
within 10 s, is exit 1.
"""
import selectors
import socket
import sys

kind, count, where = sys.argv[1], int(sys.argv[2]), sys.argv[3:]


def connect():
    if kind == "tcp":
        return socket.create_connection((where[0], int(where[1])))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(where[0])
    return s


def said(i):
    if kind == "relay":
        name = b"c%d" % i
        return b"H" + bytes([len(name)]) + b"\0\0" + name
    return b"client %d\n" % i


def answer(i):
    return b"W\0\0\0" if kind == "relay" else said(i).upper()


selector = selectors.DefaultSelector()
got = {}
for i in range(count):
    s = connect()
    s.sendall(said(i))
    selector.register(s, selectors.EVENT_READ, i)
    got[i] = b""
print("connected", count, file=sys.stderr, flush=True)
sys.stdin.readline()

answered = 0
while answered < count:
    ready = selector.select(timeout=10)
    if not ready:
        sys.exit("no answer within 10 s for %d of the clients" % (count - answered))
    for key, _ in ready:
        i = key.data
        data = key.fileobj.recv(4096)
        got[i] += data
        if not data or not answer(i).startswith(got[i]):
            sys.exit("client %d: %r, not %r" % (i, got[i], answer(i)))
        if got[i] == answer(i):
            selector.unregister(key.fileobj)
            key.fileobj.close()
            answered += 1
print("answered", answered, file=sys.stderr)
