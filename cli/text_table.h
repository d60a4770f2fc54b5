// Small writers for the human and spreadsheet forms of query results: an
// aligned text table and RFC 4180 CSV. Not thread-safe.

#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ledger::cli {

// A cell as a terminal shows it: control and format characters and line
// separators escaped (`\n`, `\t`, `\u001b`, `\u202e`; a backslash doubled, so
// that a stored backslash and n never read as a newline), so that stored text
// can neither break the table, send escape codes nor reorder the line, and
// its width in columns (an East Asian wide character takes two, a combining
// mark none).
struct TextCell {
  std::string text;
  size_t columns = 0;
};
TextCell DisplayCell(std::string_view text);

class TextTable {
 public:
  // `right_aligned[i]` says whether column i is right-aligned (numbers).
  TextTable(std::vector<std::string> header, std::vector<bool> right_aligned);
  void AddRow(std::vector<std::string> row);
  std::string Render() const;

 private:
  std::vector<std::vector<std::string>> rows_;
  std::vector<bool> right_aligned_;
};

// One CSV record (with its line break), fields quoted where needed.
std::string CsvRow(const std::vector<std::string>& fields);

// Free text (an adjustment's reason) for a CSV cell: text starting with
// = + - @, a tab or a carriage return gets a leading ', so that a
// spreadsheet shows it instead of running it as a formula (OWASP, "CSV
// injection"). Amounts are written as they are.
std::string CsvText(std::string_view text);

}  // namespace ledger::cli
