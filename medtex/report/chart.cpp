#include "medtex/report/chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "kernels/common/error.h"
#include "medtex/report/text.h"

namespace medtex::report {
namespace {

// Average advance of a 12 px sans-serif glyph, for sizing margins without a
// font engine: wide enough for digits and most lower-case text.
constexpr double kCharWidth = 6.8;
constexpr int kMaxLegendChars = 36;
constexpr double kDodge = 4;  // px between neighbouring series' error bars
constexpr const char* kFont = "Helvetica, Arial, sans-serif";

// SVG coordinates: a hundredth of a pixel is below anything a screen or
// printer resolves, and keeps the markup short.
std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s(buf);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

// 1, 2, 5 or 10 x 10^e near x: rounded to the nearest when choosing a step,
// the next one up when choosing the range (Heckbert 1990).
double nice_number(double x, bool round) {
  const double e = std::floor(std::log10(x));
  const double f = x / std::pow(10.0, e);
  double nf;
  if (round) {
    nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  } else {
    nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  }
  return nf * std::pow(10.0, e);
}

// Decimals that tell the ticks of a 1/2/5 x 10^k step apart.
int step_decimals(double step) {
  return std::max(0, -int(std::floor(std::log10(step) + 1e-9)));
}

// Appends one path command ("M12 3.5", "V40"). Built by appending, which
// also keeps GCC 12's -Wrestrict false positive on "M" + std::string away.
void path_command(std::string& d, char op, double a) {
  d += op;
  d += num(a);
}
void path_command(std::string& d, char op, double a, double b) {
  path_command(d, op, a);
  d += ' ';
  d += num(b);
}

std::string compact(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string shorten(const std::string& s, size_t chars) {
  if (s.size() <= chars) return s;
  // Cut at a UTF-8 character boundary, then add an ellipsis.
  size_t cut = chars - 1;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "\xE2\x80\xA6";
}

struct Axis {
  double lo = 0, hi = 1;            // domain, in axis units (log10 x on a log axis)
  std::vector<double> ticks;        // data values
  std::vector<std::string> labels;  // one per tick
};

void check_series(const LineChart& c) {
  for (const Series& s : c.series) {
    MT_CHECK(s.x.size() == s.y.size(), "chart '", c.title, "': series '", s.name, "' has ",
             s.x.size(), " x values but ", s.y.size(), " y values");
    MT_CHECK(s.err.empty() || s.err.size() == s.y.size(), "chart '", c.title, "': series '", s.name,
             "' has ", s.err.size(), " error bars for ", s.y.size(), " points");
    if (c.log_x) {
      for (double x : s.x) {
        MT_CHECK(x > 0, "chart '", c.title, "': series '", s.name, "' has x = ", x,
                 " on a logarithmic axis");
      }
    }
  }
  MT_CHECK(c.width >= 200 && c.height >= 120, "chart '", c.title, "': ", c.width, " x ", c.height,
           " is too small to draw");
  if (c.y_min && c.y_max) {
    MT_CHECK(*c.y_min < *c.y_max, "chart '", c.title, "': y range [", *c.y_min, ", ", *c.y_max,
             "] is empty");
  }
}

Axis x_axis(const LineChart& c) {
  std::vector<double> xs;
  for (const Series& s : c.series) {
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) xs.push_back(s.x[i]);
    }
  }
  std::sort(xs.begin(), xs.end());
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
  Axis a;
  if (!c.log_x) {
    a.ticks = xs.empty() ? nice_ticks(0, 1) : nice_ticks(xs.front(), xs.back());
    a.lo = a.ticks.front();
    a.hi = a.ticks.back();
    const int d = step_decimals(a.ticks[1] - a.ticks[0]);
    for (double t : a.ticks) a.labels.push_back(format_fixed(t, d));
    return a;
  }
  if (xs.empty()) xs = {1, 10};
  double lo = std::log10(xs.front()), hi = std::log10(xs.back());
  // A little room on both sides so the end points' markers and error bars
  // do not sit on the frame.
  const double pad = hi > lo ? 0.05 * (hi - lo) : 0.3;
  a.lo = lo - pad;
  a.hi = hi + pad;
  if (xs.size() <= 10) {
    a.ticks = xs;
  } else {
    for (int k = int(std::ceil(lo)); k <= int(std::floor(hi)); ++k)
      a.ticks.push_back(std::pow(10.0, k));
    if (a.ticks.size() < 2) a.ticks = {xs.front(), xs.back()};
  }
  for (double t : a.ticks) a.labels.push_back(compact(t));
  return a;
}

Axis y_axis(const LineChart& c) {
  double lo = INFINITY, hi = -INFINITY;
  for (const Series& s : c.series) {
    for (size_t i = 0; i < s.y.size(); ++i) {
      if (!std::isfinite(s.y[i]) || !std::isfinite(s.x[i])) continue;
      const double e = s.err.empty() || !std::isfinite(s.err[i]) ? 0 : std::fabs(s.err[i]);
      lo = std::min(lo, s.y[i] - e);
      hi = std::max(hi, s.y[i] + e);
    }
  }
  if (!(lo <= hi)) lo = 0, hi = 1;  // no finite value
  if (c.y_min) lo = *c.y_min;
  if (c.y_max) hi = *c.y_max;
  if (lo > hi) std::swap(lo, hi);  // a fixed bound on the far side of all data
  Axis a;
  std::vector<double> ticks = nice_ticks(lo, hi);
  a.lo = c.y_min ? *c.y_min : ticks.front();
  a.hi = c.y_max ? *c.y_max : ticks.back();
  const double eps = 1e-9 * (a.hi - a.lo);
  for (double t : ticks) {
    if (t >= a.lo - eps && t <= a.hi + eps) a.ticks.push_back(t);
  }
  const int d = step_decimals(ticks[1] - ticks[0]);
  for (double t : a.ticks) a.labels.push_back(format_fixed(t, d));
  return a;
}

size_t max_chars(const std::vector<std::string>& labels) {
  size_t n = 0;
  for (const auto& l : labels) n = std::max(n, l.size());
  return n;
}

}  // namespace

