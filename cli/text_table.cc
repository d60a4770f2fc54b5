#include "cli/text_table.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdio>

#include "ledger/status.h"

namespace ledger::cli {
namespace {

// A character a table must not show as it is: its C escape, or \u and
// four hex digits.
void AppendEscaped(utf8proc_int32_t code_point, std::string* out) {
  switch (code_point) {
    case '\n':
      *out += "\\n";
      return;
    case '\r':
      *out += "\\r";
      return;
    case '\t':
      *out += "\\t";
      return;
    default:
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(code_point));
      *out += escaped;
  }
}

}  // namespace

TextCell DisplayCell(std::string_view text) {
  TextCell cell;
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  size_t at = 0;
  while (at < text.size()) {
    utf8proc_int32_t code_point = 0;
    const utf8proc_ssize_t length =
        utf8proc_iterate(bytes + at, static_cast<utf8proc_ssize_t>(text.size() - at), &code_point);
    if (length <= 0) {  // not UTF-8: the byte, as \xNN
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<uint8_t>(text[at]));
      cell.text += escaped;
      cell.columns += 4;
      ++at;
      continue;
    }
    const std::string_view encoded = text.substr(at, static_cast<size_t>(length));
    at += static_cast<size_t>(length);
    const utf8proc_category_t category = utf8proc_category(code_point);
    if (code_point == '\\') {  // doubled, so that an escape is never ambiguous
      cell.text += "\\\\";
      cell.columns += 2;
      continue;
    }
    if (category == UTF8PROC_CATEGORY_CC || category == UTF8PROC_CATEGORY_CF ||
        category == UTF8PROC_CATEGORY_ZL || category == UTF8PROC_CATEGORY_ZP) {
      const size_t before = cell.text.size();
      AppendEscaped(code_point, &cell.text);
      cell.columns += cell.text.size() - before;
      continue;
    }
    cell.text += encoded;
    cell.columns += static_cast<size_t>(utf8proc_charwidth(code_point));
  }
  return cell;
}

TextTable::TextTable(std::vector<std::string> header, std::vector<bool> right_aligned)
    : right_aligned_(std::move(right_aligned)) {
  LEDGER_CHECK(header.size() == right_aligned_.size());
  rows_.push_back(std::move(header));
}

void TextTable::AddRow(std::vector<std::string> row) {
  LEDGER_CHECK(row.size() == right_aligned_.size());
  rows_.push_back(std::move(row));
}

std::string TextTable::Render() const {
  std::vector<std::vector<TextCell>> cells;
  std::vector<size_t> widths(right_aligned_.size(), 0);
  for (const auto& row : rows_) {
    std::vector<TextCell>& shown = cells.emplace_back();
    for (size_t i = 0; i < row.size(); ++i) {
      shown.push_back(DisplayCell(row[i]));
      widths[i] = std::max(widths[i], shown.back().columns);
    }
  }
  std::string out;
  for (const auto& row : cells) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      const std::string padding(widths[i] - row[i].columns, ' ');
      if (i > 0) line += "  ";
      line += right_aligned_[i] ? padding + row[i].text : row[i].text + padding;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string CsvText(std::string_view text) {
  if (text.empty() || std::string_view("=+-@\t\r").find(text.front()) == std::string_view::npos) {
    return std::string(text);
  }
  return "'" + std::string(text);
}

std::string CsvRow(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out.push_back(',');
    const std::string& field = fields[i];
    if (field.find_first_of(",\"\r\n") == std::string::npos) {
      out += field;
      continue;
    }
    out.push_back('"');
    for (const char c : field) {
      if (c == '"') out.push_back('"');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out += "\r\n";
  return out;
}

}  // namespace ledger::cli
