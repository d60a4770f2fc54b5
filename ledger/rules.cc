#include "ledger/rules.h"

#include <algorithm>

#include "ledger/constants.h"
#include "ledger/internal/state_store.h"
#include "ledger/money.h"
#include "ledger/sku.h"

namespace ledger {
namespace {

using internal::AccountState;
using internal::OrderKind;
using internal::OrderState;
using internal::RenewalState;
using internal::ResourceState;
using internal::SubscriptionOrder;

std::optional<RuleError> Reject(ErrorCode code, std::string message) {
  return RuleError{code, std::move(message)};
}

// The charge time's price, or no_price.
std::optional<RuleError> NoPrice(std::string_view sku, std::string_view currency,
                                 const BillingZone& zone, int64_t time_s) {
  return Reject(ErrorCode::kNoPrice, "no " + std::string(sku) + " price in " +
                                         std::string(currency) + " in effect at " +
                                         zone.Format(time_s));
}

std::optional<RuleError> ChargeTooLarge(int64_t price_e10, int64_t quantity) {
  return Reject(ErrorCode::kInvalidField,
                FormatPrice_e10(price_e10) + " x " + std::to_string(quantity) +
                    " exceeds the largest charge the ledger stores (" +
                    std::to_string(kAmountUnitsMax) + " currency units)");
}

// The sku a resource's usage hours are priced by (for a private CA,
// PrivateCaSku(ca_type, "hour")), as a constant: rating a tick builds no
// string.
std::string_view HourlySku(const ResourceState& resource) {
  if (resource.resource_type == ResourceType::kPrivateCert) return kPrivateCertHourSku;
  switch (resource.ca_type) {
    case CaType::kRoot:
      return kPrivateCaRootHourSku;
    case CaType::kSubordinate:
      return kPrivateCaSubordinateHourSku;
    case CaType::kNone:
      break;  // a CA without a type, which the rules never create
  }
  static const std::string kNoTypeHourSku = PrivateCaSku(CaType::kNone, "hour");
  return kNoTypeHourSku;
}

int32_t MonthsOf(PeriodUnit unit, int64_t periods) {
  return static_cast<int32_t>(unit == PeriodUnit::kYear ? periods * 12 : periods);
}

// A reused rating keeps room for this many hour slices and refunds (a tick
// every few minutes spans one or two hours); a longer list is freed, so that
// the ledger's reused envelopes (2 x kAppendBatchEventsMax) stay small after
// a batch of month-long ticks.
constexpr size_t kReusedRatingItemsMax = 8;

template <typename T>
std::vector<T> ReusedList(std::vector<T> list) {
  if (list.capacity() > kReusedRatingItemsMax) return {};
  list.clear();
  return list;
}

// A fresh rating that keeps its short lists' buffers: the ledger reuses its
// envelopes batch after batch.
void ClearRating(Rating* rating) {
  std::vector<HourSlice> hours = ReusedList(std::move(rating->hours));
  std::vector<OrderRefund> refunds = ReusedList(std::move(rating->refunds));
  *rating = Rating{};
  rating->hours = std::move(hours);
  rating->refunds = std::move(refunds);
}

}  // namespace

Result<std::optional<RuleError>> RuleEngine::Check(const IncomingEvent& event,
                                                   uint64_t invoices_finalized, Rating* rating) {
  ClearRating(rating);
  const EventType type = TypeOf(event.payload);
  if (type == EventType::kPriceSet) {
    return CheckPriceSet(event, std::get<PriceSet>(event.payload), rating);
  }
  Result<const AccountState*> account = state_->FindAccount(event.account);
  if (!account.ok()) return account.status();
  if (type == EventType::kAccountOpened) {
    if (*account != nullptr) {
      return Reject(ErrorCode::kAccountExists, "account " + event.account + " is already open");
    }
    return std::optional<RuleError>();
  }
  if (*account == nullptr) {
    return Reject(ErrorCode::kUnknownAccount, "account " + event.account + " is not open");
  }
  currency_ = (*account)->currency;
  opened_at_s_ = (*account)->opened_at_s;
  return CheckAccountEvent(event, invoices_finalized, rating);
}

namespace {

// The codes interface.md orders before "the remaining state rules", among
// which an event dated before its account's opening is judged.
bool JudgedBeforeTheRemainingStateRules(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnknownResource:
    case ErrorCode::kUnknownOrder:
    case ErrorCode::kBillingModeMismatch:
    case ErrorCode::kResourceDeleted:
    case ErrorCode::kSubscriptionEnded:
    case ErrorCode::kUsageOutsideLifetime:
    case ErrorCode::kUsageOverlap:
    case ErrorCode::kBillingModeImmutable:  // whatever the resource's state
    case ErrorCode::kInvalidField:
      return true;
    default:
      return false;
  }
}

}  // namespace

