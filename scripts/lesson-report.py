#!/usr/bin/env python3
"""scripts/lesson-report.py - how much of each program is its lesson (make lesson-report).

    usage: scripts/lesson-report.py [--check] [PROGRAM.c ...]    (default: every program)
           scripts/lesson-report.py --show PROGRAM.c     each line marked L (lesson), c (code)

For every program: its lines, its code lines, its lesson lines, the lesson share (lesson lines
over code lines), the helpers from common/ that main() calls (one-line guard_* calls apart),
and how far into main() the first lesson call comes.  (A helper is a function or macro
of common/*.h or of the mechanism's own header.).  --check also holds each program to the
limits of the README ("How a program reads") and exits 1 if one is broken, naming it.

The measure, the same rough rule for every file:
  - code lines: the lines with code once comments are gone; a line that is only a string
    (the usage text) is prose, not code;
  - lesson lines: every statement that calls one of the mechanism's calls (CALLS below: the
    objects' own calls, the reads and writes on them, the close and the cleanup), all of its
    lines, and the error check that follows it (the next statement, if it is an `if` that looks
    at what the call returned, with its block);
  - first lesson call: the line of main()'s first lesson statement, counted from main()'s own
    line (1 = the line after `int main(...)`).
"""
import os
import re
import signal
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

IO = 'read write send recv sendto recvfrom sendmsg recvmsg close shutdown poll'
SOCKET = ('socket bind listen accept accept4 connect unlink getsockopt setsockopt getpeername '
          'getsockname ' + IO)
# The mechanism's calls, by directory: what a student comes to the program to learn.
CALLS = {
    'pipe': 'pipe pipe2 fork dup2 execvp waitpid wait _exit ' + IO,
    'socketpair': 'socketpair fork waitpid wait _exit ' + IO,
    'fifo': 'mkfifo open unlink ' + IO,
    'msgq': ('ftok msgget msgsnd msgrcv msgctl mq_open mq_send mq_timedsend mq_receive '
             'mq_timedreceive mq_getattr mq_close mq_unlink fork waitpid open ' + IO),
    'shm': ('ftok shmget shmat shmdt shmctl semget semctl semop semtimedop shm_open ftruncate '
            'posix_fallocate mmap munmap msync sem_init sem_post sem_wait sem_timedwait '
            'sem_trywait sem_destroy sem_open sem_close sem_unlink shm_unlink mkfifo open fork '
            'waitpid waitid wait kill sigsuspend sigwaitinfo sigtimedwait memcpy atomic_load '
            'atomic_store atomic_load_explicit atomic_store_explicit atomic_fetch_add '
            'pthread_mutexattr_init pthread_mutexattr_setpshared pthread_mutexattr_setrobust '
            'pthread_mutex_init pthread_mutex_lock pthread_mutex_unlock pthread_mutex_consistent '
            'pthread_mutexattr_destroy pthread_mutex_destroy '
            'pipe unlink ' + IO),
    'unixsock': SOCKET,
    'inetsock': 'getaddrinfo freeaddrinfo getnameinfo ' + SOCKET,
    'fdpass': 'open CMSG_FIRSTHDR CMSG_NXTHDR CMSG_DATA CMSG_LEN CMSG_SPACE ' + SOCKET,
}

# Filling in these structures is part of the lesson as well: the address a socket is bound or
# connected to, the message header and control data of sendmsg(), a queue message's type.
FIELDS = re.compile(r'\.(sun_family|sun_path|sin_family|sin_port|sin_addr|sin6_\w+|ai_\w+|'
                    r'msg_\w+|cmsg_\w+|iov_\w+|mtype|mq_\w+|sem_num|sem_op|sem_flg)\b|'
                    r'->(cmsg_\w+|mtype)\b')

# The limits (README, "How a program reads"; DESIGN section 4).
BOTH_SIDES = {'pipe_oneway', 'pipe_duplex', 'socketpair_duplex', 'fifo_chat', 'msgq_chat',
              'mmap_fork'}
LARGEST = {'relay_server', 'shm_counter'}
QUEUES_AND_SHM = {'msgq', 'shm'}
FIRST_WITHIN = 15
MAX_HELPERS = 6
COMMON_MAX = 900


def max_lines(name):
    if name in LARGEST:
        return 250
    if name in BOTH_SIDES or name.endswith('_server') or name.endswith('_recv') or \
            name == 'fd_receiver':
        return 180
    return 130


def min_share(directory):
    return 0.30 if directory in QUEUES_AND_SHM else 0.40


