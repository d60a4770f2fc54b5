#include <chrono>
#include <functional>
#include <memory>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/query_output.h"
#include "projections/projection_set.h"
#include "projections/queries.h"

namespace ledger::cli {

namespace {

std::optional<int64_t> ParseTimeArgument(const std::string& name, const std::string& text) {
  const std::optional<int64_t> time_s = ParseRfc3339_s(text);
  if (!time_s) {
    CannotRun(name + " must be RFC 3339 with an offset, e.g. 2026-04-02T09:00:00+08:00");
  }
  return time_s;
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
  Result<std::unique_ptr<Ledger>> ledger = OpenLedgerToRead(global);
  if (!ledger.ok()) {
    CannotRun(ledger.status().ToString());
    return std::nullopt;
  }
  context.ledger = std::move(*ledger);
  std::optional<uint64_t> as_of_seq = query.as_of_seq;
  if (query.as_of) {
    if (as_of_seq) {
      CannotRun("give --as-of-seq or --as-of, not both");
      return std::nullopt;
    }
    const std::optional<int64_t> as_of_s = ParseTimeArgument("--as-of", *query.as_of);
    if (!as_of_s) return std::nullopt;
    // Everything recorded within that second, or before it.
    Result<uint64_t> seq = context.ledger->store().LastSeqRecordedBy(*as_of_s * 1'000'000 + 999'999);
    if (!seq.ok()) {
      CannotRun(seq.status().ToString());
      return std::nullopt;
    }
    as_of_seq = *seq;
  }
  if (as_of_seq) {
    const uint64_t head = context.ledger->head().seq;
    if (*as_of_seq > head) {
      CannotRun("--as-of-seq " + std::to_string(*as_of_seq) + " is after the last event (" +
                std::to_string(head) + ")");
      return std::nullopt;
    }
    Result<std::unique_ptr<projections::HistoricalProjections>> historical =
        projections::HistoricalProjections::Build(context.ledger->store(), query.account,
                                                  *as_of_seq);
    if (!historical.ok()) {
      CannotRun(historical.status().ToString());
      return std::nullopt;
    }
    context.historical = std::move(*historical);
  } else {
    Result<std::unique_ptr<projections::CommittedProjections>> committed =
        projections::CommittedProjections::Open(context.ledger->store());
    if (!committed.ok()) {
      CannotRun(committed.status().ToString());
      return std::nullopt;
    }
    context.committed = std::move(*committed);
  }
  return context;
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
  if (*from_s >= *to_s) return CannotRun("--from " + from + " is not before --to " + to);
  std::optional<QueryContext> context = OpenForQuery(global, query);
  if (!context) return kExitCannotRun;
  return Finish<std::vector<projections::UsageRow>>(
      projections::ReadUsage(context->readers(), query.account, resource, *from_s, *to_s),
      query.account, [&](const std::vector<projections::UsageRow>& rows) {
        return RenderUsage(rows, context->zone(), context->format);
      });
}

}  // namespace ledger::cli
