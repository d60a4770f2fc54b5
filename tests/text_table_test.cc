// Text tables show stored free text (an adjustment's reason) safely and
// aligned: control and format characters escaped, widths in terminal
// columns.

#include "cli/text_table.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace ledger::cli
