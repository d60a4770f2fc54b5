// Helpers for the projection tests: a Ledger with its projections on a fresh
// temporary folder, event lines, and whole-family dumps for comparisons.
// Each TestBook removes its folder when destroyed. Not thread-safe.

#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "projections/projection_set.h"
#include "projections/queries.h"

namespace ledger::projection_test {

class TestBook {
 public:
  // `options`: the projections' (a small snapshot interval in tests).
  explicit TestBook(projections::ProjectionOptions options = {}) : options_(options) {
    char pattern[] = "/tmp/ledger-proj-XXXXXX";
    const char* dir = mkdtemp(pattern);
    LEDGER_CHECK(dir != nullptr);
    path_ = dir;
    Open();
  }
  ~TestBook() {
    ledger_.reset();
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  // With projections (as the command line opens a ledger), or without them
  // (as maintenance does: replay, verify).
  void Open(bool with_projections = true) {
    LedgerOptions options;
    options.store.path = path_;
    options.clock_us = [this] { return clock_us_; };
    if (with_projections) options = projections::WithProjections(std::move(options), options_);
    Result<std::unique_ptr<Ledger>> opened = Ledger::Open(std::move(options));
    LEDGER_CHECK(opened.ok());
    ledger_ = std::move(*opened);
    if (!with_projections) return;
    Result<std::unique_ptr<projections::CommittedProjections>> committed =
        projections::CommittedProjections::Open(ledger_->store());
    LEDGER_CHECK(committed.ok());
    committed_ = std::move(*committed);
  }
  void Reopen(bool with_projections = true) {
    committed_.reset();
    ledger_.reset();
    Open(with_projections);
  }
  void Close() {
    committed_.reset();
    ledger_.reset();
  }
  // The recorded time of the next batches.
  void set_clock_us(int64_t clock_us) { clock_us_ = clock_us; }

  // Appends `lines` in batches of `batch_events`; returns the outcomes.
  std::vector<AppendResult> Append(const std::vector<std::string>& lines, size_t batch_events = 4096) {
    std::vector<AppendResult> all;
    for (size_t begin = 0; begin < lines.size(); begin += batch_events) {
      std::vector<std::string_view> batch;
      for (size_t i = begin; i < std::min(lines.size(), begin + batch_events); ++i) {
        batch.push_back(lines[i]);
      }
      std::vector<AppendResult> results;
      const Status status = ledger_->AppendBatch(batch, &results);
      EXPECT_TRUE(status.ok()) << status.ToString();
      all.insert(all.end(), results.begin(), results.end());
    }
    return all;
  }

  Ledger& ledger() { return *ledger_; }
  projections::ProjectionReaders readers() const { return committed_->readers(); }
  const std::string& path() const { return path_; }

 private:
  projections::ProjectionOptions options_;
  std::string path_;
  int64_t clock_us_ = 1'780'272'000'000'000;  // 2026-06-01T00:00:00Z
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<projections::CommittedProjections> committed_;
};

// Every key and value of a reader, but the checkpoint.
inline std::map<std::string, std::string> Dump(const projections::KvReader& reader) {
  std::map<std::string, std::string> entries;
  const Status status = reader.Scan(std::string(1, '\x01'), std::string(1, '\xff'),
                                    [&](std::string_view key, std::string_view value) {
                                      entries.emplace(key, value);
                                      return true;
                                    });
  EXPECT_TRUE(status.ok()) << status.ToString();
  return entries;
}

}  // namespace ledger::projection_test
