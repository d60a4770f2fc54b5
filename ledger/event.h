// The events of the ledger: one C++ type per event type of interface.md, the
// envelope the event store wraps around each stored event, and the Rating, the
// amounts the ledger computed when it accepted the event. The log records what
// was charged, so projections never look a price up again.
//
// Plain value types; thread-compatible. Their encoding is in event_codec.h and
// ledger/FORMAT.md.

#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ledger/billing_time.h"
#include "ledger/constants.h"

namespace ledger {

// DO NOT CHANGE THESE ENUM VALUES: they are embedded in the on-disk data
// structures (ledger/FORMAT.md). Add new values at the end.
enum class EventType : uint8_t {
  kPriceSet = 1,
  kAccountOpened = 2,
  kSslCertificatePurchased = 3,
  kSslCertificateRefunded = 4,
  kSslExpansionPurchased = 5,
  kResourceCreated = 6,
  kUsageRecorded = 7,
  kSubscriptionRenewed = 8,
  kSubscriptionUnsubscribed = 9,
  kResourceDeleted = 10,
  // Parsed so that it can be answered precisely, never stored: every billing
  // mode change request is rejected (billing_mode_immutable).
  kBillingModeChangeRequested = 11,
  kAdjustmentPosted = 12,
  kInvoiceFinalized = 13,
};
inline constexpr uint8_t kEventTypeMax = 13;

enum class ResourceType : uint8_t { kPrivateCa = 1, kPrivateCert = 2 };
enum class CaType : uint8_t { kNone = 0, kRoot = 1, kSubordinate = 2 };
enum class BillingMode : uint8_t { kPayPerUse = 1, kYearlyMonthly = 2 };
enum class PeriodUnit : uint8_t { kNone = 0, kMonth = 1, kYear = 2 };

// Whether a value is one of its enum's: a typed event or a stored byte can
// hold any value of the underlying type.
inline bool IsValid(ResourceType t) {
  return t == ResourceType::kPrivateCa || t == ResourceType::kPrivateCert;
}
inline bool IsValid(CaType t) {
  return t == CaType::kNone || t == CaType::kRoot || t == CaType::kSubordinate;
}
inline bool IsValid(BillingMode m) {
  return m == BillingMode::kPayPerUse || m == BillingMode::kYearlyMonthly;
}
inline bool IsValid(PeriodUnit u) {
  return u == PeriodUnit::kNone || u == PeriodUnit::kMonth || u == PeriodUnit::kYear;
}

// Wire names (interface.md) of the enums above.
std::string_view EventTypeName(EventType type);
std::string_view ResourceTypeName(ResourceType type);
std::string_view CaTypeName(CaType type);
std::string_view BillingModeName(BillingMode mode);
std::string_view PeriodUnitName(PeriodUnit unit);

struct PriceSet {
  std::string sku;
  std::string currency;
  int64_t unit_price_e10 = 0;
};

struct AccountOpened {
  std::string currency;
};

struct SslCertificatePurchased {
  std::string order_id;
  std::string ca;
  std::string cert_type;
  std::string domain_type;
  int64_t domains = 0;
  int64_t years = 0;
};

struct SslCertificateRefunded {
  std::string order_id;
};

struct SslExpansionPurchased {
  std::string order_id;
  int64_t quantity = 0;
};

struct ResourceCreated {
  std::string resource_id;
  ResourceType resource_type = ResourceType::kPrivateCert;
  CaType ca_type = CaType::kNone;
  BillingMode billing_mode = BillingMode::kPayPerUse;
  PeriodUnit period_unit = PeriodUnit::kNone;  // yearly_monthly only
  int64_t periods = 0;                         // yearly_monthly only
  bool auto_renew = false;
};

struct UsageRecorded {
  std::string resource_id;
  int64_t from_s = 0;  // inclusive
  int64_t to_s = 0;    // exclusive
};

struct SubscriptionRenewed {
  std::string resource_id;
  PeriodUnit period_unit = PeriodUnit::kNone;
  int64_t periods = 0;
};

struct SubscriptionUnsubscribed {
  std::string resource_id;
};

struct ResourceDeleted {
  std::string resource_id;
};

struct BillingModeChangeRequested {
  std::string resource_id;
  BillingMode billing_mode = BillingMode::kPayPerUse;
};

struct AdjustmentPosted {
  int64_t amount_e8 = 0;
  std::string reason;
};

struct InvoiceFinalized {
  Period period;
};

// Alternatives in EventType order; Payload::index() + 1 == EventType value.
using Payload =
    std::variant<PriceSet, AccountOpened, SslCertificatePurchased, SslCertificateRefunded,
                 SslExpansionPurchased, ResourceCreated, UsageRecorded, SubscriptionRenewed,
                 SubscriptionUnsubscribed, ResourceDeleted, BillingModeChangeRequested,
                 AdjustmentPosted, InvoiceFinalized>;

inline EventType TypeOf(const Payload& payload) {
  return static_cast<EventType>(payload.index() + 1);
}

// The resource an event names; empty for events that name none.
inline std::string_view ResourceIdOf(const Payload& payload) {
  return std::visit(
      [](const auto& e) -> std::string_view {
        if constexpr (requires { e.resource_id; }) {
          return e.resource_id;
        } else {
          return {};
        }
      },
      payload);
}

// The seconds one usage tick contributes to one hour, and the unit price in
// effect at that hour's start.
struct HourSlice {
  int64_t hour_start_s = 0;
  int64_t seconds = 0;
  int64_t price_per_hour_e10 = 0;

  bool operator==(const HourSlice&) const = default;
};

// What an unsubscription gives back for one order (the purchase or a renewal).
struct OrderRefund {
  std::string order_event_id;
  int64_t paid_e8 = 0;
  int64_t unused_e8 = 0;  // paid - consumed: the refund line is -unused_e8
  int64_t fee_e8 = 0;     // 10% of unused_e8: the unsubscription_fee line

  bool operator==(const OrderRefund&) const = default;
};

// The amounts and dates the ledger computed at append. Which fields are set
// depends on the event type (FORMAT.md lists them); the rest stay zero/empty.
struct Rating {
  int64_t amount_e8 = 0;       // purchases, renewals (+), SSL refunds (-), adjustments
  int64_t unit_price_e10 = 0;  // the price that rated amount_e8
  int64_t list_amount_e8 = 0;  // yearly orders with a monthly price in effect, else 0
  int64_t order_start_s = 0;   // subscription orders: the order's own period
  int64_t order_end_s = 0;
  std::vector<HourSlice> hours;       // usage_recorded
  std::vector<OrderRefund> refunds;   // subscription_unsubscribed
  uint64_t invoice_number = 0;        // invoice_finalized

  bool operator==(const Rating&) const = default;
};

using Sha256 = std::array<uint8_t, 32>;

// An event as stored: the caller's event, where it sits in the log and what
// the ledger computed for it.
struct Envelope {
  uint64_t seq = 0;
  std::string event_id;
  std::string account;  // empty for price_set
  int64_t occurred_at_s = 0;
  int64_t recorded_at_us = 0;
  Sha256 content_digest{};  // of the event's JSON value (idempotency)
  Payload payload;
  Rating rating;
  uint32_t rules_version = kRulesVersion;  // the billing rules it was judged under
  Sha256 prev_hash{};
  Sha256 hash{};

  EventType type() const { return TypeOf(payload); }
};

}  // namespace ledger
