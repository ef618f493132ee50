/*
 * ipcbench - how fast is each IPC mechanism on this machine?  Latency and throughput, measured.
 *
 * Two processes, a parent and a child made by fork(), talk through one mechanism at a time:
 * pipe, FIFO, socketpair, UNIX stream and datagram sockets, TCP over loopback, System V and
 * POSIX message queues, POSIX shared memory with semaphores, and shared memory with spin-waits.
 *
 *   latency     ping-pong: the parent sends SIZE bytes, the child sends them back.  Each round
 *               trip is timed on its own (CLOCK_MONOTONIC, integer nanoseconds, into an array
 *               allocated and touched before the clock starts), after a warm-up; the table
 *               gives the median (p50), results.csv also min, p99, p99.9 and round trips/s.
 *               Three repetitions (one with -q); the repetition with the median p50 is kept.
 *   throughput  the parent streams 256 MiB (16 MiB with -q) one way in CHUNK-byte pieces; the
 *               child adds up every 64-bit word it gets and sends the sum back at the end; the
 *               clock stops at that answer, and a wrong sum is an error, so nothing counts that
 *               did not arrive.  MB/s with MB = 10^6 bytes, and the fraction of memcpy's speed
 *               at the same chunk size: pipes and sockets copy every byte twice (into the
 *               kernel, out of it), shared memory once.  On two CPUs shared memory is also
 *               given as a fraction of cross_cpu, the same copy with the bytes written on one
 *               CPU and read on the other: what memory itself can do across two CPUs.
 *
 * Where the processes run matters more than anything else: on one CPU a round trip is two
 * context switches; on two CPUs (of a virtual machine above all) it is two wake-ups across
 * CPUs.  So every measurement is made twice, both sides on one CPU ("same CPU") and one side
 * on each of two ("split CPUs"), pinned with sched_setaffinity(2).
 *
 * Run it:    make bench            (or ./bench/ipcbench, -q for a quick run, -h for the rest)
 * Beyond the seeds: it checks seed 004's claim (shared memory is the fastest for large data)
 * and seed 002's (UNIX-domain sockets beat network sockets).  Build alone:
 *     cc -O2 -o ipcbench ipcbench.c -lrt -pthread
 */
#define _GNU_SOURCE /* sched_setaffinity, CPU_SET, getloadavg, accept4, ppoll: Linux */

#include <mqueue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>

#include "../common/ipclab.h"

static const char usage[] =
    "usage: ipcbench [-q] [-o FILE] [-k latency|throughput] [-m MECHANISM] [-s SIZE]\n"
    "                [-c CHUNK] [-n MIB] [-P same|split]\n"
    "  Measure every mechanism's round-trip latency and one-way throughput, both sides on\n"
    "  one CPU and on two; print a table per placement.\n"
    "  -q            quick: fewer round trips, 16 MiB streams, one repetition\n"
    "                (-qq: a smoke run, every cell in a moment, its figures meaningless)\n"
    "  -o FILE       also write every figure to FILE as CSV\n"
    "  -k KIND       only latency, or only throughput\n"
    "  -m MECHANISM  only this one (pipe, fifo, socketpair, unix_stream, unix_dgram, tcp,\n"
    "                sysv_msgq, posix_mq, posix_shm, shm_spin)\n"
    "  -s SIZE       latency at this message size only (bytes, 1 to 1048576)\n"
    "  -c CHUNK      throughput at this chunk size only (bytes, 16 to 1048576, a multiple of 8)\n"
    "  -n MIB        stream MIB mebibytes per throughput cell (default 256; 16 with -q)\n"
    "  -P PLACEMENT  only one placement: same (one CPU) or split (two CPUs)\n"
    "  -h            show this help\n";

#define MAX_SIZE 1048576

static const size_t lat_sizes[] = { 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576 };
static const size_t chunk_sizes[] = { 4096, 65536, 1048576 };
#define NSIZES (sizeof lat_sizes / sizeof lat_sizes[0])
#define NCHUNKS (sizeof chunk_sizes / sizeof chunk_sizes[0])

/* How much to measure: the full run, or -q. */
struct plan {
    int reps;               /* repetitions of each latency cell */
    long warmup;            /* round trips before the clock starts */
    long max_trips;         /* round trips timed, at most ... */
    long min_trips;         /* ... and at least (unless the time budget runs out) */
    size_t trip_bytes;      /* ... and about this many bytes each way in all */
    double budget;          /* seconds per repetition, at most */
    size_t stream_bytes;    /* throughput: bytes streamed per cell */
};

static const struct plan full_plan = { 3, 1000, 10000, 200, 256u << 20, 2.0, 256u << 20 };
static const struct plan quick_plan = { 1, 100, 300, 20, 16u << 20, 0.15, 16u << 20 };
/* -qq: every cell, so briefly that the figures mean nothing: that each one runs (the tests). */
static const struct plan smoke_plan = { 1, 10, 20, 5, 1u << 20, 0.02, 1u << 20 };

/* ---------------------------------------------------------------- the mechanisms */

/* Shared memory for the two shm mechanisms: per direction (0: parent to child, 1: child to
 * parent) a ring of SLOTS buffers, so that a writer can fill the next slot while the reader
 * still reads the last, as a pipe's writer fills the pipe while its reader reads.  The
 * semaphores count full and empty slots; the spin-wait variant has a flag per slot instead. */
#define SLOTS 4

struct shm_region {
    sem_t full[2], empty[2];
    atomic_uint flag[2][SLOTS]; /* spin variant: 1 = the slot holds a message */
    size_t len[2][SLOTS];
    char data[2][SLOTS][MAX_SIZE];
};

/* A System V message: mtype 1 goes to the child, 2 to the parent. */
struct sysv_msg {
    long mtype;
    char mtext[MAX_SIZE];
};

/* One cell's channel.  Side 0 is the parent, side 1 the child; out[side] is what that side
 * sends on, in[side] what it receives on. */
struct bench {
    size_t size;            /* the largest message this cell sends */
    int out[2], in[2];      /* pipes, FIFOs, sockets */
    int listen_fd;          /* unix_stream, tcp: until the child has connected */
    char dir[32];           /* a private directory for FIFOs and the socket */
    struct sockaddr_storage addr;
    socklen_t addr_len;
    int msqid;              /* sysv_msgq */
    mqd_t mq[2];            /* posix_mq: [d] carries direction d */
    struct shm_region *shm; /* posix_shm, shm_spin */
    unsigned next_out, next_in; /* this process's next slot to write, to read */
    char *rbuf;             /* where a received message lands (MAX_SIZE) */
    struct sysv_msg *msg;   /* sysv_msgq's send and receive buffer */
};

/* What a mechanism does.  prepare() runs in the parent before fork() and returns 0, NA if
 * the mechanism cannot carry b->size bytes in one message, or -1 after a message; attach()
 * runs in each process after fork(); recv() returns where the n bytes are (valid until
 * release()), or NULL after a message. */
enum { NA = 1 };

