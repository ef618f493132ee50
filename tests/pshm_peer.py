#!/usr/bin/env python3
"""tests/pshm_peer.py - a side of the POSIX shared memory pair that is not ours: python's mmap
on /dev/shm/NAME, and ctypes on the C library's sem_wait and sem_post for the two semaphores in
it, following the layout shm/README.md ("The POSIX object's layout") gives, and no more: it
holds no record lock.  It joins an object pshm_writer or pshm_reader has made (its size is
the layout's once their ready line is out).

    pshm_peer.py read /NAME [PAUSE]    print each buffer until the empty one
    pshm_peer.py write /NAME [PAUSE]   each read of stdin one buffer, then the empty one

PAUSE: seconds to wait after each buffer, a peer slower than our sides' 0.2 s waits.
"""
import ctypes
import mmap
import os
import sys
import time

SLOTS, BUF = 4, 262144
libc = ctypes.CDLL(None, use_errno=True)  # glibc 2.34 on: sem_wait is libc's


def main(side, name, pause=0.0):
    fd = os.open('/dev/shm/' + name.lstrip('/'), os.O_RDWR)
    size = os.fstat(fd).st_size
    sem_size = (size - SLOTS * BUF - SLOTS * 8) // 2  # sizeof(sem_t): 32 on 64-bit glibc
    m = mmap.mmap(fd, size)
    base = ctypes.addressof(ctypes.c_char.from_buffer(m))
    empty, full = ctypes.c_void_p(base), ctypes.c_void_p(base + sem_size)
    lens = (ctypes.c_long * SLOTS).from_buffer(m, 2 * sem_size)
    data = 2 * sem_size + SLOTS * 8
    n = 0
    while True:
        slot = n % SLOTS
        start = data + slot * BUF
        if libc.sem_wait(full if side == 'read' else empty) == -1:
            sys.exit('pshm_peer: sem_wait: ' + os.strerror(ctypes.get_errno()))
        if side == 'read':
            length = lens[slot]
            sys.stdout.buffer.write(m[start:start + length])
            sys.stdout.buffer.flush()
            libc.sem_post(empty)
        else:
            chunk = os.read(0, BUF)
            length = len(chunk)
            m[start:start + length] = chunk
            lens[slot] = length
            libc.sem_post(full)
        if length == 0:
            break
        n += 1
        time.sleep(pause)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2], *(float(a) for a in sys.argv[3:4]))
