#include "cli/commands.h"

#include <fcntl.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>

#include "cli/cli_util.h"
#include "cli/demo_events.h"
#include "cli/event_json.h"
#include "cli/json_writer.h"
#include "cli/line_reader.h"
#include "cli/query_output.h"
#include "ledger/constants.h"
#include "ledger/ledger.h"
#include "projections/projection_set.h"
#include "projections/queries.h"

namespace ledger::cli {
namespace {

// Sequence numbers start at 1: CLI::PositiveNumber would accept 0.5 and
// word its refusal of 0 as a range of doubles.
const CLI::Validator kSequenceNumber(
    [](const std::string& text) -> std::string {
      if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos &&
          text.find_first_not_of('0') != std::string::npos) {
        return "";
      }
      return "a sequence number is a whole number from 1, not " + text;
    },
    "SEQ");

void WriteAppendResult(const AppendResult& result, uint64_t line_number, const std::string* file,
                       std::string* out) {
  JsonWriter w(out);
  w.BeginObject();
  if (file != nullptr) w.Field("file", *file);
  w.Field("line", line_number);
  w.Key("event_id");
  if (result.event_id) {
    w.String(*result.event_id);
  } else {
    w.Null();
  }
  switch (result.outcome) {
    case AppendResult::Outcome::kAppended:
      w.Field("status", "appended").Field("seq", result.seq);
      break;
    case AppendResult::Outcome::kDuplicate:
      w.Field("status", "duplicate").Field("seq", result.seq);
      break;
    case AppendResult::Outcome::kRejected:
      w.Field("status", "rejected").Key("error").BeginObject();
      w.Field("code", ErrorCodeName(result.error.code)).Field("message", result.error.message);
      w.EndObject();
      break;
  }
  w.EndObject();
  out->push_back('\n');
}

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// Lines gathered for one batch, copied so the reader can move on, with
// their line numbers for the results.
class PendingBatch {
 public:
  void Add(std::string_view line, uint64_t line_number) {
    offsets_.emplace_back(arena_.size(), line.size());
    arena_.append(line);
    line_numbers_.push_back(line_number);
  }
  bool full() const {
    return line_numbers_.size() >= kAppendBatchEventsMax ||
           arena_.size() >= kAppendBatchBytesMax - kLineBytesMax - 1;
  }
  bool empty() const { return line_numbers_.empty(); }
  uint64_t first_line() const { return line_numbers_.front(); }
  void Clear() {
    arena_.clear();
    offsets_.clear();
    line_numbers_.clear();
  }
  void Lines(std::vector<std::string_view>* lines) const {
    for (const auto& [offset, size] : offsets_) lines->emplace_back(arena_.data() + offset, size);
  }
  // Prints the batch's results, one JSON line each.
  void Print(std::span<const AppendResult> results, const std::string* file, bool* any_rejected) {
    output_.clear();
    for (size_t i = 0; i < results.size(); ++i) {
      WriteAppendResult(results[i], line_numbers_[i], file, &output_);
      *any_rejected = *any_rejected || results[i].outcome == AppendResult::Outcome::kRejected;
    }
    WriteOut(output_);
  }