struct mech {
    const char *name;
    int (*prepare)(struct bench *b);
    int (*attach)(struct bench *b, int side);
    int (*send)(struct bench *b, int side, const char *buf, size_t n);
    const char *(*recv)(struct bench *b, int side, size_t n);
    void (*release)(struct bench *b, int side);
    void (*destroy)(struct bench *b);
};

/* --- descriptor-based mechanisms: pipe, FIFO, sockets */

static int fd_send(struct bench *b, int side, const char *buf, size_t n)
{
    if (ipclab_write_all(b->out[side], buf, n) == 0)
        return 0;
    warn("write");
    return -1;
}

/* A byte stream: read until all n bytes have come (one read() may return any part). */
static const char *stream_recv(struct bench *b, int side, size_t n)
{
    ssize_t got = ipclab_read_full(b->in[side], b->rbuf, n);

    if (got == (ssize_t)n)
        return b->rbuf;
    if (got == -1)
        warn("read");
    else
        warnx("read: %zd bytes of %zu, then end of file", got, n);
    return NULL;
}

/* A datagram: one recv() is one message, whole. */
static const char *dgram_recv(struct bench *b, int side, size_t n)
{
    ssize_t got = recv(b->in[side], b->rbuf, MAX_SIZE, MSG_TRUNC);

    if (got == (ssize_t)n)
        return b->rbuf;
    if (got == -1)
        warn("recv");
    else
        warnx("recv: a datagram of %zd bytes, %zu expected", got, n);
    return NULL;
}

static void no_release(struct bench *b, int side)
{
    (void)b;
    (void)side;
}

/* After fork(): close the other side's descriptors. */
static int fd_attach(struct bench *b, int side)
{
    int other = 1 - side;

    close(b->out[other]);
    if (b->in[other] != b->out[other])
        close(b->in[other]);
    return 0;
}

static void fd_destroy(struct bench *b)
{
    close(b->out[0]);
    if (b->in[0] != b->out[0])
        close(b->in[0]);
}

static int pipe_prepare(struct bench *b)
{
    int down[2], up[2];

    if (pipe2(down, O_CLOEXEC) == -1 || pipe2(up, O_CLOEXEC) == -1) {
        warn("pipe");
        return -1;
    }
    b->out[0] = down[1];
    b->in[1] = down[0];
    b->out[1] = up[1];
    b->in[0] = up[0];
    return 0;
}

/* socketpair(2) of type: both directions on one descriptor per side. */
static int pair_prepare(struct bench *b, int type)
{
    int sv[2];

    if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) == -1) {
        warn("socketpair");
        return -1;
    }
    b->out[0] = b->in[0] = sv[0];
    b->out[1] = b->in[1] = sv[1];
    return 0;
}

static int socketpair_prepare(struct bench *b)
{
    return pair_prepare(b, SOCK_STREAM);
}

/* UNIX datagrams: as large as the socket buffers allow (net.core.wmem_max caps them); a
 * message that does not fit fails with EMSGSIZE, and the cell is "n/a (limit)". */
