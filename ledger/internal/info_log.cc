#include "ledger/internal/info_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <string>

namespace ledger::internal {
namespace {

// Now, in UTC to the microsecond, and a space.
std::string Timestamp() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  const std::time_t now_s = static_cast<std::time_t>(now_us / 1'000'000);
  std::tm utc{};
  gmtime_r(&now_s, &utc);
  char text[40];
  const size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + length, sizeof text - length, ".%06lldZ ",
                static_cast<long long>(now_us % 1'000'000));
  return text;
}

class InfoLog final : public rocksdb::Logger {
 public:
  explicit InfoLog(int fd) : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL), fd_(fd) {}
  ~InfoLog() override {
    if (fd_ >= 0) close(fd_);
  }

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    if (fd_ < 0) return;
    std::string line = Timestamp();
    va_list copy;
    va_copy(copy, ap);
    const int length = std::vsnprintf(nullptr, 0, format, copy);
    va_end(copy);
    if (length < 0) return;
    const size_t prefix = line.size();
    line.resize(prefix + static_cast<size_t>(length) + 1);
    std::vsnprintf(line.data() + prefix, static_cast<size_t>(length) + 1, format, ap);
    line.back() = '\n';
    // One write per line (O_APPEND); a failed or short one is not retried.
    [[maybe_unused]] const ssize_t written = write(fd_, line.data(), line.size());
  }

 private:
  const int fd_;
};

}  // namespace

std::shared_ptr<rocksdb::Logger> OpenInfoLog(const std::string& dir) {
  const std::filesystem::path path = std::filesystem::path(dir) / "LOG";
  std::error_code ec;
  if (std::filesystem::file_size(path, ec) > kInfoLogBytesMax && !ec) {
    std::filesystem::rename(path, std::filesystem::path(dir) / "LOG.old.1", ec);
  }
  return std::make_shared<InfoLog>(
      open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
}

}  // namespace ledger::internal