 private:
  std::string arena_;
  std::vector<std::pair<size_t, size_t>> offsets_;
  std::vector<uint64_t> line_numbers_;
  std::string output_;
};

// Appends every line of one input. False when the command must stop.
// `name` is the input's name for messages; `file` the name results carry (set
// only when several files are given). The ledger judges a batch while the one
// before is written (Ledger::AppendStream), so two batches are held: the one
// given last and the one whose results are still to be printed.
bool AppendInput(Ledger& ledger, int fd, const std::string& name, const std::string* file,
                 bool* any_rejected) {
  LineReader reader(fd);
  PendingBatch batches[2];
  uint64_t given = 0;
  uint64_t printed = 0;
  bool read_failed = false;
  const auto source = [&](std::vector<std::string_view>* lines) {
    PendingBatch& batch = batches[given % 2];
    batch.Clear();
    // Answer what was read before waiting for more input.
    while (!batch.full() && !(reader.WouldRead() && !batch.empty())) {
      std::string_view line;
      uint64_t line_number = 0;
      Result<bool> more = reader.Next(&line, &line_number);
      if (!more.ok()) {
        CannotRun(name + ": " + more.status().message());
        read_failed = true;
        return false;
      }
      if (!*more) break;
      if (IsBlank(line)) continue;  // keeps its line number, gets no result
      batch.Add(line, line_number);
    }
    if (batch.empty()) return false;
    batch.Lines(lines);
    ++given;
    return true;
  };
  const auto committed = [&](std::span<const AppendResult> results) {
    batches[printed % 2].Print(results, file, any_rejected);
    ++printed;
  };
  const Status status = ledger.AppendStream(source, committed);
  if (!status.ok()) {
    std::fprintf(stderr, "ledger: append failed at line %llu, nothing from there on was stored: %s\n",
                 static_cast<unsigned long long>(batches[printed % 2].first_line()),
                 status.ToString().c_str());
    return false;
  }
  return !read_failed;
}

}  // namespace

int RunInit(const GlobalOptions& global, const std::optional<std::string>& billing_offset) {
  std::optional<int32_t> offset_s;
  if (billing_offset) {
    offset_s = ParseUtcOffset_s(*billing_offset);
    if (!offset_s) return CannotRun("--billing-offset must be like +08:00, -05:30 or Z");
  }
  LedgerOptions options;
  options.store.path = global.db;
  options.store.billing_offset_s = offset_s.value_or(8 * 3600);
  Result<std::unique_ptr<Ledger>> ledger =
      OpenToWrite(global, projections::WithProjections(std::move(options)));
  if (!ledger.ok()) return CannotRun(ledger.status().ToString());
  const int32_t actual_s = (*ledger)->zone().offset_s();
  if (offset_s && *offset_s != actual_s) {
    return CannotRun("the ledger at " + global.db + " bills in " + FormatUtcOffset(actual_s) +
                     "; a billing zone is fixed when the ledger is created");
  }
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Field("db", global.db).Field("billing_offset", FormatUtcOffset(actual_s));
  w.Field("head_seq", (*ledger)->head().seq).EndObject();
  out.push_back('\n');
  WriteOut(out);
  return kExitOk;
}

namespace {

constexpr std::string_view kStdinName = "-";

void CloseInputs(const std::vector<int>& fds) {
  for (int fd : fds) {
    if (fd != STDIN_FILENO) close(fd);
  }
}

}  // namespace

int RunAppend(const GlobalOptions& global, const std::vector<std::string>& files, uint32_t wait_s) {
  // Open every input before appending anything: an unreadable file stops
  // the command before it stores a single event.
  std::vector<int> fds;
  for (const std::string& file : files) {
    if (file == kStdinName) {  // as most tools read "-"
      fds.push_back(STDIN_FILENO);
      continue;
    }
    const int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat info {};
    // A folder opens read-only but cannot be read: refuse it here, before
    // anything is stored, like any other unreadable input.
    const int error = fd < 0 ? errno : fstat(fd, &info) != 0 ? errno : S_ISDIR(info.st_mode) ? EISDIR : 0;
    if (error != 0) {
      if (fd >= 0) close(fd);
      CloseInputs(fds);
      return CannotRun("cannot read " + file + ": " + std::strerror(error));
    }
    fds.push_back(fd);
  }
  Result<std::unique_ptr<Ledger>> ledger =
      OpenLedger(global, /*create_if_missing=*/true, std::chrono::seconds(wait_s));
  if (!ledger.ok()) return CannotRun(ledger.status().ToString());
  bool any_rejected = false;
  bool ran = true;
  if (files.empty()) {
    ran = AppendInput(**ledger, STDIN_FILENO, "stdin", nullptr, &any_rejected);
  }
  for (size_t i = 0; i < files.size() && ran; ++i) {
    // With several files each result names its file; line numbers count per file.
    ran = AppendInput(**ledger, fds[i], files[i], files.size() > 1 ? &files[i] : nullptr,
                      &any_rejected);
  }
  CloseInputs(fds);
  // What was appended is durable in the WAL already; flushing it now, while
  // it is in memory, costs less than the WAL replay the next command's open
  // would do (measured after 1,000,000 events: +0.75 s here, -2.6 s there).
  if (const Status flushed = (*ledger)->store().FlushMemtablesOver(kFlushAtExitBytesMin);
      !flushed.ok()) {
    spdlog::warn("appended events stay in the write-ahead log only: {}", flushed.ToString());
  }
  if (!ran) return kExitCannotRun;
  return any_rejected ? kExitRejected : kExitOk;
}