RuleEngine::Verdict RuleEngine::CheckAccountEvent(const IncomingEvent& event,
                                                  uint64_t invoices_finalized, Rating* rating) {
  Verdict verdict = CheckByType(event, invoices_finalized, rating);
  if (!verdict.ok() || rules_version_ < 2 || event.occurred_at_s >= opened_at_s_) return verdict;
  if (*verdict && JudgedBeforeTheRemainingStateRules((*verdict)->code)) return verdict;
  return Reject(ErrorCode::kInvalidField, "occurred_at precedes the opening of account " +
                                              event.account + " at " + zone_.Format(opened_at_s_));
}

RuleEngine::Verdict RuleEngine::CheckByType(const IncomingEvent& event, uint64_t invoices_finalized,
                                            Rating* rating) {
  const EventType type = TypeOf(event.payload);
  switch (type) {
    case EventType::kSslCertificatePurchased: {
      const auto& e = std::get<SslCertificatePurchased>(event.payload);
      return CheckSslPurchase(event, e.order_id, SslSku(e), e.domains, rating);
    }
    case EventType::kSslExpansionPurchased: {
      const auto& e = std::get<SslExpansionPurchased>(event.payload);
      return CheckSslPurchase(event, e.order_id, kSslExpansionSku, e.quantity, rating);
    }
    case EventType::kSslCertificateRefunded:
      return CheckSslRefund(event, std::get<SslCertificateRefunded>(event.payload), rating);
    case EventType::kResourceCreated:
      return CheckResourceCreated(event, std::get<ResourceCreated>(event.payload), rating);
    case EventType::kUsageRecorded:
      return CheckUsage(event, std::get<UsageRecorded>(event.payload), rating);
    case EventType::kSubscriptionRenewed:
      return CheckRenewal(event, std::get<SubscriptionRenewed>(event.payload), rating);
    case EventType::kSubscriptionUnsubscribed:
      return CheckUnsubscription(event, std::get<SubscriptionUnsubscribed>(event.payload), rating);
    case EventType::kResourceDeleted:
      return CheckDeletion(event, std::get<ResourceDeleted>(event.payload));
    case EventType::kBillingModeChangeRequested:
      // Once its fields are valid, whatever the resource's state.
      return Reject(ErrorCode::kBillingModeImmutable, "a resource's billing mode can never change");
    case EventType::kAdjustmentPosted:
      rating->amount_e8 = std::get<AdjustmentPosted>(event.payload).amount_e8;
      return std::optional<RuleError>();
    case EventType::kInvoiceFinalized:
      return CheckFinalization(event, std::get<InvoiceFinalized>(event.payload), invoices_finalized,
                               rating);
    case EventType::kPriceSet:
    case EventType::kAccountOpened:
      break;
  }
  LEDGER_CHECK(false);
  return std::optional<RuleError>();
}

std::optional<RuleError> RuleEngine::UnknownResource(const IncomingEvent& event,
                                                     std::string_view resource_id) {
  // Another account's resource is unknown too (interface.md).
  return Reject(ErrorCode::kUnknownResource,
                "account " + event.account + " has no resource " + std::string(resource_id));
}

RuleEngine::Verdict RuleEngine::CheckPriceSet(const IncomingEvent& event, const PriceSet& e,
                                              Rating* rating) {
  const std::optional<int64_t> max_rated_s = state_->MaxRated(e.sku, e.currency);
  if (max_rated_s && event.occurred_at_s <= *max_rated_s) {
    return Reject(ErrorCode::kPriceBackdated, e.sku + " " + e.currency + " was already rated at " +
                                                  zone_.Format(*max_rated_s));
  }
  rating->unit_price_e10 = e.unit_price_e10;
  return std::optional<RuleError>();
}

