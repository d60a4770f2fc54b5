// The `ledger` command line: a thin shell over the libraries. Each Run*
// function is one subcommand; it prints its results on stdout, its errors on
// stderr, and returns the process exit status of interface.md (0 fine, 1 some
// event rejected, 2 could not run).

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ledger::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRejected = 1;
inline constexpr int kExitCannotRun = 2;

struct GlobalOptions {
  std::string db = "./ledger-data";
};

int RunInit(const GlobalOptions& global, const std::optional<std::string>& billing_offset);
// `wait_s`: how long to wait for another process holding the ledger to end.
int RunAppend(const GlobalOptions& global, const std::vector<std::string>& files, uint32_t wait_s);

struct EventsOptions {
  std::optional<std::string> account;
  uint64_t from_seq = 1;
  uint64_t to_seq = UINT64_MAX;
  bool with_bytes = false;  // add each event's stored bytes, base64
};
int RunEvents(const GlobalOptions& global, const EventsOptions& options);

struct QueryOptions {
  std::string format = "text";
  std::string account;
  std::optional<uint64_t> as_of_seq;
  std::optional<std::string> as_of;  // a recorded time, RFC 3339
};
int RunInvoice(const GlobalOptions& global, const QueryOptions& query, const std::string& period);
int RunInvoices(const GlobalOptions& global, const QueryOptions& query);
int RunSubscriptions(const GlobalOptions& global, const QueryOptions& query,
                     const std::optional<std::string>& at);
int RunUsage(const GlobalOptions& global, const QueryOptions& query,
             const std::optional<std::string>& resource, const std::string& from,
             const std::string& to);

// Rebuilds every projection from the log (replay/rebuild.h).
int RunReplay(const GlobalOptions& global, std::optional<uint64_t> to_seq, const std::string& format);
// Audits the ledger (replay/audit.h); exit 0 only when everything holds.
int RunVerify(const GlobalOptions& global, const std::optional<std::string>& digest,
              bool projections, const std::string& format);
// Prints the head "SEQ:HASH" for an auditor to keep outside the ledger.
int RunDigest(const GlobalOptions& global, const std::string& format);

// Builds the demo ledger (idempotently) and prints every account's invoices.
int RunDemo(const GlobalOptions& global, const std::string& format);

// Parses argv and runs the chosen subcommand.
int Main(int argc, char** argv);

}  // namespace ledger::cli
