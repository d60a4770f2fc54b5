// The allocator settings of the ledger's programs, `ledger` and
// `ledger_bench` (jemalloc's `malloc_conf`, set in cli/allocator.cc), and
// the name of the allocator that runs.
#pragma once

#include <string>

namespace ledger::cli {

// `ledger`'s settings (why each: cli/allocator.cc).
inline constexpr const char* kLedgerMallocConf = "thp:never,narenas:1,muzzy_decay_ms:10000";
// ledger_bench's: the same, but in transparent huge pages (its metadata
// too), as `ledger` was until the nineteenth session. Its in-process
// stages hold the whole generated stream in memory (220 MB of JSON and the
// typed events at 1M events), where huge pages save TLB misses: its floors
// as a pipeline ran at 385,000 to 418,000 events/s with them, 307,000 to
// 315,000 without (five runs). The `ledger` it starts keeps its own.
inline constexpr const char* kBenchMallocConf =
    "thp:always,metadata_thp:always,narenas:1,muzzy_decay_ms:10000";

// "jemalloc ", the version of the jemalloc that runs, and the settings
// this program asked for.
std::string AllocatorName();

}  // namespace ledger::cli