static int unix_dgram_prepare(struct bench *b)
{
    int big = 2 * MAX_SIZE + 65536;

    if (pair_prepare(b, SOCK_DGRAM) == -1)
        return -1;
    for (int s = 0; s < 2; s++) {
        setsockopt(b->out[s], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
        setsockopt(b->out[s], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    }
    char *probe = calloc(1, b->size);
    ssize_t n = probe == NULL ? -1 : send(b->out[0], probe, b->size, MSG_DONTWAIT);
    int saved = errno;
    free(probe);
    if (n == -1) {
        fd_destroy(b);
        close(b->out[1]);
        if (saved == EMSGSIZE || saved == ENOBUFS || saved == EAGAIN)
            return NA;
        errno = saved;
        warn("send");
        return -1;
    }
    recv(b->in[1], b->rbuf, MAX_SIZE, 0); /* the probe, taken back out */
    return 0;
}

/* A private directory for FIFOs and a socket path: mkdtemp(3), mode 0700. */
static int make_dir(struct bench *b)
{
    snprintf(b->dir, sizeof b->dir, "/tmp/ipcbench.XXXXXX");
    if (mkdtemp(b->dir) == NULL) {
        warn("mkdtemp");
        return -1;
    }
    return 0;
}

static void dir_path(const struct bench *b, const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", b->dir, name);
}

static int fifo_prepare(struct bench *b)
{
    char down[64], up[64];

    if (make_dir(b) == -1)
        return -1;
    dir_path(b, "down", down, sizeof down);
    dir_path(b, "up", up, sizeof up);
    if (mkfifo(down, 0600) == -1 || mkfifo(up, 0600) == -1) {
        warn("mkfifo");
        return -1;
    }
    return 0;
}

/* Open both FIFOs, in the same order on both sides (each open() waits for the other end). */
static int fifo_attach(struct bench *b, int side)
{
    char down[64], up[64];

    dir_path(b, "down", down, sizeof down);
    dir_path(b, "up", up, sizeof up);
    if (side == 0) {
        b->out[0] = open(down, O_WRONLY | O_CLOEXEC);
        b->in[0] = open(up, O_RDONLY | O_CLOEXEC);
    } else {
        b->in[1] = open(down, O_RDONLY | O_CLOEXEC);
        b->out[1] = open(up, O_WRONLY | O_CLOEXEC);
    }
    if (b->out[side] == -1 || b->in[side] == -1) {
        warn("open FIFO");
        return -1;
    }
    return 0;
}

static void fifo_destroy(struct bench *b)
{
    char path[64];

    fd_destroy(b);
    dir_path(b, "down", path, sizeof path);
    unlink(path);
    dir_path(b, "up", path, sizeof path);
    unlink(path);
    rmdir(b->dir);
}

/* A listening socket of family (AF_UNIX at a path in a private directory, or AF_INET on
 * 127.0.0.1, any free port); the child connects, the parent accepts. */
static int listen_prepare(struct bench *b, int family)
{
    memset(&b->addr, 0, sizeof b->addr);
    if (family == AF_UNIX) {
        struct sockaddr_un *sun = (struct sockaddr_un *)&b->addr;
        if (make_dir(b) == -1)
            return -1;
        sun->sun_family = AF_UNIX;
        dir_path(b, "socket", sun->sun_path, sizeof sun->sun_path);
        b->addr_len = sizeof *sun;
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)&b->addr;
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sin->sin_port = 0; /* any free port */
        b->addr_len = sizeof *sin;
    }
    b->listen_fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (b->listen_fd == -1 || bind(b->listen_fd, (struct sockaddr *)&b->addr, b->addr_len) == -1 ||
        listen(b->listen_fd, 1) == -1 ||
        getsockname(b->listen_fd, (struct sockaddr *)&b->addr, &b->addr_len) == -1) {
        warn("listen");
        return -1;
    }
    return 0;
}

static int unix_stream_prepare(struct bench *b)
{
    return listen_prepare(b, AF_UNIX);
}

static int tcp_prepare(struct bench *b)
{
    return listen_prepare(b, AF_INET);
}

static int listen_attach(struct bench *b, int side)
{
    int fd;

    if (side == 0) {
        fd = accept4(b->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    } else {
        fd = socket(b->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd != -1 && connect(fd, (struct sockaddr *)&b->addr, b->addr_len) == -1) {
            close(fd);
            fd = -1;
        }
    }
    close(b->listen_fd);
    if (fd == -1) {
        warn(side == 0 ? "accept" : "connect");
        return -1;
    }
    /* TCP: send each message at once, not held back by Nagle's algorithm for an ACK. */
    int on = 1;
    if (b->addr.ss_family == AF_INET && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on))
        warn("TCP_NODELAY");
    b->out[side] = b->in[side] = fd;
    return 0;
}

static void listen_destroy(struct bench *b)
{
    close(b->out[0]);
    if (b->addr.ss_family == AF_UNIX) {
        unlink(((struct sockaddr_un *)&b->addr)->sun_path);
        rmdir(b->dir);
    }
}

/* --- System V message queue: one private queue, mtype 1 down, 2 up */

static long read_limit(const char *path)
{
    long v = -1;
    FILE *f = fopen(path, "r");

    if (f != NULL) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

static int sysv_prepare(struct bench *b)
{
    if ((long)b->size > read_limit("/proc/sys/kernel/msgmax"))
        return NA;
    b->msqid = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (b->msqid == -1) {
        warn("msgget");
        return -1;
    }
    return 0;
}

static int sysv_attach(struct bench *b, int side)
{
    (void)side;
    b->msg = malloc(sizeof *b->msg);
    if (b->msg == NULL) {
        warn("malloc");
        return -1;
    }
    memset(b->msg, 0, sizeof *b->msg);
    return 0;
}

static int sysv_send(struct bench *b, int side, const char *buf, size_t n)
{
    b->msg->mtype = side == 0 ? 1 : 2;
    memcpy(b->msg->mtext, buf, n); /* msgsnd() takes the type and the text in one buffer */
    while (msgsnd(b->msqid, b->msg, n, 0) == -1) {
        if (errno != EINTR || ipclab_signal) {
            warn("msgsnd");
            return -1;
        }
    }
    return 0;
}

static const char *sysv_recv(struct bench *b, int side, size_t n)
{
    ssize_t got;

    while ((got = msgrcv(b->msqid, b->msg, MAX_SIZE, side == 0 ? 2 : 1, 0)) == -1) {
        if (errno != EINTR || ipclab_signal) {
            warn("msgrcv");
            return NULL;
        }
    }
    if (got != (ssize_t)n) {
        warnx("msgrcv: %zd bytes, %zu expected", got, n);
        return NULL;
    }
    return b->msg->mtext;
}

static void sysv_destroy(struct bench *b)
{
    if (msgctl(b->msqid, IPC_RMID, NULL) == -1)
        warn("msgctl IPC_RMID");
    free(b->msg);
}

/* --- POSIX message queues: one per direction, unlinked as soon as they are open */

static int pmq_prepare(struct bench *b)
{
    if ((long)b->size > read_limit("/proc/sys/fs/mqueue/msgsize_max"))
        return NA;
    long depth = read_limit("/proc/sys/fs/mqueue/msg_max");
    struct mq_attr attr = { .mq_maxmsg = depth > 0 && depth < 10 ? depth : 10,
                            .mq_msgsize = (long)(b->size < 8 ? 8 : b->size) };
    for (int d = 0; d < 2; d++) {
        char name[64];
        snprintf(name, sizeof name, "/ipclab-bench-%ld-%d", (long)getpid(), d);
        b->mq[d] = mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr);
        if (b->mq[d] == (mqd_t)-1) {
            warn("mq_open %s", name);
            if (d == 1)
                mq_close(b->mq[0]);
            return -1;
        }
        mq_unlink(name); /* the descriptors, inherited across fork(), keep it alive */
    }
    return 0;
}

static int pmq_attach(struct bench *b, int side)
{
    (void)b;
    (void)side;
    return 0;
}

static int pmq_send(struct bench *b, int side, const char *buf, size_t n)
{
    while (mq_send(b->mq[side], buf, n, 0) == -1) {
        if (errno != EINTR || ipclab_signal) {
            warn("mq_send");
            return -1;
        }
    }
    return 0;
}

static const char *pmq_recv(struct bench *b, int side, size_t n)
{
    ssize_t got;

    while ((got = mq_receive(b->mq[1 - side], b->rbuf, MAX_SIZE, NULL)) == -1) {
        if (errno != EINTR || ipclab_signal) {
            warn("mq_receive");
            return NULL;
        }
    }
    if (got != (ssize_t)n) {
        warnx("mq_receive: %zd bytes, %zu expected", got, n);
        return NULL;
    }
    return b->rbuf;
}

static void pmq_destroy(struct bench *b)
{
    mq_close(b->mq[0]);
    mq_close(b->mq[1]);
}

/* --- POSIX shared memory: a region per cell, unlinked as soon as it is mapped */

static int shm_prepare(struct bench *b)
{
    char name[64];

    snprintf(name, sizeof name, "/ipclab-bench-%ld", (long)getpid());
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd == -1) {
        warn("shm_open %s", name);
        return -1;
    }
    shm_unlink(name); /* the mapping, inherited across fork(), keeps it alive */
    if (ftruncate(fd, sizeof *b->shm) == -1) {
        warn("ftruncate");
        close(fd);
        return -1;
    }
    b->shm = mmap(NULL, sizeof *b->shm, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (b->shm == MAP_FAILED) {
        warn("mmap");
        return -1;
    }
    memset(b->shm->data, 0, sizeof b->shm->data); /* touch every page before the clock */
    for (int d = 0; d < 2; d++) {
        if (sem_init(&b->shm->full[d], 1, 0) == -1 ||
            sem_init(&b->shm->empty[d], 1, SLOTS) == -1) {
            warn("sem_init");
            return -1;
        }
        for (int i = 0; i < SLOTS; i++)
            atomic_init(&b->shm->flag[d][i], 0);
    }
    return 0;
}

static int shm_attach(struct bench *b, int side)
{
    (void)b;
    (void)side;
    return 0;
}

static int sem_wait_intr(sem_t *s)
{
    while (sem_wait(s) == -1) {
        if (errno != EINTR || ipclab_signal) {
            warn("sem_wait");
            return -1;
        }
    }
    return 0;
}

/* Semaphores: wait for an empty slot of our direction, copy in, count it full. */
static int shm_send(struct bench *b, int side, const char *buf, size_t n)
{
    unsigned slot = b->next_out;

    if (sem_wait_intr(&b->shm->empty[side]) == -1)
        return -1;
    memcpy(b->shm->data[side][slot], buf, n);
    b->shm->len[side][slot] = n;
    b->next_out = (slot + 1) % SLOTS;
    sem_post(&b->shm->full[side]);
    return 0;
}

/* The receiver reads the message where it lies, in the shared slot: no copy. */
static const char *shm_recv(struct bench *b, int side, size_t n)
{
    int d = 1 - side;
    unsigned slot = b->next_in;

    if (sem_wait_intr(&b->shm->full[d]) == -1)
        return NULL;
    if (b->shm->len[d][slot] != n) {
        warnx("shared memory: %zu bytes, %zu expected", b->shm->len[d][slot], n);
        return NULL;
    }
    return b->shm->data[d][slot];
}

static void shm_release(struct bench *b, int side)
{
    b->next_in = (b->next_in + 1) % SLOTS;
    sem_post(&b->shm->empty[1 - side]);
}

static void shm_destroy(struct bench *b)
{
    for (int d = 0; d < 2; d++) {
        sem_destroy(&b->shm->full[d]);
        sem_destroy(&b->shm->empty[d]);
    }
    munmap(b->shm, sizeof *b->shm);
}

/* The CPU's hint that this is a spin-wait (x86 PAUSE, ARM YIELD): it saves power and lets a
 * sibling hyper-thread run.  Elsewhere, nothing. */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Spin until *flag is want, with no system call at all: the fastest hand-over there is while
 * both sides have a CPU of their own, and a disaster when they share one (the waiter burns its
 * whole time slice while the side it waits for cannot run).  Gives up after 2 s. */
static int spin_until(atomic_uint *flag, unsigned want)
{
    struct timespec start, now;

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (unsigned long i = 1;; i++) {
        if (atomic_load_explicit(flag, memory_order_acquire) == want)
            return 0;
        cpu_relax();
        if ((i & 0xffff) == 0) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec - start.tv_sec >= 2 || ipclab_signal) {
                warnx("spin-wait: no hand-over within 2 s");
                return -1;
            }
        }
    }
}

