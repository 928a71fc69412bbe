// clbench report: reading a suite run (benchmarks/suite/bench_results.h) and rendering it
// (benchmarks/suite/bench_report.h), on suite directories written here.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "framework/core/atomic_file.h"
#include "benchmarks/suite/bench_report.h"
#include "benchmarks/suite/bench_results.h"
#include "framework/core/error.h"
#include "framework/core/subprocess.h"
#include "tests/common/cli_test.h"

#include "tests/common/test_helpers.h"

namespace clb {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json meta() {
  return {{"schema", "clbench-suite/1"}, {"suite", "cpu"}, {"commit", "abc1234"}, {"date", "2026-11-25T21:40Z"},
          {"command", "scripts/bench_suite.sh cpu"}, {"cpu_model", "Test CPU"}, {"cores", 2}, {"gpu", "Test GPU"},
          {"machine", "test machine"}};
}

// A Google Benchmark row as the suite binaries write it (counters are top-level numbers).
json gbench_row(const std::string& name, double real_time, const std::string& unit, json counters,
                const std::string& label = "") {
  json r{{"name", name}, {"run_name", name}, {"run_type", "iteration"}, {"iterations", 10},
         {"real_time", real_time}, {"cpu_time", real_time}, {"time_unit", unit}};
  for (auto& [k, v] : counters.items()) r[k] = v;
  if (!label.empty()) r["label"] = label;
  return r;
}

// rows as a vector: a braced list of one json is an array with GCC but the element itself with
// clang (nlohmann's initializer-list ambiguity).
json gbench(const std::vector<json>& rows, json context = json::object()) {
  context["ceiling_cpu_gflops"] = "100.0 (test)";
  return {{"context", context}, {"benchmarks", json(rows)}};
}

json peer() {
  return {{"schema", "clbench-peer/1"}, {"peer", "pytorch"}, {"torch", "1.13.0"}, {"device", "cpu"}, {"threads", 1},
          {"date", "2026-11-25T21:45:00Z"}, {"command", "python3 pytorch_ewc_bench.py"},
          {"unavailable", {{"fisher_vmap", "no torch.func"}}},
          {"results",
           {{{"workload", "train_sgd"}, {"net", "784-400-400-10"}, {"batch", 128}, {"samples_per_s", 20000.0}},
            {{"workload", "train_ewc_sgd"}, {"net", "784-400-400-10"}, {"batch", 128}, {"samples_per_s", 10000.0}},
            {{"workload", "fisher_loop"}, {"net", "784-400-400-10"}, {"batch", 1}, {"samples_per_s", 500.0}}}},
          {"runs", {{{"strategy", "ewc"}, {"scenario", "permuted-fashion-mnist"}, {"tasks", 10}, {"ms_per_task", 3000.0},
                     {"acc", 0.7}},
                    {{"strategy", "naive"}, {"scenario", "permuted-fashion-mnist"}, {"tasks", 10}, {"ms_per_task", 1000.0},
                     {"acc", 0.5}}}}};
}

class Report : public test::CliTest {
 protected:
  void write(const std::string& name, const json& doc) { write_file_atomic((dir / name).string(), doc.dump()); }

