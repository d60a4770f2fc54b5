#include "projections/projection_set.h"

#include <spdlog/spdlog.h>

#include "projections/internal/records.h"
#include "projections/invoice_projection.h"
#include "projections/subscription_projection.h"
#include "projections/usage_projection.h"

namespace ledger::projections {
namespace {

// Events applied per WriteBatch while catching up.
constexpr uint64_t kCatchUpBatchEventsMax = 10'000;

}  // namespace

std::vector<std::unique_ptr<Projection>> MakeProjections(BillingZone zone) {
  std::vector<std::unique_ptr<Projection>> projections;
  projections.push_back(std::make_unique<UsageProjection>());
  projections.push_back(std::make_unique<InvoiceProjection>(zone));
  projections.push_back(std::make_unique<SubscriptionProjection>());
  return projections;
}

std::string FamilyName(std::string_view base, uint64_t generation) {
  std::string name(base);
  if (generation > 0) name += "#" + std::to_string(generation);
  return name;
}

Result<uint64_t> CurrentGeneration(const EventStore& store) {
  std::string value;
  bool found = false;
  LEDGER_RETURN_IF_ERROR(store.Get(store.meta_cf(), kGenerationKey, &value, &found));
  if (!found) return uint64_t{0};
  if (value.size() != 8) return Status::Corruption("projection generation has a bad size");
  return ReadU64BE(value);
}

Result<std::vector<rocksdb::ColumnFamilyHandle*>> OpenGeneration(EventStore& store,
                                                                 uint64_t generation) {
  std::vector<std::string> names;
  for (const std::string_view base : kProjectionFamilies) {
    names.push_back(FamilyName(base, generation));
  }
  return store.CreateColumnFamilies(names);
}

Status DropOtherGenerations(EventStore& store, uint64_t generation) {
  std::vector<std::string> stale;
  for (const std::string& name : store.ColumnFamilyNames()) {
    for (const std::string_view base : kProjectionFamilies) {
      const bool of_base = name == base || name.starts_with(std::string(base) + "#");
      if (of_base && name != FamilyName(base, generation)) {
        spdlog::info("dropping stale projection family {}", name);
        stale.push_back(name);
      }
    }
  }
  return store.DropColumnFamilies(stale);
}

LedgerOptions WithProjections(LedgerOptions options, ProjectionOptions projection_options) {
  options.make_sink =
      [projection_options](EventStore& store) -> Result<std::unique_ptr<EventSink>> {
    Result<std::unique_ptr<ProjectionSet>> set = ProjectionSet::Open(store, projection_options);
    if (!set.ok()) return set.status();
    return std::unique_ptr<EventSink>(std::move(*set));
  };
  return options;
}

std::string CheckpointValue(uint64_t seq) {
  std::string value;
  AppendU64BE(seq, &value);
  return value;
}

Result<uint64_t> ReadCheckpoint(const KvReader& reader) {
  std::string value;
  bool found = false;
  LEDGER_RETURN_IF_ERROR(reader.Get(internal::kCheckpointKey, &value, &found));
  if (!found) return uint64_t{0};
  if (value.size() != 8) return Status::Corruption("projection checkpoint has a bad size");
  return ReadU64BE(value);
}

Result<std::unique_ptr<ProjectionSet>> ProjectionSet::Open(EventStore& store,
                                                           const ProjectionOptions& options) {
  std::unique_ptr<ProjectionSet> set(new ProjectionSet(&store));
  Result<uint64_t> generation = CurrentGeneration(store);
  if (!generation.ok()) return generation.status();
  // A reader beside the ledger's writer leaves stale generations to it.
  if (!store.secondary()) LEDGER_RETURN_IF_ERROR(DropOtherGenerations(store, *generation));
  Result<std::vector<rocksdb::ColumnFamilyHandle*>> families = OpenGeneration(store, *generation);
  if (!families.ok()) return families.status();
  std::vector<std::unique_ptr<Projection>> projections =
      MakeProjections(BillingZone(store.billing_offset_s()));
  std::vector<ProjectionStore*> sources;
  for (size_t i = 0; i < projections.size(); ++i) {
    LEDGER_RETURN_IF_ERROR(set->AddEntry(std::move(projections[i]), (*families)[i]));
    sources.push_back(set->entries_.back().store.get());
  }
  // The snapshots come last: they read what the read models wrote for the
  // same event. Catching up, they can only count (see the header).
  LEDGER_RETURN_IF_ERROR(set->AddEntry(
      std::make_unique<SnapshotProjection>(std::vector<ProjectionStore*>(), options.snapshots),
      (*families)[kSnapshotsFamilyIndex]));
  set->entries_.back().projection =
      std::make_unique<SnapshotProjection>(sources, options.snapshots);
  return set;
}

Status ProjectionSet::AddEntry(std::unique_ptr<Projection> projection,
                               rocksdb::ColumnFamilyHandle* family) {
  Entry entry;
  entry.family = family;
  entry.store = std::make_unique<RocksProjectionStore>(event_store_->db(), entry.family);
  entry.projection = std::move(projection);
  Result<uint64_t> checkpoint = ReadCheckpoint(RocksKvReader(event_store_->db(), entry.family));
  if (!checkpoint.ok()) return checkpoint.status();
  const uint64_t head = event_store_->head().seq;
  if (*checkpoint > head) {
    return Status::Corruption(std::string(entry.projection->name()) + " is at seq " +
                              std::to_string(*checkpoint) + ", ahead of the log's head " +
                              std::to_string(head));
  }
  if (*checkpoint < head && event_store_->secondary()) {
    // Catching up writes; the process that has the ledger open does it.
    return Status::InvalidArgument(
        std::string(entry.projection->name()) + " is at seq " + std::to_string(*checkpoint) +
        " of " + std::to_string(head) +
        " and cannot catch up while another process has the ledger open; retry once it closes");
  }
  if (*checkpoint < head) LEDGER_RETURN_IF_ERROR(CatchUp(entry, *checkpoint));
  entries_.push_back(std::move(entry));
  return Status::Ok();
}

Status ProjectionSet::CatchUp(Entry& entry, uint64_t checkpoint) {
  spdlog::info("{}: catching up from seq {} to {}", entry.projection->name(), checkpoint,
               event_store_->head().seq);
  uint64_t next = checkpoint + 1;
  const uint64_t head = event_store_->head().seq;
  while (next <= head) {
    rocksdb::WriteBatch batch;
    const uint64_t last = std::min(head, next + kCatchUpBatchEventsMax - 1);
    Status applied;
    LEDGER_RETURN_IF_ERROR(event_store_->ScanEvents(next, last, [&](const Envelope& envelope) {
      applied = entry.projection->Apply(envelope, *entry.store);
      return applied.ok();
    }));
    LEDGER_RETURN_IF_ERROR(applied);
    entry.store->Flush(&batch);
    LEDGER_CHECK(batch.Put(entry.family, internal::kCheckpointKey, CheckpointValue(last)).ok());
    rocksdb::WriteOptions options;
    options.sync = true;
    const rocksdb::Status s = event_store_->db()->Write(options, &batch);
    if (!s.ok()) {
      entry.store->Aborted();
      return Status::IoError("catch up " + std::string(entry.projection->name()) + ": " + s.ToString());
    }
    entry.store->Committed();
    next = last + 1;
  }
  return Status::Ok();
}

Status ProjectionSet::Apply(const Envelope& envelope) {
  // Writes wait in each store until Seal: see RocksProjectionStore::Put.
  for (Entry& entry : entries_) {
    LEDGER_RETURN_IF_ERROR(entry.projection->Apply(envelope, *entry.store));
  }
  return Status::Ok();
}

Status ProjectionSet::Seal(uint64_t last_seq, rocksdb::WriteBatch* batch) {
  for (Entry& entry : entries_) {
    entry.store->Flush(batch);
    if (!batch->Put(entry.family, internal::kCheckpointKey, CheckpointValue(last_seq)).ok()) {
      return Status::IoError("cannot stage a projection checkpoint");
    }
  }
  return Status::Ok();
}

void ProjectionSet::Committed() {
  for (Entry& entry : entries_) entry.store->Committed();
}

void ProjectionSet::Aborted() {
  for (Entry& entry : entries_) entry.store->Aborted();
}

}  // namespace ledger::projections