static int spin_send(struct bench *b, int side, const char *buf, size_t n)
{
    unsigned slot = b->next_out;

    if (spin_until(&b->shm->flag[side][slot], 0) == -1)
        return -1;
    memcpy(b->shm->data[side][slot], buf, n);
    b->shm->len[side][slot] = n;
    b->next_out = (slot + 1) % SLOTS;
    atomic_store_explicit(&b->shm->flag[side][slot], 1, memory_order_release);
    return 0;
}

static const char *spin_recv(struct bench *b, int side, size_t n)
{
    int d = 1 - side;
    unsigned slot = b->next_in;

    if (spin_until(&b->shm->flag[d][slot], 1) == -1)
        return NULL;
    if (b->shm->len[d][slot] != n) {
        warnx("shared memory: %zu bytes, %zu expected", b->shm->len[d][slot], n);
        return NULL;
    }
    return b->shm->data[d][slot];
}

static void spin_release(struct bench *b, int side)
{
    unsigned slot = b->next_in;

    b->next_in = (slot + 1) % SLOTS;
    atomic_store_explicit(&b->shm->flag[1 - side][slot], 0, memory_order_release);
}

static const struct mech mechs[] = {
    { "pipe", pipe_prepare, fd_attach, fd_send, stream_recv, no_release, fd_destroy },
    { "fifo", fifo_prepare, fifo_attach, fd_send, stream_recv, no_release, fifo_destroy },
    { "socketpair", socketpair_prepare, fd_attach, fd_send, stream_recv, no_release, fd_destroy },
    { "unix_stream", unix_stream_prepare, listen_attach, fd_send, stream_recv, no_release,
      listen_destroy },
    { "unix_dgram", unix_dgram_prepare, fd_attach, fd_send, dgram_recv, no_release, fd_destroy },
    { "tcp", tcp_prepare, listen_attach, fd_send, stream_recv, no_release, listen_destroy },
    { "sysv_msgq", sysv_prepare, sysv_attach, sysv_send, sysv_recv, no_release, sysv_destroy },
    { "posix_mq", pmq_prepare, pmq_attach, pmq_send, pmq_recv, no_release, pmq_destroy },
    { "posix_shm", shm_prepare, shm_attach, shm_send, shm_recv, shm_release, shm_destroy },
    { "shm_spin", shm_prepare, shm_attach, spin_send, spin_recv, spin_release, shm_destroy },
};
#define NMECHS (sizeof mechs / sizeof mechs[0])

static bool is_spin(const struct mech *m)
{
    return m->send == spin_send;
}

/* ---------------------------------------------------------------- processes and placement */

/* The placement of one run: the CPU of each side (the same one, or two). */
struct placement {
    const char *name;       /* "same CPU", "split CPUs" */
    const char *key;        /* same, split: for the CSV */
    int cpu[2];
};

static int pin(int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) == -1) {
        warn("sched_setaffinity to CPU %d", cpu);
        return -1;
    }
    return 0;
}

static uint64_t now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Start the child side: pinned, attached, then body(); it never returns.  The child dies with
 * the parent (PR_SET_PDEATHSIG), and the parent SIGKILLs it when the cell is done. */
