// Test helpers: fresh temporary folders and running a child process (the real
// `ledger` binary) with its stdin read from a file and its stdout and stderr
// captured through temporary files.
//
// Not thread-safe; each helper is used by one test at a time. A TempDir
// removes its folder, with everything in it, when it is destroyed.

#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace ledger::testing {

// A fresh folder under $TMPDIR (or /tmp), removed on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                          "/ledger-test-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (mkdtemp(buffer.data()) == nullptr) {
      throw std::runtime_error(std::string("mkdtemp failed: ") + std::strerror(errno));
    }
    path_ = buffer.data();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // A path inside the folder; nothing is created.
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// The lines of `text`, without their "\n"; a final line without one counts.
inline std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

struct ProcessResult {
  // The exit status, or -1 when the child did not exit normally (a signal).
  int exit_code = -1;
  int signal = 0;
  std::string out;
  std::string err;
};

// This process's environment without the variables named in `drop`, plus
// `add` ("NAME=value" each).
inline std::vector<std::string> EnvironmentWith(const std::vector<std::string>& add,
                                                const std::vector<std::string>& drop = {}) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    const std::string name = text.substr(0, text.find('='));
    bool dropped = false;
    for (const std::string& d : drop) dropped = dropped || d == name;
    for (const std::string& a : add) dropped = dropped || a.substr(0, a.find('=')) == name;
    if (!dropped) env.push_back(text);
  }
  env.insert(env.end(), add.begin(), add.end());
  return env;
}

// Runs `argv` (argv[0] is the program's path; no PATH search) with stdin from
// `stdin_path` (/dev/null when unset) and waits for it. `scratch` holds the
// capture files. The child gets `env` ("NAME=value" each), or this process's
// environment when it is null.
inline ProcessResult RunProcess(const std::vector<std::string>& argv, const TempDir& scratch,
                                const std::optional<std::string>& stdin_path = std::nullopt,
                                const std::vector<std::string>* env = nullptr) {
  static int counter = 0;
  const std::string tag = std::to_string(++counter);
  const std::string out_path = scratch.Sub("child-" + tag + ".out");
  const std::string err_path = scratch.Sub("child-" + tag + ".err");

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, stdin_path.value_or("/dev/null").c_str(),
                                   O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);

  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  std::vector<char*> env_pointers;
  if (env != nullptr) {
    for (const std::string& entry : *env) env_pointers.push_back(const_cast<char*>(entry.c_str()));
    env_pointers.push_back(nullptr);
  }

  pid_t pid = 0;
  const int spawn_error = posix_spawn(&pid, args[0], &actions, nullptr, args.data(),
                                      env != nullptr ? env_pointers.data() : environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) {
    throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(spawn_error));
  }
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  }
  ProcessResult result;
  if (WIFEXITED(wait_status)) result.exit_code = WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) result.signal = WTERMSIG(wait_status);
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  std::filesystem::remove(out_path);
  std::filesystem::remove(err_path);
  return result;
}

}  // namespace ledger::testing