int RunEvents(const GlobalOptions& global, const EventsOptions& options) {
  if (options.from_seq > options.to_seq) {
    return CannotRun("--from-seq " + std::to_string(options.from_seq) + " is after --to-seq " +
                     std::to_string(options.to_seq));
  }
  Result<std::unique_ptr<Ledger>> ledger = OpenLedgerToRead(global);
  if (!ledger.ok()) return CannotRun(ledger.status().ToString());
  const BillingZone zone = (*ledger)->zone();
  std::string out;
  std::string stored_value;
  Status read;
  const auto print = [&](const Envelope& envelope) {
    JsonWriter w(&out);
    if (options.with_bytes) {
      read = (*ledger)->store().ReadRawEvent(envelope.seq, &stored_value);
      if (!read.ok()) return false;
    }
    WriteEventJson(envelope, zone, options.with_bytes ? &stored_value : nullptr, &w);
    out.push_back('\n');
    if (out.size() > (1 << 20)) {
      WriteOut(out);
      out.clear();
    }
    return true;
  };
  const EventStore& store = (*ledger)->store();
  const Status status =
      options.account
          ? store.ScanAccountEvents(*options.account, options.from_seq, options.to_seq, print)
          : store.ScanEvents(options.from_seq, options.to_seq, print);
  WriteOut(out);
  if (!status.ok()) return CannotRun(status.ToString());
  if (!read.ok()) return CannotRun(read.ToString());
  return kExitOk;
}

