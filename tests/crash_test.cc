// The crash test (RocksDB's crash test, in small): a writer child process
// (the real `ledger append`, reading events from a pipe) is killed with
// SIGKILL at a random moment, over and over, on one ledger. After each kill
// the ledger is reopened and checked:
//   - every event the child acknowledged (printed `appended`) is stored, with
//     its sequence number and its event id;
//   - sequence numbers are gapless and the hash chain and every projection
//     verify (`ledger verify`);
//   - re-sending the unacknowledged tail stores each event exactly once.
// Quick mode (the suite) kills 20 writers; LEDGER_CRASH_KILLS=1000 runs the
// long mode (README records its result).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "bench/workload.h"
#include "process_util.h"

namespace ledger {
namespace {

using testing::RunProcess;
using testing::TempDir;

struct Child {
  pid_t pid = -1;
  int to_child = -1;    // its stdin
  int from_child = -1;  // its stdout
};

Child StartAppender(const std::string& db) {
  int in[2];
  int out[2];
  EXPECT_EQ(pipe2(in, O_CLOEXEC), 0);
  EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
  Child child;
  child.pid = fork();
  if (child.pid == 0) {
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    const int null_fd = open("/dev/null", O_WRONLY);
    dup2(null_fd, STDERR_FILENO);
    execl(LEDGER_BINARY, LEDGER_BINARY, "--db", db.c_str(), "append", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  child.to_child = in[1];
  child.from_child = out[0];
  fcntl(child.from_child, F_SETFL, O_NONBLOCK);
  return child;
}

// Result lines read so far from the child, split into complete lines.
void ReadResults(int fd, std::string* pending, std::vector<std::string>* lines) {
  char buffer[1 << 16];
  while (true) {
    const ssize_t got = read(fd, buffer, sizeof buffer);
    if (got <= 0) break;
    pending->append(buffer, static_cast<size_t>(got));
  }
  size_t newline;
  while ((newline = pending->find('\n')) != std::string::npos) {
    lines->push_back(pending->substr(0, newline));
    pending->erase(0, newline + 1);
  }
}

int KillsWanted() {
  const char* kills = std::getenv("LEDGER_CRASH_KILLS");
  return kills != nullptr ? std::atoi(kills) : 20;
}

// One ledger, killed writers until its events are all stored or `kills_max`
// writers were killed; adds how many were to *kills_total.
void CrashOneLedger(const TempDir& dir, const std::string& db, int kills_max, uint64_t seed,
                    int* kills_total);

TEST(CrashTest, AcknowledgedEventsSurviveSigkillAndResendsLandOnce) {
  signal(SIGPIPE, SIG_IGN);
  // A ledger takes a few hundred kills before all its events are stored:
  // long runs go on with fresh ledgers until enough writers were killed.
  int kills = 0;
  for (int ledger = 0; kills < KillsWanted(); ++ledger) {
    TempDir dir;
    const int before = kills;
    CrashOneLedger(dir, dir.Sub("db"), KillsWanted() - kills, 20261127 + ledger, &kills);
    if (kills == before) ++kills;  // a ledger always counts, so the loop ends
    if (::testing::Test::HasFatalFailure()) return;
  }
  std::printf("crash test: %d writers killed in total\n", kills);
}

void CrashOneLedger(const TempDir& dir, const std::string& db, int kills_max, uint64_t seed,
                    int* kills_total) {
  bench::WorkloadOptions options;
  options.events = 60'000;
  options.accounts = 10;
  std::vector<std::string> events;
  bench::GenerateWorkload(options, [&](const std::string& line) { events.push_back(line); });

  std::mt19937_64 rng(seed);
  std::map<std::string, uint64_t> acknowledged;  // event id -> seq
  size_t next = 0;                                // first event not yet acknowledged
  int kills = 0;
  for (int round = 0; round < kills_max && next < events.size(); ++round) {
    Child child = StartAppender(db);
    // Feed events from the first unacknowledged one, reading answers, and
    // kill the child after a random time.
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::microseconds(2'000 + rng() % 60'000);
    std::string pending;
    std::vector<std::string> results;
    size_t sent = next;
    while (std::chrono::steady_clock::now() < deadline && sent < events.size()) {
      const size_t chunk_end = std::min(events.size(), sent + 1 + rng() % 500);
      std::string chunk;
      for (; sent < chunk_end; ++sent) chunk += events[sent] + "\n";
      if (write(child.to_child, chunk.data(), chunk.size()) < 0) break;
      ReadResults(child.from_child, &pending, &results);
    }
    kill(child.pid, SIGKILL);
    int status = 0;
    waitpid(child.pid, &status, 0);
    ReadResults(child.from_child, &pending, &results);  // what it printed before dying
    close(child.to_child);
    close(child.from_child);
    kills += WIFSIGNALED(status) ? 1 : 0;

    // Every printed result is an acknowledgement of line `next + line - 1`.
    simdjson::dom::parser parser;
    for (const std::string& line : results) {
      simdjson::dom::element result;
      ASSERT_FALSE(parser.parse(line).get(result)) << line;
      const int64_t number = result["line"].get_int64().value();
      const std::string_view outcome = result["status"].get_string().value();
      ASSERT_NE(outcome, "rejected") << line;
      const size_t index = next + static_cast<size_t>(number) - 1;
      const std::string event_id(result["event_id"].get_string().value());
      const uint64_t seq = result["seq"].get_uint64().value();
      const auto [it, inserted] = acknowledged.emplace(event_id, seq);
      ASSERT_EQ(it->second, seq) << "event " << event_id << " acknowledged at two seqs";
      ASSERT_NE(events[index].find("\"" + event_id + "\""), std::string::npos) << line;
    }
    next += results.size();

    // Reopen: every acknowledged event is there, with its seq; all verifies.
    const testing::ProcessResult verify =
        RunProcess({LEDGER_BINARY, "--db", db, "verify", "--format", "json"}, dir);
    if (!std::filesystem::exists(db)) continue;  // killed before it created anything
    ASSERT_EQ(verify.exit_code, 0) << "after kill " << round << ": " << verify.out << verify.err;
    const testing::ProcessResult stored =
        RunProcess({LEDGER_BINARY, "--db", db, "events"}, dir);
    ASSERT_EQ(stored.exit_code, 0) << stored.err;
    std::map<uint64_t, std::string> ids_by_seq;
    for (const std::string& line : testing::SplitLines(stored.out)) {
      simdjson::dom::element event;
      ASSERT_FALSE(parser.parse(line).get(event));
      ids_by_seq[event["seq"].get_uint64().value()] = std::string(event["event_id"].get_string().value());
    }
    ASSERT_TRUE(ids_by_seq.empty() || ids_by_seq.rbegin()->first == ids_by_seq.size())
        << "sequence numbers have a gap";
    for (const auto& [event_id, seq] : acknowledged) {
      ASSERT_EQ(ids_by_seq[seq], event_id) << "acknowledged event lost or moved";
    }
    // Stored but never acknowledged events are re-sent next round: they must
    // come back as duplicates, not twice.
    ASSERT_LE(ids_by_seq.size(), events.size());
  }
  EXPECT_GE(kills, std::min(kills_max, 5)) << "the writers should have been killed, not finished";

  // Finally re-send everything: each event is stored exactly once.
  const std::string all = dir.Sub("all.jsonl");
  std::string text;
  for (const std::string& event : events) text += event + "\n";
  testing::WriteFile(all, text);
  const testing::ProcessResult resend =
      RunProcess({LEDGER_BINARY, "--db", db, "append", all}, dir);
  EXPECT_EQ(resend.exit_code, 0) << resend.err;
  const testing::ProcessResult digest = RunProcess({LEDGER_BINARY, "--db", db, "digest"}, dir);
  EXPECT_EQ(digest.out.substr(0, digest.out.find(':')), std::to_string(events.size()));
  std::printf("crash test: %d writers killed, %zu events acknowledged before the final re-send\n",
              kills, acknowledged.size());
  *kills_total += kills;
}

}  // namespace
}  // namespace ledger