RuleEngine::Verdict RuleEngine::CheckSslPurchase(const IncomingEvent& event,
                                                 std::string_view order_id, std::string_view sku,
                                                 int64_t quantity, Rating* rating) {
  Result<const OrderState*> order = state_->FindOrder(event.account, order_id);
  if (!order.ok()) return order.status();
  if (*order != nullptr) {
    return Reject(ErrorCode::kOrderExists, "order " + std::string(order_id) + " already exists");
  }
  const std::optional<int64_t> price_e10 = state_->PriceAt(sku, currency_, event.occurred_at_s);
  if (!price_e10) return NoPrice(sku, currency_, zone_, event.occurred_at_s);
  // A price near kUnitPriceUnitsMax times 250 domains or 10,000 packages
  // leaves an int64: such a charge is refused, as any beyond the amount limit.
  const std::optional<int64_t> amount_e8 = PriceTimes(*price_e10, quantity);
  if (!amount_e8 || *amount_e8 > kAmountUnitsMax * kAmountScale) {
    return Reject(ErrorCode::kInvalidField,
                  std::to_string(quantity) + " x " + FormatPrice_e10(*price_e10) +
                      " exceeds the limit of " + std::to_string(kAmountUnitsMax) +
                      " currency units per charge");
  }
  rating->unit_price_e10 = *price_e10;
  rating->amount_e8 = *amount_e8;
  return std::optional<RuleError>();
}

RuleEngine::Verdict RuleEngine::CheckSslRefund(const IncomingEvent& event,
                                               const SslCertificateRefunded& e, Rating* rating) {
  Result<const OrderState*> order = state_->FindOrder(event.account, e.order_id);
  if (!order.ok()) return order.status();
  if (*order == nullptr || (*order)->kind != OrderKind::kSslCertificate) {
    return Reject(ErrorCode::kUnknownOrder,
                  "account " + event.account + " has no SSL certificate order " + e.order_id);
  }
  if ((*order)->refunded) {
    return Reject(ErrorCode::kAlreadyRefunded, "order " + e.order_id + " was already refunded");
  }
  const int64_t since_purchase_s = event.occurred_at_s - (*order)->purchased_at_s;
  if (since_purchase_s < 0 || since_purchase_s > kSslRefundWindow_s) {
    return Reject(ErrorCode::kRefundWindowExpired,
                  "a refund must come within 7 x 24 h after the purchase at " +
                      zone_.Format((*order)->purchased_at_s));
  }
  rating->amount_e8 = -(*order)->amount_e8;
  return std::optional<RuleError>();
}

std::optional<RuleError> RuleEngine::RateOrder(CaType ca_type, std::string_view currency,
                                               PeriodUnit unit, int64_t periods, int64_t time_s,
                                               Rating* rating) const {
  const std::string sku = PrivateCaSku(ca_type, PeriodUnitName(unit));
  const std::optional<int64_t> price_e10 = state_->PriceAt(sku, currency, time_s);
  if (!price_e10) return NoPrice(sku, currency, zone_, time_s);
  const std::optional<int64_t> amount_e8 = PriceTimes(*price_e10, periods);
  if (!amount_e8) return ChargeTooLarge(*price_e10, periods);
  rating->unit_price_e10 = *price_e10;
  rating->amount_e8 = *amount_e8;
  if (unit == PeriodUnit::kYear) {
    // The discount is shown, not computed (billing-rules.md section 4).
    const std::optional<int64_t> monthly_e10 =
        state_->PriceAt(PrivateCaSku(ca_type, "month"), currency, time_s);
    if (monthly_e10) {
      const std::optional<int64_t> list_e8 = PriceTimes(*monthly_e10, 12 * periods);
      if (!list_e8) return ChargeTooLarge(*monthly_e10, 12 * periods);
      rating->list_amount_e8 = *list_e8;
    }
  }
  return std::nullopt;
}

