// The state the billing rules need, as stored in the `state` column family
// (ledger/FORMAT.md). Every record is derived from the log: applying the
// stored events in sequence order rebuilds them exactly.
//
// Plain value types with their Cereal serializers; thread-compatible.

#pragma once

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "ledger/cereal_io.h"
#include "ledger/event.h"

namespace ledger::internal {

struct AccountState {
  std::string currency;
  int64_t opened_at_s = 0;

  template <class Archive>
  void serialize(Archive& ar, std::uint32_t /*version*/) {
    ar(currency, opened_at_s);
  }
};

// One prepaid order of a subscription: the purchase or a renewal.
struct SubscriptionOrder {
  std::string event_id;
  int64_t paid_e8 = 0;
  int64_t start_s = 0;
  int64_t end_s = 0;

  template <class Archive>
  void serialize(Archive& ar, std::uint32_t /*version*/) {
    ar(event_id, paid_e8, start_s, end_s);
  }
};

struct ResourceState {
  ResourceType resource_type = ResourceType::kPrivateCert;
  CaType ca_type = CaType::kNone;
  BillingMode billing_mode = BillingMode::kPayPerUse;
  PeriodUnit period_unit = PeriodUnit::kNone;
  bool auto_renew = false;
  int64_t created_at_s = 0;
  bool deleted = false;
  int64_t deleted_at_s = 0;
  bool unsubscribed = false;
  int64_t unsubscribed_at_s = 0;
  int64_t end_s = 0;                       // yearly_monthly: the paid-up end
  std::vector<SubscriptionOrder> orders;   // yearly_monthly: purchase, renewals

  template <class Archive>
  void serialize(Archive& ar, std::uint32_t /*version*/) {
    ar(resource_type, ca_type, billing_mode, period_unit, CheckedBool{auto_renew}, created_at_s,
       CheckedBool{deleted}, deleted_at_s, CheckedBool{unsubscribed}, unsubscribed_at_s, end_s,
       orders);
  }
};

// The time of a subscription's latest renewal judged under rules version 3
// or later (constants.h, kRulesVersion), which accept none dated before it.
struct RenewalState {
  int64_t renewed_at_s = 0;

  template <class Archive>
  void serialize(Archive& ar, std::uint32_t /*version*/) {
    ar(renewed_at_s);
  }
};

enum class OrderKind : uint8_t { kSslCertificate = 1, kSslExpansion = 2 };

struct OrderState {
  OrderKind kind = OrderKind::kSslCertificate;
  std::string event_id;
  int64_t purchased_at_s = 0;
  int64_t amount_e8 = 0;
  bool refunded = false;

  template <class Archive>
  void serialize(Archive& ar, std::uint32_t /*version*/) {
    ar(kind, event_id, purchased_at_s, amount_e8, CheckedBool{refunded});
  }
};

struct PeriodState {
  uint64_t invoice_number = 0;
  uint64_t finalized_seq = 0;

  template <class Archive>
  void serialize(Archive& ar, std::uint32_t /*version*/) {
    ar(invoice_number, finalized_seq);
  }
};

}  // namespace ledger::internal

CEREAL_CLASS_VERSION(ledger::internal::AccountState, 1)
CEREAL_CLASS_VERSION(ledger::internal::SubscriptionOrder, 1)
CEREAL_CLASS_VERSION(ledger::internal::ResourceState, 1)
CEREAL_CLASS_VERSION(ledger::internal::RenewalState, 1)
CEREAL_CLASS_VERSION(ledger::internal::OrderState, 1)
CEREAL_CLASS_VERSION(ledger::internal::PeriodState, 1)
