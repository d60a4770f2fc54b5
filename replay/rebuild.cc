#include "replay/rebuild.h"

#include <spdlog/spdlog.h>

#include <memory>
#include <thread>

#include "ledger/bytes.h"
#include "ledger/event_codec.h"
#include "ledger/rocks_status.h"
#include "projections/projection_set.h"

namespace ledger::replay {
namespace {

// A rebuild keeps fewer cached records than the append path: it streams the
// whole log once and must stay flat in memory.
constexpr size_t kRebuildCacheEntriesMax = 200'000;
// A batch is also written once its writes reach this many bytes: snapshots
// of many accounts can fall due close together (accounts whose events
// interleave reach each interval at about the same time), and a 50,000-event
// batch of them held over 100 MB (heaptrack, 10M-event replay).
constexpr size_t kRebuildBatchBytesMax = 16 << 20;

}  // namespace

Status DropGeneration(EventStore& store, uint64_t generation) {
  std::vector<std::string> names;
  for (const std::string_view base : projections::kProjectionFamilies) {
    names.push_back(projections::FamilyName(base, generation));
  }
  return store.DropColumnFamilies(names);
}

Result<FamilyDigest> DigestFamily(const projections::KvReader& reader, std::string family) {
  FamilyDigest digest;
  digest.family = std::move(family);
  Sha256Hasher hasher;
  std::string sizes;
  LEDGER_RETURN_IF_ERROR(reader.Scan(std::string(), std::string(1, '\xff'),
                                     [&](std::string_view key, std::string_view value) {
                                       sizes.clear();
                                       AppendU32BE(static_cast<uint32_t>(key.size()), &sizes);
                                       hasher.Update(sizes);
                                       hasher.Update(key);
                                       sizes.clear();
                                       AppendU32BE(static_cast<uint32_t>(value.size()), &sizes);
                                       hasher.Update(sizes);
                                       hasher.Update(value);
                                       ++digest.entries;
                                       return true;
                                     }));
  digest.digest = hasher.Finish();
  return digest;
}

Result<RebuildResult> BuildGeneration(EventStore& store, uint64_t generation, uint64_t to_seq,
                                      const RebuildOptions& options) {
  // Leftovers of an interrupted build of this generation go first.
  LEDGER_RETURN_IF_ERROR(DropGeneration(store, generation));
  Result<std::vector<rocksdb::ColumnFamilyHandle*>> families =
      projections::OpenGeneration(store, generation);
  if (!families.ok()) return families.status();
  std::vector<std::unique_ptr<projections::Projection>> projections =
      projections::MakeProjections(BillingZone(store.billing_offset_s()));
  std::vector<std::unique_ptr<projections::RocksProjectionStore>> stores;
  std::vector<projections::ProjectionStore*> sources;
  for (rocksdb::ColumnFamilyHandle* family : *families) {
    stores.push_back(std::make_unique<projections::RocksProjectionStore>(store.db(), family,
                                                                         kRebuildCacheEntriesMax));
    if (sources.size() < projections.size()) sources.push_back(stores.back().get());
  }
  // The snapshots last, as in ProjectionSet: they read the read models'
  // writes for the same event. Their positions depend only on the log and
  // the interval, so a rebuild puts them where the appends did.
  if (options.snapshots) {
    projections.push_back(
        std::make_unique<projections::SnapshotProjection>(sources, options.snapshot_options));
  }

  RebuildResult result;
  result.generation = generation;
  result.last_seq = std::min(to_seq, store.head().seq);
  // Families under construction need no WAL: they are flushed before they
  // can ever be installed, and dropped if the build dies first.
  rocksdb::WriteOptions unlogged;
  unlogged.disableWAL = true;
  rocksdb::WriteBatch batch;
  Status status;
  const auto write_batch = [&]() -> Status {
    for (auto& projection_store : stores) projection_store->Flush(&batch);
    LEDGER_RETURN_IF_ERROR(FromRocks(store.db()->Write(unlogged, &batch), "rebuild write"));
    batch.Clear();
    for (auto& projection_store : stores) projection_store->Committed();
    if (options.progress) options.progress(result.events, result.last_seq);
    return Status::Ok();
  };
  LEDGER_RETURN_IF_ERROR(store.ScanEvents(1, result.last_seq, [&](const Envelope& envelope) {
    for (size_t i = 0; i < projections.size() && status.ok(); ++i) {
      status = projections[i]->Apply(envelope, *stores[i]);
    }
    if (status.ok() && options.after_event) status = options.after_event(envelope, sources);
    ++result.events;
    size_t pending_bytes = 0;
    for (const auto& projection_store : stores) pending_bytes += projection_store->dirty_bytes();
    const bool full =
        result.events % options.batch_events_max == 0 || pending_bytes >= kRebuildBatchBytesMax;
    if (status.ok() && full) status = write_batch();
    return status.ok();
  }));
  LEDGER_RETURN_IF_ERROR(status);
  // Like the append path, which seals a checkpoint only with events: an
  // empty log leaves no checkpoint (ReadCheckpoint reads it as 0). Snapshots
  // not built get none either, so that installed they would catch up.
  for (size_t i = 0; i < projections.size() && result.last_seq != 0; ++i) {
    LEDGER_CHECK(batch
                     .Put((*families)[i], std::string(1, '\0'),
                          projections::CheckpointValue(result.last_seq))
                     .ok());
  }
  LEDGER_RETURN_IF_ERROR(write_batch());
  std::vector<std::string> names;
  for (const auto& projection : projections) names.emplace_back(projection->name());
  projections.clear();  // the snapshots read the stores
  // The tail of a build, overlapped: RocksDB flushes the new families (they
  // have no WAL) while this thread frees the caches and digests what was
  // written; an iterator reads the memtables being flushed as well. At 1M
  // events the three took 0.06 + 0.05 + 0.04 s one after the other.
  Status flushed;
  std::jthread flusher([&] {
    rocksdb::FlushOptions flush;
    flush.wait = true;
    flushed = FromRocks(store.db()->Flush(flush, *families), "rebuild flush");
  });
  stores.clear();
  for (size_t i = 0; i < names.size(); ++i) {
    Result<FamilyDigest> digest =
        DigestFamily(projections::RocksKvReader(store.db(), (*families)[i]), names[i]);
    if (!digest.ok()) return digest.status();
    result.digests.push_back(std::move(*digest));
  }
  flusher.join();
  LEDGER_RETURN_IF_ERROR(flushed);
  return result;
}

Result<RebuildResult> Rebuild(EventStore& store, const RebuildOptions& options) {
  Result<uint64_t> current = projections::CurrentGeneration(store);
  if (!current.ok()) return current.status();
  const uint64_t head = store.head().seq;
  if (options.install && options.to_seq < head) {
    return Status::InvalidArgument("projections behind the log's head cannot be installed");
  }
  Result<RebuildResult> built = BuildGeneration(store, *current + 1, options.to_seq, options);
  if (!built.ok()) return built.status();
  if (!options.install) {
    LEDGER_RETURN_IF_ERROR(DropGeneration(store, *current + 1));
    return built;
  }
  // The switch: one synced write. Before it the old generation serves; after
  // it the new one does.
  rocksdb::WriteBatch flip;
  std::string value;
  AppendU64BE(*current + 1, &value);
  LEDGER_RETURN_IF_ERROR(
      FromRocks(flip.Put(store.meta_cf(), projections::kGenerationKey, value), "stage switch"));
  LEDGER_RETURN_IF_ERROR(store.WriteSynced(&flip));
  spdlog::info("projections rebuilt from {} events as generation {}", built->events, *current + 1);
  LEDGER_RETURN_IF_ERROR(projections::DropOtherGenerations(store, *current + 1));
  return built;
}

}  // namespace ledger::replay
