// Dataset indexes: CSV (single- and multi-label, masks), folder per class, and
// every bad index giving one error that names the file and the CSV line.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "kernels/common/error.h"
#include "medtex/data/dataset.h"
#include "tests/data/data_test_util.h"

namespace medtex::data {
namespace {

using test::ScratchDir;
namespace fs = std::filesystem;

template <class F>
void expect_error(F&& f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const std::string& p : parts) {
      EXPECT_NE(msg.find(p), std::string::npos) << "message '" << msg << "' lacks '" << p << "'";
    }
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "message is not one line: " << msg;
  }
}

// A dataset folder with images a.png, b.png, c.png under img/.
struct Fixture {
  ScratchDir dir{"dataset"};
  Fixture() {
    for (const char* n : {"a", "b", "c"}) {
      test::write_png_file(dir.path() / "img" / (std::string(n) + ".png"),
                           test::pattern_image(16, 16, 3, n[0]));
    }
  }
  std::string csv(const std::string& text, const std::string& name = "labels.csv") {
    test::write_text(dir.path() / name, text);
    return dir.str(name);
  }
};

TEST(Dataset, SingleLabelCsvWithIntegerClasses) {
  Fixture f;
  const std::string csv = f.csv("path,label\nimg/a.png,0\n\nimg/b.png,2\r\n\"img/c.png\" , 1\n");
  const Dataset ds = read_csv_index(csv);
  EXPECT_FALSE(ds.multi_label);
  EXPECT_FALSE(ds.has_mask_column);
  ASSERT_EQ(ds.size(), 3);
  EXPECT_EQ(ds.classes, (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(ds.samples[0].label, 0);
  EXPECT_EQ(ds.samples[1].label, 2);
  EXPECT_EQ(ds.samples[2].label, 1);
  EXPECT_EQ(ds.samples[0].path, (f.dir.path() / "img" / "a.png").string());
  EXPECT_EQ(ds.samples[1].where, csv + ":4") << "line numbers count blank lines";
  EXPECT_EQ(strata_of(ds), (std::vector<int64_t>{0, 2, 1}));
}

TEST(Dataset, SingleLabelCsvWithNamesAndMasks) {
  Fixture f;
  test::write_png_file(f.dir.path() / "m" / "a.png", test::pattern_image(16, 16, 1, 0));
  const std::string csv =
      f.csv("path,label,mask\nimg/a.png,mild,m/a.png\nimg/b.png,none,\nimg/c.png,mild,\n");
  const Dataset ds = open_dataset(f.dir.str());  // the folder's labels.csv
  EXPECT_EQ(ds.index, csv);
  EXPECT_TRUE(ds.has_mask_column);
  EXPECT_EQ(ds.classes, (std::vector<std::string>{"mild", "none"}));
  EXPECT_EQ(ds.samples[0].label, 0);
  EXPECT_EQ(ds.samples[1].label, 1);
  EXPECT_EQ(ds.samples[0].mask_path, (f.dir.path() / "m" / "a.png").string());
  EXPECT_TRUE(ds.samples[1].mask_path.empty());
}

TEST(Dataset, MultiLabelCsvWithBlanks) {
  Fixture f;
  const std::string csv =
      f.csv("path,Edema,Effusion,Cardiomegaly\nimg/a.png,1,,0\nimg/b.png,,,\nimg/c.png,0,1,1.0\n");
  const Dataset ds = read_csv_index(csv);
  EXPECT_TRUE(ds.multi_label);
  EXPECT_EQ(ds.classes, (std::vector<std::string>{"Edema", "Effusion", "Cardiomegaly"}));
  ASSERT_EQ(ds.size(), 3);
  EXPECT_EQ(ds.samples[0].targets, (std::vector<float>{1, 0, 0}));
  EXPECT_EQ(ds.samples[0].known, (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_EQ(ds.samples[1].known, (std::vector<uint8_t>{0, 0, 0}));
  EXPECT_EQ(ds.samples[2].targets, (std::vector<float>{0, 1, 1}));
  // Strata: the first positive label, K when none.
  EXPECT_EQ(strata_of(ds), (std::vector<int64_t>{0, 3, 1}));
}

TEST(Dataset, FolderPerClass) {
  ScratchDir d("folders");
  test::write_png_file(d.path() / "healthy" / "x1.png", test::pattern_image(16, 16, 3, 1));
  test::write_png_file(d.path() / "healthy" / "x2.PNG", test::pattern_image(16, 16, 3, 2));
  test::write_bytes(d.path() / "sick" / "y1.jpg", encode_jpeg(test::pattern_image(16, 16, 3, 3)));
  test::write_text(d.path() / "sick" / "notes.txt", "ignored");
  test::write_text(d.path() / "README", "ignored");
  const Dataset ds = open_dataset(d.str());
  EXPECT_EQ(ds.classes, (std::vector<std::string>{"healthy", "sick"}));
  ASSERT_EQ(ds.size(), 3);
  EXPECT_EQ(ds.samples[0].label, 0);
  EXPECT_EQ(ds.samples[1].label, 0);
  EXPECT_EQ(ds.samples[2].label, 1);
  EXPECT_EQ(fs::path(ds.samples[2].path).filename(), "y1.jpg");
  // Fixed classes: an unexpected folder is an unknown label.
  IndexOptions o;
  o.classes = {"healthy"};
  expect_error([&] { read_class_folders(d.str(), o); }, {"sick", "unknown label"});
  o.skip_bad = true;
  const Dataset kept = read_class_folders(d.str(), o);
  EXPECT_EQ(kept.size(), 2);
  EXPECT_EQ(kept.warnings.size(), 1u);
}

// An unlabelled archive (paths_only): a CSV of paths alone, a CSV whose label
// column is blank or holds names no model knows, a plain folder of images and
// class folders all index every image with label -1 and no classes.
TEST(Dataset, UnlabelledArchiveReadsPathsOnly) {
  Fixture f;
  IndexOptions o;
  o.paths_only = true;
  auto expect_unlabelled = [](const Dataset& ds, int64_t n) {
    ASSERT_EQ(ds.size(), n);
    EXPECT_FALSE(ds.multi_label);
    EXPECT_TRUE(ds.classes.empty());
    for (const Sample& s : ds.samples) EXPECT_EQ(s.label, -1) << s.where;
  };
  const std::string only_paths = f.csv("path\nimg/a.png\nimg/c.png\n", "paths.csv");
  expect_unlabelled(read_csv_index(only_paths, o), 2);
  EXPECT_EQ(read_csv_index(only_paths, o).samples[1].path, (f.dir.path() / "img" / "c.png").string());
  // Without paths_only the same CSV is refused: a training set needs labels.
  expect_error([&] { read_csv_index(only_paths); }, {"paths.csv:1", "no label column"});
  expect_unlabelled(read_csv_index(f.csv("path,label\nimg/a.png,\nimg/b.png,?\n", "odd.csv"), o), 2);
  expect_unlabelled(read_csv_index(f.csv("path,Edema,mask\nimg/a.png,x,\n", "ml.csv"), o), 1);
  // Bad paths are still errors.
  expect_error([&] { read_csv_index(f.csv("path\nimg/zz.png\n", "missing.csv"), o); },
               {"missing.csv:2", "zz.png"});

  expect_unlabelled(open_dataset((f.dir.path() / "img").string(), o), 3);  // plain folder
  expect_error([&] { open_dataset((f.dir.path() / "img").string()); }, {"no class folders"});
  ScratchDir d("unlabelled_folders");
  test::write_png_file(d.path() / "healthy" / "x1.png", test::pattern_image(16, 16, 3, 1));
  test::write_png_file(d.path() / "sick" / "y1.png", test::pattern_image(16, 16, 3, 2));
  expect_unlabelled(open_dataset(d.str(), o), 2);  // class folders, names unused
}

// ---- bad indexes ------------------------------------------------------------------

TEST(DatasetBad, EmptyCsv) {
  Fixture f;
  const std::string csv = f.csv("");
  expect_error([&] { read_csv_index(csv); }, {csv, "empty file"});
  const std::string header_only = f.csv("path,label\n", "h.csv");
  expect_error([&] { read_csv_index(header_only); }, {header_only, "no rows"});
  const std::string blank = f.csv("\n  \n", "b.csv");
  expect_error([&] { read_csv_index(blank); }, {blank, "no header"});
}

TEST(DatasetBad, MissingCsv) {
  Fixture f;
  expect_error([&] { read_csv_index(f.dir.str("nope.csv")); }, {f.dir.str("nope.csv")});
  expect_error([&] { open_dataset(f.dir.str("nowhere")); }, {"nowhere", "no such file"});
}

TEST(DatasetBad, UnknownLabel) {
  Fixture f;
  const std::string csv = f.csv("path,label\nimg/a.png,0\nimg/b.png,7\n");
  IndexOptions o;
  o.classes = {"0", "1", "2", "3", "4"};
  expect_error([&] { read_csv_index(csv, o); }, {csv + ":3", "unknown label '7'"});
}

TEST(DatasetBad, PathEscapingWithDotDot) {
  Fixture f;
  test::write_png_file(f.dir.path().parent_path() / "outside.png",
                       test::pattern_image(16, 16, 3, 9));
  const std::string csv = f.csv("path,label\nimg/a.png,0\nimg/../../outside.png,1\n");
  expect_error([&] { read_csv_index(csv); },
               {csv + ":3", "img/../../outside.png", "outside the dataset folder"});
  fs::remove(f.dir.path().parent_path() / "outside.png");
}

TEST(DatasetBad, PathEscapingWithAbsolutePath) {
  Fixture f;
  const std::string csv = f.csv("path,label\n/etc/passwd,0\n");
  expect_error([&] { read_csv_index(csv); }, {csv + ":2", "/etc/passwd", "outside the dataset"});
  // An absolute path inside the folder is fine.
  const std::string inside = f.csv("path,label\n" + f.dir.str("img/a.png") + ",0\n", "in.csv");
  EXPECT_EQ(read_csv_index(inside).size(), 1);
}

TEST(DatasetBad, MissingImageNamesLine) {
  Fixture f;
  const std::string csv = f.csv("path,label\nimg/a.png,0\nimg/gone.png,1\n");
  expect_error([&] { read_csv_index(csv); }, {csv + ":3", "img/gone.png", "no such file"});
  const std::string mask = f.csv("path,label,mask\nimg/a.png,0,m/gone.png\n", "m.csv");
  expect_error([&] { read_csv_index(mask); }, {mask + ":2", "m/gone.png"});
}

TEST(DatasetBad, MalformedRows) {
  Fixture f;
  const std::string few = f.csv("path,label\nimg/a.png,0\nimg/b.png\n", "few.csv");
  expect_error([&] { read_csv_index(few); }, {few + ":3", "expected 2 fields", "got 1"});
  const std::string many = f.csv("path,label\nimg/a.png,0,9\n", "many.csv");
  expect_error([&] { read_csv_index(many); }, {many + ":2", "got 3"});
  const std::string quote = f.csv("path,label\n\"img/a.png,0\n", "quote.csv");
  expect_error([&] { read_csv_index(quote); }, {quote + ":2", "unterminated quote"});
  const std::string nolabel = f.csv("path,label\nimg/a.png,\n", "nolabel.csv");
  expect_error([&] { read_csv_index(nolabel); }, {nolabel + ":2", "missing label"});
  const std::string badval = f.csv("path,A,B\nimg/a.png,1,maybe\n", "badval.csv");
  expect_error([&] { read_csv_index(badval); }, {badval + ":2", "'B'", "'maybe'"});
  const std::string nopath = f.csv("file,label\nimg/a.png,0\n", "nopath.csv");
  expect_error([&] { read_csv_index(nopath); }, {nopath + ":1", "no 'path' column"});
  const std::string extra = f.csv("path,label,site\nimg/a.png,0,x\n", "extra.csv");
  expect_error([&] { read_csv_index(extra); }, {extra + ":1", "unexpected column 'site'"});
  const std::string dup = f.csv("path,A,A\nimg/a.png,0,1\n", "dup.csv");
  expect_error([&] { read_csv_index(dup); }, {dup + ":1", "twice"});
}

TEST(DatasetBad, SkipBadCountsAndWarnsPerRow) {
  Fixture f;
  const std::string csv = f.csv(
      "path,label\n"
      "img/a.png,0\n"
      "img/gone.png,1\n"  // missing
      "../x.png,1\n"      // escapes
      "img/b.png\n"       // malformed
      "img/c.png,9\n"     // unknown with fixed classes
      "img/b.png,1\n");
  IndexOptions o;
  o.classes = {"0", "1"};
  o.skip_bad = true;
  const Dataset ds = read_csv_index(csv, o);
  EXPECT_EQ(ds.size(), 2);
  ASSERT_EQ(ds.warnings.size(), 4u);
  EXPECT_NE(ds.warnings[0].find(csv + ":3"), std::string::npos) << ds.warnings[0];
  EXPECT_NE(ds.warnings[3].find(csv + ":6"), std::string::npos) << ds.warnings[3];
  // Without skip_bad the first bad row fails.
  o.skip_bad = false;
  expect_error([&] { read_csv_index(csv, o); }, {csv + ":3"});
  // Nothing usable at all is still an error.
  const std::string none = f.csv("path,label\nimg/gone.png,0\n", "none.csv");
  o.skip_bad = true;
  expect_error([&] { read_csv_index(none, o); }, {none, "bad"});
}

}  // namespace
}  // namespace medtex::data
