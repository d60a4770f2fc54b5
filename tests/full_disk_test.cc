// A full disk: `ledger append` stops with exit 2 and says why, every event
// it acknowledged stays, the queries, `digest` and `verify
// --skip-projections` still answer (read without writing there), and a
// re-send once there is room lands each event exactly once. Every command
// aborted there (SIGABRT, exit 134): RocksDB's info log, as Debian builds
// it, asserts at its next write after a failed one.
//
// The disk is a small tmpfs, mounted when this process may mount (root);
// elsewhere the test is skipped and says so.

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "bench/workload.h"
#include "process_util.h"

namespace ledger {
namespace {

using testing::ProcessResult;
using testing::RunProcess;
using testing::SplitLines;
using testing::TempDir;

constexpr size_t kEvents = 100'000;  // about 23 MB of JSON Lines: more than the disk holds

class Mount {
 public:
  explicit Mount(std::string dir) : dir_(std::move(dir)) {}
  ~Mount() {
    if (mounted_) umount2(dir_.c_str(), MNT_DETACH);
  }
  // A tmpfs of `size` ("16m") at the folder; errno's text if it cannot.
  std::string MountTmpfs(const std::string& size) {
    std::filesystem::create_directories(dir_);
    const std::string data = "size=" + size;
    if (mount("tmpfs", dir_.c_str(), "tmpfs", 0, data.c_str()) != 0) return std::strerror(errno);
    mounted_ = true;
    return "";
  }

 private:
  std::string dir_;
  bool mounted_ = false;
};

// Writes zeros to `path` until the disk is full.
void FillDisk(const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  const std::string block(64 << 10, '\0');
  while (out.write(block.data(), static_cast<std::streamsize>(block.size()))) out.flush();
}

size_t CountStatus(const std::vector<std::string>& results, const std::string& status) {
  size_t count = 0;
  for (const std::string& line : results) {
    count += line.find("\"status\":\"" + status + "\"") != std::string::npos;
  }
  return count;
}

TEST(FullDiskTest, AFullDiskIsAnErrorAndLosesNothingAcknowledged) {
  TempDir scratch;
  Mount disk(scratch.Sub("small"));
  if (const std::string failed = disk.MountTmpfs("16m"); !failed.empty()) {
    GTEST_SKIP() << "cannot mount a tmpfs here: " << failed;
  }
  const std::string db = scratch.Sub("small/db");
  const std::string events = scratch.Sub("events.jsonl");
  {
    std::ofstream out(events);
    bench::WorkloadOptions workload;
    workload.events = kEvents;
    workload.accounts = 20;
    bench::GenerateWorkload(workload, [&](const std::string& line) { out << line << '\n'; });
  }
  const ProcessResult append = RunProcess({LEDGER_BINARY, "--db", db, "append", events}, scratch);
  EXPECT_EQ(append.signal, 0) << append.err;
  EXPECT_EQ(append.exit_code, 2) << append.err;
  EXPECT_NE(append.err.find("nothing from there on was stored"), std::string::npos) << append.err;
  EXPECT_NE(append.err.find("No space left on device"), std::string::npos) << append.err;
  const std::vector<std::string> acknowledged = SplitLines(append.out);
  ASSERT_GT(acknowledged.size(), 0u) << "the disk filled before the first batch";
  ASSERT_LT(acknowledged.size(), kEvents);
  ASSERT_EQ(CountStatus(acknowledged, "appended"), acknowledged.size());

  // With not a byte free, the reads answer as the ledger stands.
  FillDisk(scratch.Sub("small/fill"));
  const std::vector<std::vector<std::string>> reads = {
      {"digest"},
      {"invoice", "--account", "acct-00001", "--period", "2026-01"},
      {"verify", "--skip-projections"}};
  for (const std::vector<std::string>& read : reads) {
    std::vector<std::string> argv = {LEDGER_BINARY, "--db", db};
    argv.insert(argv.end(), read.begin(), read.end());
    const ProcessResult r = RunProcess(argv, scratch);
    EXPECT_EQ(r.signal, 0) << read[0] << ": " << r.err;
    EXPECT_EQ(r.exit_code, 0) << read[0] << ": " << r.err;
    if (read[0] == "digest") {
      EXPECT_EQ(r.out.rfind(std::to_string(acknowledged.size()) + ":", 0), 0u) << r.out;
    }
  }
  // Writers say why they cannot run.
  const ProcessResult refused = RunProcess({LEDGER_BINARY, "--db", db, "append", events}, scratch);
  EXPECT_EQ(refused.signal, 0) << refused.err;
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("No space left on device"), std::string::npos) << refused.err;

  // Given room, a re-send of the whole file stores each event once: what was
  // acknowledged is a duplicate at its seq, the rest is appended.
  const std::string roomy = scratch.Sub("roomy");
  std::filesystem::copy(db, roomy, std::filesystem::copy_options::recursive);
  const ProcessResult resend =
      RunProcess({LEDGER_BINARY, "--db", roomy, "append", events}, scratch);
  ASSERT_EQ(resend.exit_code, 0) << resend.err;
  const std::vector<std::string> results = SplitLines(resend.out);
  ASSERT_EQ(results.size(), kEvents);
  for (size_t i = 0; i < acknowledged.size(); ++i) {
    std::string duplicate = acknowledged[i];
    duplicate.replace(duplicate.find("\"appended\""), 10, "\"duplicate\"");
    ASSERT_EQ(results[i], duplicate);
  }
  EXPECT_EQ(CountStatus(results, "appended"), kEvents - acknowledged.size());
  const ProcessResult verify = RunProcess({LEDGER_BINARY, "--db", roomy, "verify"}, scratch);
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

}  // namespace
}  // namespace ledger
