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

Result<RocksProjectionStore::Cache::iterator> RocksProjectionStore::Find(std::string_view key) {
  if (last_valid_ && last_->first == key) return last_;
  auto it = cache_.find(key);
  if (it == cache_.end()) {
    // Absent keys are cached too: a new hour or line is looked up once.
    Entry entry;
    LEDGER_RETURN_IF_ERROR(reader_.Get(key, &entry.value, &entry.present));
    it = cache_.emplace(std::string(key), std::move(entry)).first;
  }
  last_ = it;
  last_valid_ = true;
  return it;
}

Status RocksProjectionStore::Get(std::string_view key, std::string* value, bool* found) {
  Result<Cache::iterator> it = Find(key);
  if (!it.ok()) return it.status();
  *found = (*it)->second.present;
  if (*found) *value = (*it)->second.value;
  return Status::Ok();
}

void RocksProjectionStore::Put(std::string_view key, std::string_view value) {
  Cache::iterator it;
  if (last_valid_ && last_->first == key) {
    it = last_;
  } else {
    it = cache_.find(key);
    if (it == cache_.end()) it = cache_.try_emplace(std::string(key)).first;
    last_ = it;
    last_valid_ = true;
  }
  it->second.value.assign(value);
  it->second.present = true;
  if (!it->second.dirty) {
    it->second.dirty = true;
    dirty_.push_back(&*it);
  }
}

void RocksProjectionStore::Flush(rocksdb::WriteBatch* batch) {
  for (auto* entry : dirty_) {
    LEDGER_CHECK(batch->Put(cf_, entry->first, entry->second.value).ok());
    entry->second.dirty = false;
  }
  dirty_.clear();
}

void RocksProjectionStore::Committed() {
  if (cache_.size() <= cache_entries_max_) return;
  // Clean entries are in the database; dirty ones belong to the batch being
  // staged (the pipelined append judges it while the last one is written).
  std::erase_if(cache_, [](const auto& entry) { return !entry.second.dirty; });
  last_valid_ = false;
}

void RocksProjectionStore::Aborted() {
  dirty_.clear();
  cache_.clear();
  last_valid_ = false;
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
