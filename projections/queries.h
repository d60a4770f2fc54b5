// The read side: invoices, subscriptions and hourly usage as plain structs,
// read from committed projections (or from projections built in memory for
// a historical query). Formatting them is the caller's business.
//
// Stateless functions; safe from any thread over thread-safe readers.

#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ledger/billing_time.h"
#include "ledger/event.h"
#include "ledger/money.h"
#include "ledger/status.h"
#include "projections/line_kind.h"
#include "projections/projection_set.h"

namespace ledger::projections {

// Every account with its currency, ordered by account id.
Result<std::vector<std::pair<std::string, std::string>>> ListAccounts(
    const ProjectionReaders& readers);

struct InvoiceLine {
  LineKind kind = LineKind::kNewPurchase;
  std::string event_id;     // charge lines
  std::string resource_id;  // resource charges and hourly usage
  std::string order_id;     // one-time purchases and SSL refunds
  int64_t charged_at_s = 0; // charge lines
  std::string description;  // charge lines
  Int128 amount_e8 = 0;  // 128 bits: an hourly_usage line sums a month of hours
  int64_t list_amount_e8 = 0;  // 0: none
  std::optional<Period> late_from;
  std::string reason;       // adjustments
  int64_t seconds = 0;      // hourly usage
};

struct Invoice {
  std::string account;
  Period period;
  std::string currency;
  int minor_digits = 2;
  bool finalized = false;
  uint64_t number = 0;  // set once finalized
  std::vector<InvoiceLine> lines;
  Int128 total_e8 = 0;  // the precise sum of the lines
};

// nullopt when the account does not exist.
Result<std::optional<Invoice>> ReadInvoice(const ProjectionReaders& readers,
                                           std::string_view account, Period period);

struct InvoiceSummary {
  Period period;
  bool finalized = false;
  uint64_t number = 0;
  size_t line_count = 0;
  Int128 total_e8 = 0;
};

struct InvoiceList {
  std::string currency;
  int minor_digits = 2;
  std::vector<InvoiceSummary> invoices;  // every period with lines or finalized, in order
};

Result<std::optional<InvoiceList>> ListInvoices(const ProjectionReaders& readers,
                                                std::string_view account);

enum class SubscriptionStatus { kActive, kExpired, kDeleted, kUnsubscribed };
std::string_view SubscriptionStatusName(SubscriptionStatus status);

struct SubscriptionRow {
  std::string resource_id;
  ResourceType resource_type = ResourceType::kPrivateCert;
  CaType ca_type = CaType::kNone;
  BillingMode billing_mode = BillingMode::kPayPerUse;
  PeriodUnit period_unit = PeriodUnit::kNone;
  int64_t start_s = 0;
  std::optional<int64_t> end_s;  // yearly_monthly only: the paid-up end at the asked time
  bool auto_renew = false;
  SubscriptionStatus status = SubscriptionStatus::kActive;
};

// The account's resources created by `at_s`, with their state at `at_s`,
// ordered by resource id.
Result<std::optional<std::vector<SubscriptionRow>>> ReadSubscriptions(
    const ProjectionReaders& readers, std::string_view account, int64_t at_s);

struct UsageRow {
  std::string resource_id;
  int64_t hour_start_s = 0;
  int64_t seconds = 0;
  int64_t price_per_hour_e10 = 0;
  int64_t amount_e8 = 0;
};

// Hours whose start lies in [from_s, to_s), ordered by resource then hour.
Result<std::optional<std::vector<UsageRow>>> ReadUsage(const ProjectionReaders& readers,
                                                       std::string_view account,
                                                       const std::optional<std::string>& resource_id,
                                                       int64_t from_s, int64_t to_s);

}  // namespace ledger::projections
