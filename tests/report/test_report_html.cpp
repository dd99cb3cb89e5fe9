#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/common/error.h"
#include "medtex/data/image_io.h"
#include "medtex/report/report.h"
#include "tests/report/html_check.h"
#include "tests/report/sample_report.h"

namespace medtex {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// A fresh directory under the system's temp dir, removed at the end.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("medtex_report_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::vector<std::string> entries() const {
    std::vector<std::string> v;
    for (const auto& e : fs::directory_iterator(path)) v.push_back(e.path().filename().string());
    std::sort(v.begin(), v.end());
    return v;
  }
};

std::vector<uint8_t> base64_decode(const std::string& s) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<uint8_t> out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    const size_t v = alphabet.find(c);
    if (v == std::string::npos) throw std::runtime_error("bad base64 digit");
    acc = acc << 6 | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(uint8_t(acc >> bits & 0xFF));
    }
  }
  return out;
}

// ---- the checker itself must be able to fail --------------------------------

TEST(HtmlChecker, RejectsBrokenMarkup) {
  EXPECT_TRUE(test::check_html("<html><body><p>a &amp; b</p><img src=\"x\"></body></html>").ok());
  EXPECT_FALSE(test::check_html("<html><body><p>a</body></html>").ok());         // <p> open
  EXPECT_FALSE(test::check_html("<html><body><p>a</p>").ok());                   // never closed
  EXPECT_FALSE(test::check_html("<html><b><i>x</b></i></html>").ok());           // crossed
  EXPECT_FALSE(test::check_html("<html><p>1 < 2</p></html>").ok());              // raw '<'
  EXPECT_FALSE(test::check_html("<html><p>R&D</p></html>").ok());                // bare '&'
  EXPECT_FALSE(test::check_html("<html><p class=x>a</p></html>").ok());          // unquoted
  EXPECT_FALSE(test::check_html("<html><p a=\"1\" a=\"2\">x</p></html>").ok());  // duplicate
  EXPECT_FALSE(test::check_html("<html><div/></html>").ok());                    // not void
  EXPECT_FALSE(test::check_html("<html><img src=\"a\"></img></html>").ok());     // void closed
  EXPECT_FALSE(test::check_html("<html><p title=\"a<b\">x</p></html>").ok());    // '<' in value
  EXPECT_TRUE(test::check_html("<html><svg><path d=\"M0 0\"/></svg></html>").ok());
}

// ---- the whole report ---------------------------------------------------------

TEST(Report, SampleIsWellFormedAndSelfContained) {
  const std::string html = test::sample_report().html();
  const test::HtmlCheck h = test::check_html(html);
  ASSERT_TRUE(h.ok()) << h.error;
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(h.count("html"), 1);
  EXPECT_EQ(h.count("head"), 1);
  EXPECT_EQ(h.count("body"), 1);
  EXPECT_EQ(h.count("meta", "charset", "utf-8"), 1);
  EXPECT_EQ(h.count("style"), 1);
  EXPECT_EQ(h.count("h2"), 3);
  EXPECT_EQ(h.count("table", "class", "results"), 1);
  EXPECT_EQ(h.count("table", "class", "meta"), 1);
  EXPECT_EQ(h.count("svg"), 2);
  EXPECT_EQ(h.count("path", "class", "series"), 6);  // 2 + 4 series
  EXPECT_EQ(h.count("img"), 8);
  EXPECT_EQ(h.count("pre"), 1);
  EXPECT_EQ(h.count("nav"), 1);  // contents, for three sections
  // Nothing to fetch: no scripts, links, frames or remote URLs; every image
  // is a data: URI; the only url() is the charts' own clip paths.
  EXPECT_EQ(h.count("script"), 0);
  EXPECT_EQ(h.count("link"), 0);
  EXPECT_EQ(h.count("iframe"), 0);
  EXPECT_EQ(html.find("http:"), std::string::npos);
  EXPECT_EQ(html.find("https:"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("@font-face"), std::string::npos);
  for (const auto& e : h.elements) {
    if (e.attrs.count("src")) {
      EXPECT_EQ(e.attrs.at("src").rfind("data:image/png;base64,", 0), 0u);
    }
    if (e.attrs.count("href")) {
      EXPECT_EQ(e.attrs.at("href")[0], '#') << e.attrs.at("href");
    }
  }
  const std::regex url(R"(url\(([^)]*)\))");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), url); it != std::sregex_iterator();
       ++it) {
    EXPECT_EQ((*it)[1].str()[0], '#') << it->str();
  }
}