RuleEngine::Verdict RuleEngine::CheckResourceCreated(const IncomingEvent& event,
                                                     const ResourceCreated& e, Rating* rating) {
  Result<const ResourceState*> existing = state_->FindResource(event.account, e.resource_id);
  if (!existing.ok()) return existing.status();
  if (*existing != nullptr && (*existing)->deleted) {
    return Reject(ErrorCode::kResourceDeleted,
                  e.resource_id + " was deleted; a deleted id is never reused");
  }
  if (*existing != nullptr) {
    return Reject(ErrorCode::kResourceExists, e.resource_id + " already exists");
  }
  if (e.billing_mode == BillingMode::kPayPerUse) return std::optional<RuleError>();
  if (std::optional<RuleError> error = RateOrder(e.ca_type, currency_, e.period_unit, e.periods,
                                                 event.occurred_at_s, rating)) {
    return error;
  }
  rating->order_start_s = event.occurred_at_s;
  rating->order_end_s =
      zone_.EndOfDayMonthsLater(event.occurred_at_s, MonthsOf(e.period_unit, e.periods));
  return std::optional<RuleError>();
}

RuleEngine::Verdict RuleEngine::CheckUsage(const IncomingEvent& event, const UsageRecorded& e,
                                           Rating* rating) {
  Result<const ResourceState*> found = state_->FindResource(event.account, e.resource_id);
  if (!found.ok()) return found.status();
  const ResourceState* resource = *found;
  if (resource == nullptr) return UnknownResource(event, e.resource_id);
  if (resource->billing_mode != BillingMode::kPayPerUse) {
    return Reject(ErrorCode::kBillingModeMismatch,
                  e.resource_id + " is yearly_monthly; usage is for pay_per_use resources");
  }
  // A tick wholly after the deletion is use of a deleted resource; one that
  // starts before it and runs past it lies partly outside the life.
  if (resource->deleted && e.from_s >= resource->deleted_at_s) {
    return Reject(ErrorCode::kResourceDeleted,
                  e.resource_id + " was deleted at " + zone_.Format(resource->deleted_at_s));
  }
  if (e.from_s < resource->created_at_s) {
    return Reject(ErrorCode::kUsageOutsideLifetime,
                  "tick starts before " + e.resource_id + " was created at " +
                      zone_.Format(resource->created_at_s));
  }
  if (resource->deleted && e.to_s > resource->deleted_at_s) {
    return Reject(ErrorCode::kUsageOutsideLifetime,
                  "tick ends after " + e.resource_id + " was deleted at " +
                      zone_.Format(resource->deleted_at_s));
  }
  Result<std::optional<internal::Interval>> overlap =
      state_->FindOverlap(event.account, e.resource_id, e.from_s, e.to_s);
  if (!overlap.ok()) return overlap.status();
  if (*overlap) {
    return Reject(ErrorCode::kUsageOverlap, "tick overlaps [" + zone_.Format((*overlap)->from_s) +
                                                ", " + zone_.Format((*overlap)->to_s) + ")");
  }
  // Split at the hours of the billing zone, each rated at its start.
  const std::string_view sku = HourlySku(*resource);
  for (int64_t hour_s = zone_.HourStart(e.from_s); hour_s < e.to_s; hour_s += kHour_s) {
    const std::optional<int64_t> price_e10 = state_->PriceAt(sku, currency_, hour_s);
    if (!price_e10) return NoPrice(sku, currency_, zone_, hour_s);
    const int64_t seconds = std::min(e.to_s, hour_s + kHour_s) - std::max(e.from_s, hour_s);
    rating->hours.push_back(HourSlice{hour_s, seconds, *price_e10});
  }
  return std::optional<RuleError>();
}

RuleEngine::Verdict RuleEngine::CheckRenewal(const IncomingEvent& event,
                                             const SubscriptionRenewed& e, Rating* rating) {
  Result<const ResourceState*> found = state_->FindResource(event.account, e.resource_id);
  if (!found.ok()) return found.status();
  const ResourceState* resource = *found;
  if (resource == nullptr) return UnknownResource(event, e.resource_id);
  if (resource->billing_mode != BillingMode::kYearlyMonthly) {
    return Reject(ErrorCode::kBillingModeMismatch,
                  e.resource_id + " is pay_per_use; only yearly_monthly subscriptions renew");
  }
  if (resource->deleted) return Reject(ErrorCode::kResourceDeleted, e.resource_id + " was deleted");
  if (resource->unsubscribed) {
    return Reject(ErrorCode::kSubscriptionEnded, e.resource_id + " was unsubscribed");
  }
  if (Verdict time = CheckResourceTime(event, *resource, e.resource_id); !time.ok() || *time) {
    return time;
  }
  if (std::optional<RuleError> error = RateOrder(resource->ca_type, currency_, e.period_unit,
                                                 e.periods, event.occurred_at_s, rating)) {
    return error;
  }
  // The renewal's own period starts one second after the previous end; the
  // time spent expired is not given back.
  rating->order_start_s = resource->end_s + 1;
  rating->order_end_s = zone_.EndOfDayMonthsLater(resource->end_s, MonthsOf(e.period_unit, e.periods));
  return std::optional<RuleError>();
}

