#include "medtex/data/dataset.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "kernels/common/error.h"
#include "medtex/data/image_io.h"

namespace medtex::data {

namespace fs = std::filesystem;

namespace {

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) --b;
  return s.substr(a, b - a);
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out;
}

// One CSV line into fields. Unquoted fields are trimmed; a quoted field keeps
// its text verbatim, with "" standing for one quote. Returns an error text,
// empty on success.
std::string split_csv_line(const std::string& line, std::vector<std::string>& out) {
  out.clear();
  size_t i = 0;
  const size_t n = line.size();
  for (;;) {
    while (i < n && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::string field;
    if (i < n && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < n) {
        if (line[i] == '"') {
          if (i + 1 < n && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        field += line[i++];
      }
      if (!closed) return "unterminated quote";
      while (i < n && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i < n && line[i] != ',') return "text after a closing quote";
    } else {
      const size_t start = i;
      while (i < n && line[i] != ',') {
        if (line[i] == '"') return "quote inside an unquoted field";
        ++i;
      }
      field = trim(line.substr(start, i - start));
    }
    out.push_back(field);
    if (i >= n) break;
    ++i;  // the comma
  }
  return {};
}

bool is_class_index(const std::string& s) {
  if (s.empty() || s.size() > 6) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool has_image_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

// The image files (.png, .jpg, .jpeg; not hidden) directly in `dir`, sorted.
std::vector<fs::path> image_files(const fs::path& dir) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!name.empty() && name[0] != '.' && !e.is_directory() && has_image_extension(e.path())) {
      files.push_back(e.path());
    }
  }
  MT_CHECK(!ec, dir.string(), ": cannot list (", ec.message(), ")");
  std::sort(files.begin(), files.end());
  return files;
}

// `given` resolved against `root`, or an error text when it leaves root.
// The check is lexical (after removing . and ..): a symbolic link inside the
// dataset folder may point elsewhere, as datasets on shared disks often do.
std::string resolve_inside(const fs::path& root, const std::string& given, fs::path* out) {
  const fs::path p(given);
  const fs::path full = (p.is_absolute() ? p : root / p).lexically_normal();
  const fs::path rel = full.lexically_relative(root);
  if (rel.empty() || rel == "." || *rel.begin() == "..") {
    return "path '" + given + "' is outside the dataset folder " + root.string();
  }
  *out = full;
  return {};
}

std::string check_file(const fs::path& p, const std::string& given) {
  std::error_code ec;
  const fs::file_status st = fs::status(p, ec);
  if (!fs::exists(st)) return given + ": no such file";
  if (fs::is_directory(st)) return given + ": is a folder, not an image";
  return {};
}

// Fails, or with skip_bad records a warning and says to skip.
struct BadRow {
  Dataset& ds;
  bool skip;
  int64_t skipped = 0;
  void operator()(const std::string& where, const std::string& what) {
    MT_CHECK(skip, where, ": ", what);
    ds.warnings.push_back(where + ": " + what + " (skipped)");
    ++skipped;
  }
};

}  // namespace

