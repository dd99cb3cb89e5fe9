#include "medtex/report/text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace medtex::report {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::string_view kInfinity = "\xE2\x88\x9E";     // U+221E
constexpr std::string_view kMinus = "\xE2\x88\x92";        // U+2212, the typographic minus

bool is_continuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

// Length of the valid UTF-8 sequence that starts at s[i], or 0 when it is not
// one. Follows RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF; the second byte's allowed range depends on the lead byte.
size_t utf8_length(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;  // below is overlong
    if (b0 == 0xED) hi = 0x9F;  // above are the UTF-16 surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;  // below is overlong
    if (b0 == 0xF4) hi = 0x8F;  // above is past U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  const auto b1 = static_cast<unsigned char>(s[i + 1]);
  if (b1 < lo || b1 > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (!is_continuation(static_cast<unsigned char>(s[i + k]))) return 0;
  }
  return n;
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&quot;";
          break;
        case '\'':
          out += "&#39;";
          break;
        case '\t':
        case '\n':
        case '\r':
          out += char(c);
          break;
        default:
          if (c < 0x20 || c == 0x7F) {
            out += kReplacement;
          } else {
            out += char(c);
          }
      }
      ++i;
      continue;
    }
    const size_t n = utf8_length(text, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string format_fixed(double value, int decimals) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value))
    return value > 0 ? std::string(kInfinity) : std::string(kMinus) + std::string(kInfinity);
  decimals = std::clamp(decimals, 0, 12);
  char buf[64];
  if (value != 0 && std::fabs(value) < 0.5 * std::pow(10.0, -decimals)) {
    std::snprintf(buf, sizeof buf, "%.2g", value);
  } else {
    std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  }
  std::string s(buf);
  // "-0.000": a negative value that rounds to zero reads as zero.
  if (s[0] == '-' && s.find_first_not_of("0.", 1) == std::string::npos) s.erase(0, 1);
  return s;
}

int auto_decimals(std::span<const double> values) {
  double max_abs = 0;
  bool all_integers = true;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    max_abs = std::max(max_abs, std::fabs(v));
    if (v != std::floor(v)) all_integers = false;
  }
  if (all_integers || max_abs == 0) return 0;
  // Three significant digits for the largest value: 10^e <= max_abs < 10^(e+1)
  // needs 2 - e decimals.
  const int e = int(std::floor(std::log10(max_abs)));
  return std::clamp(2 - e, 0, 6);
}

std::string format_number(double value) {
  return format_fixed(value, auto_decimals(std::span<const double>(&value, 1)));
}

}  // namespace medtex::report