RuleEngine::Verdict RuleEngine::CheckUnsubscription(const IncomingEvent& event,
                                                    const SubscriptionUnsubscribed& e,
                                                    Rating* rating) {
  Result<const ResourceState*> found = state_->FindResource(event.account, e.resource_id);
  if (!found.ok()) return found.status();
  const ResourceState* resource = *found;
  if (resource == nullptr) return UnknownResource(event, e.resource_id);
  if (resource->billing_mode != BillingMode::kYearlyMonthly) {
    return Reject(ErrorCode::kBillingModeMismatch,
                  e.resource_id + " is pay_per_use; delete it to stop billing");
  }
  if (resource->deleted) return Reject(ErrorCode::kResourceDeleted, e.resource_id + " was deleted");
  if (resource->unsubscribed) {
    return Reject(ErrorCode::kSubscriptionEnded, e.resource_id + " was already unsubscribed");
  }
  const int64_t t = event.occurred_at_s;
  if (t > resource->end_s) {
    return Reject(ErrorCode::kSubscriptionEnded,
                  e.resource_id + " expired at " + zone_.Format(resource->end_s));
  }
  if (Verdict time = CheckResourceTime(event, *resource, e.resource_id); !time.ok() || *time) {
    return time;
  }
  for (const SubscriptionOrder& order : resource->orders) {
    OrderRefund refund{order.event_id, order.paid_e8, order.paid_e8, 0};
    if (order.start_s <= t) {
      // Whole hours, from the hour of the order's start to the hour of the
      // unsubscription, of the order's hours up to one second after its end.
      const int64_t first_hour_s = zone_.HourStart(order.start_s);
      const int64_t total_h = (order.end_s + 1 - first_hour_s) / kHour_s;
      const int64_t used_h = std::min(total_h, (zone_.HourStart(t) - first_hour_s) / kHour_s);
      const auto consumed_e8 =
          static_cast<int64_t>(DivRoundHalfUp(Int128{order.paid_e8} * used_h, total_h));
      refund.unused_e8 = order.paid_e8 - consumed_e8;
      refund.fee_e8 = static_cast<int64_t>(DivRoundHalfUp(refund.unused_e8, 10));
    }
    rating->amount_e8 += refund.fee_e8 - refund.unused_e8;
    rating->refunds.push_back(std::move(refund));
  }
  return std::optional<RuleError>();
}

RuleEngine::Verdict RuleEngine::CheckDeletion(const IncomingEvent& event, const ResourceDeleted& e) {
  Result<const ResourceState*> found = state_->FindResource(event.account, e.resource_id);
  if (!found.ok()) return found.status();
  const ResourceState* resource = *found;
  if (resource == nullptr) return UnknownResource(event, e.resource_id);
  if (resource->deleted) {
    return Reject(ErrorCode::kResourceDeleted, e.resource_id + " was already deleted");
  }
  if (Verdict time = CheckResourceTime(event, *resource, e.resource_id); !time.ok() || *time) {
    return time;
  }
  if (resource->billing_mode == BillingMode::kPayPerUse) {
    // Usage already accepted after the deletion time would be outside the
    // resource's life: the deletion cannot be dated before it.
    Result<std::optional<internal::Interval>> later = state_->FindOverlap(
        event.account, e.resource_id, event.occurred_at_s, kTimeMax_s + kTickDurationMax_s);
    if (!later.ok()) return later.status();
    if (*later) {
      return Reject(ErrorCode::kUsageOutsideLifetime,
                    "usage of " + e.resource_id + " was recorded until " +
                        zone_.Format((*later)->to_s) + ", after the deletion time");
    }
  }
  return std::optional<RuleError>();
}