Dataset read_csv_index(const std::string& csv_path, const IndexOptions& opts) {
  const std::vector<uint8_t> bytes = read_file(csv_path);
  MT_CHECK(!bytes.empty(), csv_path, ": empty file (expected a header such as path,label)");
  std::string text(bytes.begin(), bytes.end());
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);  // UTF-8 byte order mark

  Dataset ds;
  const fs::path root = fs::absolute(fs::path(csv_path)).parent_path().lexically_normal();
  ds.root = root.string();
  ds.index = csv_path;
  BadRow bad{ds, opts.skip_bad};

  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  std::vector<std::string> header, fields;
  int header_line = 0;
  int path_col = -1, label_col = -1, mask_col = -1;
  std::vector<int> target_cols;
  std::vector<std::string> raw_labels;  // single-label, per kept sample
  std::map<std::string, int64_t> class_index;
  for (size_t i = 0; i < opts.classes.size(); ++i) class_index[opts.classes[i]] = int64_t(i);
  int64_t rows_seen = 0;

  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (trim(line).empty()) continue;
    const std::string where = csv_path + ":" + std::to_string(line_no);
    const std::string err = split_csv_line(line, fields);
    if (header_line == 0) {
      MT_CHECK(err.empty(), where, ": ", err, " in the header");
      header = fields;
      header_line = line_no;
      std::set<std::string> seen;
      for (size_t c = 0; c < header.size(); ++c) {
        const std::string& name = header[c];
        MT_CHECK(!name.empty(), where, ": column ", c + 1, " of the header has no name");
        MT_CHECK(seen.insert(name).second, where, ": column '", name, "' appears twice");
        if (name == "path")
          path_col = int(c);
        else if (name == "label")
          label_col = int(c);
        else if (name == "mask")
          mask_col = int(c);
        else
          target_cols.push_back(int(c));
      }
      MT_CHECK(path_col >= 0, where, ": no 'path' column in the header (got: ", join(header), ")");
      if (opts.paths_only) {
        label_col = -1;
        target_cols.clear();
      } else if (label_col >= 0) {
        MT_CHECK(target_cols.empty(), where, ": unexpected column '", header[target_cols[0]],
                 "' (a single-label CSV has path,label and optionally mask)");
      } else {
        MT_CHECK(!target_cols.empty(), where,
                 ": no label column (expected path,label or path,<name1>,<name2>,...)");
        ds.multi_label = true;
        for (int c : target_cols) ds.classes.push_back(header[c]);
      }
      ds.has_mask_column = mask_col >= 0;
      continue;
    }
    ++rows_seen;
    if (!err.empty()) {
      bad(where, err);
      continue;
    }
    if (fields.size() != header.size()) {
      bad(where, "expected " + std::to_string(header.size()) + " fields (" + join(header) +
                     "), got " + std::to_string(fields.size()));
      continue;
    }
    Sample s;
    s.where = where;
    const std::string& given = fields[path_col];
    if (given.empty()) {
      bad(where, "empty path");
      continue;
    }
    fs::path full;
    std::string why = resolve_inside(root, given, &full);
    if (why.empty()) why = check_file(full, given);
    if (!why.empty()) {
      bad(where, why);
      continue;
    }
    s.path = full.string();
    if (mask_col >= 0 && !fields[mask_col].empty()) {
      fs::path mfull;
      why = resolve_inside(root, fields[mask_col], &mfull);
      if (why.empty()) why = check_file(mfull, fields[mask_col]);
      if (!why.empty()) {
        bad(where, "mask " + why);
        continue;
      }
      s.mask_path = mfull.string();
    }
    if (opts.paths_only) {
      // labels unread: s.label stays -1
    } else if (!ds.multi_label) {
      const std::string& label = fields[label_col];
      if (label.empty()) {
        bad(where, "missing label");
        continue;
      }
      if (!opts.classes.empty()) {
        const auto it = class_index.find(label);
        if (it == class_index.end()) {
          bad(where, "unknown label '" + label + "' (classes: " + join(opts.classes) + ")");
          continue;
        }
        s.label = it->second;
      }
      raw_labels.push_back(label);
    } else {
      bool ok = true;
      for (size_t k = 0; k < target_cols.size() && ok; ++k) {
        const std::string& v = fields[target_cols[k]];
        if (v.empty()) {
          s.targets.push_back(0.0f);
          s.known.push_back(0);
        } else if (v == "0" || v == "1" || v == "0.0" || v == "1.0") {
          s.targets.push_back(v[0] == '1' ? 1.0f : 0.0f);
          s.known.push_back(1);
        } else {
          bad(where, "label '" + header[target_cols[k]] + "' has value '" + v +
                         "' (expected 0, 1 or blank)");
          ok = false;
        }
      }
      if (!ok) continue;
    }
    ds.samples.push_back(std::move(s));
  }
  MT_CHECK(header_line > 0, csv_path, ": no header line (expected a header such as path,label)");
  MT_CHECK(rows_seen > 0, csv_path, ": no rows after the header");
  MT_CHECK(!ds.samples.empty(), csv_path, ": all ", rows_seen, " rows are bad");

  if (!ds.multi_label && !opts.paths_only) {
    if (!opts.classes.empty()) {
      ds.classes = opts.classes;
    } else if (std::all_of(raw_labels.begin(), raw_labels.end(), is_class_index)) {
      int64_t top = 0;
      for (size_t i = 0; i < raw_labels.size(); ++i) {
        ds.samples[i].label = std::stoll(raw_labels[i]);
        top = std::max(top, ds.samples[i].label);
      }
      for (int64_t c = 0; c <= top; ++c) ds.classes.push_back(std::to_string(c));
    } else {
      std::set<std::string> names(raw_labels.begin(), raw_labels.end());
      ds.classes.assign(names.begin(), names.end());
      for (size_t i = 0; i < raw_labels.size(); ++i) {
        ds.samples[i].label =
            std::lower_bound(ds.classes.begin(), ds.classes.end(), raw_labels[i]) -
            ds.classes.begin();
      }
    }
  }
  return ds;
}

