// Image datasets on disk: the index of which file has which label.
//
// Two layouts:
//   * a CSV with a header row. `path,label` for one label per image (class
//     indices 0..K-1 or class names); `path,<name1>,<name2>,...` for
//     multi-label data (chest-X-ray style) with 0, 1 or blank (unknown) per
//     name; either may add a `mask` column naming a lesion mask image. Paths
//     are relative to the CSV's folder (the dataset folder). Fields may be
//     quoted ("a,b.png", "" for a quote); lines may end in CRLF.
//   * one folder per class: <root>/<class>/<image>.png|.jpg|.jpeg, classes in
//     name order.
//
// Bad input is one medtex::Error naming the file and, for the CSV, the line:
// an empty CSV, a malformed row, an unknown label (unless paths_only), a path escaping the dataset
// folder (through `..` or an absolute path), a missing image. With skip_bad,
// a bad row is left out with a warning instead (an unusable header still fails).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace medtex::data {

struct Sample {
  std::string path;            // resolved: dataset folder / CSV path, lexically normal
  std::string mask_path;       // empty when the row names no mask
  int64_t label = -1;          // single-label: class index
  std::vector<float> targets;  // multi-label: 0 or 1 per label name
  std::vector<uint8_t> known;  // multi-label: 1 where given, 0 where blank
  std::string where;           // "labels.csv:12" (or the image path), prefixes messages
};

struct Dataset {
  std::string root;   // the dataset folder
  std::string index;  // the CSV file, or the root for folder-per-class
  bool multi_label = false;
  bool has_mask_column = false;
  std::vector<std::string> classes;  // class names, or the label names when multi-label
  std::vector<Sample> samples;
  std::vector<std::string> warnings;  // skip_bad: one line per row left out

  int64_t size() const { return int64_t(samples.size()); }
  int num_classes() const { return int(classes.size()); }
};

struct IndexOptions {
  // The classes a model knows, in order (e.g. {"0", ..., "4"} for DR grades).
  // Empty: inferred, as 0..max when every label is a non-negative integer,
  // else the sorted distinct names. When given, any other label is unknown.
  std::vector<std::string> classes;
  bool skip_bad = false;
  // Unlabelled use (an archive for distillation): a CSV's path and mask
  // columns only are read (label columns may be absent, blank or anything);
  // a folder may also be a plain folder of images, or class folders whose
  // names go unused. Every sample gets label -1, the dataset no classes.
  bool paths_only = false;
};

Dataset read_csv_index(const std::string& csv_path, const IndexOptions& opts = {});
Dataset read_class_folders(const std::string& root, const IndexOptions& opts = {});
// A CSV file; or a folder holding labels.csv; or a folder of class folders
// (with paths_only, also a plain folder of images).
Dataset open_dataset(const std::string& path, const IndexOptions& opts = {});

// One stratum per sample for splitting: the class (single-label), or for
// multi-label data the first positive label (K when none is positive).
std::vector<int64_t> strata_of(const Dataset& ds);

}  // namespace medtex::data
