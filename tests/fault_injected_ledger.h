// FaultInjectedLedgerTest: a ledger, with its projections, on a file system
// that fails writes, syncs and reads on demand and loses unsynced bytes in a
// simulated power cut (fault_injection_fs.h). The fixture of the suites that
// test failures: fault_injection_test.cc and snapshot_test.cc.

#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "fault_injection_fs.h"
#include "ledger/ledger.h"
#include "process_util.h"
#include "projections/projection_set.h"
#include "replay/audit.h"

namespace ledger::testing {

class FaultInjectedLedgerTest : public ::testing::Test {
 protected:
  FaultInjectedLedgerTest()
      : fs_(std::make_shared<FaultInjectionFs>()), env_(rocksdb::NewCompositeEnv(fs_)) {}

  void Open(bool sync = true, projections::ProjectionOptions projection_options = {}) {
    LedgerOptions options;
    options.store.path = dir_.Sub("db");
    options.store.env = env_.get();
    options.store.sync = sync;
    options.store.on_written = on_written_;
    Result<std::unique_ptr<Ledger>> opened =
        Ledger::Open(projections::WithProjections(std::move(options), projection_options));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    ledger_ = std::move(*opened);
  }

  // A power cut: nothing more reaches the disk, the process goes away, and
  // what was not synced is lost.
  void PowerLoss() {
    fs_->active = false;
    ledger_.reset();
    fs_->DropUnsyncedData();
    fs_->active = true;
  }

  // Closes the ledger and audits it, opened without its projections.
  void ExpectVerifies() {
    ledger_.reset();
    LedgerOptions options;
    options.store.path = dir_.Sub("db");
    options.store.env = env_.get();
    Result<std::unique_ptr<Ledger>> plain = Ledger::Open(std::move(options));
    ASSERT_TRUE(plain.ok());
    Result<replay::AuditReport> report = replay::Audit((*plain)->store(), {});
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->ok()) << (report->failures.empty() ? "" : report->failures[0].problem);
  }

  TempDir dir_;
  std::function<void(const rocksdb::WriteBatch&)> on_written_;  // for the next Open
  std::shared_ptr<FaultInjectionFs> fs_;
  std::unique_ptr<rocksdb::Env> env_;
  std::unique_ptr<Ledger> ledger_;
};

}  // namespace ledger::testing
