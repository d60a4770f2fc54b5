// The ledger's programs allocate through jemalloc (libjemalloc-dev), linked
// into `ledger` and `ledger_bench` only (not into the sanitizer builds, where
// AddressSanitizer owns malloc). It reads this string at its first
// allocation: jemalloc's documented way for a program to configure it
// (`man jemalloc`, "malloc_conf").
//
// - thp:always, metadata_thp:always: jemalloc's memory in 2 MiB transparent
//   huge pages where the kernel allows them (Debian's default is "madvise",
//   which this asks through): one page fault and one TLB entry per 2 MiB
//   instead of 512. glibc's malloc took 110,000 page faults for a 1M-event
//   append, unmapping every large block it freed and faulting it in again.
// - narenas:1: one arena for all threads. The append and replay pipelines
//   allocate on one thread and free on the other; with jemalloc's default of
//   four arenas per core, the memory one thread freed waited in its own
//   arena. Each thread keeps its cache of small blocks all the same.
// - Freed pages still go back to the kernel after jemalloc's default decay
//   (10 s), so memory stays bounded: never giving them back was a little
//   faster but made a 10M-event replay peak at 440 MiB and still rising.
//
// Measured in README.md ("Memory allocator").
#include <jemalloc/jemalloc.h>

const char* malloc_conf = "thp:always,metadata_thp:always,narenas:1";
