// A deterministic, realistic CCM event stream for benchmarks and property
// tests: a price catalog, N accounts in several currencies, SSL purchases,
// pay-per-use private CAs and certificates reporting usage every few minutes,
// monthly private CAs that renew, unsubscriptions, deletions and finalized
// months. The same seed and sizes always give the same lines.
//
// Not thread-safe.

#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>

#include "ledger/event_decoder.h"
#include "ledger/json_input.h"

namespace ledger::bench {

struct WorkloadOptions {
  uint64_t seed = 1;
  uint64_t events = 100'000;  // stop after this many lines
  uint32_t accounts = 100;
  uint32_t certs_per_account = 4;   // pay-per-use private certificates
  int64_t tick_s = 300;             // usage tick length: every five minutes
  int64_t start_s = 1'767'196'800;  // 2026-01-01T00:00:00+08:00
};

// Calls `emit` with each JSON line (no newline), in order, until
// options.events lines were emitted.
void GenerateWorkload(const WorkloadOptions& options,
                      const std::function<void(const std::string&)>& emit);

// A JSON line to the typed event it stands for, as the ledger decodes it
// before its rules: how the benchmark and the tests build typed events from
// generated lines. One per thread.
class LineDecoder {
 public:
  // False when the line is rejected before any ledger state is looked at.
  bool Decode(std::string_view line, IncomingEvent* event);

 private:
  JsonLineParser parser_;
  ParsedLine parsed_;
};

}  // namespace ledger::bench
