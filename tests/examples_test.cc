// End-to-end tests of the real `ledger` binary: the three example stories of
// shared/examples (their `append` output compared with the recorded answers as
// JSON values) and the command-line contract of interface.md (exit statuses,
// line numbering, input forms, `events` filters and its hash chain).

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/process_util.h"

namespace ledger {
namespace {

using testing::ProcessResult;
using testing::ReadFile;
using testing::RunProcess;
using testing::SplitLines;
using testing::TempDir;
using testing::WriteFile;

namespace dom = simdjson::dom;

constexpr int kExitOk = 0;
constexpr int kExitRejected = 1;
constexpr int kExitCannotRun = 2;

const std::string kZeroHash(64, '0');

// ---------------------------------------------------------------------------
// Helpers.

std::string ExamplesDir() {
  return (std::filesystem::path(LEDGER_SOURCE_DIR) / ".." / "shared" / "examples")
      .lexically_normal()
      .string();
}

// Runs `ledger ARGS...` with stdin from `stdin_path` (/dev/null when unset).
ProcessResult RunLedger(const TempDir& scratch, std::vector<std::string> args,
                        const std::optional<std::string>& stdin_path = std::nullopt) {
  args.insert(args.begin(), LEDGER_BINARY);
  return RunProcess(args, scratch, stdin_path);
}

std::string Describe(const ProcessResult& r) {
  return "exit " + std::to_string(r.exit_code) +
         (r.signal != 0 ? " (signal " + std::to_string(r.signal) + ")" : "") + "\n--- stdout:\n" +
         r.out + "--- stderr:\n" + r.err;
}

bool IsFreeTextKey(std::string_view key) { return key == "message" || key == "description"; }

bool IsInteger(dom::element_type type) {
  return type == dom::element_type::INT64 || type == dom::element_type::UINT64;
}

// Compares two JSON values: objects by their key sets (order free), arrays
// element by element, numbers by value within the same kind (integer or not),
// and the values of "message" and "description" only by being strings.
// Describes the first difference in *diff.
bool SameJson(dom::element expected, dom::element actual, const std::string& path,
              std::string* diff) {
  const auto differ = [&](const std::string& why) {
    *diff = path + ": " + why + "; expected " + simdjson::to_string(expected) + ", got " +
            simdjson::to_string(actual);
    return false;
  };
  const dom::element_type et = expected.type();
  const dom::element_type at = actual.type();
  if (IsInteger(et) && IsInteger(at)) {
    if (et == dom::element_type::INT64 && at == dom::element_type::INT64) {
      return int64_t(expected) == int64_t(actual) || differ("different numbers");
    }
    // At least one side does not fit an int64: compare as unsigned values,
    // which also rules out a negative number on either side.
    uint64_t e = 0;
    uint64_t a = 0;
    if (expected.get_uint64().get(e) || actual.get_uint64().get(a) || e != a) {
      return differ("different numbers");
    }
    return true;
  }
  if (et != at) return differ("different kinds of value");
  switch (et) {
    case dom::element_type::OBJECT: {
      const dom::object eo = expected.get_object().value_unsafe();
      const dom::object ao = actual.get_object().value_unsafe();
      std::set<std::string> expected_keys;
      for (const dom::key_value_pair field : eo) expected_keys.emplace(field.key);
      std::set<std::string> actual_keys;
      for (const dom::key_value_pair field : ao) actual_keys.emplace(field.key);
      if (expected_keys != actual_keys || eo.size() != ao.size()) {
        return differ("different keys");
      }
      for (const dom::key_value_pair field : eo) {
        const dom::element a = ao.at_key(field.key).value_unsafe();
        const std::string child = path + "." + std::string(field.key);
        if (IsFreeTextKey(field.key)) {
          if (!field.value.is_string() || !a.is_string()) {
            *diff = child + ": free text must be a string on both sides; expected " +
                    simdjson::to_string(field.value) + ", got " + simdjson::to_string(a);
            return false;
          }
          continue;
        }
        if (!SameJson(field.value, a, child, diff)) return false;
      }
      return true;
    }
    case dom::element_type::ARRAY: {
      const dom::array ea = expected.get_array().value_unsafe();
      const dom::array aa = actual.get_array().value_unsafe();
      if (ea.size() != aa.size()) return differ("different lengths");
      for (size_t i = 0; i < ea.size(); ++i) {
        if (!SameJson(ea.at(i).value_unsafe(), aa.at(i).value_unsafe(),
                      path + "[" + std::to_string(i) + "]", diff)) {
          return false;
        }
      }
      return true;
    }
    case dom::element_type::STRING:
      return expected.get_string().value_unsafe() == actual.get_string().value_unsafe() ||
             differ("different strings");
    case dom::element_type::DOUBLE:
      return double(expected) == double(actual) || differ("different numbers");
    case dom::element_type::BOOL:
      return bool(expected) == bool(actual) || differ("different booleans");
    case dom::element_type::NULL_VALUE:
      return true;
    default:
      return differ("unexpected kind of value");
  }
}

// One result line of `ledger append`.
struct ResultLine {
  std::set<std::string> keys;
  std::optional<std::string> file;
  int64_t line = 0;
  std::optional<std::string> event_id;  // nullopt when the line says null
  std::string status;
  int64_t seq = 0;
  std::string code;  // rejected only
};

// Parses `ledger append` stdout into its result lines; a line that is not a
// well-formed result fails the test.
std::vector<ResultLine> ParseResults(const std::string& out) {
  std::vector<ResultLine> results;
  dom::parser parser;
  for (const std::string& text : SplitLines(out)) {
    ResultLine r;
    dom::object object;
    if (parser.parse(text).get_object().get(object)) {
      ADD_FAILURE() << "result line is not a JSON object: " << text;
      continue;
    }
    for (const dom::key_value_pair field : object) r.keys.emplace(field.key);
    std::string_view s;
    if (!object["file"].get_string().get(s)) r.file = std::string(s);
    EXPECT_FALSE(object["line"].get_int64().get(r.line)) << text;
    if (!object["event_id"].get_string().get(s)) {
      r.event_id = std::string(s);
    } else {
      EXPECT_TRUE(object["event_id"].is_null()) << "event_id must be a string or null: " << text;
    }
    EXPECT_FALSE(object["status"].get_string().get(s)) << text;
    r.status = std::string(s);
    if (r.status == "rejected") {
      EXPECT_FALSE(object["error"]["code"].get_string().get(s)) << text;
      r.code = std::string(s);
      EXPECT_TRUE(object["error"]["message"].is_string()) << text;
    } else {
      EXPECT_FALSE(object["seq"].get_int64().get(r.seq)) << text;
    }
    results.push_back(std::move(r));
  }
  return results;
}

// One line of `ledger events`.
struct EventLine {
  int64_t seq = 0;
  std::string recorded_at;
  std::string prev_hash;
  std::string hash;
  std::string event_id;
  std::optional<std::string> account;
};

std::vector<EventLine> ParseEvents(const std::string& out) {
  std::vector<EventLine> events;
  dom::parser parser;
  for (const std::string& text : SplitLines(out)) {
    EventLine e;
    dom::object object;
    if (parser.parse(text).get_object().get(object)) {
      ADD_FAILURE() << "events line is not a JSON object: " << text;
      continue;
    }
    std::string_view s;
    EXPECT_FALSE(object["seq"].get_int64().get(e.seq)) << text;
    EXPECT_FALSE(object["recorded_at"].get_string().get(s)) << text;
    e.recorded_at = std::string(s);
    EXPECT_FALSE(object["prev_hash"].get_string().get(s)) << text;
    e.prev_hash = std::string(s);
    EXPECT_FALSE(object["hash"].get_string().get(s)) << text;
    e.hash = std::string(s);
    EXPECT_FALSE(object["event_id"].get_string().get(s)) << text;
    e.event_id = std::string(s);
    if (!object["account"].get_string().get(s)) e.account = std::string(s);
    events.push_back(std::move(e));
  }
  return events;
}

std::vector<int64_t> SeqsOf(const std::vector<EventLine>& events) {
  std::vector<int64_t> seqs;
  for (const EventLine& e : events) seqs.push_back(e.seq);
  return seqs;
}

bool IsLowerHex64(const std::string& text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Event lines for the CLI tests; each is valid on a ledger where its account
// was opened first.
std::string OpenAccount(const std::string& event_id, const std::string& account) {
  return R"({"type":"account_opened","event_id":")" + event_id + R"(","account":")" + account +
         R"(","occurred_at":"2026-01-01T00:00:00+08:00","currency":"USD"})";
}

