// SnapshotProjection: per-account copies of the read models, so that a
// historical query (`--as-of-seq S`) loads the account's newest snapshot at
// or before S and replays only the account's events after it, instead of
// its whole history (HistoricalProjections in projection_set.h).
//
// It keeps, in its own family (proj_snapshots, FORMAT.md), per account:
//  - a counter: the account's events so far and the count at which the next
//    snapshot is due;
//  - snapshots: every key the account has in proj_usage, proj_invoices and
//    proj_subscriptions, as they stood right after one of its events.
//
// A snapshot is taken right after the account's event that reaches the due
// count, mid-batch if need be, not at the end of the batch: its position then
// depends only on the log (and the interval), never on how appends were
// batched, so a query's replayed tail is bounded the same way after appends,
// group commits and rebuilds. The counter and the snapshot are written in the
// append's own WriteBatch (with every other projection), so after a crash
// both are there or neither is; and since a snapshot is only ever a faster
// way to reach a state the log defines, a missing one costs time, never
// correctness (`ledger verify` proves every stored one).
//
// The next snapshot is due max(interval, snapshot bytes / bytes_per_event)
// events later (SnapshotOptions): an account whose read models grow large is
// snapshotted less often, so the family grows by at most about
// bytes_per_event bytes per event, linearly like the log, instead of with
// the square of the account's history.
//
// Apply must run after the read models applied the same event, and reads
// their stores (`sources`); those must outlive this. Single writer.

#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "projections/projection.h"

namespace ledger::projections {

struct SnapshotOptions {
  // Account events between two snapshots, at least (K). Chosen by measuring
  // a 100,000-event account (bench/HISTORY.md).
  uint64_t interval_events = 4096;
  // See above: the interval grows with the snapshot so that snapshots add
  // at most about this many bytes per account event.
  uint64_t bytes_per_event = 64;
};

class SnapshotProjection : public Projection {
 public:
  // `sources`: the stores of MakeProjections' projections, in its order;
  // empty to count events only (catching up a family behind the others,
  // whose state at past events is gone).
  SnapshotProjection(std::vector<ProjectionStore*> sources, SnapshotOptions options);

  std::string_view name() const override { return kSnapshotsFamily; }
  Status Apply(const Envelope& envelope, ProjectionStore& store) override;

 private:
  std::vector<ProjectionStore*> sources_;
  SnapshotOptions options_;
  // Reused for every event (internal/records.h: the Set* builders).
  std::string counter_key_;
  std::string value_;
};

// A snapshot value (FORMAT.md): u8 format | per key, in family then key
// order: u8 family | u32 key size | key | u32 value size | value. `family` is
// the index of the projection in MakeProjections' order.
inline constexpr uint8_t kSnapshotFormatV1 = 1;
void AppendSnapshotEntry(uint8_t family, std::string_view key, std::string_view value,
                         std::string* out);
// The snapshot value of `account` as `sources` (MakeProjections' order) hold
// it now: every key of the account in each, appended to `value`.
Status CaptureSnapshot(const std::vector<ProjectionStore*>& sources, std::string_view account,
                       std::string* value);
// Calls `visit` with each entry of a snapshot value; Corruption when the
// value is malformed or names a family >= families.
Status ForEachSnapshotEntry(
    std::string_view snapshot, size_t families,
    const std::function<bool(uint8_t family, std::string_view key, std::string_view value)>& visit);

// Loads the newest snapshot of `account` at or before `seq` from `snapshots`
// (a proj_snapshots family) into `targets` (MakeProjections' order). Returns
// its seq, 0 when there is none (targets untouched).
Result<uint64_t> LoadSnapshot(const KvReader& snapshots, std::string_view account, uint64_t seq,
                              const std::vector<ProjectionStore*>& targets);

}  // namespace ledger::projections