RuleEngine::Verdict RuleEngine::CheckResourceTime(const IncomingEvent& event,
                                                  const ResourceState& resource,
                                                  std::string_view resource_id) {
  if (event.occurred_at_s < resource.created_at_s) {
    return Reject(ErrorCode::kInvalidField,
                  "occurred_at precedes the creation of " + std::string(resource_id));
  }
  if (rules_version_ < 3 || resource.billing_mode != BillingMode::kYearlyMonthly) {
    return std::optional<RuleError>();
  }
  Result<const RenewalState*> renewal = state_->FindRenewal(event.account, resource_id);
  if (!renewal.ok()) return renewal.status();
  if (*renewal == nullptr || event.occurred_at_s >= (*renewal)->renewed_at_s) {
    return std::optional<RuleError>();
  }
  return Reject(ErrorCode::kInvalidField, "occurred_at precedes the renewal of " +
                                              std::string(resource_id) + " at " +
                                              zone_.Format((*renewal)->renewed_at_s));
}

RuleEngine::Verdict RuleEngine::CheckFinalization(const IncomingEvent& event,
                                                  const InvoiceFinalized& e,
                                                  uint64_t invoices_finalized, Rating* rating) {
  if (event.occurred_at_s < zone_.PeriodStart(e.period.Next())) {
    return Reject(ErrorCode::kPeriodNotEnded, FormatPeriod(e.period) + " has not ended");
  }
  if (rules_version_ >= 2 && zone_.PeriodStart(e.period.Next()) <= opened_at_s_) {
    return Reject(ErrorCode::kInvalidField, FormatPeriod(e.period) + " ended before account " +
                                                event.account + " was opened at " +
                                                zone_.Format(opened_at_s_));
  }
  Result<const internal::PeriodState*> period = state_->FindPeriod(event.account, e.period);
  if (!period.ok()) return period.status();
  if (*period != nullptr) {
    return Reject(ErrorCode::kPeriodFinalized,
                  FormatPeriod(e.period) + " was already finalized as invoice number " +
                      std::to_string((*period)->invoice_number));
  }
  rating->invoice_number = invoices_finalized + 1;
  return std::optional<RuleError>();
}