std::string Adjustment(const std::string& event_id, const std::string& account,
                       const std::string& reason = "credit") {
  return R"({"type":"adjustment_posted","event_id":")" + event_id + R"(","account":")" + account +
         R"(","occurred_at":"2026-01-02T00:00:00+08:00","amount":"-1.50","reason":")" + reason +
         R"("})";
}

std::string PriceSet(const std::string& event_id) {
  return R"({"type":"price_set","event_id":")" + event_id +
         R"(","occurred_at":"2026-01-01T00:00:00+08:00","sku":"private_cert/hour","currency":"USD","unit_price":"0.0245"})";
}

// A test of the CLI against a fresh ledger folder (not created yet).
class CliTest : public ::testing::Test {
 protected:
  std::string db() const { return dir_.Sub("db"); }

  // Writes `contents` to a file in the scratch folder; returns its path.
  std::string Input(const std::string& name, const std::string& contents) {
    const std::string path = dir_.Sub(name);
    WriteFile(path, contents);
    return path;
  }

  ProcessResult Ledger(std::vector<std::string> args,
                       const std::optional<std::string>& stdin_path = std::nullopt) {
    args.insert(args.begin(), {"--db", db()});
    return RunLedger(dir_, std::move(args), stdin_path);
  }

  // `ledger events ARGS...`, which must succeed.
  std::vector<EventLine> Events(std::vector<std::string> args = {}) {
    args.insert(args.begin(), "events");
    const ProcessResult r = Ledger(args);
    EXPECT_EQ(r.exit_code, kExitOk) << Describe(r);
    return ParseEvents(r.out);
  }