namespace ledger::projections {

Result<std::unique_ptr<CommittedProjections>> CommittedProjections::Open(const EventStore& store) {
  Result<uint64_t> generation = CurrentGeneration(store);
  if (!generation.ok()) return generation.status();
  rocksdb::ColumnFamilyHandle* families[3];
  const std::string_view bases[3] = {kUsageFamily, kInvoicesFamily, kSubscriptionsFamily};
  for (int i = 0; i < 3; ++i) {
    families[i] = store.column_family(FamilyName(bases[i], *generation));
    if (families[i] == nullptr) {
      return Status::NotFound("projection family " + FamilyName(bases[i], *generation) +
                              " does not exist; open the ledger with its projections first");
    }
  }
  return std::unique_ptr<CommittedProjections>(
      new CommittedProjections(store.db(), families[0], families[1], families[2]));
}

namespace {

// The newest snapshot of `account` at or before `seq` in the serving
// generation, loaded into `targets`; its seq, or 0 when there is none.
Result<uint64_t> LoadNewestSnapshot(const EventStore& store, std::string_view account, uint64_t seq,
                                    const std::vector<ProjectionStore*>& targets) {
  Result<uint64_t> generation = CurrentGeneration(store);
  if (!generation.ok()) return generation.status();
  rocksdb::ColumnFamilyHandle* family =
      store.column_family(FamilyName(kSnapshotsFamily, *generation));
  // Opened without its projections: no snapshots to use, which only costs time.
  if (family == nullptr) return uint64_t{0};
  return LoadSnapshot(RocksKvReader(store.db(), family), account, seq, targets);
}

}  // namespace

Result<std::unique_ptr<HistoricalProjections>> HistoricalProjections::Build(
    const EventStore& store, std::string_view account, uint64_t last_seq,
    const HistoricalOptions& options) {
  std::unique_ptr<HistoricalProjections> built(new HistoricalProjections());
  std::vector<std::unique_ptr<Projection>> projections =
      MakeProjections(BillingZone(store.billing_offset_s()));
  const std::vector<ProjectionStore*> stores = built->Stores();
  for (size_t i = 0; i < projections.size(); ++i) {
    LEDGER_CHECK(projections[i]->name() == kProjectionFamilies[i]);
  }
  if (options.use_snapshots) {
    Result<uint64_t> snapshot_seq = LoadNewestSnapshot(store, account, last_seq, stores);
    if (!snapshot_seq.ok()) return snapshot_seq.status();
    built->snapshot_seq_ = *snapshot_seq;
  }
  Status applied;
  LEDGER_RETURN_IF_ERROR(
      store.ScanAccountEvents(account, built->snapshot_seq_ + 1, last_seq, [&](const Envelope& e) {
        for (size_t i = 0; i < projections.size() && applied.ok(); ++i) {
          applied = projections[i]->Apply(e, *stores[i]);
        }
        ++built->replayed_events_;
        return applied.ok();
      }));
  LEDGER_RETURN_IF_ERROR(applied);
  return built;
}

}  // namespace ledger::projections