int RunDemo(const GlobalOptions& global, const std::string& format_text) {
  const std::optional<OutputFormat> format = ParseFormat(format_text);
  if (!format) return CannotRun("--format must be text, json or csv");
  Result<std::unique_ptr<Ledger>> ledger = OpenLedger(global, /*create_if_missing=*/true);
  if (!ledger.ok()) return CannotRun(ledger.status().ToString());

  std::vector<std::string_view> lines;
  for (size_t start = 0; start < kDemoEvents.size();) {
    const size_t end = std::min(kDemoEvents.find('\n', start), kDemoEvents.size());
    if (end > start) lines.push_back(kDemoEvents.substr(start, end - start));
    start = end + 1;
  }
  std::vector<AppendResult> results;
  const Status status = (*ledger)->AppendBatch(lines, &results);
  if (!status.ok()) return CannotRun(status.ToString());
  size_t appended = 0;
  size_t duplicates = 0;
  std::string rejected;
  for (const AppendResult& result : results) {
    appended += result.outcome == AppendResult::Outcome::kAppended;
    duplicates += result.outcome == AppendResult::Outcome::kDuplicate;
    if (result.outcome == AppendResult::Outcome::kRejected) {
      rejected += "\n  " + result.event_id.value_or("(no id)") + ": " +
                  std::string(ErrorCodeName(result.error.code)) + " (" + result.error.message + ")";
    }
  }
  // The summary goes with the invoices for a person; machine formats keep
  // stdout to the invoices alone.
  char summary[256];
  std::snprintf(summary, sizeof summary,
                "demo ledger in %s: %zu events appended, %zu already there (duplicate), %zu "
                "rejected on purpose:",
                global.db.c_str(), appended, duplicates,
                static_cast<size_t>(std::count(rejected.begin(), rejected.end(), '\n')));
  const std::string summary_text = summary + rejected + "\n\n";
  if (*format == OutputFormat::kText) {
    WriteOut(summary_text);
  } else {
    std::fputs(summary_text.c_str(), stderr);
  }

  Result<std::unique_ptr<projections::CommittedProjections>> opened =
      projections::CommittedProjections::Open((*ledger)->store());
  if (!opened.ok()) return CannotRun(opened.status().ToString());
  const projections::CommittedProjections& committed = **opened;
  Result<std::vector<std::pair<std::string, std::string>>> accounts =
      projections::ListAccounts(committed.readers());
  if (!accounts.ok()) return CannotRun(accounts.status().ToString());
  std::string out;
  for (const auto& [account, currency] : *accounts) {
    Result<std::optional<projections::InvoiceList>> list =
        projections::ListInvoices(committed.readers(), account);
    if (!list.ok()) return CannotRun(list.status().ToString());
    for (const projections::InvoiceSummary& summary : (*list)->invoices) {
      Result<std::optional<projections::Invoice>> invoice =
          projections::ReadInvoice(committed.readers(), account, summary.period);
      if (!invoice.ok()) return CannotRun(invoice.status().ToString());
      out += RenderInvoice(**invoice, (*ledger)->zone(), *format);
      if (*format == OutputFormat::kText) out += "\n";
    }
  }
  WriteOut(out);
  return kExitOk;
}