  TempDir dir_;
};

// ---------------------------------------------------------------------------
// The example stories.

struct Story {
  const char* name;
  int exit_code;  // interface.md: 0 all appended or duplicate, 1 some rejected
};

// Names the story in test listings (instead of its bytes).
void PrintTo(const Story& story, std::ostream* os) { *os << story.name; }

class ExampleStoryTest : public ::testing::TestWithParam<Story> {};

TEST_P(ExampleStoryTest, AppendPrintsTheRecordedResults) {
  const std::string examples = ExamplesDir();
  if (!std::filesystem::is_directory(examples)) {
    GTEST_SKIP() << "the shared examples are not at " << examples
                 << " (CI checks shared/ out next to the clone)";
  }
  const Story story = GetParam();
  const std::string jsonl = examples + "/" + story.name + ".jsonl";
  const std::string expected_path = examples + "/" + story.name + ".append.json";
  ASSERT_TRUE(std::filesystem::exists(jsonl)) << jsonl;
  ASSERT_TRUE(std::filesystem::exists(expected_path)) << expected_path;

  TempDir dir;
  const ProcessResult r = RunLedger(dir, {"--db", dir.Sub("db"), "append", jsonl});
  EXPECT_EQ(r.exit_code, story.exit_code) << Describe(r);

  dom::parser expected_parser;
  dom::array expected;
  ASSERT_FALSE(expected_parser.parse(ReadFile(expected_path)).get_array().get(expected))
      << expected_path << " is not a JSON array";
  const std::vector<std::string> lines = SplitLines(r.out);
  ASSERT_EQ(lines.size(), expected.size()) << Describe(r);

  dom::parser line_parser;
  for (size_t i = 0; i < lines.size(); ++i) {
    dom::element actual;
    ASSERT_FALSE(line_parser.parse(lines[i]).get(actual))
        << "output line " << i + 1 << " is not JSON: " << lines[i];
    std::string diff;
    EXPECT_TRUE(SameJson(expected.at(i).value_unsafe(), actual,
                         "result[" + std::to_string(i) + "]", &diff))
        << diff;
  }
}

