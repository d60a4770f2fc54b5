#include "projections/usage_projection.h"

#include "projections/internal/records.h"

namespace ledger::projections {

// Hour record: seconds u64 | price_per_hour_e10 u64.
Status UsageProjection::Apply(const Envelope& envelope, ProjectionStore& store) {
  if (envelope.type() != EventType::kUsageRecorded) return Status::Ok();
  const auto& usage = std::get<UsageRecorded>(envelope.payload);
  std::string& value = value_;
  for (const HourSlice& slice : envelope.rating.hours) {
    internal::SetHourKey(envelope.account, usage.resource_id, slice.hour_start_s, &key_);
    bool found = false;
    LEDGER_RETURN_IF_ERROR(store.Get(key_, &value, &found));
    uint64_t seconds = static_cast<uint64_t>(slice.seconds);
    if (found) {
      if (value.size() != 16) return Status::Corruption("usage hour record has a bad size");
      seconds += ReadU64BE(value);
      // The rules never let a price change under an hour already rated.
      LEDGER_CHECK(static_cast<int64_t>(ReadU64BE(std::string_view(value).substr(8))) ==
                   slice.price_per_hour_e10);
    }
    store.Put(key_, internal::PairValue(seconds, static_cast<uint64_t>(slice.price_per_hour_e10)));
  }
  return Status::Ok();
}

}  // namespace ledger::projections
