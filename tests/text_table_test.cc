// Text tables and CSV show stored free text (an adjustment's reason)
// safely: in tables control and format characters escaped and widths in
// terminal columns; in CSV nothing a spreadsheet would run as a formula.

#include "cli/text_table.h"

#include <gtest/gtest.h>

#include "cli/query_output.h"

namespace ledger::cli {
namespace {

TEST(TextTableTest, ControlCharactersAreEscapedAndWidthsAreColumns) {
  EXPECT_EQ(DisplayCell("a\nb\tc\x1b[31m").text, "a\\nb\\tc\\u001b[31m");
  EXPECT_EQ(DisplayCell("\x7f").text, "\\u007f");
  EXPECT_EQ(DisplayCell("\xff").text, "\\xff");  // not UTF-8
  EXPECT_EQ(DisplayCell("caf\u00e9").columns, 4u);
  EXPECT_EQ(DisplayCell("\u65e5\u672c").columns, 4u);  // two wide characters
  EXPECT_EQ(DisplayCell("e\u0301").columns, 1u);       // e and a combining accent
  TextTable table({"KIND", "AMOUNT"}, {false, true});
  table.AddRow({"\u65e5\u672c", "1.00"});
  table.AddRow({"ab", "22.00"});
  EXPECT_EQ(table.Render(), "KIND  AMOUNT\n\u65e5\u672c    1.00\nab     22.00\n");
}

TEST(TextTableTest, FormatCharactersAndSeparatorsAreEscapedToo) {
  // Right-to-left override, zero-width space, line and paragraph separators.
  EXPECT_EQ(DisplayCell("a\u202eb\u200bc\u2028d\u2029").text,
            "a\\u202eb\\u200bc\\u2028d\\u2029");
}

TEST(TextTableTest, ABackslashIsDoubledSoThatEscapesAreUnambiguous) {
  // A stored backslash and n, against a stored line break.
  EXPECT_EQ(DisplayCell("a\\nb").text, "a\\\\nb");
  EXPECT_EQ(DisplayCell("a\\nb").columns, 5u);
  EXPECT_EQ(DisplayCell("a\nb").text, "a\\nb");
}

TEST(CsvTest, FreeTextIsNeverAFormula) {
  for (const std::string formula : {"=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"}) {
    EXPECT_EQ(CsvText(formula), "'" + formula) << formula;
  }
  EXPECT_EQ(CsvText("credit for an outage"), "credit for an outage");
  EXPECT_EQ(CsvText(""), "");
  EXPECT_EQ(CsvRow({CsvText("=A1,B1"), "x"}), "\"'=A1,B1\",x\r\n");
}

// An invoice's CSV: an adjustment whose reason is a formula is shown as
// text, its negative amount as a number.
TEST(CsvTest, AnInvoiceReasonCannotRunInASpreadsheet) {
  projections::Invoice invoice;
  invoice.account = "acme";
  invoice.period = Period{2026, 3};
  invoice.currency = "USD";
  projections::InvoiceLine line;
  line.kind = projections::LineKind::kAdjustment;
  line.event_id = "adj-1";
  line.charged_at_s = 1'772'294'400;  // 2026-03-01T00:00:00+08:00
  line.amount_e8 = -150'000'000;
  line.reason = "=HYPERLINK(\"http://x\",\"y\")";
  invoice.lines.push_back(line);
  invoice.total_e8 = line.amount_e8;
  const std::string csv = RenderInvoice(invoice, BillingZone(8 * 3600), OutputFormat::kCsv);
  EXPECT_EQ(csv.substr(csv.find("\r\n") + 2),
            "acme,2026-03,USD,open,,adjustment,adj-1,,,2026-03-01T00:00:00+08:00,,,"
            "-1.50000000,,,,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\r\n");
}

}  // namespace
}  // namespace ledger::cli
