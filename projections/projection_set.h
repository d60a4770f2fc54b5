// ProjectionSet: the ledger's projections as one EventSink. Each projection
// has its own column family and its own checkpoint (the last sequence
// applied), written in the append's WriteBatch together with its state.
//
// Opening a set over a ledger catches up any projection whose checkpoint is
// behind the log (a ledger created before a projection existed) and refuses
// one that is ahead of it (which no crash can cause: that is corruption).
// The snapshots (snapshot_projection.h) ride along as a fourth family; one
// behind the log can only catch up its counters, since the read models'
// states at past events are gone (`ledger replay` rebuilds them whole).
//
// Used by the single writer; the EventStore must outlive the set.

#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ledger/event_sink.h"
#include "ledger/event_store.h"
#include "ledger/ledger.h"
#include "projections/kv.h"
#include "projections/projection.h"
#include "projections/snapshot_projection.h"

namespace ledger::projections {

// Every projection family's base name, in OpenGeneration's order: the read
// models in MakeProjections' order, then the snapshots.
inline constexpr std::string_view kProjectionFamilies[] = {kUsageFamily, kInvoicesFamily,
                                                           kSubscriptionsFamily, kSnapshotsFamily};
inline constexpr size_t kSnapshotsFamilyIndex = 3;

struct ProjectionOptions {
  SnapshotOptions snapshots;  // tests use small intervals
};

// Readers of the committed projections, for queries.
struct ProjectionReaders {
  const KvReader* usage = nullptr;
  const KvReader* invoices = nullptr;
  const KvReader* subscriptions = nullptr;
};

// Projections live in generations: a rebuild writes generation g + 1 into
// fresh column families while generation g serves, then switches the meta
// key below in one synced write and drops generation g. A crash before the
// switch leaves g in place (and the half-built families are dropped at the
// next open); a crash after it leaves g + 1. Generation 0 uses the plain
// family names ("proj_invoices"), generation g > 0 "proj_invoices#g".
inline constexpr std::string_view kGenerationKey = "projection_generation";  // meta, u64 BE

std::string FamilyName(std::string_view base, uint64_t generation);
Result<uint64_t> CurrentGeneration(const EventStore& store);
// The projection families of `generation`, created if missing, in
// kProjectionFamilies order.
Result<std::vector<rocksdb::ColumnFamilyHandle*>> OpenGeneration(EventStore& store,
                                                                 uint64_t generation);
// Drops every projection family that does not belong to `generation`.
Status DropOtherGenerations(EventStore& store, uint64_t generation);

class ProjectionSet : public EventSink {
 public:
  static Result<std::unique_ptr<ProjectionSet>> Open(EventStore& store,
                                                     const ProjectionOptions& options = {});

  Status Apply(const Envelope& envelope) override;
  Status Seal(uint64_t last_seq, rocksdb::WriteBatch* batch) override;
  void Committed() override;
  void Aborted() override;

 private:
  struct Entry {
    std::unique_ptr<Projection> projection;
    rocksdb::ColumnFamilyHandle* family = nullptr;
    std::unique_ptr<RocksProjectionStore> store;
  };

  explicit ProjectionSet(EventStore* store) : event_store_(store) {}
  // Opens `projection` over `family`, caught up with the log, as the next
  // entry.
  Status AddEntry(std::unique_ptr<Projection> projection, rocksdb::ColumnFamilyHandle* family);
  Status CatchUp(Entry& entry, uint64_t checkpoint);

  EventStore* event_store_;
  std::vector<Entry> entries_;
};

// `options` with the projections attached: their column families opened and
// a ProjectionSet as the ledger's sink. Every ledger the command line opens
// is opened this way, so its projections never fall behind.
LedgerOptions WithProjections(LedgerOptions options, ProjectionOptions projection_options = {});

// Reads a projection family's checkpoint: 0 when it has none.
Result<uint64_t> ReadCheckpoint(const KvReader& reader);
std::string CheckpointValue(uint64_t seq);

}  // namespace ledger::projections

namespace ledger::projections {

// Readers over the committed projections of an open store (of its current
// generation). `store` must outlive this.
class CommittedProjections {
 public:
  static Result<std::unique_ptr<CommittedProjections>> Open(const EventStore& store);
  ProjectionReaders readers() const { return {&usage_, &invoices_, &subscriptions_}; }

 private:
  CommittedProjections(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* usage,
                       rocksdb::ColumnFamilyHandle* invoices,
                       rocksdb::ColumnFamilyHandle* subscriptions)
      : usage_(db, usage), invoices_(db, invoices), subscriptions_(db, subscriptions) {}

  RocksKvReader usage_;
  RocksKvReader invoices_;
  RocksKvReader subscriptions_;
};

struct HistoricalOptions {
  // Start from the account's newest snapshot at or before the asked seq;
  // false: replay from seq 1 (the reference the snapshots are tested and
  // audited against).
  bool use_snapshots = true;
};

// Projections of one account as they stood when event `last_seq` was the last
// in the log, built in memory from the account's newest snapshot at or before
// `last_seq` (if any) and the account's own events after it (every event
// carries what it was charged, so no other account's events are needed).
class HistoricalProjections {
 public:
  static Result<std::unique_ptr<HistoricalProjections>> Build(
      const EventStore& store, std::string_view account, uint64_t last_seq,
      const HistoricalOptions& options = {});
  ProjectionReaders readers() const { return {&usage_, &invoices_, &subscriptions_}; }
  // The snapshot it started from (0: none) and the events replayed after it.
  uint64_t snapshot_seq() const { return snapshot_seq_; }
  uint64_t replayed_events() const { return replayed_events_; }

 private:
  // The stores in MakeProjections' order.
  std::vector<ProjectionStore*> Stores() { return {&usage_, &invoices_, &subscriptions_}; }

  MemoryKv usage_;
  MemoryKv invoices_;
  MemoryKv subscriptions_;
  uint64_t snapshot_seq_ = 0;
  uint64_t replayed_events_ = 0;
};

}  // namespace ledger::projections