Series& LineChart::add(std::string name, std::vector<double> x, std::vector<double> y,
                       std::vector<double> err) {
  Series s;
  s.name = std::move(name);
  s.x = std::move(x);
  s.y = std::move(y);
  s.err = std::move(err);
  series.push_back(std::move(s));
  return series.back();
}

const std::vector<std::string>& chart_palette() {
  // Okabe-Ito without its yellow and black: yellow vanishes on white, black
  // is taken by the axes.
  static const std::vector<std::string> p = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                             "#E69F00", "#56B4E9", "#666666"};
  return p;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (lo > hi) std::swap(lo, hi);
  target = std::max(target, 2);
  if (hi - lo <= 1e-12 * std::max(1.0, std::fabs(lo))) {
    const double pad = lo == 0 ? 1 : 0.1 * std::fabs(lo);
    lo -= pad;
    hi += pad;
  }
  const double range = nice_number(hi - lo, false);
  const double step = nice_number(range / (target - 1), true);
  // Integer multiples of the step, so no error accumulates along the axis.
  const auto first = static_cast<long long>(std::floor(lo / step + 1e-9));
  const auto last = static_cast<long long>(std::ceil(hi / step - 1e-9));
  std::vector<double> ticks;
  for (long long i = first; i <= last; ++i) ticks.push_back(double(i) * step);
  if (ticks.size() < 2) ticks.push_back(double(last + 1) * step);
  return ticks;
}

