#include "projections/queries.h"

#include <algorithm>

#include "ledger/cereal_io.h"
#include "projections/internal/records.h"

namespace ledger::projections {
namespace {

using internal::ChargeLine;

std::optional<Period> LateFrom(uint32_t late_from) {
  if (late_from == 0) return std::nullopt;
  return Period::FromIndex(static_cast<int32_t>(late_from - 1));
}

// The account's currency, or nullopt when the account does not exist.
Result<std::optional<Currency>> AccountCurrency(const ProjectionReaders& readers,
                                                std::string_view account) {
  std::string value;
  bool found = false;
  LEDGER_RETURN_IF_ERROR(readers.invoices->Get(internal::AccountKey(account), &value, &found));
  if (!found) return std::optional<Currency>();
  const std::optional<Currency> currency = FindCurrency(value);
  if (!currency) return Status::Corruption("account " + std::string(account) + " has currency " + value);
  return currency;
}

Status ReadChargeLines(const KvReader& reader, const std::string& prefix,
                       std::vector<InvoiceLine>* lines) {
  Status decoded;
  LEDGER_RETURN_IF_ERROR(reader.Scan(prefix, internal::PrefixEnd(prefix),
                                     [&](std::string_view, std::string_view value) {
    ChargeLine record;
    decoded = DecodeCereal(value, &record);
    if (!decoded.ok()) return false;
    InvoiceLine& line = lines->emplace_back();
    line.kind = record.kind;
    line.event_id = std::move(record.event_id);
    line.resource_id = std::move(record.resource_id);
    line.order_id = std::move(record.order_id);
    line.charged_at_s = record.charged_at_s;
    line.description = std::move(record.description);
    line.amount_e8 = record.amount_e8;
    line.list_amount_e8 = record.list_amount_e8;
    line.late_from = LateFrom(record.late_from);
    line.reason = std::move(record.reason);
    return true;
  }));
  return decoded;
}

Status ReadUsageLines(const KvReader& reader, const std::string& prefix,
                      std::vector<InvoiceLine>* lines) {
  Status decoded;
  LEDGER_RETURN_IF_ERROR(reader.Scan(prefix, internal::PrefixEnd(prefix),
                                     [&](std::string_view key, std::string_view value) {
    // prefix | resource \0 | late_from u32
    if (value.size() != internal::kUsageLineValueBytes || key.size() < prefix.size() + 1 + 4) {
      decoded = Status::Corruption("usage line has a bad size");
      return false;
    }
    InvoiceLine& line = lines->emplace_back();
    line.kind = LineKind::kHourlyUsage;
    line.resource_id = std::string(key.substr(prefix.size(), key.size() - prefix.size() - 5));
    line.late_from = LateFrom(ReadU32BE(key.substr(key.size() - 4)));
    line.seconds = static_cast<int64_t>(ReadU64BE(value));
    line.amount_e8 = internal::UsageLineAmount(value);
    return true;
  }));
  return decoded;
}

Status ReadFinalized(const KvReader& reader, std::string_view account, Period period,
                     bool* finalized, uint64_t* number) {
  std::string value;
  LEDGER_RETURN_IF_ERROR(
      reader.Get(internal::PeriodScoped(internal::kTagFinalized, account, period), &value, finalized));
  if (*finalized && value.size() != 16) return Status::Corruption("finalized record has a bad size");
  *number = *finalized ? ReadU64BE(value) : 0;
  return Status::Ok();
}

}  // namespace

std::string_view SubscriptionStatusName(SubscriptionStatus status) {
  switch (status) {
    case SubscriptionStatus::kActive: return "active";
    case SubscriptionStatus::kExpired: return "expired";
    case SubscriptionStatus::kDeleted: return "deleted";
    case SubscriptionStatus::kUnsubscribed: return "unsubscribed";
  }
  return "unknown";
}

Result<std::vector<std::pair<std::string, std::string>>> ListAccounts(
    const ProjectionReaders& readers) {
  std::vector<std::pair<std::string, std::string>> accounts;
  const std::string prefix(1, internal::kTagAccount);
  LEDGER_RETURN_IF_ERROR(readers.invoices->Scan(
      prefix, internal::PrefixEnd(prefix), [&](std::string_view key, std::string_view value) {
        accounts.emplace_back(std::string(key.substr(1)), std::string(value));
        return true;
      }));
  return accounts;
}

Result<std::optional<Invoice>> ReadInvoice(const ProjectionReaders& readers,
                                           std::string_view account, Period period) {
  Result<std::optional<Currency>> currency = AccountCurrency(readers, account);
  if (!currency.ok()) return currency.status();
  if (!*currency) return std::optional<Invoice>();
  Invoice invoice;
  invoice.account = std::string(account);
  invoice.period = period;
  invoice.currency = std::string((*currency)->code);
  invoice.minor_digits = (*currency)->minor_digits;
  LEDGER_RETURN_IF_ERROR(
      ReadFinalized(*readers.invoices, account, period, &invoice.finalized, &invoice.number));
  // Charge lines in charge time then sequence order, then hourly usage by
  // resource: the key order of both families.
  LEDGER_RETURN_IF_ERROR(ReadChargeLines(
      *readers.invoices, internal::PeriodScoped(internal::kTagChargeLine, account, period),
      &invoice.lines));
  LEDGER_RETURN_IF_ERROR(ReadUsageLines(
      *readers.invoices, internal::PeriodScoped(internal::kTagUsageLine, account, period),
      &invoice.lines));
  for (const InvoiceLine& line : invoice.lines) invoice.total_e8 += line.amount_e8;
  return std::optional<Invoice>(std::move(invoice));
}

Result<std::optional<InvoiceList>> ListInvoices(const ProjectionReaders& readers,
                                                std::string_view account) {
  Result<std::optional<Currency>> currency = AccountCurrency(readers, account);
  if (!currency.ok()) return currency.status();
  if (!*currency) return std::optional<InvoiceList>();
  // Every period that has a line or was finalized.
  std::vector<Period> periods;
  for (const internal::Tag tag :
       {internal::kTagChargeLine, internal::kTagUsageLine, internal::kTagFinalized}) {
    const std::string prefix = internal::AccountScoped(tag, account);
    LEDGER_RETURN_IF_ERROR(readers.invoices->Scan(
        prefix, internal::PrefixEnd(prefix), [&](std::string_view key, std::string_view) {
          const Period period =
              Period::FromIndex(static_cast<int32_t>(ReadU32BE(key.substr(prefix.size()))));
          if (periods.empty() || periods.back() != period) periods.push_back(period);
          return true;
        }));
  }
  std::sort(periods.begin(), periods.end());
  periods.erase(std::unique(periods.begin(), periods.end()), periods.end());
  InvoiceList list;
  list.currency = std::string((*currency)->code);
  list.minor_digits = (*currency)->minor_digits;
  for (const Period period : periods) {
    Result<std::optional<Invoice>> invoice = ReadInvoice(readers, account, period);
    if (!invoice.ok()) return invoice.status();
    list.invoices.push_back(InvoiceSummary{period, (*invoice)->finalized, (*invoice)->number,
                                           (*invoice)->lines.size(), (*invoice)->total_e8});
  }
  return std::optional<InvoiceList>(std::move(list));
}

Result<std::optional<std::vector<SubscriptionRow>>> ReadSubscriptions(
    const ProjectionReaders& readers, std::string_view account, int64_t at_s) {
  Result<std::optional<Currency>> currency = AccountCurrency(readers, account);
  if (!currency.ok()) return currency.status();
  if (!*currency) return std::optional<std::vector<SubscriptionRow>>();
  std::vector<SubscriptionRow> rows;
  const std::string prefix = internal::AccountScoped(internal::kTagSubscription, account);
  Status decoded;
  LEDGER_RETURN_IF_ERROR(readers.subscriptions->Scan(
      prefix, internal::PrefixEnd(prefix), [&](std::string_view key, std::string_view value) {
        internal::SubscriptionRecord record;
        decoded = DecodeCereal(value, &record);
        if (!decoded.ok()) return false;
        if (record.created_at_s > at_s) return true;  // not created yet
        SubscriptionRow row;
        row.resource_id = std::string(key.substr(prefix.size()));
        row.resource_type = record.resource_type;
        row.ca_type = record.ca_type;
        row.billing_mode = record.billing_mode;
        row.period_unit = record.period_unit;
        row.start_s = record.created_at_s;
        row.auto_renew = record.auto_renew;
        for (const auto& [placed_at_s, end_s] : record.ends) {
          if (placed_at_s <= at_s) row.end_s = end_s;
        }
        // A subscription is active at t unless deleted or unsubscribed
        // *before* t (billing-rules.md section 6). A pay-per-use resource
        // bills nothing from its deletion's second on (a tick starting then
        // is resource_deleted): it is deleted from that second.
        const bool pay_per_use = record.billing_mode == BillingMode::kPayPerUse;
        const auto ended = [&](int64_t ended_at_s) {
          return ended_at_s != 0 && (pay_per_use ? ended_at_s <= at_s : ended_at_s < at_s);
        };
        if (ended(record.deleted_at_s)) {
          row.status = SubscriptionStatus::kDeleted;
        } else if (ended(record.unsubscribed_at_s)) {
          row.status = SubscriptionStatus::kUnsubscribed;
        } else if (row.end_s && at_s > *row.end_s) {
          row.status = SubscriptionStatus::kExpired;
        }
        rows.push_back(std::move(row));
        return true;
      }));
  LEDGER_RETURN_IF_ERROR(decoded);
  return std::optional<std::vector<SubscriptionRow>>(std::move(rows));
}

Result<std::optional<std::vector<UsageRow>>> ReadUsage(const ProjectionReaders& readers,
                                                       std::string_view account,
                                                       const std::optional<std::string>& resource_id,
                                                       int64_t from_s, int64_t to_s) {
  Result<std::optional<Currency>> currency = AccountCurrency(readers, account);
  if (!currency.ok()) return currency.status();
  if (!*currency) return std::optional<std::vector<UsageRow>>();
  std::vector<UsageRow> rows;
  const std::string account_prefix = internal::AccountScoped(internal::kTagHour, account);
  std::string prefix = account_prefix;
  if (resource_id) internal::AppendSortableId(*resource_id, &prefix);
  Status decoded;
  // One pass over the account's (or resource's) hours, keeping those in
  // range. Hour records are 16 bytes each; an account's history is scanned
  // in key order, resource by resource.
  LEDGER_RETURN_IF_ERROR(readers.usage->Scan(
      prefix, internal::PrefixEnd(prefix), [&](std::string_view key, std::string_view value) {
        const int64_t hour_start_s = static_cast<int64_t>(ReadU64BE(key.substr(key.size() - 8)));
        if (hour_start_s < from_s || hour_start_s >= to_s) return true;
        if (value.size() != 16) {
          decoded = Status::Corruption("usage hour record has a bad size");
          return false;
        }
        // account prefix | resource \0 | hour_start u64
        UsageRow row;
        row.resource_id =
            std::string(key.substr(account_prefix.size(), key.size() - account_prefix.size() - 9));
        row.hour_start_s = hour_start_s;
        row.seconds = static_cast<int64_t>(ReadU64BE(value));
        row.price_per_hour_e10 = static_cast<int64_t>(ReadU64BE(value.substr(8)));
        row.amount_e8 = HourlyCharge_e8(row.price_per_hour_e10, row.seconds);
        rows.push_back(std::move(row));
        return true;
      }));
  LEDGER_RETURN_IF_ERROR(decoded);
  return std::optional<std::vector<UsageRow>>(std::move(rows));
}

}  // namespace ledger::projections