// Every command line of the story's .md ("ledger --db DIR ... # -> FILE"),
// run in order on one ledger: each output must equal its recorded file as a
// JSON value (a JSON Lines output is compared as the array of its lines).
TEST_P(ExampleStoryTest, EveryCommandOfTheStoryGivesItsRecordedOutput) {
  const std::string examples = ExamplesDir();
  if (!std::filesystem::is_directory(examples)) {
    GTEST_SKIP() << "the shared examples are not at " << examples;
  }
  const Story story = GetParam();
  TempDir dir;
  int commands = 0;
  for (const std::string& line : SplitLines(ReadFile(examples + "/" + story.name + ".md"))) {
    const size_t arrow = line.find("# -> ");
    if (line.rfind("ledger ", 0) != 0 || arrow == std::string::npos) continue;
    const std::string expected_file = examples + "/" + line.substr(arrow + 5);
    std::vector<std::string> args;
    std::istringstream words(line.substr(7, arrow - 7));
    for (std::string word; words >> word;) {
      if (word == "DIR") word = dir.Sub("db");
      if (word.ends_with(".jsonl")) word = examples + "/" + word;
      args.push_back(word);
    }
    ++commands;
    const ProcessResult r = RunLedger(dir, args);
    ASSERT_TRUE(r.exit_code == 0 || (args[2] == "append" && r.exit_code == story.exit_code))
        << line << "\n" << Describe(r);
    std::string actual = r.out;
    if (args[2] == "append") {  // JSON Lines: compare as one array
      actual = "[";
      for (const std::string& result : SplitLines(r.out)) actual += (actual.size() > 1 ? "," : "") + result;
      actual += "]";
    }
    dom::parser expected_parser;
    dom::parser actual_parser;
    dom::element expected;
    dom::element got;
    ASSERT_FALSE(expected_parser.parse(ReadFile(expected_file)).get(expected)) << expected_file;
    ASSERT_FALSE(actual_parser.parse(actual).get(got)) << line << " printed no JSON: " << actual;
    std::string diff;
    EXPECT_TRUE(SameJson(expected, got, line, &diff)) << diff;
  }
  EXPECT_GE(commands, 3) << "the story lists its commands";
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleStoryTest,
                         ::testing::Values(Story{"private_cert_hourly", kExitOk},
                                           Story{"rejected_events_tour", kExitRejected},
                                           Story{"yearly_ca_lifecycle", kExitRejected}),
                         [](const ::testing::TestParamInfo<Story>& info) {
                           return std::string(info.param.name);
                         });

// The comparison helper itself: what it must accept and refuse.
TEST(SameJsonTest, IgnoresKeyOrderWhitespaceAndFreeText) {
  dom::parser a_parser;
  dom::parser b_parser;
  const auto same = [&](const std::string& a, const std::string& b) {
    std::string diff;
    return SameJson(a_parser.parse(a).value(), b_parser.parse(b).value(), "$", &diff);
  };
  EXPECT_TRUE(same(R"({"a":1,"b":[true,null,"x"]})", R"( { "b" : [ true , null , "x" ] , "a" : 1 } )"));
  EXPECT_TRUE(same(R"({"error":{"code":"c","message":"one"}})",
                   R"({"error":{"message":"another","code":"c"}})"));
  EXPECT_TRUE(same(R"({"description":"x"})", R"({"description":"y"})"));
  EXPECT_FALSE(same(R"({"message":"x"})", R"({"message":null})"));
  EXPECT_FALSE(same(R"({"a":1})", R"({"a":1.0})"));
  EXPECT_FALSE(same(R"({"a":1})", R"({"a":"1"})"));
  EXPECT_FALSE(same(R"({"a":1})", R"({"a":1,"b":2})"));
  EXPECT_FALSE(same(R"({"a":null})", R"({})"));
  EXPECT_FALSE(same(R"([1,2])", R"([2,1])"));
  EXPECT_FALSE(same(R"({"code":"x"})", R"({"code":"y"})"));
}

