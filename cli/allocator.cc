// The ledger's programs, `ledger` and `ledger_bench`, allocate through
// jemalloc (libjemalloc-dev), each with its settings from cli/allocator.h:
// ledger_bench's object is built with LEDGER_ALLOCATOR_FOR_BENCH=1 and
// asks for huge pages, `ledger`'s does not. The sanitizer and fuzz builds
// do not link it, as their sanitizers bring their own malloc. Test
// binaries stay on the C library's malloc. jemalloc reads `malloc_conf` at
// its first allocation: its documented way for a program to configure it
// (`man jemalloc`).
//
// - thp:never: 4 KiB pages, never 2 MiB transparent huge pages, whatever
//   the kernel's mode. A huge page is zeroed whole at its first touch, which
//   is dear on this VM: asking for them (thp:always, until the nineteenth
//   session) put 7.7% of a 1M append's samples and 11% of a replay's in the
//   kernel's page clearing. Without them both ran about 4% faster in
//   interleaved pairs, at about a tenth less peak RSS (bench/HISTORY.md).
// - narenas:1: one arena for all threads instead of four per core. Measured:
//   a 1M-event append took 4.4 to 4.5 s with it against 4.7 to 4.8 s
//   without, and a 10M-event replay peaked at 438 MB against 484 MB (with
//   freed pages kept, below).
// - Freed pages still go back to the kernel, after jemalloc's default
//   decay (10 s) and then the one below, so memory stays bounded: keeping
//   them (dirty_decay_ms:-1) was a little faster, but a 10M-event replay
//   then peaked at 440 MiB and was still rising.
// - muzzy_decay_ms:10000: decayed pages leave through MADV_FREE first,
//   which the kernel takes back only when it needs the memory (until then
//   they count in RSS), and through MADV_DONTNEED 10 s later, instead of
//   straight through MADV_DONTNEED (jemalloc's default, muzzy_decay_ms:0),
//   after which every page used again is faulted and zeroed again. A first
//   touch is dear on this VM: a perf profile of a 1M-event append put 8%
//   of its samples in the kernel's page clearing. Five interleaved pairs of
//   1M appends: 4.51 to 6.19 s → 4.31 to 6.00 s (each pair faster, by 0.16
//   to 0.39 s; CPU 8.9 → 8.5 s mean); peak RSS unchanged (261 to 271 MiB).
//   A 10M-event replay: peak 352 to 354 → 354 to 360 MiB, flat, 40 → 35 s.
//
// Measured in bench/HISTORY.md, "Memory allocator" (summed up in README.md).
#include "cli/allocator.h"

#include <jemalloc/jemalloc.h>

#if LEDGER_ALLOCATOR_FOR_BENCH
const char* malloc_conf = ledger::cli::kBenchMallocConf;
#else
const char* malloc_conf = ledger::cli::kLedgerMallocConf;
#endif

namespace ledger::cli {

std::string AllocatorName() {
  const char* version = nullptr;
  size_t size = sizeof(version);
  if (mallctl("version", &version, &size, nullptr, 0) != 0 || version == nullptr) {
    return "jemalloc (version unknown)";
  }
  return std::string("jemalloc ") + version + " (" + malloc_conf + ")";
}

}  // namespace ledger::cli