static pid_t start_child(const struct mech *m, struct bench *b, int cpu,
                         void (*body)(const struct mech *, struct bench *, void *), void *arg)
{
    pid_t pid = fork();

    if (pid == -1) {
        warn("fork");
        return -1;
    }
    if (pid > 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (pin(cpu) == -1 || m->attach(b, 1) == -1)
        _exit(1);
    body(m, b, arg);
    _exit(0);
}

static void stop_child(pid_t pid)
{
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
        ;
}

/* ---------------------------------------------------------------- latency */

struct lat_result {
    int status;             /* 0, NA, or -1: failed */
    long trips;             /* round trips timed (in the repetition kept) */
    uint64_t min, p50, p99, p999;
    double per_sec;
};

/* The child's half of a ping-pong: send back every message, for ever. */
static void echo(const struct mech *m, struct bench *b, void *arg)
{
    (void)arg;
    for (;;) {
        const char *p = m->recv(b, 1, b->size);
        if (p == NULL || m->send(b, 1, p, b->size) == -1)
            return;
        m->release(b, 1);
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

/* The q-quantile of n sorted values, nearest rank. */
static uint64_t quantile(const uint64_t *v, long n, double q)
{
    long rank = (long)(q * (double)n + 0.999999);

    return v[rank < 1 ? 0 : rank > n ? n - 1 : rank - 1];
}

/* One round trip: send size bytes stamped with i, wait for them to come back, check the stamp. */
static int round_trip(const struct mech *m, struct bench *b, char *buf, uint64_t i)
{
    if (b->size >= sizeof i)
        memcpy(buf, &i, sizeof i);
    if (m->send(b, 0, buf, b->size) == -1)
        return -1;
    const char *p = m->recv(b, 0, b->size);
    if (p == NULL)
        return -1;
    if (b->size >= sizeof i && memcmp(p, &i, sizeof i) != 0) {
        warnx("round trip %llu: another message came back", (unsigned long long)i);
        return -1;
    }
    m->release(b, 0);
    return 0;
}

static struct lat_result latency_cell(const struct mech *m, size_t size, const struct plan *pl,
                                      const struct placement *where, char *sbuf, uint64_t *lat)
{
    struct lat_result best = { .status = -1 }, reps[5];
    struct bench b = { .size = size, .rbuf = sbuf + MAX_SIZE };
    long trips = (long)(pl->trip_bytes / size);

    trips = trips < pl->min_trips ? pl->min_trips : trips > pl->max_trips ? pl->max_trips : trips;
    int rc = m->prepare(&b);
    if (rc != 0) {
        best.status = rc;
        return best;
    }
    pid_t child = start_child(m, &b, where->cpu[1], echo, NULL);
    if (child == -1 || m->attach(&b, 0) == -1) {
        if (child != -1)
            stop_child(child);
        m->destroy(&b);
        return best;
    }
    uint64_t stamp = 0;
    int r;
    for (r = 0; r < pl->reps; r++) {
        long i, n = 0;
        uint64_t start = now_ns(), sum = 0;
        for (i = 0; i < pl->warmup; i++) {
            if (round_trip(m, &b, sbuf, stamp++) == -1)
                break;
            if ((double)(now_ns() - start) > pl->budget * 1e9 / 2)
                i = pl->warmup; /* a slow mechanism warms up in half the budget */
        }
        if (i < pl->warmup)
            break;
        start = now_ns();
        for (n = 0; n < trips; n++) {
            uint64_t t0 = now_ns();
            if (round_trip(m, &b, sbuf, stamp++) == -1)
                break;
            uint64_t t1 = now_ns();
            lat[n] = t1 - t0;
            sum += t1 - t0;
            if ((double)(t1 - start) > pl->budget * 1e9) {
                n++;
                break; /* the time budget is spent: keep what was measured */
            }
        }
        if (n == 0 || (n < trips && (double)(now_ns() - start) <= pl->budget * 1e9))
            break; /* a round trip failed */
        qsort(lat, (size_t)n, sizeof *lat, cmp_u64);
        reps[r] = (struct lat_result){ 0, n, lat[0], quantile(lat, n, 0.5), quantile(lat, n, 0.99),
                                       quantile(lat, n, 0.999), (double)n * 1e9 / (double)sum };
    }
    stop_child(child);
    m->destroy(&b);
    if (r < pl->reps)
        return best;
    /* The repetition with the median p50 (the median of the medians), with its other figures. */
    for (int i = 1; i < r; i++)
        for (int j = i; j > 0 && reps[j].p50 < reps[j - 1].p50; j--) {
            struct lat_result t = reps[j];
            reps[j] = reps[j - 1];
            reps[j - 1] = t;
        }
    return reps[r / 2];
}

/* ---------------------------------------------------------------- throughput */

struct tput_result {
    int status;             /* 0, NA, -1 */
    double mb_per_s;
};

/* The sum of the 64-bit words of n bytes (n a multiple of 8): what the receiver reports, so
 * that a lost, duplicated or damaged chunk shows. */
static uint64_t word_sum(const char *p, size_t n)
{
    uint64_t sum = 0, w;

    for (size_t i = 0; i < n; i += sizeof w) {
        memcpy(&w, p + i, sizeof w);
        sum += w;
    }
    return sum;
}

/* The child's half of a stream: take *(size_t *)arg bytes in chunks of b->size, add up their
 * words, send the sum back (8 bytes). */
static void sink(const struct mech *m, struct bench *b, void *arg)
{
    size_t total = *(size_t *)arg;
    uint64_t sum = 0;

    for (size_t got = 0; got < total; got += b->size) {
        const char *p = m->recv(b, 1, b->size);
        if (p == NULL)
            return;
        sum += word_sum(p, b->size);
        m->release(b, 1);
    }
    char answer[sizeof sum];
    memcpy(answer, &sum, sizeof sum);
    m->send(b, 1, answer, sizeof answer);
}

static struct tput_result throughput_cell(const struct mech *m, size_t chunk, size_t total,
                                          const struct placement *where, char *sbuf)
{
    struct tput_result res = { .status = -1 };
    struct bench b = { .size = chunk, .rbuf = sbuf + MAX_SIZE };
    int rc = m->prepare(&b);

    if (rc != 0) {
        res.status = rc;
        return res;
    }
    pid_t child = start_child(m, &b, where->cpu[1], sink, &total);
    if (child == -1 || m->attach(&b, 0) == -1) {
        if (child != -1)
            stop_child(child);
        m->destroy(&b);
        return res;
    }
    /* Word 0 of each chunk is its number; the others keep a fixed pattern. */
    uint64_t chunks = total / chunk, expected = word_sum(sbuf + 8, chunk - 8) * chunks +
                                                chunks * (chunks - 1) / 2;
    uint64_t start = now_ns();
    uint64_t i;
    for (i = 0; i < chunks && !ipclab_signal; i++) { /* a send may never wait, nor fail EINTR */
        memcpy(sbuf, &i, sizeof i);
        if (m->send(&b, 0, sbuf, chunk) == -1)
            break;
    }
    b.size = sizeof(uint64_t);
    const char *p = i == chunks ? m->recv(&b, 0, sizeof(uint64_t)) : NULL;
    uint64_t end = now_ns(), sum = 0;
    if (p != NULL) {
        memcpy(&sum, p, sizeof sum);
        m->release(&b, 0);
        if (sum == expected) {
            res.status = 0;
            res.mb_per_s = (double)total / ((double)(end - start) / 1e9) / 1e6;
        } else {
            warnx("%s: the receiver's sum is %llx, not %llx: data lost or damaged", m->name,
                  (unsigned long long)sum, (unsigned long long)expected);
        }
    }
    stop_child(child);
    m->destroy(&b);
    return res;
}

/* memcpy's speed at the same chunk size, from one buffer to another, as often as a stream of
 * total bytes takes: the ceiling of any mechanism that copies each byte once. */
static double memcpy_mb_per_s(size_t chunk, size_t total, char *src, char *dst)
{
    void *(*volatile copy)(void *, const void *, size_t) = memcpy; /* not optimised away */
    uint64_t start = now_ns();

    for (size_t done = 0; done < total && !ipclab_signal; done += chunk)
        copy(dst, src, chunk);
    return (double)total / ((double)(now_ns() - start) / 1e9) / 1e6;
}

/* The limit of shared memory on two CPUs.  memcpy() above runs on one CPU with both buffers in
 * its cache; no mechanism with a side on each of two CPUs can reach it, for the bytes written
 * on one CPU must travel to the other CPU's cache before they can be read there.  cross_cpu
 * measures that travel and nothing else: the parent copies each chunk from its buffer into a
 * shared one, as posix_shm's writer does, and the child on the other CPU adds up its words
 * where they lie, as the sink does; SLOTS buffers, as posix_shm's ring has.  The hand-over is
 * a flag per buffer, each on a cache line of its own, set and spun on with no system call: one
 * cache line's trip, next to the chunk's 64 (4 KiB) to 16 384 (1 MiB).  A shared-memory
 * mechanism that copies the same way can come near it, not beyond (but for the noise of a
 * shared machine), so posix_shm's and shm_spin's fraction of it is what their hand-over costs. */
#define CACHE_LINE 64

struct cross_region {
    struct {
        _Alignas(CACHE_LINE) atomic_uint full; /* 1: the buffer holds a chunk */
    } slot[SLOTS];
    _Alignas(CACHE_LINE) atomic_uint done;      /* 1: sum is the child's answer */
    uint64_t sum;
    _Alignas(CACHE_LINE) char data[SLOTS][MAX_SIZE];
};

/* The child: read total bytes in chunks, buffer after buffer, then give the sum. */
static void cross_reader(struct cross_region *r, size_t chunk, size_t total)
{
    uint64_t sum = 0;

    for (size_t got = 0, k = 0; got < total; got += chunk, k = (k + 1) % SLOTS) {
        if (spin_until(&r->slot[k].full, 1) == -1)
            return;
        sum += word_sum(r->data[k], chunk);
        atomic_store_explicit(&r->slot[k].full, 0, memory_order_release);
    }
    r->sum = sum;
    atomic_store_explicit(&r->done, 1, memory_order_release);
}

/* One stream of total bytes from the parent's CPU to the child's; MB/s, or 0 after a
 * message.  The chunks and their check are throughput_cell's. */
static double cross_once(size_t chunk, size_t total, const struct placement *where, char *sbuf)
{
    struct cross_region *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE,
                                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    double mb_per_s = 0;

    if (r == MAP_FAILED) {
        warn("mmap");
        return 0;
    }
    memset(r, 0, sizeof *r); /* every page touched before the clock, every flag 0 */
    pid_t child = fork();
    if (child == -1) {
        warn("fork");
        munmap(r, sizeof *r);
        return 0;
    }
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (pin(where->cpu[1]) == 0)
            cross_reader(r, chunk, total);
        _exit(0);
    }
    uint64_t chunks = total / chunk, expected = word_sum(sbuf + 8, chunk - 8) * chunks +
                                                chunks * (chunks - 1) / 2;
    uint64_t start = now_ns(), i;
    for (i = 0; i < chunks && !ipclab_signal; i++) {
        unsigned k = (unsigned)(i % SLOTS);
        memcpy(sbuf, &i, sizeof i);
        if (spin_until(&r->slot[k].full, 0) == -1)
            break;
        memcpy(r->data[k], sbuf, chunk);
        atomic_store_explicit(&r->slot[k].full, 1, memory_order_release);
    }
    if (i == chunks && spin_until(&r->done, 1) == 0) {
        uint64_t end = now_ns();
        if (r->sum == expected)
            mb_per_s = (double)total / ((double)(end - start) / 1e9) / 1e6;
        else
            warnx("cross_cpu: the reader's sum is %llx, not %llx",
                  (unsigned long long)r->sum, (unsigned long long)expected);
    }
    stop_child(child);
    munmap(r, sizeof *r);
    return mb_per_s;
}

/* The limit is the best the machine does, and on a shared machine whatever else runs only ever
 * lowers a figure: the best of three streams.  0 if one failed. */
static double cross_cpu_mb_per_s(size_t chunk, size_t total, const struct placement *where,
                                 char *sbuf)
{
    double best = 0;

    for (int rep = 0; rep < 3; rep++) {
        double v = cross_once(chunk, total, where, sbuf);
        if (v == 0)
            return 0;
        best = v > best ? v : best;
    }
    return best;
}

/* ---------------------------------------------------------------- the machine, the report */

static void describe_machine(FILE *out, int ncpus)
{
    char model[128] = "an unknown CPU", line[512];
    bool hypervisor = false;
    FILE *f = fopen("/proc/cpuinfo", "r");

    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
            snprintf(model, sizeof model, "%s", colon + 2);
            model[strcspn(model, "\n")] = '\0';
        }
        if (strncmp(line, "flags", 5) == 0 && strstr(line, " hypervisor") != NULL)
            hypervisor = true;
    }
    if (f != NULL)
        fclose(f);
    struct utsname u;
    uname(&u);
    double load[3] = { 0, 0, 0 };
    getloadavg(load, 3);
    fprintf(out, "machine: %s; %d CPU(s) for us of %ld online; %s %s %s; %s\n", model, ncpus,
            sysconf(_SC_NPROCESSORS_ONLN), u.sysname, u.release, u.machine,
            hypervisor ? "a virtual machine (the CPU reports a hypervisor)"
                       : "no hypervisor reported by the CPU");
    fprintf(out, "load average: %.2f %.2f %.2f\n", load[0], load[1], load[2]);
    if (load[0] > 0.5)
        fprintf(out, "WARNING: the load average says something else is running: these figures "
                     "are disturbed; run again on a quiet machine\n");
}

