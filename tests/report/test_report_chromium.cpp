// The visual check (DESIGN §2: "report test: Chromium, headless"): render the
// sample report in headless Chromium and check that the screenshot shows what
// the HTML promises: styled tables, drawn charts, decoded images. Skipped,
// never passed, where Chromium is not installed (Debian: apt-get install
// chromium; it is large, so tools/setup does not install it).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "medtex/data/image_io.h"
#include "medtex/report/report.h"
#include "tests/report/sample_report.h"

namespace medtex {
namespace {

namespace fs = std::filesystem;

std::string find_chromium() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
      const fs::path p = fs::path(dir.empty() ? "." : dir) / name;
      if (::access(p.c_str(), X_OK) == 0) return p.string();
    }
  }
  return "";
}

// Pixels within `tol` of colour (r, g, b) on every channel.
int64_t count_near(const data::Image& img, int r, int g, int b, int tol) {
  int64_t n = 0;
  for (size_t i = 0; i + 2 < img.pixels.size(); i += size_t(img.channels)) {
    if (std::abs(img.pixels[i] - r) <= tol && std::abs(img.pixels[i + 1] - g) <= tol &&
        std::abs(img.pixels[i + 2] - b) <= tol) {
      ++n;
    }
  }
  return n;
}

TEST(ReportChromium, RendersTheSampleReport) {
  const std::string chromium = find_chromium();
  if (chromium.empty()) {
    GTEST_SKIP() << "chromium is not installed: the visual check of the report did not run "
                    "(Debian: apt-get install -y chromium)";
  }
  // One directory per process (several build trees may run this at once).
  // Removed when the test passes, unless MEDTEX_KEEP_EXAMPLES is set, so a
  // person can open the page, the screenshot and the PDF; kept on failure.
  const fs::path dir =
      fs::temp_directory_path() / ("medtex_report_chromium_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path html = dir / "report.html", shot = dir / "report.png";
  test::sample_report().write(html.string());
  // A tall window so the whole sample (tables, both charts, the overlay grid)
  // is on the one screenshot; its own profile directory so no user state is
  // read or written.
  // The compositor flags make Chromium paint every tile before it captures
  // (without them a tile at the bottom is now and then still blank).
  const std::string common = "timeout 120 '" + chromium +
                             "' --headless --disable-gpu --no-sandbox --hide-scrollbars "
                             "--no-first-run --run-all-compositor-stages-before-draw "
                             "--virtual-time-budget=5000 --user-data-dir='" +
                             (dir / "profile").string() + "'";
  const std::string cmd = common + " --screenshot='" + shot.string() +
                          "' --window-size=1200,2400 'file://" + html.string() + "' > '" +
                          (dir / "chromium.log").string() + "' 2>&1";
  const int rc = std::system(cmd.c_str());
  ASSERT_EQ(rc, 0) << cmd << "\nsee " << (dir / "chromium.log");
  ASSERT_TRUE(fs::exists(shot)) << "no screenshot; see " << (dir / "chromium.log");
  EXPECT_GT(fs::file_size(shot), 20000u) << "a near-empty screenshot";
  const data::Image img = data::read_image(shot.string(), 3);
  EXPECT_EQ(img.width, 1200);
  EXPECT_EQ(img.height, 2400);
  std::printf("[chromium] screenshot %s (%dx%d) of %s\n", shot.c_str(), img.width, img.height,
              html.c_str());

  // Not blank: many colours and a good share of non-white pixels.
  const int64_t total = int64_t(img.width) * img.height;
  EXPECT_LT(count_near(img, 255, 255, 255, 0), total * 95 / 100);
  // The stylesheet applied: the best cells' green (#dff1e4) fills whole cells.
  EXPECT_GT(count_near(img, 0xdf, 0xf1, 0xe4, 2), 2000);
  // The charts were drawn: the first series' blue (#0072B2) along its lines.
  EXPECT_GT(count_near(img, 0x00, 0x72, 0xb2, 10), 300);
  // The data: URI images decoded: the overlays' amber outlines and cyan contours.
  EXPECT_GT(count_near(img, 255, 214, 0, 12), 2000);
  EXPECT_GT(count_near(img, 0, 229, 255, 12), 100);

  // And it prints: A4 pages through the print stylesheet.
  const fs::path pdf = dir / "report.pdf";
  const std::string print = common + " --no-pdf-header-footer --print-to-pdf='" + pdf.string() +
                            "' 'file://" + html.string() + "' >> '" +
                            (dir / "chromium.log").string() + "' 2>&1";
  ASSERT_EQ(std::system(print.c_str()), 0) << print;
  ASSERT_TRUE(fs::exists(pdf));
  std::ifstream f(pdf, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.rfind("%PDF-", 0), 0u);
  int pages = 0;
  for (size_t at = bytes.find("/Type /Page"); at != std::string::npos;
       at = bytes.find("/Type /Page", at + 1)) {
    pages += bytes.compare(at, 12, "/Type /Pages") != 0;
  }
  EXPECT_GE(pages, 2) << "the sample is longer than one page";
  EXPECT_LE(pages, 8);
  std::printf("[chromium] printed %s: %d pages\n", pdf.c_str(), pages);
  if (!HasFailure() && std::getenv("MEDTEX_KEEP_EXAMPLES") == nullptr) fs::remove_all(dir);
}

}  // namespace
}  // namespace medtex