TEST_F(CliTest, AnInvoiceShowsAReasonWithControlCharactersEscaped) {
  const std::string input = OpenAccount("open-a", "a") + "\n" +
                            Adjustment("adj-1", "a", R"(outage\n\u001b[31mred)") + "\n";
  ASSERT_EQ(Ledger({"append", Input("adj.jsonl", input)}).exit_code, kExitOk);
  const ProcessResult r = Ledger({"invoice", "--account", "a", "--period", "2026-01"});
  EXPECT_EQ(r.exit_code, kExitOk) << Describe(r);
  EXPECT_NE(r.out.find("adjustment: outage\\n\\u001b[31mred"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
}

// ---------------------------------------------------------------------------
// Arguments and exit statuses.

TEST_F(CliTest, HelpExitsZero) {
  ProcessResult r = RunLedger(dir_, {"--help"});
  EXPECT_EQ(r.exit_code, kExitOk) << Describe(r);
  EXPECT_NE(r.out.find("append"), std::string::npos) << Describe(r);
  r = RunLedger(dir_, {"append", "--help"});
  EXPECT_EQ(r.exit_code, kExitOk) << Describe(r);
  EXPECT_FALSE(r.out.empty()) << Describe(r);
}

TEST_F(CliTest, BadArgumentsExitTwo) {
  const std::vector<std::vector<std::string>> cases = {
      {"frobnicate"},                      // unknown subcommand
      {},                                  // no subcommand
      {"--no-such-option", "events"},      // unknown global option
      {"events", "--no-such-option"},      // unknown subcommand option
      {"events", "--from-seq", "abc"},     // not a number
      {"init", "--billing-offset", "8h"},  // not an offset
  };
  for (const std::vector<std::string>& args : cases) {
    const ProcessResult r = Ledger(args);
    std::string joined;
    for (const std::string& arg : args) joined += " " + arg;
    EXPECT_EQ(r.exit_code, kExitCannotRun) << "ledger --db DIR" << joined << "\n" << Describe(r);
  }
}

TEST_F(CliTest, MissingFileOnAFreshLedgerStoresNothing) {
  const ProcessResult r = Ledger({"append", dir_.Sub("no-such-file.jsonl")});
  EXPECT_EQ(r.exit_code, kExitCannotRun) << Describe(r);
  EXPECT_EQ(r.out, "") << Describe(r);
  // The ledger may not even exist now; either way `events` lists nothing.
  const ProcessResult events = Ledger({"events"});
  EXPECT_EQ(events.out, "") << Describe(events);
}

TEST_F(CliTest, MissingFileAmongSeveralStoresNothing) {
  const ProcessResult setup = Ledger({"append", Input("setup.jsonl", OpenAccount("open-a", "a") + "\n")});
  ASSERT_EQ(setup.exit_code, kExitOk) << Describe(setup);

  // The readable file comes first: none of its events may be stored either.
  const std::string good = Input("good.jsonl", Adjustment("adj-1", "a") + "\n");
  const ProcessResult r = Ledger({"append", good, dir_.Sub("no-such-file.jsonl")});
  EXPECT_EQ(r.exit_code, kExitCannotRun) << Describe(r);
  EXPECT_EQ(r.out, "") << Describe(r);
  const std::vector<EventLine> events = Events();
  EXPECT_EQ(SeqsOf(events), std::vector<int64_t>({1})) << "only the setup event may be stored";
}

// A folder opens like a file but cannot be read: interface.md counts an
// unreadable file as "could not run", and RunAppend promises that an
// unreadable input stops the command before it stores a single event.
TEST_F(CliTest, UnreadableFileAmongSeveralStoresNothing) {
  const ProcessResult setup = Ledger({"append", Input("setup.jsonl", OpenAccount("open-a", "a") + "\n")});
  ASSERT_EQ(setup.exit_code, kExitOk) << Describe(setup);
  std::filesystem::create_directory(dir_.Sub("a-folder"));

  const std::string good = Input("good.jsonl", Adjustment("adj-1", "a") + "\n");
  const ProcessResult r = Ledger({"append", good, dir_.Sub("a-folder")});
  EXPECT_EQ(r.exit_code, kExitCannotRun) << Describe(r);
  EXPECT_EQ(r.out, "") << Describe(r);
  EXPECT_EQ(SeqsOf(Events()), std::vector<int64_t>({1})) << "only the setup event may be stored";
}

// ---------------------------------------------------------------------------
// Input forms and line numbers.

TEST_F(CliTest, EmptyInputPrintsNothing) {
  for (const std::string contents : {"", "\n", "\n  \n\r\n"}) {
    const ProcessResult r = Ledger({"append", Input("empty.jsonl", contents)});
    EXPECT_EQ(r.exit_code, kExitOk) << Describe(r);
    EXPECT_EQ(r.out, "") << Describe(r);
  }
  EXPECT_TRUE(Events().empty());
}

// More lines than one append batch holds: numbering and seqs run on across
// the batches.
TEST_F(CliTest, LongInputKeepsLineNumbersAcrossBatches) {
  constexpr int kLines = 5000;
  std::string input = OpenAccount("open-a", "a") + "\n";
  for (int i = 2; i <= kLines; ++i) input += Adjustment("adj-" + std::to_string(i), "a") + "\n";
  const ProcessResult r = Ledger({"append", Input("long.jsonl", input)});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  const std::vector<ResultLine> results = ParseResults(r.out);
  ASSERT_EQ(results.size(), static_cast<size_t>(kLines)) << r.err;
  for (int i = 0; i < kLines; ++i) {
    ASSERT_EQ(results[i].line, i + 1);
    ASSERT_EQ(results[i].status, "appended") << "line " << i + 1;
    ASSERT_EQ(results[i].seq, i + 1) << "line " << i + 1;
  }
}

TEST_F(CliTest, AppendReadsStdinWhenNoFileIsGiven) {
  const std::string input =
      Input("stdin.jsonl", OpenAccount("open-a", "a") + "\n" + Adjustment("adj-1", "a") + "\n");
  const ProcessResult r = Ledger({"append"}, input);
  EXPECT_EQ(r.exit_code, kExitOk) << Describe(r);
  const std::vector<ResultLine> results = ParseResults(r.out);
  ASSERT_EQ(results.size(), 2u) << Describe(r);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(results[i].line, static_cast<int64_t>(i + 1));
    EXPECT_EQ(results[i].status, "appended");
    EXPECT_EQ(results[i].seq, static_cast<int64_t>(i + 1));
    EXPECT_FALSE(results[i].file.has_value()) << "one input: no \"file\" key";
  }
  EXPECT_EQ(results[0].event_id, "open-a");
  EXPECT_EQ(results[1].event_id, "adj-1");
}

TEST_F(CliTest, BlankLinesKeepTheirNumbersAndGetNoResult) {
  const std::string input = "\n" + OpenAccount("open-a", "a") + "\n\n" + Adjustment("adj-1", "a") +
                            "\n   \t\n" + Adjustment("adj-2", "a") + "\n\n";
  const ProcessResult r = Ledger({"append", Input("blank.jsonl", input)});
  EXPECT_EQ(r.exit_code, kExitOk) << Describe(r);
  const std::vector<ResultLine> results = ParseResults(r.out);
  ASSERT_EQ(results.size(), 3u) << Describe(r);
  EXPECT_EQ(results[0].line, 2);
  EXPECT_EQ(results[0].seq, 1);
  EXPECT_EQ(results[1].line, 4);
  EXPECT_EQ(results[1].seq, 2);
  EXPECT_EQ(results[2].line, 6);
  EXPECT_EQ(results[2].seq, 3);
}

TEST_F(CliTest, LastLineWithoutNewlineGetsItsResult) {
  const std::string input = OpenAccount("open-a", "a") + "\n" + Adjustment("adj-1", "a");
  const ProcessResult r = Ledger({"append", Input("no-newline.jsonl", input)});
  EXPECT_EQ(r.exit_code, kExitOk) << Describe(r);
  const std::vector<ResultLine> results = ParseResults(r.out);
  ASSERT_EQ(results.size(), 2u) << Describe(r);
  EXPECT_EQ(results[1].line, 2);
  EXPECT_EQ(results[1].event_id, "adj-1");
  EXPECT_EQ(results[1].status, "appended");
  EXPECT_EQ(results[1].seq, 2);
}

TEST_F(CliTest, CrlfLineEndings) {
  const std::string input =
      OpenAccount("open-a", "a") + "\r\n\r\n" + Adjustment("adj-1", "a") + "\r\n";
  const ProcessResult r = Ledger({"append", Input("crlf.jsonl", input)});
  EXPECT_EQ(r.exit_code, kExitOk) << Describe(r);
  const std::vector<ResultLine> results = ParseResults(r.out);
  ASSERT_EQ(results.size(), 2u) << Describe(r);
  EXPECT_EQ(results[0].line, 1);
  EXPECT_EQ(results[0].status, "appended");
  EXPECT_EQ(results[1].line, 3);
  EXPECT_EQ(results[1].status, "appended");
  EXPECT_EQ(results[1].seq, 2);

  // The same event with a plain "\n" ending is the same JSON value.
  const ProcessResult again =
      Ledger({"append", Input("lf.jsonl", Adjustment("adj-1", "a") + "\n")});
  EXPECT_EQ(again.exit_code, kExitOk) << Describe(again);
  const std::vector<ResultLine> dup = ParseResults(again.out);
  ASSERT_EQ(dup.size(), 1u) << Describe(again);
  EXPECT_EQ(dup[0].status, "duplicate");
  EXPECT_EQ(dup[0].seq, 2);
}

TEST_F(CliTest, SeveralFilesEachResultNamesItsFile) {
  const std::string first = Input(
      "first.jsonl", OpenAccount("open-a", "a") + "\n" + Adjustment("adj-1", "a") + "\n");
  const std::string second = Input(
      "second.jsonl", "\n" + Adjustment("adj-1", "a") + "\n" + Adjustment("adj-2", "a") + "\n");
  const ProcessResult r = Ledger({"append", first, second});
  EXPECT_EQ(r.exit_code, kExitOk) << Describe(r);
  const std::vector<ResultLine> results = ParseResults(r.out);
  ASSERT_EQ(results.size(), 4u) << Describe(r);

  EXPECT_EQ(results[0].file, first);
  EXPECT_EQ(results[0].line, 1);
  EXPECT_EQ(results[0].seq, 1);
  EXPECT_EQ(results[1].file, first);
  EXPECT_EQ(results[1].line, 2);
  EXPECT_EQ(results[1].seq, 2);
  // Line numbers count per file.
  EXPECT_EQ(results[2].file, second);
  EXPECT_EQ(results[2].line, 2);
  EXPECT_EQ(results[2].status, "duplicate");
  EXPECT_EQ(results[2].seq, 2);
  EXPECT_EQ(results[3].file, second);
  EXPECT_EQ(results[3].line, 3);
  EXPECT_EQ(results[3].status, "appended");
  EXPECT_EQ(results[3].seq, 3);
}

// A line far over the line limit is invalid_json; the lines after it still
// get their answers. Sizes below and above the reader's 1 MiB chunk, and an
// over-long last line without its newline.
TEST_F(CliTest, OverLongLineIsInvalidJsonAndLaterLinesStillAnswer) {
  for (const size_t reason_bytes : {size_t{200} * 1024, size_t{3} * 1024 * 1024}) {
    SCOPED_TRACE("reason of " + std::to_string(reason_bytes) + " bytes");
    TempDir local;
    const std::string long_line = Adjustment("adj-long", "a", std::string(reason_bytes, 'x'));
    const std::string input = OpenAccount("open-a", "a") + "\n" + long_line + "\n" +
                              Adjustment("adj-1", "a") + "\n" + long_line;
    const std::string path = local.Sub("long.jsonl");
    WriteFile(path, input);
    const ProcessResult r = RunLedger(local, {"--db", local.Sub("db"), "append", path});
    EXPECT_EQ(r.exit_code, kExitRejected) << r.err;
    const std::vector<ResultLine> results = ParseResults(r.out);
    ASSERT_EQ(results.size(), 4u) << r.err;

    EXPECT_EQ(results[0].line, 1);
    EXPECT_EQ(results[0].status, "appended");
    EXPECT_EQ(results[0].seq, 1);

    EXPECT_EQ(results[1].line, 2);
    EXPECT_EQ(results[1].status, "rejected");
    EXPECT_EQ(results[1].code, "invalid_json");
    EXPECT_EQ(results[1].event_id, std::nullopt);

    EXPECT_EQ(results[2].line, 3);
    EXPECT_EQ(results[2].event_id, "adj-1");
    EXPECT_EQ(results[2].status, "appended");
    EXPECT_EQ(results[2].seq, 2);

    EXPECT_EQ(results[3].line, 4);
    EXPECT_EQ(results[3].status, "rejected");
    EXPECT_EQ(results[3].code, "invalid_json");
  }
}

// ---------------------------------------------------------------------------
// init.

TEST_F(CliTest, BillingOffsetIsFixedWhenTheLedgerIsCreated) {
  ProcessResult r = Ledger({"init", "--billing-offset", "+05:30"});
  EXPECT_EQ(r.exit_code, kExitOk) << Describe(r);
  r = Ledger({"init", "--billing-offset", "+08:00"});
  EXPECT_EQ(r.exit_code, kExitCannotRun) << Describe(r);
  // The refused init changed nothing: the ledger still opens and is empty.
  EXPECT_TRUE(Events().empty());
}

// ---------------------------------------------------------------------------
// events.

class EventsTest : public CliTest {
 protected:
  void SetUp() override {
    // seq: 1 price, 2 open a, 3 open b, 4 adj a, 5 adj b, 6 adj a
    const std::string input = PriceSet("price-1") + "\n" + OpenAccount("open-a", "a") + "\n" +
                              OpenAccount("open-b", "b") + "\n" + Adjustment("adj-a1", "a") + "\n" +
                              Adjustment("adj-b1", "b") + "\n" + Adjustment("adj-a2", "a") + "\n";
    const ProcessResult r = Ledger({"append", Input("events.jsonl", input)});
    ASSERT_EQ(r.exit_code, kExitOk) << Describe(r);
  }
};

TEST_F(EventsTest, AccountFilterListsOnlyThatAccount) {
  const std::vector<EventLine> events = Events({"--account", "a"});
  EXPECT_EQ(SeqsOf(events), std::vector<int64_t>({2, 4, 6}));
  for (const EventLine& e : events) {
    EXPECT_EQ(e.account, "a") << "seq " << e.seq;
  }

  EXPECT_EQ(SeqsOf(Events({"--account", "b"})), std::vector<int64_t>({3, 5}));
  EXPECT_TRUE(Events({"--account", "nobody"}).empty());
}

TEST_F(EventsTest, SeqRangeFilters) {
  EXPECT_EQ(SeqsOf(Events({"--from-seq", "2", "--to-seq", "4"})), std::vector<int64_t>({2, 3, 4}));
  EXPECT_EQ(SeqsOf(Events({"--from-seq", "5"})), std::vector<int64_t>({5, 6}));
  EXPECT_EQ(SeqsOf(Events({"--to-seq", "2"})), std::vector<int64_t>({1, 2}));
  EXPECT_EQ(SeqsOf(Events({"--from-seq", "3", "--to-seq", "3"})), std::vector<int64_t>({3}));
  EXPECT_TRUE(Events({"--from-seq", "7"}).empty());
  EXPECT_EQ(SeqsOf(Events({"--account", "a", "--from-seq", "3", "--to-seq", "5"})),
            std::vector<int64_t>({4}));
}

// A sequence number is a whole number from 1, whichever command takes it.
TEST_F(EventsTest, SequenceNumbersAreWholeNumbersFromOne) {
  for (const char* bad : {"0", "0.5", "-1", "1e3", ""}) {
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"events", "--from-seq", bad},
             {"replay", "--to-seq", bad},
             {"invoices", "--account", "a", "--as-of-seq", bad}}) {
      const ProcessResult r = Ledger(args);
      EXPECT_EQ(r.exit_code, kExitCannotRun) << args[0] << " " << bad << "\n" << Describe(r);
      EXPECT_NE(r.err.find("a sequence number is a whole number from 1"), std::string::npos)
          << Describe(r);
    }
  }
}

