// The programs run on jemalloc with the settings of cli/allocator.h. Each
// is started with MALLOC_CONF=stats_print:true, which makes jemalloc print
// its options at exit: a program not linked with jemalloc prints none, and
// a setting jemalloc does not accept is reported as "<jemalloc>: Invalid
// conf pair" (or "value") and left at its default. Where the kernel has no
// transparent huge pages jemalloc reports thp as "not supported": skipped.
#include "cli/allocator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tests/process_util.h"

namespace ledger::testing {
namespace {

// Whether jemalloc's printed statistics show `key` set to `value`: as
// `opt.key: "value"` for a string, `opt.key: value` and a space or a line
// end for a number.
bool ShowsSetting(const std::string& stats, std::string_view key, std::string_view value) {
  const std::string name = "opt." + std::string(key) + ": ";
  if (stats.find(name + "\"" + std::string(value) + "\"") != std::string::npos) return true;
  const std::string number = name + std::string(value);
  for (size_t at = stats.find(number); at != std::string::npos; at = stats.find(number, at + 1)) {
    const size_t end = at + number.size();
    if (end < stats.size() && (stats[end] == ' ' || stats[end] == '\n')) return true;
  }
  return false;
}

// Runs `argv` and checks that jemalloc took every `key:value` of `conf`.
void ExpectConfigured(const std::vector<std::string>& argv, std::string_view conf,
                      std::string_view metadata_thp) {
  if (!std::filesystem::exists("/sys/kernel/mm/transparent_hugepage/enabled")) {
    GTEST_SKIP() << "this kernel has no transparent huge pages";
  }
  TempDir scratch;
  const std::vector<std::string> env = EnvironmentWith({"MALLOC_CONF=stats_print:true"});
  const ProcessResult run = RunProcess(argv, scratch, std::nullopt, &env);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("___ Begin jemalloc statistics ___"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find("<jemalloc>: Invalid conf"), std::string::npos) << run.err;
  size_t settings = 0;
  for (size_t begin = 0; begin < conf.size();) {
    const size_t comma = std::min(conf.find(',', begin), conf.size());
    const std::string_view pair = conf.substr(begin, comma - begin);
    const size_t colon = pair.find(':');
    ASSERT_NE(colon, std::string_view::npos) << pair;
    EXPECT_TRUE(ShowsSetting(run.err, pair.substr(0, colon), pair.substr(colon + 1)))
        << pair << "\n"
        << run.err;
    ++settings;
    begin = comma + 1;
  }
  EXPECT_GE(settings, 3u);
  EXPECT_TRUE(ShowsSetting(run.err, "metadata_thp", metadata_thp)) << run.err;
}

TEST(AllocatorTest, LedgerRunsOnConfiguredJemalloc) {
  TempDir db;
  ExpectConfigured({LEDGER_BINARY, "--db", db.Sub("ledger"), "init"}, cli::kLedgerMallocConf,
                   "disabled");
  // No huge pages, whatever the kernel's mode (cli/allocator.cc).
  EXPECT_NE(std::string_view(cli::kLedgerMallocConf).find("thp:never"), std::string_view::npos);
}

TEST(AllocatorTest, BenchRunsOnConfiguredJemalloc) {
  ExpectConfigured({LEDGER_BENCH_BINARY, "--help"}, cli::kBenchMallocConf, "always");
}

}  // namespace
}  // namespace ledger::testing
