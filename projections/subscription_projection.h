// Subscriptions: every private CA and certificate with its billing mode and,
// for yearly/monthly ones, start, the paid-up end after each order, the
// auto-renew flag and when it was unsubscribed or deleted, so that its status
// can be told at any time.

#pragma once

#include "projections/projection.h"

namespace ledger::projections {

class SubscriptionProjection : public Projection {
 public:
  std::string_view name() const override { return kSubscriptionsFamily; }
  Status Apply(const Envelope& envelope, ProjectionStore& store) override;
};

}  // namespace ledger::projections