TEST(Report, AllTextIsEscaped) {
  report::Report r("<script>alert(\"t\")</script> & 'co'");
  report::RunInfo info;
  info.command_line = "medtex demo --out '<dir>' && rm";
  info.extra = {{"<k>", "<v>"}};
  r.set_run_info(info);
  r.section("<h2>");
  r.section("second");
  r.subsection("a < b");
  r.paragraph("</p><p onclick=\"x\">");
  r.preformatted("</pre>");
  report::Table t;
  t.caption = "<caption>";
  t.headers = {"<th>", "n"};
  t.add_row({"<td>", 1.5});
  r.table(t);
  r.image(data::Image(8, 8, 3), "<figcaption> \"q\"");
  const std::string html = r.html();
  const test::HtmlCheck h = test::check_html(html.substr(html.find("<html")));
  ASSERT_TRUE(h.ok()) << h.error;
  EXPECT_EQ(h.count("script"), 0);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_EQ(html.find("onclick=\""), std::string::npos);
  EXPECT_NE(
      html.find(
          "<title>&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt; &amp; &#39;co&#39;</title>"),
      std::string::npos);
  EXPECT_NE(html.find("--out &#39;&lt;dir&gt;&#39; &amp;&amp; rm"), std::string::npos);
  EXPECT_NE(html.find("<pre>&lt;/pre&gt;</pre>"), std::string::npos);
  EXPECT_NE(html.find("alt=\"&lt;figcaption&gt; &quot;q&quot;\""), std::string::npos);
  EXPECT_EQ(h.count("h2"), 2);
  EXPECT_EQ(h.count("h3"), 1);
  EXPECT_EQ(h.count("p", "onclick", "x"), 0);
}

TEST(Report, ParagraphsSplitOnBlankLines) {
  report::Report r("t");
  r.paragraph("one\nstill one\n\n  two  \n\n\n\nthree");
  const std::string html = r.html();
  EXPECT_NE(html.find("<p>one\nstill one</p>\n<p>two</p>\n<p>three</p>"), std::string::npos)
      << html;
}

// ---- tables ---------------------------------------------------------------------

