/* Read-only mappings of regular uncompressed input files (issue 15): the splitter and the
 * workers read the file's pages where the page cache holds them, with no read(2) copy.
 *
 * A mapped file that another process truncates while it is read would kill the run with
 * SIGBUS on the first access past the new end. A SIGBUS handler catches faults inside a live
 * mapping: it maps zero pages over the rest of that mapping (so the access is retried and
 * reads zeros) and flags the mapping. Readers then report the file as truncated
 * (fl_filemap_shrunk). Faults anywhere else go to the handler that was there before. */
#include "ingest_internal.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct fl_filemap {
    char *base;
    size_t len;    /* file size when mapped */
    size_t maplen; /* len rounded up to pages */
    atomic_int refs;
    atomic_bool shrunk;
    atomic_bool reported;
    int slot;
};

/* Live mappings, for the signal handler (lock-free: it may run on any thread). */
#define MAP_SLOTS 32
static _Atomic(fl_filemap *) slots[MAP_SLOTS];
static struct sigaction old_bus;
static pthread_once_t bus_once = PTHREAD_ONCE_INIT;
static bool bus_ok;
static size_t page_size;

static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
    char *at = si->si_addr;
    /* Only a fault on a page past the end of a mapped file (BUS_ADRERR); a SIGBUS sent with
     * kill() has no address. */
    for (int i = 0; si->si_code == BUS_ADRERR && i < MAP_SLOTS; i++) {
        fl_filemap *m = atomic_load(&slots[i]);
        if (!m || at < m->base || at >= m->base + m->maplen)
            continue;
        char *from = (char *)((uintptr_t)at & ~(uintptr_t)(page_size - 1));
        void *z = mmap(from, (size_t)(m->base + m->maplen - from), PROT_READ,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (z != MAP_FAILED) {
            atomic_store(&m->shrunk, true);
            return; /* the access is retried and reads zeros */
        }
        break;
    }
    /* Not ours (or no memory for the zero pages): what was there before handles it. */
    if (old_bus.sa_flags & SA_SIGINFO && old_bus.sa_sigaction) {
        old_bus.sa_sigaction(sig, si, ctx);
        return;
    }
    if (old_bus.sa_handler != SIG_DFL && old_bus.sa_handler != SIG_IGN && old_bus.sa_handler) {
        old_bus.sa_handler(sig);
        return;
    }
    signal(SIGBUS, SIG_DFL); /* the fault repeats on return and ends the process */
}

static void install(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    page_size = ps > 0 ? (size_t)ps : 4096;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    bus_ok = sigaction(SIGBUS, &sa, &old_bus) == 0;
}

/* Smaller files are read with read(2): copying them costs less than mapping, faulting in and
 * unmapping them (3,000 files of 8 lines: 0.08 system CPU-s mapped, 0.04 read). */
#define MAP_MIN ((off_t)1 << 20)

fl_filemap *fl_filemap_open(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < MAP_MIN ||
        (uintmax_t)st.st_size > SIZE_MAX / 2)
        return NULL;
    pthread_once(&bus_once, install);
    if (!bus_ok)
        return NULL;
    fl_filemap *m = fl_calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->len = (size_t)st.st_size;
    m->maplen = (m->len + page_size - 1) & ~(page_size - 1);
    void *p = mmap(NULL, m->maplen, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        fl_free(m);
        return NULL;
    }
    m->base = p;
    atomic_init(&m->refs, 1);
    m->slot = -1;
    for (int i = 0; i < MAP_SLOTS && m->slot < 0; i++) {
        fl_filemap *none = NULL;
        if (atomic_compare_exchange_strong(&slots[i], &none, m))
            m->slot = i;
    }
    if (m->slot < 0) { /* too many files mapped at once: this one is read with read(2) */
        munmap(p, m->maplen);
        fl_free(m);
        return NULL;
    }
    madvise(p, m->maplen, MADV_SEQUENTIAL);
#ifdef MADV_HUGEPAGE
    /* A file not yet in the page cache is then read ahead in 2 MiB folios, which the kernel
     * maps with one page-table entry each: 256 MB read cold took 2,493 page faults, now 1,687,
     * and later runs over the same cached file keep the gain. Pages already cached keep the
     * folios they have (a file just written is mostly in large ones already; one cached
     * page by page takes ~4,400 faults either way). Ignored where transparent huge pages are
     * off. */
    madvise(p, m->maplen, MADV_HUGEPAGE);
#endif
    return m;
}

const char *fl_filemap_data(const fl_filemap *m)
{
    return m->base;
}

size_t fl_filemap_len(const fl_filemap *m)
{
    return m->len;
}

void fl_filemap_ref(fl_filemap *m)
{
    atomic_fetch_add(&m->refs, 1);
}

void fl_filemap_unref(fl_filemap *m)
{
    if (!m || atomic_fetch_sub(&m->refs, 1) != 1)
        return;
    atomic_store(&slots[m->slot], NULL);
    munmap(m->base, m->maplen);
    fl_free(m);
}

/* madvise calls made by fl_filemap_release, all mappings together (tests count them). */
static atomic_size_t release_calls;

size_t fl_filemap_release_calls(void)
{
    return atomic_load(&release_calls);
}

void fl_filemap_release(fl_filemap *m, size_t from, size_t to)
{
    /* Every page the range touches, also one it shares with a neighbour still being read:
     * dropping a read-only file page never loses data, it is faulted in again if touched. */
    size_t a = from & ~(page_size - 1);
    size_t b = FL_MIN((to + page_size - 1) & ~(page_size - 1), m->maplen);
    if (b > a) {
        madvise(m->base + a, b - a, MADV_DONTNEED);
        atomic_fetch_add(&release_calls, 1);
    }
}

bool fl_filemap_shrunk(fl_filemap *m, int fd)
{
    struct stat st;
    if (!atomic_load(&m->shrunk) && fd >= 0 && fstat(fd, &st) == 0 &&
        (uintmax_t)st.st_size < m->len)
        atomic_store(&m->shrunk, true);
    return atomic_load(&m->shrunk);
}

bool fl_filemap_claim_report(fl_filemap *m)
{
    return !atomic_exchange(&m->reported, true);
}

void fl_filemap_warn_shrunk(fl_diag *d, const char *name)
{
    fl_diag_warn(d, FL_WARN_TRUNCATED, name, 0,
                 "%s: the file shrank while it was read (another process truncated it); what "
                 "was past its new end was not read",
                 name);
}
