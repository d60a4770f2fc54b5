#include "cli/commands.h"

#include <fcntl.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>

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

void WriteOut(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

int CannotRun(const std::string& message) {
  std::fprintf(stderr, "ledger: %s\n", message.c_str());
  return kExitCannotRun;
}

using projections::WithProjections;

Result<std::unique_ptr<Ledger>> OpenLedger(const GlobalOptions& global, bool create_if_missing) {
  LedgerOptions options;
  options.store.path = global.db;
  options.store.create_if_missing = create_if_missing;
  return Ledger::Open(WithProjections(std::move(options)));
}

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

// Lines gathered for one AppendBatch call, copied so the reader can move on.
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

  // Appends the batch and prints its results. False when the ledger failed.
  bool Flush(Ledger& ledger, const std::string* file, bool* any_rejected) {
    if (empty()) return true;
    std::vector<std::string_view> lines;
    lines.reserve(offsets_.size());
    for (const auto& [offset, size] : offsets_) lines.emplace_back(arena_.data() + offset, size);
    const Status status = ledger.AppendBatch(lines, &results_);
    if (!status.ok()) {
      std::fprintf(stderr, "ledger: append failed at line %llu, nothing from there on was stored: %s\n",
                   static_cast<unsigned long long>(line_numbers_.front()), status.ToString().c_str());
      return false;
    }
    output_.clear();
    for (size_t i = 0; i < results_.size(); ++i) {
      WriteAppendResult(results_[i], line_numbers_[i], file, &output_);
      *any_rejected = *any_rejected || results_[i].outcome == AppendResult::Outcome::kRejected;
    }
    WriteOut(output_);
    arena_.clear();
    offsets_.clear();
    line_numbers_.clear();
    return true;
  }

 private:
  std::string arena_;
  std::vector<std::pair<size_t, size_t>> offsets_;
  std::vector<uint64_t> line_numbers_;
  std::vector<AppendResult> results_;
  std::string output_;
};

// Appends every line of one input. False when the command must stop.
bool AppendInput(Ledger& ledger, int fd, const std::string* file, bool* any_rejected) {
  LineReader reader(fd);
  PendingBatch batch;
  while (true) {
    // Answer what was read before waiting for more input.
    if (reader.WouldRead() && !batch.Flush(ledger, file, any_rejected)) return false;
    std::string_view line;
    uint64_t line_number = 0;
    Result<bool> more = reader.Next(&line, &line_number);
    if (!more.ok()) {
      CannotRun((file ? *file : std::string("stdin")) + ": " + more.status().message());
      return false;
    }
    if (!*more) break;
    if (IsBlank(line)) continue;  // keeps its line number, gets no result
    batch.Add(line, line_number);
    if (batch.full() && !batch.Flush(ledger, file, any_rejected)) return false;
  }
  return batch.Flush(ledger, file, any_rejected);
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
  Result<std::unique_ptr<Ledger>> ledger = Ledger::Open(WithProjections(std::move(options)));
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

int RunAppend(const GlobalOptions& global, const std::vector<std::string>& files) {
  // Open every input before appending anything: an unreadable file stops
  // the command before it stores a single event.
  std::vector<int> fds;
  for (const std::string& file : files) {
    const int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      for (int open_fd : fds) close(open_fd);
      return CannotRun("cannot read " + file + ": " + std::strerror(errno));
    }
    fds.push_back(fd);
  }
  Result<std::unique_ptr<Ledger>> ledger = OpenLedger(global, /*create_if_missing=*/true);
  if (!ledger.ok()) return CannotRun(ledger.status().ToString());
  bool any_rejected = false;
  bool ran = true;
  if (files.empty()) {
    ran = AppendInput(**ledger, STDIN_FILENO, nullptr, &any_rejected);
  }
  for (size_t i = 0; i < files.size() && ran; ++i) {
    // With several files each result names its file; line numbers count per file.
    ran = AppendInput(**ledger, fds[i], files.size() > 1 ? &files[i] : nullptr, &any_rejected);
  }
  for (int fd : fds) close(fd);
  if (!ran) return kExitCannotRun;
  return any_rejected ? kExitRejected : kExitOk;
}

