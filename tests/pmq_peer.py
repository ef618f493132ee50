#!/usr/bin/env python3
"""tests/pmq_peer.py - a side of the POSIX queue pair that is not ours: python's ctypes on
librt's mq_open, mq_getattr, mq_send, mq_receive and mq_unlink, doing what msgq/README.md ("The
POSIX pair") asks of a foreign peer, and no more: it holds no record lock.

    pmq_peer.py send /NAME [PAUSE]          each line of stdin one message, PAUSE seconds
                                            apart, then the empty end message
    pmq_peer.py recv /NAME [PAUSE [COUNT]]  print each message until the empty one (or, given
                                            COUNT, give up after COUNT), then remove the name

Both make the queue if it is missing (mode 0600, 10 messages of 8192 bytes) and say
"pmq_peer: ready" on stderr once it is open.  The sender looks at the queue's link count
before each message: 0 means the receiver has left and removed the name.
"""
import ctypes
import ctypes.util
import os
import sys
import time

rt = ctypes.CDLL(ctypes.util.find_library('rt') or 'librt.so.1', use_errno=True)
rt.mq_receive.restype = ctypes.c_ssize_t


class MqAttr(ctypes.Structure):
    _fields_ = [('mq_flags', ctypes.c_long), ('mq_maxmsg', ctypes.c_long),
                ('mq_msgsize', ctypes.c_long), ('mq_curmsgs', ctypes.c_long),
                ('reserved', ctypes.c_long * 4)]


def check(rc, what):
    if rc == -1:
        sys.exit('pmq_peer: %s: %s' % (what, os.strerror(ctypes.get_errno())))
    return rc


def main(side, name, pause=0.0, count=-1):
    attr = MqAttr(mq_maxmsg=10, mq_msgsize=8192)
    flags = os.O_CREAT | (os.O_WRONLY if side == 'send' else os.O_RDONLY)
    q = check(rt.mq_open(name.encode(), flags, 0o600, ctypes.byref(attr)), 'mq_open')
    print('pmq_peer: ready', file=sys.stderr, flush=True)
    if side == 'send':
        for line in iter(sys.stdin.buffer.readline, b''):
            if os.fstat(q).st_nlink == 0:
                sys.exit('pmq_peer: the queue has no name any more: the receiver has left')
            check(rt.mq_send(q, line, len(line), 0), 'mq_send')
            time.sleep(pause)
        check(rt.mq_send(q, b'', 0, 0), 'mq_send')
        return
    check(rt.mq_getattr(q, ctypes.byref(attr)), 'mq_getattr')
    buf = ctypes.create_string_buffer(attr.mq_msgsize)
    while count != 0:
        n = check(rt.mq_receive(q, buf, attr.mq_msgsize, None), 'mq_receive')
        if n == 0:
            break
        sys.stdout.buffer.write(buf.raw[:n])
        sys.stdout.buffer.flush()
        count -= 1
        time.sleep(pause)
    if count == 0:
        print('pmq_peer: giving up before the end', file=sys.stderr, flush=True)
    check(rt.mq_unlink(name.encode()), 'mq_unlink')
    sys.exit(1 if count == 0 else 0)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2], *(float(a) for a in sys.argv[3:4]),
         *(int(a) for a in sys.argv[4:5]))