TEST(ReportTable, BestValuesPrivilegedRowsAndFormatting) {
  report::Table t;
  t.caption = "accuracy";
  t.headers = {"method", "acc", "loss", "n"};
  t.best = {report::Table::Best::kNone, report::Table::Best::kMax, report::Table::Best::kMin};
  t.add_row({"a", report::Cell::mean_sd(0.8, 0.05), 0.30, 100});
  t.add_row({"b", report::Cell::mean_sd(0.9001, 0.02), 0.25, 200});
  t.add_row({"c", report::Cell::mean_sd(0.8999, 0.01), 0.31});    // prints 0.900: ties with b
  t.add_row({"transfer", 0.95, 0.10, 100}, /*privileged=*/true);  // better, but not ranked
  const std::string html = report::render_table(t);
  const test::HtmlCheck h = test::check_html("<html>" + html + "</html>");
  ASSERT_TRUE(h.ok()) << h.error;
  // acc: b and c print 0.900 and share the best; transfer's 0.950 is not marked.
  EXPECT_NE(
      html.find("<td class=\"num best\">0.900\xE2\x80\x89<span class=\"sd\">\xC2\xB1\xE2\x80\x89"
                "0.020</span>"),
      std::string::npos)
      << html;
  EXPECT_NE(
      html.find("<td class=\"num best\">0.900\xE2\x80\x89<span class=\"sd\">\xC2\xB1\xE2\x80\x89"
                "0.010</span>"),
      std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">0.800"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">0.950</td>"), std::string::npos);
  // loss (lower is better): b's 0.250, not transfer's 0.100.
  EXPECT_NE(html.find("<td class=\"num best\">0.250</td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">0.100</td>"), std::string::npos);
  EXPECT_EQ(h.count("td", "class", "num best"), 3);
  // Integers print without decimals; a missing cell is empty; no best for n.
  EXPECT_NE(html.find("<td class=\"num\">200</td>"), std::string::npos);
  EXPECT_NE(html.find("<td></td></tr>"), std::string::npos);
  // The privileged row: marked with a dagger, explained in the footer.
  EXPECT_EQ(h.count("tr", "class", "privileged"), 1);
  EXPECT_NE(html.find("transfer<sup class=\"mark\">\xE2\x80\xA0</sup>"), std::string::npos);
  EXPECT_EQ(h.count("tfoot"), 1);
  EXPECT_NE(html.find("not ranked"), std::string::npos);
  EXPECT_NE(html.find("Bold: the best value"), std::string::npos);
}

TEST(ReportTable, FixedDecimalsAndNoFooterWithoutMarks) {
  report::Table t;
  t.headers = {"k", "v"};
  t.decimals = {-1, 1};
  t.add_row({"x", 0.26});
  t.add_row({"y", NAN});
  const std::string html = report::render_table(t);
  EXPECT_NE(html.find(">0.3</td>"), std::string::npos) << html;
  EXPECT_NE(html.find(">NaN</td>"), std::string::npos);
  EXPECT_EQ(html.find("tfoot"), std::string::npos);
  t.add_row({"z", 1, 2});
  EXPECT_THROW(report::render_table(t), Error);  // more cells than columns
}

// ---- images -------------------------------------------------------------------

TEST(Report, ImagesRoundTripThroughTheDataUri) {
  data::Image img(13, 9, 3);  // decode_image takes nothing under 8 x 8
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = uint8_t(i * 37 % 251);
  report::Report r("img");
  r.image(img, "a small image", 52);
  const std::string html = r.html();
  const std::regex re(
      "<img class=\"pixelated\" src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\" width=\"52\"");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(html, m, re)) << "no enlarged, pixelated <img>";
  const std::vector<uint8_t> png = base64_decode(m[1].str());
  EXPECT_EQ(png, data::encode_png(img));
  const data::Image back = data::decode_image(png, "report image", 3);
  EXPECT_EQ(back.width, 13);
  EXPECT_EQ(back.height, 9);
  EXPECT_EQ(back.pixels, img.pixels);
  EXPECT_NE(html.find("<figcaption>a small image</figcaption>"), std::string::npos);
  // Raw PNG bytes: the width comes from the header; non-PNG bytes throw.
  report::Report r2("png");
  r2.png(png);
  EXPECT_NE(r2.html().find("width=\"13\""), std::string::npos);
  const std::vector<uint8_t> junk = {1, 2, 3};
  EXPECT_THROW(r2.png(junk), Error);
  EXPECT_THROW(r2.figure_grid({}, 0), Error);
}

// ---- writing ------------------------------------------------------------------

TEST(ReportWrite, ReplacesTheFileAtomically) {
  TempDir dir;
  const fs::path out = dir.path / "report.html";
  const fs::path link = dir.path / "old.html";
  { std::ofstream(out) << "old report"; }
  // A second name for the old file's inode: rename() swaps the directory
  // entry to a new file, so the old inode keeps its content intact. Writing in
  // place would change what the link shows.
  fs::create_hard_link(out, link);
  report::Report r("new");
  r.paragraph("fresh");
  r.write(out.string());
  EXPECT_EQ(slurp(out), r.html());
  EXPECT_EQ(slurp(link), "old report");
  struct stat a {
  }, b{};
  ASSERT_EQ(::stat(out.c_str(), &a), 0);
  ASSERT_EQ(::stat(link.c_str(), &b), 0);
  EXPECT_NE(a.st_ino, b.st_ino);
  // No temporary file left behind.
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"old.html", "report.html"}));
}

TEST(ReportWrite, FailureNamesThePathAndLeavesNoTemporary) {
  TempDir dir;
  report::Report r("x");
  // The directory does not exist: the temporary cannot be created.
  const std::string missing = (dir.path / "no" / "such" / "report.html").string();
  try {
    r.write(missing);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
  // The target is a directory: the rename fails after the write.
  const fs::path target = dir.path / "a_directory";
  fs::create_directory(target);
  fs::create_directory(target / "keep");  // non-empty, so rename cannot replace it
  EXPECT_THROW(r.write(target.string()), Error);
  EXPECT_TRUE(fs::is_directory(target / "keep"));
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"a_directory"}));
}

}  // namespace
}  // namespace medtex