int RunEvents(const GlobalOptions& global, const EventsOptions& options) {
  Result<std::unique_ptr<Ledger>> ledger = OpenLedger(global, /*create_if_missing=*/false);
  if (!ledger.ok()) return CannotRun(ledger.status().ToString());
  const BillingZone zone = (*ledger)->zone();
  std::string out;
  const auto print = [&](const Envelope& envelope) {
    JsonWriter w(&out);
    WriteEventJson(envelope, zone, &w);
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
  return kExitOk;
}

namespace {

std::optional<OutputFormat> ParseFormat(const std::string& format) {
  if (format == "text") return OutputFormat::kText;
  if (format == "json") return OutputFormat::kJson;
  if (format == "csv") return OutputFormat::kCsv;
  return std::nullopt;
}

// An open ledger and the projections a query reads: the committed ones, or,
// with --as-of-seq, the account's as they stood then.
struct QueryContext {
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<projections::CommittedProjections> committed;
  std::unique_ptr<projections::HistoricalProjections> historical;
  OutputFormat format = OutputFormat::kText;

  projections::ProjectionReaders readers() const {
    return historical ? historical->readers() : committed->readers();
  }
  BillingZone zone() const { return ledger->zone(); }
};

// Opens the ledger for a query; on failure prints why and returns nullopt.
std::optional<QueryContext> OpenForQuery(const GlobalOptions& global, const QueryOptions& query) {
  QueryContext context;
  const std::optional<OutputFormat> format = ParseFormat(query.format);
  if (!format) {
    CannotRun("--format must be text, json or csv");
    return std::nullopt;
  }
  context.format = *format;
  Result<std::unique_ptr<Ledger>> ledger = OpenLedger(global, /*create_if_missing=*/false);
  if (!ledger.ok()) {
    CannotRun(ledger.status().ToString());
    return std::nullopt;
  }
  context.ledger = std::move(*ledger);
  if (query.as_of_seq) {
    const uint64_t head = context.ledger->head().seq;
    if (*query.as_of_seq > head) {
      CannotRun("--as-of-seq " + std::to_string(*query.as_of_seq) + " is after the last event (" +
                std::to_string(head) + ")");
      return std::nullopt;
    }
    Result<std::unique_ptr<projections::HistoricalProjections>> historical =
        projections::HistoricalProjections::Build(context.ledger->store(), query.account,
                                                  *query.as_of_seq);
    if (!historical.ok()) {
      CannotRun(historical.status().ToString());
      return std::nullopt;
    }
    context.historical = std::move(*historical);
  } else {
    context.committed = std::make_unique<projections::CommittedProjections>(context.ledger->store());
  }
  return context;
}

std::optional<int64_t> ParseTimeArgument(const std::string& name, const std::string& text) {
  const std::optional<int64_t> time_s = ParseRfc3339_s(text);
  if (!time_s) {
    CannotRun(name + " must be RFC 3339 with an offset, e.g. 2026-04-02T09:00:00+08:00");
  }
  return time_s;
}

// Prints a query's result, or explains a missing account or a failure.
template <typename T>
int Finish(const Result<std::optional<T>>& result, const std::string& account,
           const std::function<std::string(const T&)>& render) {
  if (!result.ok()) return CannotRun(result.status().ToString());
  if (!*result) return CannotRun("no account " + account);
  WriteOut(render(**result));
  return kExitOk;
}

}  // namespace

int RunInvoice(const GlobalOptions& global, const QueryOptions& query, const std::string& period_text) {
  const std::optional<Period> period = ParsePeriod(period_text);
  if (!period) return CannotRun("--period must be YYYY-MM");
  std::optional<QueryContext> context = OpenForQuery(global, query);
  if (!context) return kExitCannotRun;
  return Finish<projections::Invoice>(
      projections::ReadInvoice(context->readers(), query.account, *period), query.account,
      [&](const projections::Invoice& invoice) {
        return RenderInvoice(invoice, context->zone(), context->format);
      });
}

int RunInvoices(const GlobalOptions& global, const QueryOptions& query) {
  std::optional<QueryContext> context = OpenForQuery(global, query);
  if (!context) return kExitCannotRun;
  return Finish<projections::InvoiceList>(
      projections::ListInvoices(context->readers(), query.account), query.account,
      [&](const projections::InvoiceList& list) {
        return RenderInvoiceList(query.account, list, context->format);
      });
}

int RunSubscriptions(const GlobalOptions& global, const QueryOptions& query,
                     const std::optional<std::string>& at) {
  int64_t at_s = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  if (at) {
    const std::optional<int64_t> parsed = ParseTimeArgument("--at", *at);
    if (!parsed) return kExitCannotRun;
    at_s = *parsed;
  }
  std::optional<QueryContext> context = OpenForQuery(global, query);
  if (!context) return kExitCannotRun;
  return Finish<std::vector<projections::SubscriptionRow>>(
      projections::ReadSubscriptions(context->readers(), query.account, at_s), query.account,
      [&](const std::vector<projections::SubscriptionRow>& rows) {
        return RenderSubscriptions(rows, context->zone(), context->format);
      });
}

int RunUsage(const GlobalOptions& global, const QueryOptions& query,
             const std::optional<std::string>& resource, const std::string& from,
             const std::string& to) {
  const std::optional<int64_t> from_s = ParseTimeArgument("--from", from);
  if (!from_s) return kExitCannotRun;
  const std::optional<int64_t> to_s = ParseTimeArgument("--to", to);
  if (!to_s) return kExitCannotRun;
  std::optional<QueryContext> context = OpenForQuery(global, query);
  if (!context) return kExitCannotRun;
  return Finish<std::vector<projections::UsageRow>>(
      projections::ReadUsage(context->readers(), query.account, resource, *from_s, *to_s),
      query.account, [&](const std::vector<projections::UsageRow>& rows) {
        return RenderUsage(rows, context->zone(), context->format);
      });
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

  const projections::CommittedProjections committed((*ledger)->store());
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
  append->add_option("files", files, "JSON Lines files");

  EventsOptions events_options;
  CLI::App* events = app.add_subcommand(
      "events", "stored events as JSON Lines with seq, recorded_at, prev_hash and hash");
  events->add_option("--account", events_options.account, "only this account's events");
  events->add_option("--from-seq", events_options.from_seq, "first sequence number")
      ->check(CLI::PositiveNumber);
  events->add_option("--to-seq", events_options.to_seq, "last sequence number")
      ->check(CLI::PositiveNumber);

  // The queries.
  QueryOptions query;
  const auto add_query_options = [&query](CLI::App* command) {
    command->add_option("--account", query.account, "the account")->required();
    command->add_option("--format", query.format, "text, json or csv")
        ->check(CLI::IsMember({"text", "json", "csv"}))
        ->capture_default_str();
  };
  const auto add_as_of = [&query](CLI::App* command) {
    command->add_option("--as-of-seq", query.as_of_seq,
                        "answer as the ledger stood when event N was the last stored")
        ->check(CLI::PositiveNumber);
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
  if (*append) return RunAppend(global, files);
  if (*events) return RunEvents(global, events_options);
  if (*demo) return RunDemo(global, demo_format);
  if (*invoice) return RunInvoice(global, query, period);
  if (*invoices) return RunInvoices(global, query);
  if (*subscriptions) return RunSubscriptions(global, query, at);
  if (*usage) return RunUsage(global, query, resource, from, to);
  return kExitCannotRun;
}

}  // namespace ledger::cli
