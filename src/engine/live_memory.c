/* The --max-memory budget of `tail`.
 *
 * What counts is the memory the process holds: every byte malloc has handed out and not got
 * back (glibc's mallinfo2: the aggregate of counts, the de-duplication table, line and HTTP
 * buffers, Kafka's fetch queue, the journal's stdio buffer). The resident size (RSS) is not the
 * measure: memory that was freed stays resident until malloc returns it to the kernel, so a
 * budget on RSS pauses and then never sees the memory fall and never resumes. RSS is still read
 * as a check, and said once when it runs far above what is held.
 *
 * Above the budget every source pauses (nothing is dropped: they stop reading). While paused the
 * aggregate drops what fell out of the window and malloc gives freed memory back. Below the
 * low-water mark the sources resume; the gap keeps them from flapping at the line. */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__SANITIZE_ADDRESS__)
/* Under AddressSanitizer malloc is ASan's: glibc's statistics see none of it. libasan exports
 * this (sanitizer/allocator_interface.h, not installed everywhere). */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#include "live_internal.h"

#define LIVE_MEMORY_LOW_WATER_PCT 80
#define LIVE_MEMORY_RSS_FACTOR 3 /* RSS this many times what is held: worth a word */

static uint64_t resident_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Bytes malloc has handed out and not got back; RSS where malloc cannot say. */
static uint64_t held_bytes(uint64_t rss)
{
#if defined(__SANITIZE_ADDRESS__)
    (void)rss;
    return (uint64_t)__sanitizer_get_current_allocated_bytes();
#elif defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 mi = mallinfo2();
    return (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
#else
    return rss;
#endif
}

static void give_back(void)
{
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

static void set_paused(fl_live_engine *e, bool pause)
{
    e->paused = pause;
    for (size_t i = 0; i < e->n_sources; i++) {
        if (!e->sources[i])
            continue;
        if (pause)
            e->sources[i]->ops->pause(e->sources[i]);
        else
            e->sources[i]->ops->resume(e->sources[i]);
    }
}

void fl_live_engine_check_memory(fl_live_engine *e)
{
    uint64_t budget = e->o.max_memory_mb * 1024 * 1024;
    uint64_t rss = resident_bytes();
    uint64_t held = held_bytes(rss);
    if (!e->paused && held > budget) {
        set_paused(e, true);
        fl_agg_expire(e->agg, live_window_anchor(e) - e->o.window_us);
        give_back();
        uint64_t now_held = held_bytes(rss);
        live_message(e,
                     "memory over budget (%" PRIu64 " MiB held, %" PRIu64 " MiB resident, "
                     "budget %" PRIu64 " MiB): sources paused until it falls below %" PRIu64 " MiB",
                     held >> 20, rss >> 20, e->o.max_memory_mb,
                     e->o.max_memory_mb * LIVE_MEMORY_LOW_WATER_PCT / 100);
        held = now_held;
    }
    if (e->paused && held < budget / 100 * LIVE_MEMORY_LOW_WATER_PCT) {
        set_paused(e, false);
        live_message(e,
                     "memory back under budget (%" PRIu64 " MiB held, %" PRIu64
                     " MiB resident): sources resumed",
                     held >> 20, resident_bytes() >> 20);
    } else if (e->paused) {
        /* Still over: what fell out of the window can go, and freed memory back to the
         * kernel. */
        fl_agg_expire(e->agg, live_window_anchor(e) - e->o.window_us);
        give_back();
    }
    if (!e->rss_warned && held && rss > budget && rss > held * LIVE_MEMORY_RSS_FACTOR) {
        e->rss_warned = true;
        live_message(e,
                     "memory: %" PRIu64 " MiB resident but only %" PRIu64
                     " MiB held; the budget follows what is held",
                     rss >> 20, held >> 20);
    }
}