static void size_label(size_t n, char *buf, size_t size)
{
    if (n >= 1048576 && n % 1048576 == 0)
        snprintf(buf, size, "%zuM", n / 1048576);
    else if (n >= 1024 && n % 1024 == 0)
        snprintf(buf, size, "%zuK", n / 1024);
    else
        snprintf(buf, size, "%zu", n);
}

/* A latency in microseconds, three significant digits. */
static void micros(uint64_t ns, char *buf, size_t size)
{
    double us = (double)ns / 1000.0;

    snprintf(buf, size, us < 10 ? "%.2f" : us < 100 ? "%.1f" : "%.0f", us);
}

/* What the run is asked to do. */
struct job {
    const struct plan *plan;
    size_t stream_bytes;    /* -n, or the plan's */
    bool latency, throughput;
    const char *only_mech;
    size_t only_size, only_chunk;
    const char *only_placement;
    FILE *csv;
};

static bool wanted(const struct job *j, const struct mech *m)
{
    return j->only_mech == NULL || strcmp(j->only_mech, m->name) == 0;
}

/* Print one placement's latency table.  Returns the number of cells that failed. */
static int run_latency(const struct job *j, const struct placement *where, char *sbuf,
                       uint64_t *lat)
{
    int failed = 0;
    char label[24], cell[32];
    size_t sizes[NSIZES];
    size_t nsizes = 0;
    struct lat_result first[NMECHS]; /* each mechanism at the first size, for the detail */

    for (size_t i = 0; i < NSIZES; i++)
        if (j->only_size == 0 || j->only_size == lat_sizes[i])
            sizes[nsizes++] = lat_sizes[i];
    if (j->only_size != 0 && nsizes == 0)
        sizes[nsizes++] = j->only_size;
    printf("latency: median round trip, microseconds (every size's min, p99, p99.9: CSV)\n");
    printf("%-12s", "mechanism");
    for (size_t i = 0; i < nsizes; i++) {
        size_label(sizes[i], label, sizeof label);
        printf(" %11s", label);
    }
    printf("\n");
    for (size_t k = 0; k < NMECHS && !ipclab_signal; k++) {
        const struct mech *m = &mechs[k];
        if (!wanted(j, m))
            continue;
        printf("%-12s", m->name);
        fflush(stdout);
        first[k].status = -1;
        for (size_t i = 0; i < nsizes && !ipclab_signal; i++) {
            struct lat_result r = latency_cell(m, sizes[i], j->plan, where, sbuf, lat);
            if (i == 0)
                first[k] = r;
            if (r.status == NA)
                snprintf(cell, sizeof cell, "n/a (limit)");
            else if (r.status != 0)
                snprintf(cell, sizeof cell, "failed");
            else
                micros(r.p50, cell, sizeof cell);
            failed += r.status == -1;
            printf(" %11s", cell);
            fflush(stdout);
            if (j->csv != NULL)
                fprintf(j->csv, "%s,latency,%s,%zu,%s,%ld,%llu,%llu,%llu,%llu,%.0f,,,\n",
                        where->key, m->name, sizes[i],
                        r.status == 0 ? "ok" : r.status == NA ? "n/a (limit)" : "failed",
                        r.trips, (unsigned long long)r.min, (unsigned long long)r.p50,
                        (unsigned long long)r.p99, (unsigned long long)r.p999, r.per_sec);
        }
        printf("\n");
    }
    /* The whole distribution at the first size: the tail (p99.9) tells what the median hides. */
    size_label(sizes[0], label, sizeof label);
    printf("latency at %s bytes, microseconds:\n%-12s %11s %11s %11s %11s %13s\n", label,
           "mechanism", "min", "p50", "p99", "p99.9", "round trips/s");
    for (size_t k = 0; k < NMECHS && !ipclab_signal; k++) {
        const struct lat_result *r = &first[k];
        if (!wanted(j, &mechs[k]) || r->status != 0)
            continue;
        printf("%-12s", mechs[k].name);
        const uint64_t q[4] = { r->min, r->p50, r->p99, r->p999 };
        for (int i = 0; i < 4; i++) {
            micros(q[i], cell, sizeof cell);
            printf(" %11s", cell);
        }
        printf(" %13.0f\n", r->per_sec);
    }
    return failed;
}

