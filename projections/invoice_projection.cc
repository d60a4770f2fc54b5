#include "projections/invoice_projection.h"

#include "ledger/cereal_io.h"
#include "ledger/constants.h"
#include "ledger/money.h"
#include "projections/internal/records.h"

namespace ledger::projections {

using internal::ChargeLine;

struct ChargeLineInput {
  LineKind kind;
  std::string resource_id;
  std::string order_id;
  std::string description;
  int64_t amount_e8 = 0;
  int64_t list_amount_e8 = 0;
  std::string reason;
};

namespace {

std::string Plural(int64_t count, std::string_view unit) {
  return std::to_string(count) + " " + std::string(unit) + (count == 1 ? "" : "s");
}

std::string OrderDescription(CaType ca_type, PeriodUnit unit, int64_t periods) {
  return "private CA " + std::string(CaTypeName(ca_type)) + ", " +
         Plural(periods, PeriodUnitName(unit));
}

}  // namespace

Result<Period> InvoiceProjection::Landing(ProjectionStore& store, std::string_view account,
                                          Period original) {
  Period period = original;
  // Bounded: periods only run to the end of the ledger's time range.
  for (int i = 0; i < 12 * 300; ++i, period = period.Next()) {
    bool finalized = false;
    internal::SetPeriodScoped(internal::kTagFinalized, account, period, &finalized_key_);
    LEDGER_RETURN_IF_ERROR(store.Get(finalized_key_, &finalized_value_, &finalized));
    if (!finalized) return period;
  }
  return Status::Corruption("no open period after " + FormatPeriod(original));
}

Result<CaType> InvoiceProjection::CaTypeOf(ProjectionStore& store, std::string_view account,
                                           std::string_view resource_id) {
  std::string value;
  bool found = false;
  LEDGER_RETURN_IF_ERROR(
      store.Get(internal::ResourceKey(internal::kTagResource, account, resource_id), &value, &found));
  if (!found || value.size() != 1) {
    return Status::Corruption("invoice projection has no resource " + std::string(resource_id));
  }
  return static_cast<CaType>(value[0]);
}

Status InvoiceProjection::AddChargeLine(ProjectionStore& store, const Envelope& envelope,
                                        uint8_t index, ChargeLineInput input) {
  const Period original = zone_.PeriodOf(envelope.occurred_at_s);
  Result<Period> landing = Landing(store, envelope.account, original);
  if (!landing.ok()) return landing.status();
  ChargeLine line;
  line.kind = input.kind;
  line.event_id = envelope.event_id;
  line.resource_id = std::move(input.resource_id);
  line.order_id = std::move(input.order_id);
  line.charged_at_s = envelope.occurred_at_s;
  line.description = std::move(input.description);
  line.amount_e8 = input.amount_e8;
  line.list_amount_e8 = input.list_amount_e8;
  line.late_from = *landing == original ? 0 : internal::PeriodKey(original) + 1;
  line.reason = std::move(input.reason);
  std::string value;
  EncodeCereal(line, &value);
  store.Put(internal::ChargeLineKey(envelope.account, *landing, envelope.occurred_at_s,
                                    envelope.seq, index),
            value);
  return Status::Ok();
}

Status InvoiceProjection::AddUsage(ProjectionStore& store, const Envelope& envelope) {
  const auto& usage = std::get<UsageRecorded>(envelope.payload);
  std::string& value = value_;
  for (const HourSlice& slice : envelope.rating.hours) {
    // What this hour was charged so far, on any invoice.
    internal::SetHourKey(envelope.account, usage.resource_id, slice.hour_start_s, &hour_key_);
    bool found = false;
    LEDGER_RETURN_IF_ERROR(store.Get(hour_key_, &value, &found));
    if (found && value.size() != 16) return Status::Corruption("invoice hour record has a bad size");
    const int64_t seconds = (found ? static_cast<int64_t>(ReadU64BE(value)) : 0) + slice.seconds;
    const int64_t charged_e8 =
        found ? static_cast<int64_t>(ReadU64BE(std::string_view(value).substr(8))) : 0;
    const int64_t charge_e8 = HourlyCharge_e8(slice.price_per_hour_e10, seconds);
    store.Put(hour_key_, internal::PairValue(static_cast<uint64_t>(seconds),
                                             static_cast<uint64_t>(charge_e8)));

    const Period original = zone_.PeriodOf(slice.hour_start_s);
    Result<Period> landing = Landing(store, envelope.account, original);
    if (!landing.ok()) return landing.status();
    const uint32_t late_from = *landing == original ? 0 : internal::PeriodKey(original) + 1;
    internal::SetUsageLineKey(envelope.account, *landing, usage.resource_id, late_from, &line_key_);
    LEDGER_RETURN_IF_ERROR(store.Get(line_key_, &value, &found));
    if (found && value.size() != internal::kUsageLineValueBytes) {
      return Status::Corruption("usage line has a bad size");
    }
    const uint64_t line_seconds = (found ? ReadU64BE(value) : 0) + static_cast<uint64_t>(slice.seconds);
    const Int128 line_amount_e8 =
        (found ? internal::UsageLineAmount(value) : 0) + (charge_e8 - charged_e8);
    store.Put(line_key_, internal::UsageLineValue(line_seconds, line_amount_e8));
  }
  return Status::Ok();
}

Status InvoiceProjection::Apply(const Envelope& envelope, ProjectionStore& store) {
  const Rating& rating = envelope.rating;
  switch (envelope.type()) {
    case EventType::kAccountOpened:
      store.Put(internal::AccountKey(envelope.account),
                std::get<AccountOpened>(envelope.payload).currency);
      return Status::Ok();
    case EventType::kSslCertificatePurchased: {
      const auto& e = std::get<SslCertificatePurchased>(envelope.payload);
      return AddChargeLine(store, envelope, 0,
                           {LineKind::kNewPurchase, "", e.order_id,
                            "SSL certificate " + e.ca + " " + e.cert_type + " " + e.domain_type +
                                ", " + std::to_string(e.domains) + " domain(s), " +
                                std::to_string(e.years) + " year(s)",
                            rating.amount_e8, 0, ""});
    }
    case EventType::kSslExpansionPurchased: {
      const auto& e = std::get<SslExpansionPurchased>(envelope.payload);
      return AddChargeLine(store, envelope, 0,
                           {LineKind::kNewPurchase, "", e.order_id,
                            "SSL certificate expansion package x" + std::to_string(e.quantity),
                            rating.amount_e8, 0, ""});
    }
    case EventType::kSslCertificateRefunded: {
      const auto& e = std::get<SslCertificateRefunded>(envelope.payload);
      return AddChargeLine(store, envelope, 0,
                           {LineKind::kRefund, "", e.order_id,
                            "refund of SSL certificate order " + e.order_id, rating.amount_e8, 0,
                            ""});
    }
    case EventType::kResourceCreated: {
      const auto& e = std::get<ResourceCreated>(envelope.payload);
      store.Put(internal::ResourceKey(internal::kTagResource, envelope.account, e.resource_id),
                std::string(1, static_cast<char>(e.ca_type)));
      if (e.billing_mode != BillingMode::kYearlyMonthly) return Status::Ok();
      return AddChargeLine(store, envelope, 0,
                           {LineKind::kNewPurchase, e.resource_id, "",
                            OrderDescription(e.ca_type, e.period_unit, e.periods), rating.amount_e8,
                            rating.list_amount_e8, ""});
    }
    case EventType::kSubscriptionRenewed: {
      const auto& e = std::get<SubscriptionRenewed>(envelope.payload);
      Result<CaType> ca_type = CaTypeOf(store, envelope.account, e.resource_id);
      if (!ca_type.ok()) return ca_type.status();
      return AddChargeLine(store, envelope, 0,
                           {LineKind::kRenewal, e.resource_id, "",
                            "renewal of " + OrderDescription(*ca_type, e.period_unit, e.periods),
                            rating.amount_e8, rating.list_amount_e8, ""});
    }
    case EventType::kSubscriptionUnsubscribed: {
      const auto& e = std::get<SubscriptionUnsubscribed>(envelope.payload);
      uint8_t index = 0;
      for (const OrderRefund& refund : rating.refunds) {
        // A line whose amount is zero is left out.
        if (refund.unused_e8 != 0) {
          LEDGER_RETURN_IF_ERROR(AddChargeLine(
              store, envelope, index++,
              {LineKind::kRefund, e.resource_id, "",
               "unsubscription: unused part of order " + refund.order_event_id, -refund.unused_e8,
               0, ""}));
        }
        if (refund.fee_e8 != 0) {
          LEDGER_RETURN_IF_ERROR(AddChargeLine(
              store, envelope, index++,
              {LineKind::kUnsubscriptionFee, e.resource_id, "",
               "unsubscription fee, 10% of the unused part of order " + refund.order_event_id,
               refund.fee_e8, 0, ""}));
        }
      }
      return Status::Ok();
    }
    case EventType::kAdjustmentPosted: {
      const auto& e = std::get<AdjustmentPosted>(envelope.payload);
      return AddChargeLine(store, envelope, 0,
                           {LineKind::kAdjustment, "", "", "adjustment: " + e.reason, e.amount_e8,
                            0, e.reason});
    }
    case EventType::kUsageRecorded:
      return AddUsage(store, envelope);
    case EventType::kInvoiceFinalized: {
      const auto& e = std::get<InvoiceFinalized>(envelope.payload);
      store.Put(internal::PeriodScoped(internal::kTagFinalized, envelope.account, e.period),
                internal::PairValue(rating.invoice_number, envelope.seq));
      return Status::Ok();
    }
    default:
      return Status::Ok();
  }
}

}  // namespace ledger::projections