  // A whole suite: ops (a CPU row and a skipped CUDA row), steps (naive 40k, ewc 38k samples/s
  // against the peer's 20k and 10k), a run (ewc, 1.5 s per task against the peer's 3 s) and the peer.
  void write_suite() {
    write("meta.json", meta());
    write("bench_ops.json",
          gbench({gbench_row("BM_linear_forward/backend:cpu/v:0/net:784-400-400-10/B:128/real_time", 400, "us",
                             {{"GFLOP/s", 80.0}, {"ceiling", 100.0}, {"%ceiling", 80.0}, {"samples/s", 320000.0}},
                             "bound=compute timing=warm"),
                  {{"name", "BM_linear_forward/backend:cuda/v:1/net:784-400-400-10/B:128/manual_time"},
                   {"run_type", "iteration"}, {"error_occurred", true},
                   {"error_message", "mismatch against the CPU: output 3"}}}));
    write("bench_train.json",
          gbench({gbench_row("BM_train_step/backend:cpu/strategy:naive/opt:sgd/net:784-400-400-10/B:128/manual_time", 3.2,
                             "ms", {{"samples/s", 40000.0}, {"GFLOP/s", 70.0}}),
                  gbench_row("BM_train_step/backend:cpu/strategy:ewc/opt:sgd/net:784-400-400-10/B:128/manual_time", 3.4,
                             "ms", {{"samples/s", 38000.0}, {"GFLOP/s", 66.0}}),
                  gbench_row("BM_fisher/backend:cpu/estimator:empirical/net:784-400-400-10/B:128/manual_time", 30, "ms",
                             {{"samples/s", 60000.0}}),
                  gbench_row("BM_run/backend:cpu/strategy:ewc/scenario:permuted-fmnist/tasks:10/iterations:1/manual_time",
                             15, "s", {{"ms_per_task", 1500.0}, {"acc", 0.75}, {"train_samples/s", 45000.0}}),
                  gbench_row("BM_run/backend:cpu/strategy:naive/scenario:permuted-fmnist/tasks:10/iterations:1/manual_time",
                             12, "s", {{"ms_per_task", 1200.0}, {"acc", 0.55}, {"train_samples/s", 50000.0}})}));
    write("peer_pytorch.json", peer());
  }
};

TEST_F(Report, ReadsRowsWithTheirParametersCountersAndErrors) {
  write_suite();
  const SuiteResults s = load_suite(dir.string());
  ASSERT_EQ(s.rows.size(), 7u);
  const BenchRow& fwd = s.rows[0];
  EXPECT_EQ(fwd.op, "linear_forward");
  EXPECT_EQ(fwd.name, "BM_linear_forward/backend:cpu/v:0/net:784-400-400-10/B:128") << "Google Benchmark's suffix dropped";
  EXPECT_EQ(fwd.param("net"), "784-400-400-10");
  EXPECT_EQ(fwd.param("B"), "128");
  EXPECT_DOUBLE_EQ(fwd.metric("seconds"), 400e-6);
  EXPECT_DOUBLE_EQ(fwd.metric("GFLOP/s"), 80.0);
  EXPECT_EQ(fwd.bound, "compute");
  EXPECT_EQ(fwd.timing, "warm");
  EXPECT_EQ(s.rows[1].error, "mismatch against the CPU: output 3");
  EXPECT_EQ(s.rows[5].op, "run");
  EXPECT_EQ(s.rows[5].param("tasks"), "10");
  EXPECT_DOUBLE_EQ(s.rows[5].metric("seconds"), 15.0);
  EXPECT_EQ(s.context.at("ops.ceiling_cpu_gflops"), "100.0 (test)");
  ASSERT_EQ(s.peer_rows.size(), 3u);
  ASSERT_EQ(s.peer_runs.size(), 2u);
  EXPECT_DOUBLE_EQ(s.peer_runs[0].metrics.at("ms_per_task"), 3000.0);
}

// The page's ratios are clbench / peer from the same run; the overhead is naive / ewc - 1.
TEST_F(Report, RendersRatiosAgainstThePeerAndTheEwcOverhead) {
  write_suite();
  const std::string md = render_report(load_suite(dir.string()), {});
  EXPECT_NE(md.find("| SGD step | cpu | 784-400-400-10 | 128 | 40,000 | 70.0 | — | — | 20,000 | 2.00x |"), std::string::npos) << md;
  EXPECT_NE(md.find("| SGD step + EWC penalty | cpu | 784-400-400-10 | 128 | 38,000 | 66.0 | — | — | 10,000 | 3.80x |"),
            std::string::npos);
  // EWC overhead: 40000/38000 - 1 = 5.3 %; the peer's 20000/10000 - 1 = 100 %.
  EXPECT_NE(md.find("| 40,000 | 38,000 | 5.3 | 100.0 |"), std::string::npos) << md;
  // The Fisher at batch 128 against the peer's per-sample loop: 60000 / 500.
  EXPECT_NE(md.find("| 500 | 60,000 | 120.00x |"), std::string::npos) << md;
  // The run: the peer's 3000 ms per task over clbench's 1500.
  EXPECT_NE(md.find("| 1,500 | 75.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 3,000 | 70.0 | 2.00x |"), std::string::npos) << md;
  // The whole-run overhead: 1500 / 1200 - 1 = +25 %; the peer's 3000 / 1000 - 1 = +200 %.
  EXPECT_NE(md.find("EWC over naive, whole run on cpu: +25.0 % time per task; the peer: +200.0 %"), std::string::npos);
  EXPECT_NE(md.find("| 80.0 | — | 320,000 | 100.0 GFLOP/s | 80 | compute | warm |"), std::string::npos) << md;
  EXPECT_NE(md.find("skipped: mismatch against the CPU: output 3"), std::string::npos);
  EXPECT_NE(md.find("Peer workload `fisher_vmap` not run: no torch.func."), std::string::npos);
}

// "Every table row names where and when it was measured" (issue 4).
TEST_F(Report, EveryTableRowNamesMachineCommitAndDate) {
  write_suite();
  std::istringstream md(render_report(load_suite(dir.string()), {}));
  int rows = 0;
  bool in_table = false;
  for (std::string line; std::getline(md, line);) {
    if (line.rfind("|---", 0) == 0) {
      in_table = true;
      continue;
    }
    if (line.rfind("| ", 0) != 0) {
      in_table = false;
      continue;
    }
    if (!in_table) continue;
    if (line.find(", abc1234, 2026-11-25T21:40Z |") != std::string::npos) {
      ++rows;
      if (line.find("| cpu |") != std::string::npos) {
        EXPECT_NE(line.find("| Test CPU (2 cores), abc1234"), std::string::npos) << line;
      }
      if (line.find("| cuda |") != std::string::npos) {
        EXPECT_NE(line.find("| Test GPU, abc1234"), std::string::npos) << line;
      }
    } else {
      // Only the header and the ceilings describe the run as a whole.
      EXPECT_TRUE(line.find("bench_ops |") != std::string::npos || line.find("bench_train |") != std::string::npos ||
                  line.find("| machine |") == 0 || line.find("| CPU |") == 0 || line.find("| GPU |") == 0 ||
                  line.find("| commit |") == 0 || line.find("| date |") == 0 || line.find("| command |") == 0 ||
                  line.find("| peer |") == 0)
          << line;
    }
  }
  EXPECT_EQ(rows, 9);  // 3 steps, 1 per-sample Fisher, 1 overhead, 2 runs, 2 ops
}

TEST_F(Report, TheNormalisedDocumentRendersTheSamePage) {
  write_suite();
  const SuiteResults s = load_suite(dir.string());
  const json doc = results_document(s);
  EXPECT_EQ(doc["schema"], "clbench-results/1");
  const SuiteResults again = parse_results_document(json::parse(doc.dump()), "results.json");
  EXPECT_EQ(render_report(again, {}), render_report(s, {}));
}

TEST_F(Report, PlotsCarryEverySeriesInline) {
  write_suite();
  const auto plots = report_plots(load_suite(dir.string()));
  ASSERT_FALSE(plots.empty());
  EXPECT_EQ(plots[0].name, "train_vs_batch");
  const std::string g = gnuplot_script(plots[0], "/tmp/x.png");
  EXPECT_NE(g.find("clbench cpu 784-400-400-10"), std::string::npos);
  EXPECT_NE(g.find("PyTorch cpu 784-400-400-10"), std::string::npos);
  EXPECT_NE(g.find("128 40000"), std::string::npos) << g;
  EXPECT_NE(g.find("set output '/tmp/x.png'"), std::string::npos);
}

// Text from a results file or a path stays inside its gnuplot string: a quote is doubled (gnuplot
// reads no escapes in single quotes) and a line break, which would end the command, is a space.
TEST(GnuplotScript, TextCannotLeaveItsString) {
  Plot p;
  p.name = "x", p.title = "net'; print system('id > F'); #", p.xlabel = "a\nset output '/etc/x'", p.ylabel = "y";
  p.series.push_back({"s'", {{1, 2}}});
  const std::string g = gnuplot_script(p, "/tmp/rep o'rt/x.png");
  EXPECT_NE(g.find("set title 'net''; print system(''id > F''); #'\n"), std::string::npos) << g;
  EXPECT_NE(g.find("set xlabel 'a set output ''/etc/x'''\n"), std::string::npos) << g;
  EXPECT_NE(g.find("set output '/tmp/rep o''rt/x.png'\n"), std::string::npos) << g;
  EXPECT_NE(g.find("title 's'''\n"), std::string::npos) << g;
}

// Bad input: one clb::Error naming the file and what is wrong.
using test::error_of;

TEST_F(Report, BadInputNamesTheFileAndField) {
  EXPECT_NE(error_of([&] { load_suite((dir / "missing").string()); }).find("not a directory"), std::string::npos);
  write_suite();
  write_file_atomic((dir / "bench_train.json").string(), "{\"context\": {}, \"benchmarks\": [");  // truncated
  std::string e = error_of([&] { load_suite(dir.string()); });
  EXPECT_NE(e.find("bench_train.json: not valid JSON"), std::string::npos) << e;

  write_suite();
  json m = meta();
  m["cores"] = "two";
  write("meta.json", m);
  e = error_of([&] { load_suite(dir.string()); });
  EXPECT_NE(e.find("meta.json: the document.cores is string"), std::string::npos) << e;

  write_suite();
  json p = peer();
  p["results"][0].erase("samples_per_s");
  write("peer_pytorch.json", p);
  e = error_of([&] { load_suite(dir.string()); });
  EXPECT_NE(e.find("peer_pytorch.json: peer result train_sgd has no field 'samples_per_s'"), std::string::npos) << e;

  write_suite();
  write("bench_ops.json", gbench({gbench_row("linear_forward/B:3", 1, "ns", json::object())}));
  e = error_of([&] { load_suite(dir.string()); });
  EXPECT_NE(e.find("names must start with BM_"), std::string::npos) << e;

  write_suite();
  write("bench_ops.json", gbench({gbench_row("BM_x/B:3", 1, "fortnights", json::object())}));
  e = error_of([&] { load_suite(dir.string()); });
  EXPECT_NE(e.find("unknown time_unit 'fortnights'"), std::string::npos) << e;

  write_suite();
  m = meta();
  m["schema"] = "something-else/2";
  write("meta.json", m);
  e = error_of([&] { load_suite(dir.string()); });
  EXPECT_NE(e.find("schema 'something-else/2', expected 'clbench-suite/1'"), std::string::npos) << e;
}

// A results document with a wrong-typed or missing field: `clbench report` names the file and the
// field in one line, never nlohmann's "[json.exception.type_error.302]" or std::stod's "stod".
TEST_F(Report, WrongTypedResultsFieldsNameTheFileAndField) {
  write_suite();
  const json good = results_document(load_suite(dir.string()));
  const std::string file = (dir / "results.json").string(), page = (dir / "page.md").string();
  auto expect_error = [&](const json& doc, const std::string& needle) {
    write_file_atomic(file, doc.dump());
    const std::string args = "report " + file + " --out " + page + " --no-plots";
    expect_one_line_error(args, needle);
    EXPECT_NE(run(args).err.find("clbench: error: " + file + ": "), std::string::npos) << "names the file";
  };
  json d = good;
  d["rows"][0]["params"]["B"] = 128;
  expect_error(d, "row BM_linear_forward/backend:cpu/v:0/net:784-400-400-10/B:128: params.B is number, expected string");
  d = good;
  d["rows"][0]["params"]["B"] = "12x";
  expect_error(d, "B:12x is not a batch size");
  d = good;
  d["rows"][2]["params"]["net"] = "784-wide-10";
  expect_error(d, "net:784-wide-10 is not an MLP's widths");
  d = good;
  d["rows"][0]["error"] = 3;
  expect_error(d, ".error is number, expected string");
  d = good;
  d["rows"][0].erase("op");
  expect_error(d, "has no field 'op'");
  d = good;
  d["peer"]["results"][0]["batch"] = 1e12;
  expect_error(d, "peer result train_sgd.batch is 1000000000000.0, expected an integer");
  d = good;
  d["peer"]["results"][0]["batch"] = 4294967424ull;  // 2^32 + 128: an int would wrap to 128
  expect_error(d, "peer result train_sgd.batch is 4294967424, outside the range of an int");
  d = good;
  d["peer"]["threads"] = "one";
  expect_error(d, "the peer block.threads is string");
  d = good;
  d["peer"]["device"] = json::array();
  expect_error(d, "the peer block.device is array");
  // Deep nesting and duplicate keys, in the file itself.
  write_file_atomic(file, std::string(100000, '['));
  expect_one_line_error("report " + file + " --out " + page + " --no-plots", file + ": JSON nested deeper than 64");
  write_file_atomic(file, R"({"schema": "clbench-results/1", "schema": "x"})");
  expect_one_line_error("report " + file + " --out " + page + " --no-plots", file + ": key \"schema\" appears twice");
}

// The suite's Google Benchmark files: optional fields are checked when present.
TEST_F(Report, WrongTypedBenchmarkFieldsNameTheFileAndField) {
  write_suite();
  write("bench_ops.json", gbench({{{"name", "BM_x/B:3"}, {"run_type", "iteration"}, {"error_occurred", "yes"}}}));
  std::string e = error_of([&] { load_suite(dir.string()); });
  EXPECT_NE(e.find("bench_ops.json: benchmark BM_x/B:3.error_occurred is string, expected boolean"), std::string::npos) << e;
  write_suite();
  write("bench_ops.json", gbench({gbench_row("BM_x/B:3", 1, "ns", json::object(), "x")}));
  json doc = json::parse(read_file((dir / "bench_ops.json").string()));
  doc["benchmarks"][0]["label"] = 7;
  write("bench_ops.json", doc);
  e = error_of([&] { load_suite(dir.string()); });
  EXPECT_NE(e.find("bench_ops.json: benchmark BM_x/B:3.label is number, expected string"), std::string::npos) << e;
  write_suite();
  write("bench_train.json", gbench({gbench_row("BM_train_step/backend:cpu/strategy:naive/B:/manual_time", 1, "ns",
                                               json::object())}));
  e = error_of([&] { load_suite(dir.string()); });
  EXPECT_NE(e.find("bench_train.json: benchmark BM_train_step/backend:cpu/strategy:naive/B:: B: is not a batch size"),
            std::string::npos)
      << e;
}

TEST_F(Report, ASuiteWithoutBenchmarkFilesIsAnError) {
  write("meta.json", meta());
  EXPECT_NE(error_of([&] { load_suite(dir.string()); }).find("holds neither bench_ops.json nor bench_train.json"),
            std::string::npos);
}

TEST_F(Report, CommandWritesThePageAndItsJsonAtomically) {
  write_suite();
  fs::create_directories(dir / "page");
  const std::string page = (dir / "page" / "cpu.md").string();
  const test::CliResult r = run("report " + dir.string() + " --out " + page + " --no-plots");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string md = read_file(page);
  EXPECT_NE(md.find("# CPU results"), std::string::npos);
  EXPECT_NE(md.find("| report | `clbench report " + dir.string()), std::string::npos) << "the page names its command";
  const json doc = json::parse(read_file((dir / "page" / "cpu.json").string()));
  EXPECT_EQ(doc["schema"], "clbench-results/1");
  // Rendering again from the published JSON alone gives the same tables.
  const std::string again = (dir / "page" / "again.md").string();
  ASSERT_EQ(run("report " + (dir / "page" / "cpu.json").string() + " --out " + again + " --no-plots").code, 0);
  const std::string md2 = read_file(again);
  EXPECT_EQ(md.substr(md.find("## Ceilings")), md2.substr(md2.find("## Ceilings")));
  for (const auto& e : fs::directory_iterator(dir / "page"))
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << "temporary file left: " << e.path();
}

// Issue 11's two injections: a results field that would end a gnuplot string and run system(), and
// an --out path that would end a shell's quoted word. With gnuplot installed it draws the plots
// from that data into that path; without it only the path's part is exercised. Neither command
// may run: their marker files must not appear.
TEST_F(Report, InjectedCommandsInDataAndPathsNeverRun) {
  write_suite();
  json doc = results_document(load_suite(dir.string()));
  const fs::path by_data = dir / "ran_from_data", by_path = dir / "ran_from_path";
  int planted = 0;
  for (auto& row : doc["rows"])
    if (row["op"] == "train_step")
      row["params"]["backend"] = "cpu'; print system('touch " + by_data.string() + "'); #", ++planted;
  ASSERT_GT(planted, 0);
  write_file_atomic((dir / "results.json").string(), doc.dump());
  const fs::path out_dir = dir / ("D'; touch " + by_path.string() + "; echo '");
  fs::create_directories(out_dir);
  const bool plots = on_path("gnuplot");
  std::vector<std::string> args{"report", (dir / "results.json").string(), "--out", (out_dir / "p.md").string()};
  if (!plots) args.push_back("--no-plots");
  const test::CliResult r = run_argv(args);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(out_dir / "p.md"));
  if (plots) {
    EXPECT_TRUE(fs::exists(out_dir / "plots" / "p_train_vs_batch.png")) << r.err;
  }
  EXPECT_FALSE(fs::exists(by_data)) << "a command in a results field ran";
  EXPECT_FALSE(fs::exists(by_path)) << "a command in the --out path ran";
  EXPECT_NE(read_file((out_dir / "p.md").string()).find("print system"), std::string::npos) << "the data is shown as it is";
}

TEST_F(Report, CommandErrorsAreOneLine) {
  expect_one_line_error("report " + (dir / "nothing").string() + " --out x.md", "no such directory or file");
  write_suite();
  expect_one_line_error("report " + dir.string() + " --out page.txt", "--out page.txt: name the markdown page");
  expect_one_line_error("report " + dir.string() + " --out " + (dir / "no" / "such" / "p.md").string(), "does not exist");
  write_file_atomic((dir / "meta.json").string(), "{\"schema\": \"clbench-suite/1\"");
  expect_one_line_error("report " + dir.string() + " --out " + (dir / "p.md").string(), "meta.json: not valid JSON");
  EXPECT_FALSE(fs::exists(dir / "p.md")) << "no page from bad input";
}

}  // namespace
}  // namespace clb