// An empty or reversed range is a mistake in the command, not an empty
// answer: exit 2, saying which bounds.
TEST_F(EventsTest, ReversedRangesAreRefused) {
  ProcessResult r = Ledger({"events", "--from-seq", "5", "--to-seq", "3"});
  EXPECT_EQ(r.exit_code, kExitCannotRun) << Describe(r);
  EXPECT_NE(r.err.find("--from-seq 5 is after --to-seq 3"), std::string::npos) << Describe(r);
  r = Ledger({"usage", "--account", "a", "--from", "2026-02-01T00:00:00+08:00", "--to",
              "2026-01-01T00:00:00+08:00"});
  EXPECT_EQ(r.exit_code, kExitCannotRun) << Describe(r);
  EXPECT_NE(r.err.find("--from 2026-02-01T00:00:00+08:00 is not before --to "
                       "2026-01-01T00:00:00+08:00"),
            std::string::npos)
      << Describe(r);
  r = Ledger({"usage", "--account", "a", "--from", "2026-01-01T00:00:00+08:00", "--to",
              "2026-02-01T00:00:00+08:00"});
  EXPECT_EQ(r.exit_code, kExitOk) << Describe(r);
}

// `replay --to-seq N` beyond the head has nothing to rebuild up to: refused
// like `--as-of-seq`, and nothing is installed; at the head it is a full
// replay, installed.
TEST_F(EventsTest, ReplayToASeqAfterTheHeadIsRefused) {
  ProcessResult r = Ledger({"replay", "--to-seq", "7", "--format", "json"});
  EXPECT_EQ(r.exit_code, kExitCannotRun) << Describe(r);
  EXPECT_NE(r.err.find("--to-seq 7 is after the last event (6)"), std::string::npos) << Describe(r);
  EXPECT_EQ(r.out, "");
  r = Ledger({"replay", "--to-seq", "6", "--format", "json"});
  EXPECT_EQ(r.exit_code, kExitOk) << Describe(r);
  EXPECT_NE(r.out.find(R"("installed":true,"generation":1)"), std::string::npos) << r.out;
  r = Ledger({"replay", "--to-seq", "5", "--format", "json"});
  EXPECT_EQ(r.exit_code, kExitOk) << Describe(r);
  EXPECT_NE(r.out.find(R"("installed":false)"), std::string::npos) << r.out;
}

TEST_F(EventsTest, EveryLineChainsOnThePreviousOne) {
  const std::vector<EventLine> events = Events();
  ASSERT_EQ(SeqsOf(events), std::vector<int64_t>({1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(events[0].prev_hash, kZeroHash);
  for (size_t i = 0; i < events.size(); ++i) {
    SCOPED_TRACE("seq " + std::to_string(events[i].seq));
    EXPECT_FALSE(events[i].recorded_at.empty());
    EXPECT_TRUE(IsLowerHex64(events[i].hash)) << events[i].hash;
    EXPECT_TRUE(IsLowerHex64(events[i].prev_hash)) << events[i].prev_hash;
    if (i > 0) {
      EXPECT_EQ(events[i].prev_hash, events[i - 1].hash);
    }
  }
  EXPECT_EQ(events[0].event_id, "price-1");
  EXPECT_EQ(events[0].account, std::nullopt) << "price_set has no account";
}

}  // namespace
}  // namespace ledger
