#include <cmath>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "medtex/report/run_info.h"
#include "medtex/report/text.h"

namespace medtex {
namespace {

using report::format_fixed;
using report::html_escape;

const std::string kFffd = "\xEF\xBF\xBD";

TEST(HtmlEscape, MarkupCharactersBecomeEntities) {
  EXPECT_EQ(html_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(html_escape("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
  // An entity in the input is text, not markup: its '&' is escaped too.
  EXPECT_EQ(html_escape("&amp;"), "&amp;amp;");
  EXPECT_EQ(html_escape(""), "");
  EXPECT_EQ(html_escape("plain text 123"), "plain text 123");
}

TEST(HtmlEscape, ValidUtf8PassesInvalidBytesAreReplaced) {
  const std::string ok = "caf\xC3\xA9 \xE2\x88\x9E \xF0\x9F\x98\x80";  // é, ∞, an emoji
  EXPECT_EQ(html_escape(ok), ok);
  EXPECT_EQ(html_escape("\xC3("), kFffd + "(");                   // lead byte without continuation
  EXPECT_EQ(html_escape("\xC0\xAF"), kFffd + kFffd);              // overlong '/'
  EXPECT_EQ(html_escape("\xED\xA0\x80"), kFffd + kFffd + kFffd);  // a UTF-16 surrogate
  EXPECT_EQ(html_escape("\xF4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd);  // > U+10FFFF
  EXPECT_EQ(html_escape("\xE2\x88"), kFffd + kFffd);  // truncated at the end
  EXPECT_EQ(html_escape("\xFF"), kFffd);
}

TEST(HtmlEscape, ControlCharactersReplacedButWhitespaceKept) {
  EXPECT_EQ(html_escape("a\tb\nc\rd"), "a\tb\nc\rd");
  EXPECT_EQ(html_escape(std::string("a\x01"
                                    "b\x7F",
                                    4)),
            "a" + kFffd + "b" + kFffd);
  EXPECT_EQ(html_escape(std::string("x\0y", 3)), "x" + kFffd + "y");
}

TEST(FormatNumber, FixedDecimalsAndSpecialValues) {
  EXPECT_EQ(format_fixed(0.81249, 3), "0.812");
  EXPECT_EQ(format_fixed(0.8125, 2), "0.81");
  EXPECT_EQ(format_fixed(12.0, 0), "12");
  EXPECT_EQ(format_fixed(-0.0001, 3), "-0.0001");  // not "-0.000"
  EXPECT_EQ(format_fixed(1.2e-5, 3), "1.2e-05");   // not a misleading 0.000
  EXPECT_EQ(format_fixed(-0.0, 2), "0.00");
  EXPECT_EQ(format_fixed(-0.0004, 2), "-0.0004");
  EXPECT_EQ(format_fixed(NAN, 3), "NaN");
  EXPECT_EQ(format_fixed(INFINITY, 3), "\xE2\x88\x9E");
  EXPECT_EQ(format_fixed(-INFINITY, 3), "\xE2\x88\x92\xE2\x88\x9E");
}

TEST(FormatNumber, AutoDecimalsGiveThreeSignificantDigits) {
  const std::vector<double> acc = {0.953, 0.61, 0.7};
  EXPECT_EQ(report::auto_decimals(acc), 3);
  const std::vector<double> loss = {0.0123, 0.004};
  EXPECT_EQ(report::auto_decimals(loss), 4);
  const std::vector<double> mixed = {12.34, 0.5};
  EXPECT_EQ(report::auto_decimals(mixed), 1);
  const std::vector<double> big = {1234.5};
  EXPECT_EQ(report::auto_decimals(big), 0);
  const std::vector<double> counts = {25, 50, 200, NAN};
  EXPECT_EQ(report::auto_decimals(counts), 0);
  const std::vector<double> tiny = {1e-9, 2e-9};
  EXPECT_EQ(report::auto_decimals(tiny), 6);  // capped; prints in scientific notation
  EXPECT_EQ(report::format_number(0.8125), "0.812");
  EXPECT_EQ(report::format_number(42), "42");
  EXPECT_EQ(report::format_number(3.14159), "3.14");
}

TEST(RunInfo, CommandLineIsQuotedForTheShell) {
  const char* argv[] = {"medtex", "demo", "--out", "runs/my demo", "--name", "it's", "", "--x=1,2"};
  EXPECT_EQ(report::quote_command_line(8, argv),
            "medtex demo --out 'runs/my demo' --name 'it'\\''s' '' --x=1,2");
}

TEST(RunInfo, DateAndMachine) {
  EXPECT_EQ(report::iso8601_utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(report::iso8601_utc(1700000000), "2023-11-14T22:13:20Z");
  const char* argv[] = {"medtex", "eval"};
  const report::RunInfo info = report::collect_run_info(2, argv);
  EXPECT_EQ(info.command_line, "medtex eval");
  EXPECT_TRUE(std::regex_match(info.date, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
      << info.date;
  EXPECT_GE(info.nproc, 1);
  ASSERT_FALSE(info.versions.empty());
  EXPECT_EQ(info.versions[0].first, "compiler");
  EXPECT_FALSE(info.versions[0].second.empty());
  EXPECT_FALSE(info.seed.has_value());
}

}  // namespace
}  // namespace medtex