std::string render_svg(const LineChart& c, std::string_view id) {
  check_series(c);
  const Axis xa = x_axis(c);
  const Axis ya = y_axis(c);
  const std::string cid = html_escape(id);

  std::vector<std::string> names;
  for (const Series& s : c.series) names.push_back(shorten(s.name, kMaxLegendChars));
  const double W = c.width, H = c.height;
  const double top = c.title.empty() ? 14 : 40;
  const double legend_w = c.series.empty() ? 12 : 24 + 38 + kCharWidth * double(max_chars(names));
  const double right = std::min(legend_w, W / 3);
  const double left = 14 + (c.y_label.empty() ? 0 : 22) + kCharWidth * double(max_chars(ya.labels));
  const double bottom = 28 + (c.x_label.empty() ? 0 : 22);
  const double x0 = left, x1 = W - right, y0 = top, y1 = H - bottom;

  auto px = [&](double x) {
    const double t = c.log_x ? std::log10(x) : x;
    return x0 + (t - xa.lo) / (xa.hi - xa.lo) * (x1 - x0);
  };
  auto py = [&](double y) { return y1 - (y - ya.lo) / (ya.hi - ya.lo) * (y1 - y0); };

  std::string o;
  o += "<svg class=\"chart\" width=\"" + num(W) + "\" height=\"" + num(H) + "\" viewBox=\"0 0 " +
       num(W) + " " + num(H) + "\" role=\"img\" aria-label=\"" + html_escape(c.title) +
       "\" font-family=\"" + kFont + "\" font-size=\"12\">\n";
  o += "<defs><clipPath id=\"" + cid + "-plot\"><rect x=\"" + num(x0 - 5) + "\" y=\"" +
       num(y0 - 5) + "\" width=\"" + num(x1 - x0 + 10) + "\" height=\"" + num(y1 - y0 + 10) +
       "\"/></clipPath></defs>\n";
  o += "<rect class=\"background\" x=\"0\" y=\"0\" width=\"" + num(W) + "\" height=\"" + num(H) +
       "\" fill=\"#ffffff\"/>\n";
  if (!c.title.empty()) {
    o += "<text class=\"title\" x=\"" + num((x0 + x1) / 2) +
         "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"600\" fill=\"#222\">" +
         html_escape(c.title) + "</text>\n";
  }

  // Grid and ticks first, so the data is drawn over them.
  for (size_t i = 0; i < ya.ticks.size(); ++i) {
    const std::string y = num(py(ya.ticks[i]));
    o += "<line class=\"grid\" x1=\"" + num(x0) + "\" x2=\"" + num(x1) + "\" y1=\"" + y +
         "\" y2=\"" + y + "\" stroke=\"#e3e3e3\" stroke-width=\"1\"/>\n";
    o += "<text class=\"tick\" x=\"" + num(x0 - 7) + "\" y=\"" + y +
         "\" dy=\"0.32em\" text-anchor=\"end\" fill=\"#444\">" + html_escape(ya.labels[i]) +
         "</text>\n";
  }
  for (size_t i = 0; i < xa.ticks.size(); ++i) {
    const std::string x = num(px(xa.ticks[i]));
    o += "<line class=\"grid\" x1=\"" + x + "\" x2=\"" + x + "\" y1=\"" + num(y0) + "\" y2=\"" +
         num(y1) + "\" stroke=\"#f0f0f0\" stroke-width=\"1\"/>\n";
    o += "<line class=\"tickmark\" x1=\"" + x + "\" x2=\"" + x + "\" y1=\"" + num(y1) + "\" y2=\"" +
         num(y1 + 4) + "\" stroke=\"#444\" stroke-width=\"1\"/>\n";
    o += "<text class=\"tick\" x=\"" + x + "\" y=\"" + num(y1 + 18) +
         "\" text-anchor=\"middle\" fill=\"#444\">" + html_escape(xa.labels[i]) + "</text>\n";
  }
  o += "<path class=\"axis\" d=\"M" + num(x0) + " " + num(y0) + "V" + num(y1) + "H" + num(x1) +
       "\" fill=\"none\" stroke=\"#444\" stroke-width=\"1\"/>\n";
  if (!c.x_label.empty()) {
    o += "<text class=\"axis-label\" x=\"" + num((x0 + x1) / 2) + "\" y=\"" + num(H - 10) +
         "\" text-anchor=\"middle\" fill=\"#222\">" + html_escape(c.x_label) + "</text>\n";
  }
  if (!c.y_label.empty()) {
    const std::string ym = num((y0 + y1) / 2);
    o += "<text class=\"axis-label\" x=\"16\" y=\"" + ym + "\" transform=\"rotate(-90 16 " + ym +
         ")\" text-anchor=\"middle\" dy=\"0.32em\" fill=\"#222\">" + html_escape(c.y_label) +
         "</text>\n";
  }

  // Series with error bars are shifted apart by a few pixels along x, so
  // bars at the same x (several methods at one labelled-set size) do not hide
  // each other; the shift is far below one step of any x axis.
  std::vector<double> dodge(c.series.size(), 0.0);
  {
    std::vector<size_t> with_err;
    for (size_t k = 0; k < c.series.size(); ++k) {
      if (!c.series[k].err.empty()) with_err.push_back(k);
    }
    for (size_t j = 0; j < with_err.size() && with_err.size() > 1; ++j) {
      dodge[with_err[j]] = (double(j) - double(with_err.size() - 1) / 2) * kDodge;
    }
  }

  const auto& palette = chart_palette();
  std::vector<std::string> colors;
  o += "<g clip-path=\"url(#" + cid + "-plot)\">\n";
  for (size_t k = 0; k < c.series.size(); ++k) {
    const Series& s = c.series[k];
    colors.push_back(html_escape(s.color.empty() ? palette[k % palette.size()] : s.color));
    const std::string& col = colors.back();
    if (!s.err.empty()) {
      std::string d;
      for (size_t i = 0; i < s.y.size(); ++i) {
        if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]) || !std::isfinite(s.err[i])) continue;
        const double e = std::fabs(s.err[i]);
        const double x = px(s.x[i]) + dodge[k], ylo = py(s.y[i] - e), yhi = py(s.y[i] + e);
        path_command(d, 'M', x, ylo);
        path_command(d, 'V', yhi);
        path_command(d, 'M', x - 4, ylo);
        path_command(d, 'H', x + 4);
        path_command(d, 'M', x - 4, yhi);
        path_command(d, 'H', x + 4);
      }
      o += "<path class=\"errbar\" d=\"" + d + "\" fill=\"none\" stroke=\"" + col +
           "\" stroke-width=\"1.2\"/>\n";
    }
    std::string d;
    bool pen_down = false;
    for (size_t i = 0; i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
        pen_down = false;
        continue;
      }
      path_command(d, pen_down ? 'L' : 'M', px(s.x[i]) + dodge[k], py(s.y[i]));
      pen_down = true;
    }
    o += "<path class=\"series\" data-name=\"" + html_escape(s.name) + "\" d=\"" + d +
         "\" fill=\"none\" stroke=\"" + col +
         "\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\"" +
         (s.dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>\n";
    if (s.markers.value_or(s.x.size() <= 30)) {
      for (size_t i = 0; i < s.y.size(); ++i) {
        if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
        o += "<circle class=\"marker\" cx=\"" + num(px(s.x[i]) + dodge[k]) + "\" cy=\"" +
             num(py(s.y[i])) + "\" r=\"3\" fill=\"" + col +
             "\" stroke=\"#ffffff\" stroke-width=\"1\"/>\n";
      }
    }
  }
  o += "</g>\n";

  if (!c.series.empty()) {
    o += "<g class=\"legend\">\n";
    const double lx = x1 + 18;
    for (size_t k = 0; k < c.series.size(); ++k) {
      const Series& s = c.series[k];
      const double ly = y0 + 10 + 20 * double(k);
      o += "<line x1=\"" + num(lx) + "\" x2=\"" + num(lx + 24) + "\" y1=\"" + num(ly) + "\" y2=\"" +
           num(ly) + "\" stroke=\"" + colors[k] + "\" stroke-width=\"2\"" +
           (s.dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>\n";
      if (s.markers.value_or(s.x.size() <= 30)) {
        o += "<circle cx=\"" + num(lx + 12) + "\" cy=\"" + num(ly) + "\" r=\"3\" fill=\"" +
             colors[k] + "\" stroke=\"#ffffff\" stroke-width=\"1\"/>\n";
      }
      o += "<text x=\"" + num(lx + 30) + "\" y=\"" + num(ly) + "\" dy=\"0.32em\" fill=\"#222\">" +
           html_escape(names[k]) + "</text>\n";
    }
    o += "</g>\n";
  }
  o += "</svg>\n";
  return o;
}

}  // namespace medtex::report