def strip(text):
    """The text with comments removed and every string or character literal emptied ("" and
    '0'), newlines kept, so that line numbers stay those of the file."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j == -1 else j + 2
            out.append('\n' * text.count('\n', i, j))
            i = j
        elif text.startswith('//', i):
            j = text.find('\n', i)
            i = n if j == -1 else j
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == '\\' else 1
            out.append('""' if c == '"' else '0')
            out.append('\n' * text.count('\n', i, j))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def is_code(line):
    s = line.strip()
    return bool(s) and re.fullmatch(r'("")+[;,)]*', s.replace(' ', '')) is None


def statements(code):
    """(first line, last line, text) of each statement: text up to a ';' outside parentheses,
    or a '{' or '}'.  A preprocessor line is a statement of its own."""
    result = []
    line, start, depth, buf = 1, None, 0, []
    for raw in code.split('\n'):
        if raw.lstrip().startswith('#') and depth == 0 and start is None:
            result.append((line, line, raw))
            line += 1
            continue
        for c in raw:
            if start is None and not c.isspace():
                start = line
            if start is not None:
                buf.append(c)
            if c == '(':
                depth += 1
            elif c == ')':
                depth -= 1
            elif depth == 0 and c in ';{}':
                if start is not None:
                    result.append((start, line, ''.join(buf)))
                start, buf = None, []
        if start is not None:
            buf.append('\n')
        line += 1
    return result


CALL = re.compile(r'\b([A-Za-z_][A-Za-z0-9_]*)\s*\(')


def common_helpers():
    """The functions and macros defined in common/*.h and in the mechanisms' own headers: the
    helpers a student must look up elsewhere."""
    names = set()
    headers = [os.path.join('common', h) for h in os.listdir(os.path.join(ROOT, 'common'))]
    for d in CALLS:
        if os.path.isdir(os.path.join(ROOT, d)):
            headers += [os.path.join(d, h) for h in os.listdir(os.path.join(ROOT, d))]
    for name in sorted(headers):
        if name.endswith('.h'):
            with open(os.path.join(ROOT, name)) as f:
                text = strip(f.read())
            names.update(re.findall(r'^static inline[^(;=]*?\b([A-Za-z_]\w*)\(', text, re.M))
            names.update(re.findall(r'^#\s*define\s+([A-Za-z_]\w*)\(', text, re.M))
    return names


def measure(path, helpers):
    directory = os.path.basename(os.path.dirname(os.path.abspath(path)))
    name = os.path.basename(path)[:-2]
    with open(path) as f:
        text = f.read()
    code = strip(text)
    lines = code.split('\n')
    if lines and lines[-1] == '':
        lines.pop()
    calls = set(CALLS.get(directory, IO).split())
    code_lines = {i + 1 for i, s in enumerate(lines) if is_code(s)}

    stmts = statements(code)
    lesson = set()
    main_line = next((i + 1 for i, s in enumerate(lines) if re.match(r'(int\s+)?main\s*\(', s)), None)
    first = None
    k = 0
    while k < len(stmts):
        first_line, last_line, body = stmts[k]
        called = set(CALL.findall(body)) & calls
        if called and not body.lstrip().startswith('#'):
            lesson.update(range(first_line, last_line + 1))
            if main_line and first_line > main_line and first is None:
                first = first_line - main_line
            # its error checks: the ifs (or the case -1 of a switch) that follow and look at
            # what the call gave -- a variable it assigned, or -1, errno, MAP_FAILED ... --
            # with their blocks
            assigned = re.match(r'\s*(?:[\w\s\*]+?\s)?\**(\w+)\s*=[^=]', body)
            # the variables the statement gives a call's result: fd = open(...), (rc = f(...))
            names = set(re.findall(r'\b(\w+)\s*=\s*\w+\s*\(', body))
            if assigned:
                names.add(assigned.group(1))
            # a loop on the call (while ((n = read(...)) > 0) {...}): its check follows the loop
            nxt = k
            loop = re.match(r'\s*(?:while|for)\s*\(\(*\s*(\w+)\s*=[^=]', body)
            if loop and body.rstrip().endswith('{'):
                depth, j = 1, k
                while j + 1 < len(stmts) and depth > 0:
                    j += 1
                    t = stmts[j][2].rstrip()
                    depth += t.endswith('{') - t.endswith('}')
                if j + 1 < len(stmts) and re.match(r'\s*if\b', stmts[j + 1][2]) and \
                        re.search(r'\b%s\b' % loop.group(1), stmts[j + 1][2]):
                    f3, l3, b3 = stmts[j + 1]
                    lesson.update(range(f3, l3 + 1))
            k = nxt
            while k + 1 < len(stmts):
                f2, l2, b2 = stmts[k + 1]
                cond = b2.lstrip()
                looks = any(re.search(r'\b%s\b' % re.escape(v), cond) for v in names) or \
                    re.search(r'-1|errno|MAP_FAILED|< 0|NULL', cond)
                if not (re.match(r'(if\b|case\b|else\b)', cond) and looks) or \
                        set(CALL.findall(b2)) & calls:
                    break
                end = l2
                k += 1
                if b2.rstrip().endswith('{'):
                    depth = 1
                    while k + 1 < len(stmts) and depth > 0:
                        k += 1
                        t = stmts[k][2].rstrip()
                        depth += t.endswith('{') - t.endswith('}')
                        end = stmts[k][1]
                lesson.update(range(f2, end + 1))
        k += 1
    # a socket address or a message header filled in by hand is the lesson too
    for i, s in enumerate(lines):
        if FIELDS.search(s):
            lesson.add(i + 1)
    lesson &= code_lines

    used = set()
    if main_line:
        depth, seen_open = 0, False
        for s in lines[main_line - 1:]:
            used.update(CALL.findall(s))
            depth += s.count('{') - s.count('}')
            seen_open = seen_open or '{' in s
            if seen_open and depth <= 0:
                break
    plumbing = sorted(h for h in used & helpers if not re.match(r'(ipclab_)?guard_', h))
    return {
        'name': name, 'dir': directory, 'path': os.path.relpath(path, ROOT),
        'lines': len(lines), 'code': len(code_lines), 'lesson': len(lesson),
        'share': len(lesson) / len(code_lines) if code_lines else 0.0,
        'helpers': plumbing, 'first': first, 'marks': (code_lines, lesson),
    }


def programs():
    out = subprocess.run(['make', '-s', '--no-print-directory', '-C', ROOT, 'print-programs'],
                         check=True, capture_output=True, text=True).stdout.split()
    return [os.path.join(ROOT, p + '.c') for p in out]


def main(argv):
    check = '--check' in argv
    show = '--show' in argv
    paths = [a for a in argv if a not in ('--check', '--show')] or programs()
    helpers = common_helpers()
    if show:  # each line marked: L lesson, c other code, blank: comment or prose
        for path in paths:
            code_lines, lesson = measure(path, helpers)['marks']
            with open(path) as f:
                for i, text in enumerate(f, 1):
                    mark = 'L' if i in lesson else 'c' if i in code_lines else ' '
                    print('%s %4d %s' % (mark, i, text.rstrip('\n')))
        return 0
    broken = []
    print('%-31s %5s %5s %6s %5s %7s %5s' % ('program', 'lines', 'code', 'lesson', 'share',
                                              'helpers', 'first'))
    for path in paths:
        r = measure(path, helpers)
        print('%-31s %5d %5d %6d %5.2f %7d %5s' % (r['path'], r['lines'], r['code'], r['lesson'],
                                                  r['share'], len(r['helpers']),
                                                  r['first'] if r['first'] else '-'))
        if r['lines'] > max_lines(r['name']):
            broken.append('%s: %d lines, the limit is %d' % (r['path'], r['lines'],
                                                            max_lines(r['name'])))
        if r['share'] < min_share(r['dir']):
            broken.append('%s: lesson share %.2f, below %.2f' % (r['path'], r['share'],
                                                                 min_share(r['dir'])))
        if r['first'] is None or r['first'] > FIRST_WITHIN:
            broken.append('%s: first lesson call on line %s of main(), after line %d' %
                          (r['path'], r['first'], FIRST_WITHIN))
        if len(r['helpers']) > MAX_HELPERS:
            broken.append('%s: main() calls %d helpers from common/ (%s), more than %d' %
                          (r['path'], len(r['helpers']), ' '.join(r['helpers']), MAX_HELPERS))
    total = 0
    for name in sorted(os.listdir(os.path.join(ROOT, 'common'))):
        if name.endswith('.h'):
            with open(os.path.join(ROOT, 'common', name)) as f:
                total += sum(1 for _ in f)
    print('common/*.h: %d lines (limit %d)' % (total, COMMON_MAX))
    if total > COMMON_MAX:
        broken.append('common/*.h: %d lines, the limit is %d' % (total, COMMON_MAX))
    if check:
        for b in broken:
            print('over a limit: ' + b, file=sys.stderr)
        return 1 if broken else 0
    return 0


if __name__ == '__main__':
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # | head: end quietly
    sys.exit(main(sys.argv[1:]))
