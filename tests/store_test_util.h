// Test helpers for suites that compare whole ledgers: a ledger opened as
// the command line opens it (with a pinned clock, so two ledgers fed the
// same events store the same bytes), one-batch appends, and every key and
// value of every column family with the difference between two such dumps.
//
// Each helper reports failures through GoogleTest; not thread-safe.

#pragma once

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/ledger.h"
#include "ledger/rule_error.h"
#include "projections/projection_set.h"

namespace ledger::store_test {

// Drops the column family `name` of the closed database at `path`, as a
// ledger that lost one of its families would be found.
inline void DropColumnFamilyAt(const std::string& path, const std::string& name) {
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& listed : names) {
    descriptors.emplace_back(listed, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), path, descriptors, &handles, &db).ok());
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    if (handle->GetName() == name) {
      EXPECT_TRUE(db->DropColumnFamily(handle).ok());
    }
    EXPECT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
  }
  delete db;
}

// A pinned wall clock: two ledgers fed the same lines store the same bytes.
inline constexpr int64_t kClock_us = 1'775'000'000'000'000;

// Opens the ledger at `path`: the event store alone, or with the
// projections attached as the command line opens it.
inline std::unique_ptr<Ledger> OpenLedger(const std::string& path, bool pinned_clock = true,
                                          bool with_projections = false,
                                          projections::ProjectionOptions projection_options = {}) {
  LedgerOptions options;
  options.store.path = path;
  if (pinned_clock) options.clock_us = [] { return kClock_us; };
  if (with_projections) {
    options = projections::WithProjections(std::move(options), projection_options);
  }
  Result<std::unique_ptr<Ledger>> ledger = Ledger::Open(std::move(options));
  EXPECT_TRUE(ledger.ok()) << ledger.status().ToString();
  if (!ledger.ok()) return nullptr;
  return std::move(*ledger);
}

// Appends `lines` as one batch, which must be stored.
inline std::vector<AppendResult> Append(Ledger& ledger, const std::vector<std::string>& lines) {
  std::vector<std::string_view> views(lines.begin(), lines.end());
  std::vector<AppendResult> results;
  const Status status = ledger.AppendBatch(views, &results);
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(results.size(), lines.size());
  return results;
}

inline std::string Describe(const AppendResult& r) {
  switch (r.outcome) {
    case AppendResult::Outcome::kAppended:
      return "appended seq " + std::to_string(r.seq);
    case AppendResult::Outcome::kDuplicate:
      return "duplicate seq " + std::to_string(r.seq);
    case AppendResult::Outcome::kRejected:
      return "rejected " + std::string(ErrorCodeName(r.error.code)) + " (" + r.error.message + ")";
  }
  return "?";
}

// Every key and value of every column family of the ledger's database.
using CfContents = std::map<std::string, std::string>;
using DbContents = std::map<std::string, CfContents>;

inline DbContents Snapshot(const EventStore& store) {
  DbContents contents;
  std::vector<std::string> names;
  const rocksdb::Status listed =
      rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), store.db()->GetName(), &names);
  EXPECT_TRUE(listed.ok()) << listed.ToString();
  for (const char* name : {"log", "account_index", "idempotency", "state", "usage_intervals"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
  for (const std::string& name : names) {
    rocksdb::ColumnFamilyHandle* cf = store.column_family(name);
    if (cf == nullptr) {
      ADD_FAILURE() << "column family " << name << " is not open";
      continue;
    }
    CfContents& cf_contents = contents[name];
    std::unique_ptr<rocksdb::Iterator> it(store.db()->NewIterator(rocksdb::ReadOptions(), cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      cf_contents.emplace(it->key().ToString(), it->value().ToString());
    }
    EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  }
  return contents;
}

// What changed from `before` to `after`, per column family: each changed or
// added key with its new value, each removed key with nullopt.
using CfDiff = std::map<std::string, std::optional<std::string>>;
using DbDiff = std::map<std::string, CfDiff>;

inline DbDiff Diff(const DbContents& before, const DbContents& after) {
  DbDiff diff;
  for (const auto& [cf, after_cf] : after) {
    const auto found = before.find(cf);
    const CfContents empty;
    const CfContents& before_cf = found == before.end() ? empty : found->second;
    for (const auto& [key, value] : after_cf) {
      const auto old = before_cf.find(key);
      if (old == before_cf.end() || old->second != value) diff[cf][key] = value;
    }
    for (const auto& [key, value] : before_cf) {
      if (!after_cf.contains(key)) diff[cf][key] = std::nullopt;
    }
  }
  // A family only `before` has: every key of it removed.
  for (const auto& [cf, before_cf] : before) {
    if (after.contains(cf)) continue;
    for (const auto& [key, value] : before_cf) diff[cf][key] = std::nullopt;
  }
  return diff;
}

inline std::string Printable(std::string_view bytes) {
  std::string text;
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '\\') {
      text.push_back(c);
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      text += hex;
    }
  }
  return text;
}

inline std::string Describe(const DbDiff& diff) {
  std::string text;
  for (const auto& [cf, keys] : diff) {
    for (const auto& [key, value] : keys) {
      text += "  " + cf + " [" + Printable(key) + "] " +
              (value ? "= " + std::to_string(value->size()) + " bytes" : "deleted") + "\n";
    }
  }
  return text.empty() ? "  (nothing)\n" : text;
}

}  // namespace ledger::store_test