Dataset read_class_folders(const std::string& root_path, const IndexOptions& opts) {
  std::error_code ec;
  MT_CHECK(fs::is_directory(root_path, ec), root_path, ": not a folder");
  Dataset ds;
  const fs::path root = fs::absolute(fs::path(root_path)).lexically_normal();
  ds.root = root.string();
  ds.index = root_path;
  BadRow bad{ds, opts.skip_bad};

  std::vector<std::string> folders;
  for (const fs::directory_entry& e : fs::directory_iterator(root, ec)) {
    const std::string name = e.path().filename().string();
    if (!name.empty() && name[0] != '.' && e.is_directory()) folders.push_back(name);
  }
  MT_CHECK(!ec, root_path, ": cannot list (", ec.message(), ")");
  std::sort(folders.begin(), folders.end());
  MT_CHECK(!folders.empty(), root_path,
           ": no class folders (expected <folder>/<class>/<image>.png)");
  std::map<std::string, int64_t> class_index;
  if (!opts.classes.empty()) {
    ds.classes = opts.classes;
    for (size_t i = 0; i < opts.classes.size(); ++i) class_index[opts.classes[i]] = int64_t(i);
  } else {
    ds.classes = folders;
    for (size_t i = 0; i < folders.size(); ++i) class_index[folders[i]] = int64_t(i);
  }
  for (const std::string& cls : folders) {
    const fs::path dir = root / cls;
    const auto it = class_index.find(cls);
    if (it == class_index.end()) {
      bad(dir.string(), "unknown label: folder '" + cls + "' is not one of the classes (" +
                            join(opts.classes) + ")");
      continue;
    }
    for (const fs::path& p : image_files(dir)) {
      Sample s;
      s.path = p.lexically_normal().string();
      s.where = s.path;
      s.label = it->second;
      ds.samples.push_back(std::move(s));
    }
  }
  MT_CHECK(!ds.samples.empty(), root_path, ": no .png or .jpg images in the class folders");
  return ds;
}

Dataset open_dataset(const std::string& path, const IndexOptions& opts) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return read_csv_index(path, opts);
  MT_CHECK(fs::is_directory(path, ec), path, ": no such file or folder");
  const fs::path csv = fs::path(path) / "labels.csv";
  if (fs::is_regular_file(csv, ec)) return read_csv_index(csv.string(), opts);
  if (!opts.paths_only) return read_class_folders(path, opts);
  // Unlabelled: a plain folder of images (the usual archive), else class
  // folders whose names go unused.
  Dataset ds;
  ds.root = fs::absolute(fs::path(path)).lexically_normal().string();
  ds.index = path;
  for (const fs::path& p : image_files(path)) {
    Sample smp;
    smp.path = p.lexically_normal().string();
    smp.where = smp.path;
    ds.samples.push_back(std::move(smp));
  }
  if (!ds.samples.empty()) return ds;
  ds = read_class_folders(path, opts);
  ds.classes.clear();
  for (Sample& smp : ds.samples) smp.label = -1;
  return ds;
}

std::vector<int64_t> strata_of(const Dataset& ds) {
  std::vector<int64_t> strata;
  strata.reserve(ds.samples.size());
  for (const Sample& s : ds.samples) {
    if (!ds.multi_label) {
      strata.push_back(s.label);
      continue;
    }
    int64_t first = int64_t(s.targets.size());
    for (size_t k = 0; k < s.targets.size(); ++k) {
      if (s.known[k] && s.targets[k] > 0.5f) {
        first = int64_t(k);
        break;
      }
    }
    strata.push_back(first);
  }
  return strata;
}

}  // namespace medtex::data
