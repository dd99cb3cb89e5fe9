#include <cmath>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/common/error.h"
#include "medtex/report/chart.h"
#include "tests/report/html_check.h"

namespace medtex {
namespace {

// The chart inside a minimal document, so the well-formedness checker
// accepts it as it would the report.
test::HtmlCheck check_svg(const std::string& svg) {
  return test::check_html("<html><body>" + svg + "</body></html>");
}

// The numbers of a path's d attribute, in order.
std::vector<double> path_numbers(const std::string& d) {
  std::vector<double> v;
  const std::regex num(R"(-?\d+(\.\d+)?)");
  for (auto it = std::sregex_iterator(d.begin(), d.end(), num); it != std::sregex_iterator();
       ++it) {
    v.push_back(std::stod(it->str()));
  }
  return v;
}

report::LineChart loss_chart() {
  report::LineChart c;
  c.title = "Loss <per> epoch";
  c.x_label = "epoch";
  c.y_label = "cross-entropy & KL";
  c.add("train", {1, 2, 3, 4, 5}, {1.2, 0.9, 0.7, 0.6, 0.55});
  c.add("val", {1, 2, 3, 4, 5}, {1.3, 1.0, NAN, 0.8, 0.78}).dashed = true;
  c.add("accuracy \xC2\xB1 sd", {1, 3, 5}, {0.5, 0.6, 0.7}, {0.05, 0.04, 0.02});
  return c;
}

TEST(Chart, OnePathPerSeriesAndEscapedLabels) {
  const std::string svg = report::render_svg(loss_chart(), "c1");
  const test::HtmlCheck h = check_svg(svg);
  ASSERT_TRUE(h.ok()) << h.error;
  EXPECT_EQ(h.count("svg"), 1);
  EXPECT_EQ(h.count("path", "class", "series"), 3);
  EXPECT_EQ(h.count("path", "class", "errbar"), 1);  // only the series with error bars
  EXPECT_EQ(h.count("path", "class", "axis"), 1);
  // Three series of 5, 4 (one NaN) and 3 points, all with markers (few points).
  EXPECT_EQ(h.count("circle", "class", "marker"), 12);
  // Title and axis labels, escaped; legend entries.
  EXPECT_NE(svg.find(">Loss &lt;per&gt; epoch</text>"), std::string::npos);
  EXPECT_NE(svg.find(">epoch</text>"), std::string::npos);
  EXPECT_NE(svg.find(">cross-entropy &amp; KL</text>"), std::string::npos);
  EXPECT_NE(svg.find(">train</text>"), std::string::npos);
  EXPECT_NE(svg.find(">val</text>"), std::string::npos);
  EXPECT_NE(svg.find(">accuracy \xC2\xB1 sd</text>"), std::string::npos);
  EXPECT_NE(svg.find("rotate(-90"), std::string::npos);  // the y label runs upwards
  EXPECT_NE(svg.find("stroke-dasharray"), std::string::npos);
  EXPECT_NE(svg.find("clipPath id=\"c1-plot\""), std::string::npos);
  EXPECT_NE(svg.find("url(#c1-plot)"), std::string::npos);
}

TEST(Chart, SeriesColoursComeFromThePalette) {
  const test::HtmlCheck h = check_svg(report::render_svg(loss_chart()));
  ASSERT_TRUE(h.ok()) << h.error;
  std::vector<std::string> colours;
  for (const auto& e : h.elements) {
    if (e.name == "path" && e.attrs.count("class") && e.attrs.at("class") == "series") {
      colours.push_back(e.attrs.at("stroke"));
    }
  }
  const auto& p = report::chart_palette();
  EXPECT_EQ(colours, (std::vector<std::string>{p[0], p[1], p[2]}));
}

TEST(Chart, MissingValueBreaksTheLine) {
  const test::HtmlCheck h = check_svg(report::render_svg(loss_chart()));
  ASSERT_TRUE(h.ok()) << h.error;
  std::vector<std::string> d;
  for (const auto& e : h.elements) {
    if (e.name == "path" && e.attrs.count("class") && e.attrs.at("class") == "series") {
      d.push_back(e.attrs.at("d"));
    }
  }
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(std::count(d[0].begin(), d[0].end(), 'M'), 1);
  EXPECT_EQ(std::count(d[0].begin(), d[0].end(), 'L'), 4);
  // val: points 1-2, a gap at 3, points 4-5: two pieces.
  EXPECT_EQ(std::count(d[1].begin(), d[1].end(), 'M'), 2);
  EXPECT_EQ(std::count(d[1].begin(), d[1].end(), 'L'), 2);
}

TEST(Chart, ValuesLandOnTheirTicks) {
  // A fixed y range [0, 1]: the point at y = 1 must sit at the height of the
  // "1.0" tick label, y = 0 at the "0.0" one, and x = 10 at the "10" tick.
  report::LineChart c;
  c.x_label = "x";
  c.y_label = "y";
  c.y_min = 0;
  c.y_max = 1;
  c.add("s", {0, 10}, {0, 1});
  const std::string svg = report::render_svg(c);
  const test::HtmlCheck h = check_svg(svg);
  ASSERT_TRUE(h.ok()) << h.error;
  auto tick_pos = [&](const std::string& label, const char* coord) {
    const std::regex re("<text class=\"tick\" x=\"([-0-9.]+)\" y=\"([-0-9.]+)\"[^>]*>" + label +
                        "</text>");
    std::smatch m;
    EXPECT_TRUE(std::regex_search(svg, m, re)) << "no tick " << label;
    return std::stod(m[coord[0] == 'x' ? 1 : 2].str());
  };
  std::string d;
  for (const auto& e : h.elements) {
    if (e.name == "path" && e.attrs.count("class") && e.attrs.at("class") == "series")
      d = e.attrs.at("d");
  }
  const std::vector<double> p = path_numbers(d);  // x0 y0 x1 y1
  ASSERT_EQ(p.size(), 4u);
  EXPECT_NEAR(p[1], tick_pos("0.0", "y"), 0.01);
  EXPECT_NEAR(p[3], tick_pos("1.0", "y"), 0.01);
  EXPECT_NEAR(p[0], tick_pos("0", "x"), 0.01);
  EXPECT_NEAR(p[2], tick_pos("10", "x"), 0.01);
  EXPECT_LT(p[3], p[1]);  // SVG's y grows downwards
  // Ticks 0.0, 0.2, ..., 1.0.
  for (const char* t : {"0.2", "0.4", "0.6", "0.8"})
    EXPECT_NE(svg.find(std::string(">") + t + "<"), std::string::npos) << t;
}

TEST(Chart, LogAxisTicksAtTheLabelledSetSizes) {
  report::LineChart c;
  c.log_x = true;
  c.x_label = "labelled images";
  c.add("medtex", {25, 50, 100, 200}, {0.6, 0.65, 0.7, 0.72}, {0.03, 0.02, 0.02, 0.01});
  const std::string svg = report::render_svg(c);
  ASSERT_TRUE(check_svg(svg).ok());
  std::vector<double> xs;
  for (const char* n : {"25", "50", "100", "200"}) {
    const std::regex re(std::string("<text class=\"tick\" x=\"([-0-9.]+)\"[^>]*>") + n + "</text>");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(svg, m, re)) << n;
    xs.push_back(std::stod(m[1].str()));
  }
  // Doubling n moves the same distance on a log axis.
  EXPECT_NEAR(xs[1] - xs[0], xs[2] - xs[1], 0.02);
  EXPECT_NEAR(xs[2] - xs[1], xs[3] - xs[2], 0.02);
  EXPECT_GT(xs[1] - xs[0], 50);
  c.series[0].x[0] = 0;
  EXPECT_THROW(report::render_svg(c), Error);  // log of 0
}

TEST(Chart, ErrorBarsOfSeveralSeriesAreShiftedApart) {
  report::LineChart c;
  c.add("a", {10, 20}, {0.5, 0.6}, {0.1, 0.1});
  c.add("b", {10, 20}, {0.5, 0.6}, {0.1, 0.1});
  c.add("no bars", {10, 20}, {0.5, 0.6});
  const test::HtmlCheck h = check_svg(report::render_svg(c));
  ASSERT_TRUE(h.ok()) << h.error;
  std::vector<std::vector<double>> series, bars;
  for (const auto& e : h.elements) {
    if (e.name != "path" || !e.attrs.count("class")) continue;
    if (e.attrs.at("class") == "series") series.push_back(path_numbers(e.attrs.at("d")));
    if (e.attrs.at("class") == "errbar") bars.push_back(path_numbers(e.attrs.at("d")));
  }
  ASSERT_EQ(series.size(), 3u);
  ASSERT_EQ(bars.size(), 2u);
  // First point's x: a and b 4 px apart, symmetric about the unshifted series.
  EXPECT_NEAR(series[1][0] - series[0][0], 4.0, 0.011);
  EXPECT_NEAR((series[0][0] + series[1][0]) / 2, series[2][0], 0.011);
  // Each series' bar stands on its own points.
  EXPECT_NEAR(bars[0][0], series[0][0], 0.011);
  EXPECT_NEAR(bars[1][0], series[1][0], 0.011);
}

TEST(Chart, NiceTicks) {
  EXPECT_EQ(report::nice_ticks(0, 1).size(), 6u);  // 0, 0.2, ..., 1
  EXPECT_NEAR(report::nice_ticks(0, 1)[1], 0.2, 1e-12);
  EXPECT_EQ(report::nice_ticks(1, 30), (std::vector<double>{0, 10, 20, 30}));
  const auto t = report::nice_ticks(0.13, 0.87);
  EXPECT_LE(t.front(), 0.13);
  EXPECT_GE(t.back(), 0.87);
  const auto d = report::nice_ticks(3, 3);  // degenerate: widened around the value
  EXPECT_LT(d.front(), 3);
  EXPECT_GT(d.back(), 3);
  const auto neg = report::nice_ticks(-2.5, 7.5);
  EXPECT_EQ(neg.front(), -4);
  EXPECT_EQ(neg.back(), 8);
}

TEST(Chart, BadSeriesThrow) {
  report::LineChart c;
  c.title = "bad";
  c.add("a", {1, 2}, {1});
  EXPECT_THROW(report::render_svg(c), Error);
  c.series[0].y = {1, 2};
  c.series[0].err = {0.1};
  EXPECT_THROW(report::render_svg(c), Error);
  c.series[0].err.clear();
  EXPECT_NO_THROW(report::render_svg(c));
  c.y_min = 1;
  c.y_max = 1;
  EXPECT_THROW(report::render_svg(c), Error);
}

TEST(Chart, EmptyChartStillDraws) {
  report::LineChart c;
  c.title = "nothing yet";
  const test::HtmlCheck h = check_svg(report::render_svg(c));
  ASSERT_TRUE(h.ok()) << h.error;
  EXPECT_EQ(h.count("path", "class", "series"), 0);
  EXPECT_EQ(h.count("path", "class", "axis"), 1);
}

}  // namespace
}  // namespace medtex
