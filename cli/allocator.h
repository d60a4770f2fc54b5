// The allocator the ledger's programs run on (cli/allocator.cc).
#pragma once

#include <string>

namespace ledger::cli {

// "jemalloc " and the version of the jemalloc that runs, as it reports it.
std::string AllocatorName();

}  // namespace ledger::cli