int Main(int argc, char** argv) {
  StopRocksPerfCounters();  // for every command's own thread
  CLI::App app{"ledger: an event-sourced billing ledger for Cloud Certificate Manager"};
  app.require_subcommand(1);
  app.fallthrough();
  GlobalOptions global;
  bool verbose = false;
  app.add_option("--db", global.db, "the ledger's data folder")->capture_default_str();
  app.add_flag("-v,--verbose", verbose, "log what the ledger does on stderr");

  std::optional<std::string> billing_offset;
  CLI::App* init = app.add_subcommand("init", "create a ledger with its billing time zone");
  init->add_option("--billing-offset", billing_offset,
                   "UTC offset of the billing zone, fixed forever (default +08:00)");

  std::vector<std::string> files;
  CLI::App* append = app.add_subcommand(
      "append", "append JSON Lines events (stdin when no file); one result line per event");
  append->add_option("files", files, "JSON Lines files (- or none: stdin)");
  uint32_t append_wait_s = 0;
  append
      ->add_option("--wait-seconds", append_wait_s,
                   "while another process holds the ledger (a query, an append), wait up to "
                   "this long for it to end instead of refusing at once")
      ->check(CLI::Range(0, 86'400))
      ->capture_default_str();

  EventsOptions events_options;
  CLI::App* events = app.add_subcommand(
      "events", "stored events as JSON Lines with seq, recorded_at, prev_hash and hash");
  events->add_option("--account", events_options.account, "only this account's events");
  events->add_option("--from-seq", events_options.from_seq, "first sequence number")
      ->check(kSequenceNumber);
  events->add_option("--to-seq", events_options.to_seq, "last sequence number")
      ->check(kSequenceNumber);
  events->add_flag("--with-bytes", events_options.with_bytes,
                   "add each event's stored bytes (base64), to re-verify its hash independently");

  std::optional<uint64_t> replay_to_seq;
  std::string replay_format = "text";
  CLI::App* replay = app.add_subcommand(
      "replay", "rebuild every projection from the event log and swap them in atomically");
  replay
      ->add_option("--to-seq", replay_to_seq,
                   "rebuild up to event N only and report the digests (not installed)")
      ->check(kSequenceNumber);
  replay->add_option("--format", replay_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  std::optional<std::string> verify_digest;
  bool verify_skip_projections = false;
  std::string verify_format = "text";
  CLI::App* verify = app.add_subcommand(
      "verify", "check the hash chain, the indexes and that every projection equals a replay");
  verify->add_option("--digest", verify_digest,
                     "SEQ:HASH from an earlier `ledger digest`: prove the first SEQ events are "
                     "the ones it was taken over");
  verify->add_flag("--skip-projections", verify_skip_projections,
                   "check the log and its indexes only");
  verify->add_option("--format", verify_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  std::string digest_format = "text";
  CLI::App* digest = app.add_subcommand(
      "digest", "print the head SEQ:HASH, for an auditor to keep outside the ledger");
  digest->add_option("--format", digest_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  // The queries.
  QueryOptions query;
  const auto add_query_options = [&query](CLI::App* command) {
    command->add_option("--account", query.account, "the account")->required();
    command->add_option("--format", query.format, "text, json or csv")
        ->check(CLI::IsMember({"text", "json", "csv"}))
        ->capture_default_str();
  };
  const auto add_as_of = [&query](CLI::App* command) {
    command
        ->add_option("--as-of-seq", query.as_of_seq,
                     "answer as the ledger stood when event N was the last stored")
        ->check(kSequenceNumber);
    command->add_option("--as-of", query.as_of,
                        "answer as the ledger stood at this recorded time (RFC 3339)");
  };
  std::string period;
  CLI::App* invoice = app.add_subcommand("invoice", "one invoice of an account");
  add_query_options(invoice);
  invoice->add_option("--period", period, "the billing month, YYYY-MM")->required();
  add_as_of(invoice);
  CLI::App* invoices = app.add_subcommand("invoices", "the account's invoices, one row each");
  add_query_options(invoices);
  add_as_of(invoices);
  std::optional<std::string> at;
  CLI::App* subscriptions =
      app.add_subcommand("subscriptions", "subscriptions and their state at a time");
  add_query_options(subscriptions);
  subscriptions->add_option("--at", at, "the time (RFC 3339); default now");
  add_as_of(subscriptions);
  std::optional<std::string> resource;
  std::string from;
  std::string to;
  CLI::App* usage = app.add_subcommand("usage", "hourly pay-per-use totals");
  add_query_options(usage);
  usage->add_option("--resource", resource, "only this resource");
  usage->add_option("--from", from, "first hour start (RFC 3339)")->required();
  usage->add_option("--to", to, "end of the range, exclusive (RFC 3339)")->required();
  add_as_of(usage);

  std::string demo_format = "text";
  CLI::App* demo = app.add_subcommand(
      "demo", "build a demo CCM ledger (idempotent) and print every account's invoices");
  demo->add_option("--format", demo_format, "text, json or csv")
      ->check(CLI::IsMember({"text", "json", "csv"}))
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitCannotRun;
  }

  auto logger = spdlog::stderr_logger_mt("ledger");
  spdlog::set_default_logger(logger);
  spdlog::set_level(verbose ? spdlog::level::info : spdlog::level::warn);

  if (*init) return RunInit(global, billing_offset);
  if (*append) return RunAppend(global, files, append_wait_s);
  if (*events) return RunEvents(global, events_options);
  if (*demo) return RunDemo(global, demo_format);
  if (*replay) return RunReplay(global, replay_to_seq, replay_format);
  if (*verify) return RunVerify(global, verify_digest, !verify_skip_projections, verify_format);
  if (*digest) return RunDigest(global, digest_format);
  if (*invoice) return RunInvoice(global, query, period);
  if (*invoices) return RunInvoices(global, query);
  if (*subscriptions) return RunSubscriptions(global, query, at);
  if (*usage) return RunUsage(global, query, resource, from, to);
  return kExitCannotRun;
}

}  // namespace ledger::cli
