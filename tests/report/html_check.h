// A small well-formedness checker for the report's HTML, for the tests: the
// report is meant to be markup a strict reader accepts, not just what a
// forgiving browser repairs.
//
// Checks: every non-void element is closed, in order; void elements (meta,
// img, ...) are not closed; "/>" only on void elements or inside <svg>;
// attributes are quoted and unique per element; no raw '<' in text or
// attribute values; every '&' starts a character reference (&name; &#10;
// &#x1F;); <style> holds no "</"; text only inside <html>. It also collects
// element names and attributes so tests can count and inspect them.
#pragma once

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace medtex::test {

struct HtmlElement {
  std::string name;
  std::map<std::string, std::string> attrs;  // values as written (still escaped)
};

struct HtmlCheck {
  std::string error;                  // empty when well formed
  std::vector<HtmlElement> elements;  // in document order
  bool ok() const { return error.empty(); }
  int count(std::string_view name) const {
    return int(std::count_if(elements.begin(), elements.end(),
                             [&](const HtmlElement& e) { return e.name == name; }));
  }
  int count(std::string_view name, std::string_view attr, std::string_view value) const {
    return int(std::count_if(elements.begin(), elements.end(), [&](const HtmlElement& e) {
      auto it = e.attrs.find(std::string(attr));
      return e.name == name && it != e.attrs.end() && it->second == value;
    }));
  }
};

namespace html_check_detail {

inline bool is_void(const std::string& n) {
  static const std::set<std::string> v = {"area",  "base", "br",   "col",    "embed", "hr", "img",
                                          "input", "link", "meta", "source", "track", "wbr"};
  return v.count(n) > 0;
}

inline bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == ':' || c == '_';
}

// The character reference at s[i] == '&': its length, or 0 when malformed.
inline size_t reference_length(std::string_view s, size_t i) {
  size_t j = i + 1;
  if (j < s.size() && s[j] == '#') {
    ++j;
    const bool hex = j < s.size() && (s[j] == 'x' || s[j] == 'X');
    if (hex) ++j;
    const size_t digits = j;
    while (j < s.size() && (hex ? std::isxdigit(static_cast<unsigned char>(s[j]))
                                : std::isdigit(static_cast<unsigned char>(s[j])))) {
      ++j;
    }
    if (j == digits) return 0;
  } else {
    const size_t start = j;
    while (j < s.size() && std::isalnum(static_cast<unsigned char>(s[j]))) ++j;
    if (j == start) return 0;
  }
  return j < s.size() && s[j] == ';' ? j + 1 - i : 0;
}

// Checks text (or an attribute value) for raw '<' and stray '&'.
inline std::string check_text(std::string_view s, size_t offset) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<') return "raw '<' in text at byte " + std::to_string(offset + i);
    if (s[i] == '&' && reference_length(s, i) == 0) {
      return "bare '&' at byte " + std::to_string(offset + i);
    }
  }
  return "";
}

}  // namespace html_check_detail

inline HtmlCheck check_html(std::string_view doc) {
  using namespace html_check_detail;
  HtmlCheck r;
  std::vector<std::string> open;
  auto bad = [&](std::string msg) {
    r.error = std::move(msg);
    return r;
  };
  auto in_svg = [&] { return std::find(open.begin(), open.end(), "svg") != open.end(); };
  size_t i = 0;
  while (i < doc.size()) {
    if (doc[i] != '<') {
      const size_t next = std::min(doc.find('<', i), doc.size());
      const std::string_view text = doc.substr(i, next - i);
      const std::string e = check_text(text, i);
      if (!e.empty()) return bad(e);
      if (open.empty() && text.find_first_not_of(" \t\r\n") != std::string_view::npos) {
        return bad("text outside <html> at byte " + std::to_string(i));
      }
      i = next;
      continue;
    }
    if (doc.substr(i, 4) == "<!--") {
      const size_t end = doc.find("-->", i + 4);
      if (end == std::string_view::npos) return bad("unterminated comment");
      i = end + 3;
      continue;
    }
    if (doc.substr(i, 2) == "<!") {
      if (i != 0) return bad("<! declaration not at the start");
      const size_t end = doc.find('>', i);
      if (end == std::string_view::npos) return bad("unterminated doctype");
      i = end + 1;
      continue;
    }
    if (doc.substr(i, 2) == "</") {
      size_t j = i + 2;
      while (j < doc.size() && name_char(doc[j])) ++j;
      const std::string name(doc.substr(i + 2, j - i - 2));
      while (j < doc.size() && std::isspace(static_cast<unsigned char>(doc[j]))) ++j;
      if (j >= doc.size() || doc[j] != '>') return bad("malformed end tag </" + name);
      if (open.empty()) return bad("</" + name + "> closes nothing");
      if (open.back() != name) return bad("</" + name + "> closes <" + open.back() + ">");
      open.pop_back();
      i = j + 1;
      continue;
    }
    size_t j = i + 1;
    while (j < doc.size() && name_char(doc[j])) ++j;
    if (j == i + 1) return bad("raw '<' at byte " + std::to_string(i));
    HtmlElement el;
    el.name = std::string(doc.substr(i + 1, j - i - 1));
    bool self_closed = false;
    for (;;) {
      while (j < doc.size() && std::isspace(static_cast<unsigned char>(doc[j]))) ++j;
      if (j >= doc.size()) return bad("unterminated <" + el.name);
      if (doc[j] == '>') {
        ++j;
        break;
      }
      if (doc.substr(j, 2) == "/>") {
        self_closed = true;
        j += 2;
        break;
      }
      const size_t a = j;
      while (j < doc.size() && !std::isspace(static_cast<unsigned char>(doc[j])) &&
             std::string_view("=>/\"'<").find(doc[j]) == std::string_view::npos) {
        ++j;
      }
      if (j == a) return bad("bad attribute in <" + el.name + "> at byte " + std::to_string(j));
      const std::string attr(doc.substr(a, j - a));
      std::string value;
      if (j < doc.size() && doc[j] == '=') {
        ++j;
        if (j >= doc.size() || (doc[j] != '"' && doc[j] != '\'')) {
          return bad("unquoted value of " + attr + " in <" + el.name + ">");
        }
        const char q = doc[j];
        const size_t end = doc.find(q, j + 1);
        if (end == std::string_view::npos) return bad("unterminated value of " + attr);
        value = std::string(doc.substr(j + 1, end - j - 1));
        const std::string e = check_text(value, j + 1);
        if (!e.empty()) return bad(e + " (attribute " + attr + " of <" + el.name + ">)");
        j = end + 1;
      }
      if (!el.attrs.emplace(attr, value).second) {
        return bad("duplicate attribute " + attr + " in <" + el.name + ">");
      }
    }
    const bool is_void_el = is_void(el.name);
    if (self_closed && !is_void_el && !in_svg() && el.name != "svg") {
      return bad("<" + el.name + "/> is not a void element");
    }
    if (open.empty() && el.name != "html") return bad("<" + el.name + "> outside <html>");
    r.elements.push_back(el);
    if (!self_closed && !is_void_el) open.push_back(el.name);
    i = j;
    if (el.name == "style" && !self_closed) {
      const size_t end = doc.find("</", i);
      if (end == std::string_view::npos || doc.substr(end, 8) != "</style>") {
        return bad("<style> not closed by </style>");
      }
      i = end;  // the end tag is matched above on the next turn
    }
  }
  if (!open.empty()) return bad("<" + open.back() + "> never closed");
  return r;
}

}  // namespace medtex::test