Status RuleEngine::Apply(const Envelope& envelope) {
  const Rating& rating = envelope.rating;
  const std::string& account = envelope.account;
  const auto currency = [&]() -> Result<std::string> {
    Result<const AccountState*> found = state_->FindAccount(account);
    if (!found.ok()) return found.status();
    LEDGER_CHECK(*found != nullptr);
    return (*found)->currency;
  };
  const auto resource_of = [&]() -> Result<ResourceState> {
    Result<const ResourceState*> found = state_->FindResource(account, ResourceIdOf(envelope.payload));
    if (!found.ok()) return found.status();
    LEDGER_CHECK(*found != nullptr);
    return **found;
  };

  switch (envelope.type()) {
    case EventType::kPriceSet: {
      const auto& e = std::get<PriceSet>(envelope.payload);
      state_->PutPrice(e.sku, e.currency, envelope.occurred_at_s, envelope.seq, e.unit_price_e10);
      return Status::Ok();
    }
    case EventType::kAccountOpened:
      state_->PutAccount(account, {std::get<AccountOpened>(envelope.payload).currency,
                                   envelope.occurred_at_s});
      return Status::Ok();
    case EventType::kSslCertificatePurchased:
    case EventType::kSslExpansionPurchased: {
      const bool certificate = envelope.type() == EventType::kSslCertificatePurchased;
      const std::string order_id = certificate
                                       ? std::get<SslCertificatePurchased>(envelope.payload).order_id
                                       : std::get<SslExpansionPurchased>(envelope.payload).order_id;
      const std::string sku = certificate
                                  ? SslSku(std::get<SslCertificatePurchased>(envelope.payload))
                                  : std::string(kSslExpansionSku);
      Result<std::string> cur = currency();
      if (!cur.ok()) return cur.status();
      state_->PutOrder(account, order_id,
                       {certificate ? OrderKind::kSslCertificate : OrderKind::kSslExpansion,
                        envelope.event_id, envelope.occurred_at_s, rating.amount_e8, false});
      state_->RaiseMaxRated(sku, *cur, envelope.occurred_at_s);
      return Status::Ok();
    }
    case EventType::kSslCertificateRefunded: {
      const std::string& order_id = std::get<SslCertificateRefunded>(envelope.payload).order_id;
      Result<const OrderState*> order = state_->FindOrder(account, order_id);
      if (!order.ok()) return order.status();
      OrderState refunded = **order;
      refunded.refunded = true;
      state_->PutOrder(account, order_id, std::move(refunded));
      return Status::Ok();
    }
    case EventType::kResourceCreated: {
      const auto& e = std::get<ResourceCreated>(envelope.payload);
      ResourceState resource;
      resource.resource_type = e.resource_type;
      resource.ca_type = e.ca_type;
      resource.billing_mode = e.billing_mode;
      resource.period_unit = e.period_unit;
      resource.auto_renew = e.auto_renew;
      resource.created_at_s = envelope.occurred_at_s;
      if (e.billing_mode == BillingMode::kYearlyMonthly) {
        resource.end_s = rating.order_end_s;
        resource.orders.push_back(
            {envelope.event_id, rating.amount_e8, rating.order_start_s, rating.order_end_s});
        Result<std::string> cur = currency();
        if (!cur.ok()) return cur.status();
        state_->RaiseMaxRated(PrivateCaSku(e.ca_type, PeriodUnitName(e.period_unit)), *cur,
                              envelope.occurred_at_s);
      }
      state_->PutResource(account, e.resource_id, std::move(resource));
      return Status::Ok();
    }
    case EventType::kUsageRecorded: {
      const auto& e = std::get<UsageRecorded>(envelope.payload);
      Result<ResourceState> resource = resource_of();
      if (!resource.ok()) return resource.status();
      Result<std::string> cur = currency();
      if (!cur.ok()) return cur.status();
      if (rating.hours.empty()) return Status::Corruption("a usage tick rated no hour");
      LEDGER_RETURN_IF_ERROR(state_->AddInterval(account, e.resource_id, e.from_s, e.to_s));
      state_->RaiseMaxRated(HourlySku(*resource), *cur, rating.hours.back().hour_start_s);
      return Status::Ok();
    }
    case EventType::kSubscriptionRenewed: {
      const auto& e = std::get<SubscriptionRenewed>(envelope.payload);
      Result<ResourceState> resource = resource_of();
      if (!resource.ok()) return resource.status();
      Result<std::string> cur = currency();
      if (!cur.ok()) return cur.status();
      resource->end_s = rating.order_end_s;
      resource->orders.push_back(
          {envelope.event_id, rating.amount_e8, rating.order_start_s, rating.order_end_s});
      state_->RaiseMaxRated(PrivateCaSku(resource->ca_type, PeriodUnitName(e.period_unit)), *cur,
                            envelope.occurred_at_s);
      state_->PutResource(account, e.resource_id, std::move(*resource));
      // Only renewals judged under rules version 3 record their time, so
      // that the state rebuilt from an older log is the state it stored.
      // Those rules accept no renewal dated before the one recorded.
      if (envelope.rules_version >= 3) {
        state_->PutRenewal(account, e.resource_id, RenewalState{envelope.occurred_at_s});
      }
      return Status::Ok();
    }
    case EventType::kSubscriptionUnsubscribed:
    case EventType::kResourceDeleted: {
      Result<ResourceState> resource = resource_of();
      if (!resource.ok()) return resource.status();
      if (envelope.type() == EventType::kResourceDeleted) {
        resource->deleted = true;
        resource->deleted_at_s = envelope.occurred_at_s;
      } else {
        resource->unsubscribed = true;
        resource->unsubscribed_at_s = envelope.occurred_at_s;
      }
      state_->PutResource(account, ResourceIdOf(envelope.payload), std::move(*resource));
      return Status::Ok();
    }
    case EventType::kInvoiceFinalized:
      state_->PutPeriod(account, std::get<InvoiceFinalized>(envelope.payload).period,
                        {rating.invoice_number, envelope.seq});
      return Status::Ok();
    case EventType::kAdjustmentPosted:
      return Status::Ok();
    case EventType::kBillingModeChangeRequested:
      break;
  }
  LEDGER_CHECK(false);  // never accepted, so never applied
  return Status::Ok();
}

}  // namespace ledger
