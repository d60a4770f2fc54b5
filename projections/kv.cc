#include "projections/kv.h"

#include <memory>

namespace ledger::projections {
Status RocksKvReader::Get(std::string_view key, std::string* value, bool* found) const {
  const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_, key, value);
  *found = s.ok();
  if (s.ok() || s.IsNotFound()) return Status::Ok();
  if (s.IsCorruption()) return Status::Corruption("projection read: " + s.ToString());
  return Status::IoError("projection read: " + s.ToString());
}

Status RocksKvReader::Scan(std::string_view begin, std::string_view end,
                           const KvVisitor& visit) const {
  rocksdb::ReadOptions options;
  const rocksdb::Slice upper(end.data(), end.size());
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, cf_));
  for (it->Seek(rocksdb::Slice(begin.data(), begin.size())); it->Valid(); it->Next()) {
    if (!visit(it->key().ToStringView(), it->value().ToStringView())) break;
  }
  if (!it->status().ok()) return Status::IoError("projection scan: " + it->status().ToString());
  return Status::Ok();
}

Status RocksProjectionStore::Get(std::string_view key, std::string* value, bool* found) {
  if (const auto it = cache_.find(std::string(key)); it != cache_.end()) {
    *value = it->second;
    *found = true;
    return Status::Ok();
  }
  LEDGER_RETURN_IF_ERROR(reader_.Get(key, value, found));
  if (*found) cache_.emplace(std::string(key), *value);
  return Status::Ok();
}

void RocksProjectionStore::Put(std::string_view key, std::string_view value) {
  LEDGER_CHECK(batch_ != nullptr);
  LEDGER_CHECK(batch_->Put(cf_, rocksdb::Slice(key.data(), key.size()),
                           rocksdb::Slice(value.data(), value.size()))
                   .ok());
  cache_[std::string(key)] = std::string(value);
}

void RocksProjectionStore::Committed() {
  if (cache_.size() > cache_entries_max_) cache_.clear();
}

Status MemoryKv::Get(std::string_view key, std::string* value, bool* found) {
  return static_cast<const MemoryKv*>(this)->Get(key, value, found);
}

Status MemoryKv::Get(std::string_view key, std::string* value, bool* found) const {
  const auto it = entries_.find(key);
  *found = it != entries_.end();
  if (*found) *value = it->second;
  return Status::Ok();
}

void MemoryKv::Put(std::string_view key, std::string_view value) {
  entries_.insert_or_assign(std::string(key), std::string(value));
}

Status MemoryKv::Scan(std::string_view begin, std::string_view end, const KvVisitor& visit) const {
  for (auto it = entries_.lower_bound(begin); it != entries_.end() && it->first < end; ++it) {
    if (!visit(it->first, it->second)) break;
  }
  return Status::Ok();
}

}  // namespace ledger::projections