/* Shared memory copies each byte once, as memcpy and cross_cpu do: the mechanisms measured
 * against the placement's limit as well. */
static bool copies_once(const struct mech *m)
{
    return m->prepare == shm_prepare;
}

/* A throughput cell: MB/s, the fraction of memcpy's speed and, for shared memory (limit > 0),
 * the fraction of the placement's limit. */
static void tput_cell(char *buf, size_t size, double mb_per_s, double ceiling, double limit)
{
    if (limit > 0)
        snprintf(buf, size, "%.0f (%.0f%%, %.0f%%)", mb_per_s, 100 * mb_per_s / ceiling,
                 100 * mb_per_s / limit);
    else
        snprintf(buf, size, "%.0f (%.0f%%)", mb_per_s, 100 * mb_per_s / ceiling);
}

/* Print one placement's throughput table.  Returns the number of cells that failed.  The limit
 * of a mechanism that copies each byte once is memcpy's speed on one CPU, cross_cpu's on two
 * (measured only when shared memory is, and around it: it is the only thing compared with it). */
static int run_throughput(const struct job *j, const struct placement *where, char *sbuf,
                          char *dst)
{
    int failed = 0;
    char label[24], cell[32];
    size_t chunks[NCHUNKS];
    size_t nchunks = 0;
    double ceiling[NCHUNKS], limit[NCHUNKS];
    size_t total = j->stream_bytes != 0 ? j->stream_bytes : j->plan->stream_bytes;
    bool split = where->cpu[0] != where->cpu[1], cross = false;

    for (size_t i = 0; i < NCHUNKS; i++)
        if (j->only_chunk == 0 || j->only_chunk == chunk_sizes[i])
            chunks[nchunks++] = chunk_sizes[i];
    if (j->only_chunk != 0 && nchunks == 0)
        chunks[nchunks++] = j->only_chunk;
    for (size_t k = 0; k < NMECHS; k++)
        cross = cross || (split && wanted(j, &mechs[k]) && copies_once(&mechs[k]));
    printf("throughput: MB/s one way (MB = 10^6 bytes), %zu MiB in chunks, sum checked; in\n"
           "parentheses, the fraction of memcpy's speed at the same chunk size%s\n", total >> 20,
           cross ? " and, for shared\nmemory, of cross_cpu's (written on one CPU, read on the "
                   "other: the most it can do on two CPUs)" : "");
    printf("%-12s", "mechanism");
    for (size_t i = 0; i < nchunks; i++) {
        size_label(chunks[i], label, sizeof label);
        printf(" %19s", label);
    }
    printf("\n%-12s", "memcpy");
    for (size_t i = 0; i < nchunks; i++) {
        ceiling[i] = memcpy_mb_per_s(chunks[i], total, sbuf, dst);
        limit[i] = split ? 0 : ceiling[i];
        snprintf(cell, sizeof cell, "%.0f (100%%)", ceiling[i]);
        printf(" %19s", cell);
        if (j->csv != NULL)
            fprintf(j->csv, "%s,throughput,memcpy,%zu,ok,,,,,,,%.0f,1.000,%s\n", where->key,
                    chunks[i], ceiling[i], split ? "" : "1.000");
    }
    printf("\n");
    /* On a virtual machine the speed across two CPUs moves by 2 to 3 times from one second to
     * the next (the hypervisor moves its vCPUs, others' work comes and goes): a limit measured
     * before the whole table may come from another moment than the cells compared with it.
     * So at each chunk size the shared-memory cells are measured first, between two
     * measurements of cross_cpu, and the limit is the better of the two. */
    struct tput_result early[NMECHS][NCHUNKS];
    bool measured[NMECHS] = { false };
    if (cross) {
        printf("%-12s", "cross_cpu");
        fflush(stdout);
        for (size_t i = 0; i < nchunks && !ipclab_signal; i++) {
            double before = cross_cpu_mb_per_s(chunks[i], total, where, sbuf);
            for (size_t k = 0; k < NMECHS; k++) {
                if (!wanted(j, &mechs[k]) || !copies_once(&mechs[k]))
                    continue;
                early[k][i] = throughput_cell(&mechs[k], chunks[i], total, where, sbuf);
                measured[k] = true;
            }
            double after = cross_cpu_mb_per_s(chunks[i], total, where, sbuf);
            limit[i] = before == 0 || after == 0 ? 0 : before > after ? before : after;
            if (limit[i] > 0)
                tput_cell(cell, sizeof cell, limit[i], ceiling[i], limit[i]);
            else
                snprintf(cell, sizeof cell, "failed");
            failed += limit[i] == 0;
            printf(" %19s", cell);
            fflush(stdout);
            if (j->csv != NULL && limit[i] > 0)
                fprintf(j->csv, "%s,throughput,cross_cpu,%zu,ok,,,,,,,%.0f,%.3f,1.000\n",
                        where->key, chunks[i], limit[i], limit[i] / ceiling[i]);
            else if (j->csv != NULL)
                fprintf(j->csv, "%s,throughput,cross_cpu,%zu,failed,,,,,,,0,0.000,\n",
                        where->key, chunks[i]);
        }
        printf("\n");
    }
    for (size_t k = 0; k < NMECHS && !ipclab_signal; k++) {
        const struct mech *m = &mechs[k];
        if (!wanted(j, m))
            continue;
        printf("%-12s", m->name);
        fflush(stdout);
        for (size_t i = 0; i < nchunks && !ipclab_signal; i++) {
            struct tput_result r = { .status = NA };
            const char *why = "n/a (limit)";
            double of = copies_once(m) ? limit[i] : 0; /* the limit this one is measured against */
            if (is_spin(m) && !split)
                why = "n/a (1 CPU)"; /* it would spin out each time slice: see latency */
            else if (measured[k])
                r = early[k][i]; /* beside cross_cpu, above */
            else
                r = throughput_cell(m, chunks[i], total, where, sbuf);
            if (r.status == 0) /* on one CPU the limit is memcpy: one parenthesis says it */
                tput_cell(cell, sizeof cell, r.mb_per_s, ceiling[i], split ? of : 0);
            else
                snprintf(cell, sizeof cell, "%s", r.status == NA ? why : "failed");
            failed += r.status == -1;
            printf(" %19s", cell);
            fflush(stdout);
            if (j->csv == NULL)
                continue;
            fprintf(j->csv, "%s,throughput,%s,%zu,%s,,,,,,,%.0f,%.3f,", where->key, m->name,
                    chunks[i], r.status == 0 ? "ok" : r.status == NA ? why : "failed",
                    r.mb_per_s, r.status == 0 ? r.mb_per_s / ceiling[i] : 0.0);
            if (r.status == 0 && of > 0)
                fprintf(j->csv, "%.3f", r.mb_per_s / of);
            fputc('\n', j->csv);
        }
        printf("\n");
    }
    return failed;
}

