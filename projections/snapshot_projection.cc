#include "projections/snapshot_projection.h"

#include <algorithm>

#include "projections/internal/records.h"

namespace ledger::projections {
namespace {

constexpr size_t kCounterValueBytes = 16;  // events u64 | next_snapshot_events u64

}  // namespace

SnapshotProjection::SnapshotProjection(std::vector<ProjectionStore*> sources,
                                       SnapshotOptions options)
    : sources_(std::move(sources)), options_(options) {
  LEDGER_CHECK(options_.interval_events > 0 && options_.bytes_per_event > 0);
  LEDGER_CHECK(sources_.size() <= UINT8_MAX);
}

Status SnapshotProjection::Apply(const Envelope& envelope, ProjectionStore& store) {
  // Ledger-wide events (price_set) belong to no account and change no read
  // model.
  if (envelope.account.empty()) return Status::Ok();
  internal::SetSnapshotCounterKey(envelope.account, &counter_key_);
  std::string& value = value_;
  bool found = false;
  LEDGER_RETURN_IF_ERROR(store.Get(counter_key_, &value, &found));
  if (found && value.size() != kCounterValueBytes) {
    return Status::Corruption("snapshot counter of " + envelope.account + " has a bad size");
  }
  const uint64_t events = (found ? ReadU64BE(value) : 0) + 1;
  uint64_t due = found ? ReadU64BE(std::string_view(value).substr(8)) : options_.interval_events;
  if (!sources_.empty() && events >= due) {
    std::string snapshot;
    LEDGER_RETURN_IF_ERROR(CaptureSnapshot(sources_, envelope.account, &snapshot));
    due = events +
          std::max<uint64_t>(options_.interval_events, snapshot.size() / options_.bytes_per_event);
    store.Put(internal::SnapshotKey(envelope.account, envelope.seq), snapshot);
  }
  store.Put(counter_key_, internal::PairValue(events, due));
  return Status::Ok();
}

Status CaptureSnapshot(const std::vector<ProjectionStore*>& sources, std::string_view account,
                       std::string* value) {
  value->push_back(static_cast<char>(kSnapshotFormatV1));
  const auto ranges = internal::AccountKeyRanges(account);
  for (size_t family = 0; family < sources.size(); ++family) {
    for (const auto& [begin, end] : ranges) {
      LEDGER_RETURN_IF_ERROR(
          sources[family]->Scan(begin, end, [&](std::string_view key, std::string_view entry) {
            AppendSnapshotEntry(static_cast<uint8_t>(family), key, entry, value);
            return true;
          }));
    }
  }
  return Status::Ok();
}

void AppendSnapshotEntry(uint8_t family, std::string_view key, std::string_view value,
                         std::string* out) {
  out->push_back(static_cast<char>(family));
  AppendU32BE(static_cast<uint32_t>(key.size()), out);
  out->append(key);
  AppendU32BE(static_cast<uint32_t>(value.size()), out);
  out->append(value);
}

Status ForEachSnapshotEntry(std::string_view snapshot, size_t families,
                            const std::function<bool(uint8_t family, std::string_view key,
                                                     std::string_view value)>& visit) {
  if (snapshot.empty() || static_cast<uint8_t>(snapshot[0]) != kSnapshotFormatV1) {
    return Status::Corruption("snapshot of an unknown format");
  }
  std::string_view rest = snapshot.substr(1);
  // Bounded by the value's length: each entry takes at least 9 bytes.
  while (!rest.empty()) {
    const auto family = static_cast<uint8_t>(rest[0]);
    if (family >= families || rest.size() < 5)
      return Status::Corruption("malformed snapshot entry");
    const uint32_t key_size = ReadU32BE(rest.substr(1));
    if (rest.size() - 5 < key_size + size_t{4})
      return Status::Corruption("malformed snapshot entry");
    const std::string_view key = rest.substr(5, key_size);
    const uint32_t value_size = ReadU32BE(rest.substr(5 + key_size));
    const size_t entry_size = 5 + size_t{key_size} + 4 + value_size;
    if (rest.size() < entry_size) return Status::Corruption("malformed snapshot entry");
    if (!visit(family, key, rest.substr(9 + key_size, value_size))) return Status::Ok();
    rest.remove_prefix(entry_size);
  }
  return Status::Ok();
}

Result<uint64_t> LoadSnapshot(const KvReader& snapshots, std::string_view account, uint64_t seq,
                              const std::vector<ProjectionStore*>& targets) {
  const std::string prefix = internal::SnapshotPrefix(account);
  // Every snapshot key of the account is prefix | seq u64, so this end
  // bounds those at or before `seq` without computing seq + 1.
  const std::string end = internal::SnapshotKey(account, seq) + '\0';
  uint64_t snapshot_seq = 0;
  Status loaded;
  LEDGER_RETURN_IF_ERROR(
      snapshots.Last(prefix, end, [&](std::string_view key, std::string_view snapshot) {
        if (key.size() != prefix.size() + 8) {
          loaded = Status::Corruption("a snapshot key of the wrong size");
          return false;
        }
        snapshot_seq = ReadU64BE(key.substr(prefix.size()));
        loaded = ForEachSnapshotEntry(
            snapshot, targets.size(),
            [&](uint8_t family, std::string_view entry_key, std::string_view value) {
              targets[family]->Put(entry_key, value);
              return true;
            });
        return false;
      }));
  LEDGER_RETURN_IF_ERROR(loaded);
  return snapshot_seq;
}

}  // namespace ledger::projections
