// Hourly pay-per-use totals: per (account, resource, hour of the billing
// zone) the seconds used and the hourly price in effect at the hour's start.
// The hour's charge, round_half_up(price x seconds / 3600, 8), is computed
// from these on read, always on the hour's total seconds.

#pragma once

#include <string>

#include "projections/projection.h"

namespace ledger::projections {

class UsageProjection : public Projection {
 public:
  std::string_view name() const override { return kUsageFamily; }
  Status Apply(const Envelope& envelope, ProjectionStore& store) override;

 private:
  // Reused for every usage tick (internal/records.h: the Set* builders).
  std::string key_;
  std::string value_;
};

}  // namespace ledger::projections
