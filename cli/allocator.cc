// The ledger's programs, `ledger` and `ledger_bench`, allocate through
// jemalloc (libjemalloc-dev); the sanitizer and fuzz builds do not link it,
// as their sanitizers bring their own malloc. Test binaries stay on the C
// library's malloc. jemalloc reads `malloc_conf` at its first allocation:
// its documented way for a program to configure it (`man jemalloc`).
//
// - thp:always, metadata_thp:always: jemalloc's memory in 2 MiB transparent
//   huge pages where the kernel allows them (its mode "madvise", as on the
//   project's machine, is what this asks through): one page fault per 2 MiB
//   instead of 512. glibc's malloc took 110,000 page faults for a 1M-event
//   append, unmapping the large blocks it freed and faulting them in again;
//   these settings take 6,800 to 9,700 (3,700 to 4,400 for a replay).
// - narenas:1: one arena for all threads instead of four per core. Measured:
//   a 1M-event append took 4.4 to 4.5 s with it against 4.7 to 4.8 s
//   without, and a 10M-event replay peaked at 438 MB against 484 MB (with
//   freed pages kept, below).
// - Freed pages still go back to the kernel after jemalloc's default decay
//   (10 s), so memory stays bounded: keeping them (dirty_decay_ms:-1) was a
//   little faster, but a 10M-event replay then peaked at 440 MiB and was
//   still rising.
//
// Measured in README.md, "Memory allocator".
#include "cli/allocator.h"

#include <jemalloc/jemalloc.h>

const char* malloc_conf = "thp:always,metadata_thp:always,narenas:1";

namespace ledger::cli {

std::string AllocatorName() {
  const char* version = nullptr;
  size_t size = sizeof(version);
  if (mallctl("version", &version, &size, nullptr, 0) != 0 || version == nullptr) {
    return "jemalloc (version unknown)";
  }
  return std::string("jemalloc ") + version;
}

}  // namespace ledger::cli
