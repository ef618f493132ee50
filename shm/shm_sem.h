/*
 * shm_sem.h - what shm_sem_writer and shm_sem_reader share: the segment's layout, the two
 * semaphores' numbers, the bytes of the key file each side locks, and the look at the peer.
 * The System V calls themselves (ftok, semget, semctl, semop, semtimedop, shmget, shmat, shmdt,
 * shmctl) are in the two programs.  Include it after ../common/sysv.h.
 */
#ifndef SHM_SEM_H
#define SHM_SEM_H

#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>

/* The ftok(3) project id of the pair: one key names both the set and the segment (sets and
 * segments are looked up in tables of their own, so they may share a key). */
#define SHM_SEM_PROJ 's'

/* The whole segment, length field included: 64 KiB, as much as a read() of a pipe gives. */
#define SHM_SEM_SIZE 65536

/*
 * The segment.  len says how many bytes of data are valid, so any bytes pass; 0 marks the end.
 * Which side may touch it is the semaphores' business: it belongs to the writer while the
 * writer holds its turn, to the reader while the reader holds its own.
 */
struct shm_sem_area {
    long len;
    char data[SHM_SEM_SIZE - sizeof(long)];
};

/*
 * The set: two semaphores, each a turn.  SEM_WRITER is 1 when the writer may fill the segment,
 * SEM_READER is 1 when the reader may print it; each side waits for its own (-1) and, done,
 * hands the segment over by adding 1 to the other's.  At most one of them is ever 1.
 */
enum { SEM_WRITER = 0, SEM_READER = 1, SEM_COUNT = 2 };

/* semctl(2) says the caller must define union semun itself (glibc does not). */
union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

/* Bytes of the key file: the door (see ipclab_key_file_open), then one lock per role, held
 * while that side is at work (see common/peers.h). */
enum { SHM_SEM_DOOR = 0, SHM_SEM_WRITER_LOCK = 1, SHM_SEM_READER_LOCK = 2 };

/* How long one wait for a turn lasts before a side looks at its peer again. */
#define SHM_SEM_WAIT_MS 200

/* "set 7 (key from PATH)": how the messages name an object. */
static inline void shm_sem_name(char *buf, size_t size, const char *kind, int id,
                                const char *path)
{
    snprintf(buf, size, "%s %d (key from %s)", kind, id, path);
}

/*
 * A call that makes or finds an object failed with errno: say so.  EACCES, for a process that
 * is not root, means the object exists and is another user's.  Returns -1.
 */
static inline int shm_sem_get_failed(const char *call, const char *kind, const char *path)
{
    if (errno == EACCES)
        warnx("the %s of the key from %s is not yours (%s: %s); refusing to use it", kind, path,
              call, strerror(EACCES));
    else
        warn("%s (%s, key from %s)", call, kind, path);
    return -1;
}

/*
 * A call on the set failed: say so, as removed if it was (EIDRM, or EINVAL once it is gone:
 * `ipcrm -s`, or a side that removed it as it left).  Returns -1.
 */
static inline int shm_sem_failed(int semid, const char *call)
{
    if (errno == EIDRM || errno == EINVAL) {
        warnx("set %d was removed (ipcrm?) before the end", semid);
        return -1;
    }
    return ipclab_fail(call);
}

/*
 * Has the peer -- the holder of the lock on byte peer of the key file -- gone?  *seen records
 * that it has been here: a peer that has not come yet is not gone, it is awaited (either side
 * may start first).  taken says whether the semaphores show that it has taken a turn, which
 * catches a peer that came and went between two looks.
 */
static inline bool shm_sem_peer_gone(int keyfd, off_t peer, bool taken, bool *seen)
{
    if (taken)
        *seen = true;
    if (ipclab_lock_holder(keyfd, peer) > 0) {
        *seen = true;
        return false;
    }
    return *seen;
}

#endif /* SHM_SEM_H */