int main(int argc, char *argv[])
{
    struct job job = { .plan = &full_plan, .latency = true, .throughput = true };
    const char *csv_path = NULL;
    long v;
    int opt;

    ipclab_stderr_by_line();
    ipclab_std_fds();
    while ((opt = getopt(argc, argv, ":hqo:k:m:s:c:n:P:")) != -1) {
        switch (opt) {
        case 'q':
            job.plan = job.plan == &quick_plan ? &smoke_plan : &quick_plan;
            break;
        case 'o':
            csv_path = optarg;
            break;
        case 'k':
            if (strcmp(optarg, "latency") != 0 && strcmp(optarg, "throughput") != 0)
                ipclab_usage_error(usage, "-k wants latency or throughput, not '%s'", optarg);
            job.latency = optarg[0] == 'l';
            job.throughput = optarg[0] == 't';
            break;
        case 'm':
            job.only_mech = optarg;
            break;
        case 's':
            if (!ipclab_parse_long(optarg, 1, MAX_SIZE, &v))
                ipclab_usage_error(usage, "-s wants a size from 1 to %d bytes, not '%s'",
                                   MAX_SIZE, optarg);
            job.only_size = (size_t)v;
            break;
        case 'c':
            if (!ipclab_parse_long(optarg, 16, MAX_SIZE, &v) || v % 8 != 0)
                ipclab_usage_error(usage, "-c wants a multiple of 8 from 16 to %d, not '%s'",
                                   MAX_SIZE, optarg);
            job.only_chunk = (size_t)v;
            break;
        case 'n':
            if (!ipclab_parse_long(optarg, 1, 65536, &v))
                ipclab_usage_error(usage, "-n wants mebibytes from 1 to 65536, not '%s'", optarg);
            job.stream_bytes = (size_t)v << 20;
            break;
        case 'P':
            if (strcmp(optarg, "same") != 0 && strcmp(optarg, "split") != 0)
                ipclab_usage_error(usage, "-P wants same or split, not '%s'", optarg);
            job.only_placement = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return IPCLAB_EXIT_OK;
        default:
            ipclab_other_option(usage, opt, argv);
        }
    }
    if (optind < argc)
        ipclab_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (job.only_mech != NULL) {
        size_t k = 0;
        while (k < NMECHS && strcmp(mechs[k].name, job.only_mech) != 0)
            k++;
        if (k == NMECHS)
            ipclab_usage_error(usage, "no mechanism called '%s'", job.only_mech);
    }

    /* The CPUs we may use: the first two of them carry the two sides. */
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == -1)
        err(IPCLAB_EXIT_FAIL, "sched_getaffinity");
    int ncpus = CPU_COUNT(&allowed), cpus[2] = { -1, -1 }, found = 0;
    for (int c = 0; c < CPU_SETSIZE && found < 2; c++)
        if (CPU_ISSET(c, &allowed))
            cpus[found++] = c;
    struct placement places[2] = { { "same CPU", "same", { cpus[0], cpus[0] } },
                                   { "split CPUs", "split", { cpus[0], cpus[1] } } };

    if (csv_path != NULL) {
        job.csv = fopen(csv_path, "w");
        if (job.csv == NULL)
            err(IPCLAB_EXIT_FAIL, "%s", csv_path);
        fprintf(job.csv, "placement,kind,mechanism,size,status,trips,min_ns,p50_ns,p99_ns,"
                         "p999_ns,trips_per_s,mb_per_s,of_memcpy,of_limit\n");
    }
    /* Buffers touched before any clock starts: what is sent, what is received, and the
     * latencies. */
    char *sbuf = malloc(2 * MAX_SIZE), *dst = malloc(MAX_SIZE);
    uint64_t *lat = malloc((size_t)job.plan->max_trips * sizeof *lat);
    if (sbuf == NULL || dst == NULL || lat == NULL)
        err(IPCLAB_EXIT_FAIL, "malloc");
    for (size_t i = 0; i < 2 * MAX_SIZE; i++)
        sbuf[i] = (char)(i * 131 + 7);
    memset(dst, 0, MAX_SIZE);
    memset(lat, 0, (size_t)job.plan->max_trips * sizeof *lat);

    int status = IPCLAB_EXIT_OK;
    ipclab_catch_signals();
    describe_machine(stdout, ncpus);
    printf("plan: %s; warm-up %ld round trips, then %ld to %ld (fewer for large messages), "
           "%d repetition(s), the median kept\n", job.plan == &quick_plan   ? "quick (-q)"
           : job.plan == &smoke_plan ? "smoke (-qq)"
                                     : "full",
           job.plan->warmup, job.plan->min_trips, job.plan->max_trips, job.plan->reps);
    for (int p = 0; p < 2 && !ipclab_signal; p++) {
        const struct placement *where = &places[p];
        if (job.only_placement != NULL && strcmp(job.only_placement, where->key) != 0)
            continue;
        if (where->cpu[1] == -1) {
            printf("\n== %s: only one CPU here, nothing to split\n", where->name);
            continue;
        }
        if (where->cpu[0] == where->cpu[1])
            printf("\n== %s: both sides on CPU %d\n", where->name, where->cpu[0]);
        else
            printf("\n== %s: the parent on CPU %d, the child on CPU %d\n", where->name,
                   where->cpu[0], where->cpu[1]);
        if (pin(where->cpu[0]) == -1) {
            status = IPCLAB_EXIT_FAIL;
            break;
        }
        if (job.latency && run_latency(&job, where, sbuf, lat) > 0)
            status = IPCLAB_EXIT_FAIL;
        if (job.throughput && run_throughput(&job, where, sbuf, dst) > 0)
            status = IPCLAB_EXIT_FAIL;
    }
    if (job.csv != NULL && fclose(job.csv) != 0)
        err(IPCLAB_EXIT_FAIL, "%s", csv_path);
    free(sbuf);
    free(dst);
    free(lat);
    ipclab_die_of_signal();
    return status;
}
