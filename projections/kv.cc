#include "projections/kv.h"

#include <algorithm>
#include <memory>

#include "ledger/rocks_status.h"

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
  if (!it->status().ok()) return FromRocks(it->status(), "projection scan");
  return Status::Ok();
}

Status RocksKvReader::Last(std::string_view begin, std::string_view end,
                           const KvVisitor& visit) const {
  rocksdb::ReadOptions options;
  const rocksdb::Slice lower(begin.data(), begin.size());
  const rocksdb::Slice upper(end.data(), end.size());
  options.iterate_lower_bound = &lower;
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, cf_));
  it->SeekToLast();
  if (it->Valid()) visit(it->key().ToStringView(), it->value().ToStringView());
  if (!it->status().ok()) return FromRocks(it->status(), "projection scan");
  return Status::Ok();
}

Result<RocksProjectionStore::Cache::iterator> RocksProjectionStore::Find(std::string_view key) {
  LEDGER_CHECK(!flushed_);
  if (last_valid_ && last_->first.view() == key) return last_;
  auto it = cache_.find(key);
  if (it == cache_.end()) {
    // Absent keys are cached too: a new hour or line is looked up once.
    Entry entry;
    std::string value;
    LEDGER_RETURN_IF_ERROR(reader_.Get(key, &value, &entry.present));
    entry.value.assign(value);
    it = cache_.emplace(Key(key), std::move(entry)).first;
  }
  last_ = it;
  last_valid_ = true;
  return it;
}

Status RocksProjectionStore::Get(std::string_view key, std::string* value, bool* found) {
  Result<Cache::iterator> it = Find(key);
  if (!it.ok()) return it.status();
  *found = (*it)->second.present;
  if (*found) value->assign((*it)->second.value.view());
  return Status::Ok();
}

void RocksProjectionStore::Put(std::string_view key, std::string_view value) {
  LEDGER_CHECK(!flushed_);
  Cache::iterator it;
  if (last_valid_ && last_->first.view() == key) {
    it = last_;
  } else {
    it = cache_.find(key);
    if (it == cache_.end()) it = cache_.try_emplace(Key(key)).first;
    last_ = it;
    last_valid_ = true;
  }
  it->second.value.assign(value);
  it->second.present = true;
  if (!it->second.dirty) {
    it->second.dirty = true;
    dirty_.push_back(it->first);
  }
  if (value.size() > kCachedValueBytesMax) uncached_.emplace_back(key);
  dirty_bytes_ += key.size() + value.size();
}

Status RocksProjectionStore::Scan(std::string_view begin, std::string_view end,
                                  const KvVisitor& visit) {
  // Only the batch's writes need laying over the stored keys. Copied:
  // `visit` may write to this store. Projections never delete.
  LEDGER_CHECK(!flushed_);
  std::vector<std::pair<std::string, std::string>> pending;
  for (const Key& key : dirty_) {
    if (key.view() < begin || key.view() >= end) continue;
    pending.emplace_back(key.view(), cache_.find(key.view())->second.value.view());
  }
  std::sort(pending.begin(), pending.end());
  size_t next = 0;  // the first pending entry not yet visited
  bool going = true;
  LEDGER_RETURN_IF_ERROR(
      reader_.Scan(begin, end, [&](std::string_view key, std::string_view value) {
        for (; next < pending.size() && pending[next].first < key && going; ++next) {
          going = visit(pending[next].first, pending[next].second);
        }
        if (!going) return false;
        if (next < pending.size() && pending[next].first == key) {
          going = visit(key, pending[next++].second);
        } else {
          going = visit(key, value);
        }
        return going;
      }));
  for (; next < pending.size() && going; ++next) {
    going = visit(pending[next].first, pending[next].second);
  }
  return Status::Ok();
}

void RocksProjectionStore::Flush(rocksdb::WriteBatch* batch) {
  // In key order, each insert into the family's skip list starts from where
  // the previous one landed, instead of searching from the top.
  std::sort(dirty_.begin(), dirty_.end(),
            [](const Key& a, const Key& b) { return a.view() < b.view(); });
  for (const Key& key : dirty_) {
    Entry& entry = cache_.find(key.view())->second;
    LEDGER_CHECK(batch->Put(cf_, key.view(), entry.value.view()).ok());
    entry.dirty = false;
  }
  dirty_.clear();
  dirty_bytes_ = 0;
  flushed_ = true;
}

void RocksProjectionStore::Committed() {
  LEDGER_CHECK(flushed_);
  flushed_ = false;
  // Every entry is clean: in the database now.
  for (const std::string& key : uncached_) cache_.erase(key);
  uncached_.clear();
  last_valid_ = false;
  if (cache_.size() > cache_entries_max_) cache_.clear();
}

void RocksProjectionStore::Aborted() {
  dirty_.clear();
  dirty_bytes_ = 0;
  uncached_.clear();
  cache_.clear();
  last_valid_ = false;
  flushed_ = false;
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
  // Most puts rewrite a key (an hour, an invoice line): found by view, its
  // value's buffer reused; only a new key allocates.
  const auto it = entries_.find(key);
  if (it != entries_.end()) {
    it->second.assign(value);
    return;
  }
  entries_.emplace(std::string(key), std::string(value));
  sorted_valid_ = false;
}

Status MemoryKv::Scan(std::string_view begin, std::string_view end, const KvVisitor& visit) {
  return static_cast<const MemoryKv*>(this)->Scan(begin, end, visit);
}

void MemoryKv::SortKeys() const {
  if (sorted_valid_) return;
  // Element addresses survive rehashing, so the index stays valid until a
  // key is added.
  sorted_.clear();
  sorted_.reserve(entries_.size());
  for (const Map::value_type& entry : entries_) sorted_.push_back(&entry);
  std::sort(sorted_.begin(), sorted_.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  sorted_valid_ = true;
}

Status MemoryKv::Scan(std::string_view begin, std::string_view end, const KvVisitor& visit) const {
  SortKeys();
  auto it =
      std::lower_bound(sorted_.begin(), sorted_.end(), begin,
                       [](const auto* entry, std::string_view key) { return entry->first < key; });
  for (; it != sorted_.end() && (*it)->first < end; ++it) {
    if (!visit((*it)->first, (*it)->second)) break;
  }
  return Status::Ok();
}

Status MemoryKv::Last(std::string_view begin, std::string_view end, const KvVisitor& visit) const {
  SortKeys();
  auto it =
      std::lower_bound(sorted_.begin(), sorted_.end(), end,
                       [](const auto* entry, std::string_view key) { return entry->first < key; });
  if (it != sorted_.begin() && (*std::prev(it))->first >= begin) {
    visit((*std::prev(it))->first, (*std::prev(it))->second);
  }
  return Status::Ok();
}

}  // namespace ledger::projections
