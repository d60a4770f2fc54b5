#include "cli/cli_util.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <thread>

#include "projections/projection_set.h"

namespace ledger::cli {

void WriteOut(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

int CannotRun(const std::string& message) {
  std::fprintf(stderr, "ledger: %s\n", message.c_str());
  return kExitCannotRun;
}

Result<std::unique_ptr<Ledger>> OpenLedger(const GlobalOptions& global, bool create_if_missing,
                                           std::chrono::seconds wait) {
  LedgerOptions options;
  options.store.path = global.db;
  options.store.create_if_missing = create_if_missing;
  return OpenToWrite(global, projections::WithProjections(std::move(options)), wait);
}

namespace {

constexpr auto kHolderPollInterval = std::chrono::milliseconds(100);

constexpr size_t kCommandLineShownMax = 160;

// A process's command line, its arguments joined by spaces and cut at
// kCommandLineShownMax; empty if /proc does not show it.
std::string CommandLineOf(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string text(std::istreambuf_iterator<char>(file), {});
  while (!text.empty() && text.back() == '\0') text.pop_back();
  std::replace(text.begin(), text.end(), '\0', ' ');
  // Another user's arguments: no control characters reach the terminal.
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (text.size() > kCommandLineShownMax) {
    size_t cut = kCommandLineShownMax;  // not inside a UTF-8 character
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text = text.substr(0, cut) + "...";
  }
  return text;
}

// Fails, saying why (the holder's process id and command line), while
// another process has the ledger open.
Status NotOpenElsewhere(const GlobalOptions& global) {
  const std::optional<pid_t> holder = EventStore::OpenElsewhere(global.db);
  if (!holder) return Status::Ok();
  const std::string command = *holder == 0 ? "" : CommandLineOf(*holder);
  const std::string process =
      *holder == 0
          ? "another process, whose pid is not visible here (another pid namespace or host)"
          : "process " + std::to_string(*holder) + (command.empty() ? "" : ", `" + command + "`");
  return Status::IoError("the ledger at " + global.db + " is open in " + process +
                         " (an append, replay, verify or a query holds it while it runs); retry "
                         "when it ends");
}

}  // namespace

Result<std::unique_ptr<Ledger>> OpenToWrite(const GlobalOptions& global,
                                            const LedgerOptions& options,
                                            std::chrono::seconds wait) {
  if (ReadOnlyHere(global.db)) {
    return Status::InvalidArgument("this user may not write in " + global.db +
                                   ", which this command needs (the queries, digest and "
                                   "verify --skip-projections read such a ledger)");
  }
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    // Probed before the open: RocksDB's own failed open would rotate the
    // holder's info log first.
    Status held = NotOpenElsewhere(global);
    if (held.ok()) {
      Result<std::unique_ptr<Ledger>> ledger = Ledger::Open(options);
      if (ledger.ok()) return ledger;
      // Another process took the ledger between the probe and the open:
      // RocksDB's lock error, said as the probe says it (or waited out).
      held = NotOpenElsewhere(global);
      if (held.ok()) {
        // Or it took the ledger and let go again since: still a lost race.
        const bool lost_the_lock =
            ledger.status().message().find("While lock file") != std::string::npos;
        if (!lost_the_lock) return ledger;  // the open failed for a reason of its own
        held = ledger.status();
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) return held;
    std::this_thread::sleep_for(kHolderPollInterval);
  }
}

bool ReadOnlyHere(const std::string& db) {
  return access(db.c_str(), R_OK | X_OK) == 0 && access(db.c_str(), W_OK) != 0;
}

namespace {

Result<std::unique_ptr<Ledger>> OpenExisting(const GlobalOptions& global, bool with_projections,
                                             bool secondary) {
  LedgerOptions options;
  options.store.path = global.db;
  options.store.create_if_missing = false;
  options.store.secondary = secondary;
  return Ledger::Open(with_projections ? projections::WithProjections(std::move(options))
                                       : std::move(options));
}

}  // namespace

Result<std::unique_ptr<Ledger>> OpenLedgerAsSecondary(const GlobalOptions& global,
                                                      bool with_projections) {
  return OpenExisting(global, with_projections, /*secondary=*/true);
}

Result<std::unique_ptr<Ledger>> OpenLedgerToRead(const GlobalOptions& global,
                                                 bool with_projections) {
  // The primary instance writes in the folder as it opens (a new WAL and
  // MANIFEST): a folder this user may not write is read as a secondary.
  if (!ReadOnlyHere(global.db) && !EventStore::OpenElsewhere(global.db)) {
    Result<std::unique_ptr<Ledger>> primary =
        OpenExisting(global, with_projections, /*secondary=*/false);
    if (primary.ok()) return primary;
    // Taken since the probe: read beside the new holder. Or the writes of
    // the open failed (a full disk): read without writing there.
    if (!EventStore::OpenElsewhere(global.db) &&
        primary.status().code() != Status::Code::kNoSpace) {
      return primary;
    }
    Result<std::unique_ptr<Ledger>> secondary = OpenLedgerAsSecondary(global, with_projections);
    return secondary.ok() ? std::move(secondary) : std::move(primary);
  }
  return OpenLedgerAsSecondary(global, with_projections);
}

std::optional<OutputFormat> ParseFormat(const std::string& format) {
  if (format == "text") return OutputFormat::kText;
  if (format == "json") return OutputFormat::kJson;
  if (format == "csv") return OutputFormat::kCsv;
  return std::nullopt;
}

uint64_t PeakRssKib() {
  std::FILE* status = std::fopen("/proc/self/status", "r");
  if (status == nullptr) return 0;
  char line[256];
  unsigned long long kib = 0;
  while (std::fgets(line, sizeof line, status) != nullptr) {
    if (std::sscanf(line, "VmHWM: %llu kB", &kib) == 1) break;
  }
  std::fclose(status);
  return kib;
}

}  // namespace ledger::cli
