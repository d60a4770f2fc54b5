// Smoke test of ledger_bench: a --quick run (with PostgreSQL when its
// binaries are installed) must print every row of the report, every stage
// must succeed, and the stages that see the whole stream must count all of
// it. No timing is checked: the numbers are for people.

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr const char* kPgBin = "/usr/lib/postgresql/15/bin";

struct CommandRun {
  int exit_code = -1;
  std::string out;
};

CommandRun RunCommand(const std::string& command) {
  CommandRun run;
  std::FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) run.out.append(buffer, n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

struct ReportRow {
  std::string status;
  std::string count;
  std::string text;  // the whole row, notes included
};

// The table's rows by stage name: the stage is the first 40 columns, then
// status and count.
std::map<std::string, ReportRow> ParseRows(const std::string& out) {
  std::map<std::string, ReportRow> rows;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() < 42) continue;
    std::string stage = line.substr(0, 40);
    stage.erase(stage.find_last_not_of(' ') + 1);
    std::istringstream rest(line.substr(41));
    ReportRow row;
    rest >> row.status >> row.count;
    row.text = line;
    rows[stage] = row;
  }
  return rows;
}

class BenchSmokeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "bench_smoke.XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    // As root the benchmark runs PostgreSQL as the `postgres` user, which
    // must be able to enter the scratch folder.
    std::filesystem::permissions(
        dir_, std::filesystem::perms::others_exec | std::filesystem::perms::group_exec,
        std::filesystem::perm_options::add);
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string dir_;
};

TEST_F(BenchSmokeTest, QuickRunReportsEveryStage) {
  const bool have_postgres = std::filesystem::exists(std::string(kPgBin) + "/initdb");
  const std::string json = dir_ + "/report.json";
  const CommandRun run =
      RunCommand(std::string(LEDGER_BENCH_BINARY) + " --quick --rounds 3 --dir " + dir_ +
                 " --json " + json + " 2>&1");
  ASSERT_EQ(run.exit_code, 0) << run.out;

  const std::map<std::string, ReportRow> rows = ParseRows(run.out);
  const std::vector<std::string> whole_stream = {"ledger append (CLI, JSON, durable)",
                                                 "Ledger::AppendStream (in-process, JSON)",
                                                 "raw RocksDB write (encoded, sync/1000)",
                                                 "floor: raw write + event-id index",
                                                 "floor: JSON parse + decode",
                                                 "floor: Cereal + SHA-256 chain",
                                                 "the ledger's writes alone",
                                                 "floors as a 2-thread pipeline",
                                                 "raw RocksDB scan + DecodeEnvelope",
                                                 "ledger replay (Rebuild)",
                                                 "ledger verify (Audit)"};
  for (const std::string& stage : whole_stream) {
    ASSERT_TRUE(rows.count(stage)) << stage << "\n" << run.out;
    EXPECT_EQ(rows.at(stage).status, "ok") << stage << "\n" << run.out;
    // --quick generates 20,000 events, and the generator's are all valid.
    EXPECT_EQ(rows.at(stage).count, "20,000") << stage << "\n" << run.out;
  }
  for (const char* stage :
       {"invoice query (committed)", "invoice --as-of-seq (historical)",
        "concurrent appenders (8 threads)", "raw RocksDB, 8 writers (synced Put)"}) {
    ASSERT_TRUE(rows.count(stage)) << stage << "\n" << run.out;
    EXPECT_EQ(rows.at(stage).status, "ok") << stage << "\n" << run.out;
  }
  const std::string pg_status = have_postgres ? "ok" : "skipped";
  ASSERT_TRUE(rows.count("PostgreSQL COPY (1000-row commits)")) << run.out;
  EXPECT_EQ(rows.at("PostgreSQL COPY (1000-row commits)").status, pg_status) << run.out;
  if (have_postgres) {
    EXPECT_EQ(rows.at("PostgreSQL COPY (1000-row commits)").count, "20,000") << run.out;
  }
  ASSERT_TRUE(rows.count("PostgreSQL invoice total (SQL)")) << run.out;
  EXPECT_EQ(rows.at("PostgreSQL invoice total (SQL)").status, pg_status) << run.out;

  EXPECT_NE(run.out.find("machine: "), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("ledger append / raw RocksDB write"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("8 writers, p99: the ledger "), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("the floors as a pipeline ingest "), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("floors as a pipeline / raw RocksDB write"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("the ledger's own writes alone + JSON + Cereal and hash chain: "),
            std::string::npos)
      << run.out;
  // Three rounds of the ingest pair and of replay against the raw scan: each
  // pair's rows give the median round, and each round's ratio is printed.
  for (const char* stage :
       {"ledger append (CLI, JSON, durable)", "raw RocksDB write (encoded, sync/1000)",
        "ledger replay (Rebuild)", "raw RocksDB scan + DecodeEnvelope"}) {
    EXPECT_NE(rows.at(stage).text.find("the median round by ratio of 3"), std::string::npos)
        << stage << "\n"
        << run.out;
  }
  EXPECT_NE(run.out.find("ledger append / raw write, each round"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("replay / raw scan, each round"), std::string::npos) << run.out;
  ASSERT_TRUE(std::filesystem::exists(json));
  std::ifstream report(json);
  std::stringstream report_text;
  report_text << report.rdbuf();
  // Each round's rates of both pairs, in the report.
  for (const char* key : {"\"ingest_rounds\": [{\"ledger_append_per_s\": ",
                          "\"replay_rounds\": [{\"replay_per_s\": "}) {
    EXPECT_NE(report_text.str().find(key), std::string::npos) << key << "\n" << report_text.str();
  }
  // The scratch subfolder is removed; only the report is left.
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename(), "report.json") << entry.path();
  }
}

}  // namespace
