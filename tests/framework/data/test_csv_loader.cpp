// CSV data sets: good files with and without a header, and each kind of bad file giving an error
// that names the file and line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "framework/data/csv_loader.h"
#include "framework/core/error.h"
#include "framework/data/scenarios.h"
#include "tests/common/scratch_dir.h"

namespace fs = std::filesystem;

namespace clb {
namespace {

class Csv : public ::testing::Test {
 protected:
  test::ScratchDir scratch_{"csv"};
  const fs::path dir = scratch_.path();
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  }
  void expect_error(const std::string& text, const std::string& needle, const std::string& task_column = "") {
    const std::string p = write("bad.csv", text);
    try {
      load_csv(p, task_column);
      ADD_FAILURE() << "no error for: " << text;
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(p), std::string::npos) << what;
      EXPECT_NE(what.find(needle), std::string::npos) << what;
    }
  }
};

TEST_F(Csv, LoadsWithAndWithoutHeader) {
  for (const std::string header : {"", "a,b,label\n"}) {
    const Dataset d = load_csv(write("d.csv", header + "0.5,-1,2\n1e-3, 4 ,0\r\n\n3,4,1\n"));
    ASSERT_EQ(d.n, 3);
    EXPECT_EQ(d.dim, 2);
    EXPECT_EQ(d.num_classes, 3);
    EXPECT_EQ(d.x, (std::vector<float>{0.5f, -1.0f, 1e-3f, 4.0f, 3.0f, 4.0f}));
    EXPECT_EQ(d.y, (std::vector<int32_t>{2, 0, 1}));
  }
}

TEST_F(Csv, BadFilesNameFileAndLine) {
  expect_error("1,2,0\n1,x,1\n", ":2:");
  expect_error("1,2,0\n1,2,3,1\n", "same number of columns");
  expect_error("1,nan,0\n", "not finite");
  expect_error("1,2,-1\n", "label");
  expect_error("1,2,0.5\n", "label");
  expect_error("7\n", "at least one feature");
  expect_error("", "no data rows");
  expect_error("a,b,label\n", "no data rows");
  // Features are float32: 1e39 overflows it though a double holds it.
  expect_error("1,2,0\n1,1e39,1\n", ":2: column 2: feature '1e39' is not finite as a float32");
  expect_error("-1e39,2,0\n", ":1: column 1: feature '-1e39' is not finite as a float32");
  expect_error("1,1e999,0\n", ":1: column 2: feature '1e999' is not finite");
  // A first line with numbers is data, not a header: its typo is an error naming the column.
  expect_error("0.5,0.5x,1\n1,2,0\n", ":1: column 2: '0.5x' is not a number");
  expect_error("a,b,label\n1,,0\n", ":2: column 2: '' is not a number");
  expect_error("1,2,0\na,b,label\n", ":2: column 1: 'a' is not a number");
  expect_error("1,2,x\n", ":1: column 3: 'x' is not a number");
  expect_error("1,2,1e7\n", ":1: column 3: the label (last column) must be an integer from 0 to 999999, found '1e7'");
  EXPECT_THROW(load_csv((dir / "missing.csv").string()), Error);
}

TEST_F(Csv, DirectoryWithTrainAndTestIsADataSet) {
  write("train.csv", "x1,x2,y\n0,1,0\n1,0,1\n1,1,1\n");
  write("test.csv", "0,0,0\n1,1,1\n");
  ASSERT_TRUE(is_csv_dataset_dir(dir.string()));
  const SourceData s = load_source_data(dir.string());
  EXPECT_EQ(s.train->n, 3);
  EXPECT_EQ(s.test->n, 2);
  EXPECT_EQ(s.train->dim, 2);
  write("test.csv", "0,0,0,0\n");
  EXPECT_THROW(load_source_data(dir.string()), Error);  // column counts differ between the splits
}

// A task column: any text, anywhere in the row, neither feature nor label; tasks numbered in
// order of first appearance; errors keep the file's column numbers.
TEST_F(Csv, TaskColumnGroupsRowsInFileOrder) {
  const Dataset d = load_csv(write("t.csv", "a,regime,b,y\n1,calm,2,0\n3,storm,4,1\n5,calm,6,1\n7,after storm,8,0\n"), "regime");
  EXPECT_EQ(d.dim, 2);
  EXPECT_EQ(d.x, (std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(d.y, (std::vector<int32_t>{0, 1, 1, 0}));
  EXPECT_EQ(d.group_names, (std::vector<std::string>{"calm", "storm", "after storm"}));
  EXPECT_EQ(d.group, (std::vector<int32_t>{0, 1, 0, 2}));
  expect_error("a,b,y\n1,2,0\n", ":1: no column named 'regime' in the header", "regime");
  expect_error("1,2,0\n", ":1: no column named 'regime'", "regime");  // no header at all
  expect_error("a,regime,y\n1,,0\n", ":2: column 2 (regime) is empty", "regime");
  expect_error("a,regime,y\n1,x,0\n1\n", ":3: 1 cells, but the task column regime is column 2", "regime");
  expect_error("a,regime,b,y\n1,x,2,0\n1,x,2,q\n", ":3: column 4: 'q' is not a number", "regime");
  expect_error("a,regime,b,y\n1,x,1e39,0\n", ":2: column 3: feature '1e39'", "regime");
}

TEST_F(Csv, TaskColumnOfTheTestSplitJoinsTrainsTasks) {
  write("train.csv", "x,year,y\n0,2020,0\n1,2021,1\n2,2020,1\n");
  write("test.csv", "x,year,y\n5,2021,0\n6,2020,1\n");
  const SourceData s = load_source_data(dir.string(), "year");
  EXPECT_EQ(s.train->group_names, (std::vector<std::string>{"2020", "2021"}));
  EXPECT_EQ(s.test->group, (std::vector<int32_t>{1, 0}));  // train.csv's numbering
  write("test.csv", "x,year,y\n5,2022,0\n");
  try {
    load_source_data(dir.string(), "year");
    ADD_FAILURE() << "a test task without training rows";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the task '2022' (year column) has no rows in train.csv"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace clb
