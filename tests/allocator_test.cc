// The programs run on jemalloc with the settings of cli/allocator.cc. Each
// is started with MALLOC_CONF=stats_print:true, which makes jemalloc print
// its options at exit: a program not linked with jemalloc prints none, and
// a setting jemalloc does not accept is reported as "<jemalloc>: Invalid
// conf pair" (or "value") and left at its default. Where the kernel has no
// transparent huge pages jemalloc reports thp as "not supported": skipped.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/process_util.h"

namespace ledger::testing {
namespace {

// `thp` is the huge-page setting the program asks for (cli/allocator.h).
void ExpectConfigured(const std::vector<std::string>& argv, const std::string& thp) {
  if (!std::filesystem::exists("/sys/kernel/mm/transparent_hugepage/enabled")) {
    GTEST_SKIP() << "this kernel has no transparent huge pages";
  }
  TempDir scratch;
  const std::vector<std::string> env = EnvironmentWith({"MALLOC_CONF=stats_print:true"});
  const ProcessResult run = RunProcess(argv, scratch, std::nullopt, &env);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("___ Begin jemalloc statistics ___"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("opt.thp: \"" + thp + "\""), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("opt.narenas: 1\n"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("opt.muzzy_decay_ms: 10000 "), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find("<jemalloc>: Invalid conf"), std::string::npos) << run.err;
}

TEST(AllocatorTest, LedgerRunsOnConfiguredJemalloc) {
  TempDir db;
  ExpectConfigured({LEDGER_BINARY, "--db", db.Sub("ledger"), "init"}, "never");
}

TEST(AllocatorTest, BenchRunsOnConfiguredJemalloc) {
  ExpectConfigured({LEDGER_BENCH_BINARY, "--help"}, "always");
}

}  // namespace
}  // namespace ledger::testing
