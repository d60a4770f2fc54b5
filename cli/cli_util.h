// What every `ledger` subcommand shares: printing, failing with exit status
// 2, opening the ledger with its projections, and the output formats.

#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/query_output.h"
#include "ledger/ledger.h"

namespace ledger::cli {

// Writes `text` to stdout and flushes it.
void WriteOut(const std::string& text);
// Prints "ledger: message" on stderr; returns kExitCannotRun.
int CannotRun(const std::string& message);
// Opens the ledger at --db for a command that may write (append, init,
// replay, verify). While another process has it open, waits up to `wait`
// for it to let go, then fails saying who holds it (its process id and
// command line); so too when a process takes the ledger between the check
// and the open.
Result<std::unique_ptr<Ledger>> OpenToWrite(const GlobalOptions& global,
                                            const LedgerOptions& options,
                                            std::chrono::seconds wait = std::chrono::seconds(0));
// OpenToWrite with the ledger's projections attached.
Result<std::unique_ptr<Ledger>> OpenLedger(const GlobalOptions& global, bool create_if_missing,
                                           std::chrono::seconds wait = std::chrono::seconds(0));
// Whether this user may read the folder `db` but not write in it (a
// read-only snapshot or mount); false when it is missing or closed to them.
bool ReadOnlyHere(const std::string& db);
// Opens the ledger for reading. While another process has it open (an
// append running), or this user may not write in its folder, or the disk is
// too full for the open's own writes, reads it as a RocksDB secondary
// instance, as of this open: every batch in its log then
// (StoreOptions::secondary). Without the projections: the store alone.
Result<std::unique_ptr<Ledger>> OpenLedgerToRead(const GlobalOptions& global,
                                                 bool with_projections = true);
// Always as a secondary instance.
Result<std::unique_ptr<Ledger>> OpenLedgerAsSecondary(const GlobalOptions& global,
                                                      bool with_projections);
std::optional<OutputFormat> ParseFormat(const std::string& format);
// This process's peak resident memory in KiB (VmHWM of /proc/self/status:
// its own address space, unlike getrusage's ru_maxrss, which also counts
// the spawning parent's pages before exec), 0 when unknown.
uint64_t PeakRssKib();

}  // namespace ledger::cli
