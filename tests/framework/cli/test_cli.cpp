// The clbench binary end to end: bad inputs give one line on stderr naming the flag or file and a
// non-zero exit; a small run writes results.json/results.csv with the documented schema; a saved
// model's Fisher from `clbench fisher` matches the one `run --save` wrote.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#ifdef CLB_HAVE_CUDA
#include "framework/backend/cuda_backend.h"
#endif
#include "framework/io/safetensors.h"
#include "framework/strategies/registry.h"
#include "tests/common/cli_test.h"

namespace fs = std::filesystem;

namespace clb {
namespace {

using test::CliResult;

class Cli : public test::CliTest {
 protected:
  // A small IDX data set: 4x4 images, labels i % classes, gzip (as Debian ships them).
  void write_idx(const fs::path& d, int n_train, int n_test, int classes) {
    fs::create_directories(d);
    auto write = [](const fs::path& p, const std::vector<uint8_t>& bytes) {
      gzFile f = gzopen(p.string().c_str(), "wb");
      gzwrite(f, bytes.data(), unsigned(bytes.size()));
      gzclose(f);
    };
    auto be32 = [](std::vector<uint8_t>& v, uint32_t x) {
      for (int s = 24; s >= 0; s -= 8) v.push_back(uint8_t(x >> s));
    };
    for (auto [prefix, n] : {std::pair{"train", n_train}, std::pair{"t10k", n_test}}) {
      std::vector<uint8_t> img, lab;
      be32(img, 0x803), be32(img, n), be32(img, 4), be32(img, 4);
      be32(lab, 0x801), be32(lab, n);
      for (int i = 0; i < n; ++i) {
        const int y = i % classes;
        lab.push_back(uint8_t(y));
        for (int j = 0; j < 16; ++j) img.push_back(uint8_t((j % 4 == y ? 200 : 20) + (i * 7 + j * 13) % 40));
      }
      write(d / (std::string(prefix) + "-images-idx3-ubyte.gz"), img);
      write(d / (std::string(prefix) + "-labels-idx1-ubyte.gz"), lab);
    }
  }

};

TEST_F(Cli, HelpShowsDefaults) {
  const CliResult r = run("run --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("784-400-400-10"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--fisher"), std::string::npos);
}

TEST_F(Cli, ReplayMemoryFlags) {
  const std::string small = "run --scenario synthetic --tasks 2 --train-per-task 300 --test-per-task 100 --arch 784-32-10 ";
  expect_one_line_error(small + "--strategy er --memory-samples 0", "give the replay memory a positive size");
  expect_one_line_error(small + "--strategy er --memory-bytes 100", "--memory-bytes 100: holds no sample");
  expect_one_line_error(small + "--strategy er --memory-policy fifo", "--memory-policy");
  // --memory-bytes alone sizes the memory (generated data: float32, 3144 bytes a sample).
  const CliResult r = run(small + "--strategy er,agem --memory-bytes 314400 --memory-policy class-balanced");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("er seed 0: ACC"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("kept: class-balanced, 100 of 100 samples (float32, 0.30 MiB), 600 seen"),
            std::string::npos)
      << r.err;
}

TEST_F(Cli, BadFlagsGiveOneLineErrors) {
  expect_one_line_error("run --arch 784-abc-10 --scenario synthetic", "--arch");
  expect_one_line_error("run --strategy naive,foo --scenario synthetic", "--strategy");
  expect_one_line_error("run --lr nan --scenario synthetic", "--lr");
  expect_one_line_error("run --batch 0 --scenario synthetic", "--batch");
  expect_one_line_error("run --scenario nope", "--scenario");
  expect_one_line_error("run --gamma 1.5 --scenario synthetic", "--gamma");
  expect_one_line_error("run --tasks 0 --scenario synthetic", "--tasks");
  expect_one_line_error("run --no-such-flag", "--no-such-flag");
  expect_one_line_error("bench --workload nope", "--workload");
  expect_one_line_error("bench --batch -3", "--batch");
  expect_one_line_error("run --scenario synthetic --lambda 100,l2=0.1", "--lambda");  // l2 is not run
  expect_one_line_error("run --scenario synthetic --lambda -1", "--lambda");
  expect_one_line_error("run --strategy naive,ewc,naive --scenario synthetic", "--strategy");
  expect_one_line_error("run --scenario synthetic --train-per-task 50 --fisher-samples 51", "--fisher-samples");
  expect_one_line_error("run --scenario synthetic --fisher sampled --fisher-draws 100000000", "--fisher-draws");
  expect_one_line_error("run --scenario rotated --rotation-step nan", "--rotation-step");
  expect_one_line_error("run --scenario synthetic --threads 100000", "--threads");
  expect_one_line_error("run --scenario synthetic --lca-batches 2147483646", "--lca-batches");
  expect_one_line_error("run --scenario synthetic --arch 784-10-1", "--arch");
  expect_one_line_error("run --scenario synthetic --save " + (dir / "no" / "m.safetensors").string(), "--save");
}

// CLI11 2.1 read "-1" into a uint64 flag as 2^64-1 and saturated overflowing numbers: every integer
// flag of every subcommand is now a decimal whole number >= 0 in range, or an error naming the flag.
TEST_F(Cli, NegativeOrOutOfRangeIntegerFlagsAreErrors) {
  expect_one_line_error("run --scenario synthetic --seed -1", "--seed: '-1' is not a whole number >= 0");
  expect_one_line_error("run --scenario synthetic --seed 99999999999999999999999", "--seed: 99999999999999999999999 is out of range");
  expect_one_line_error("run --scenario synthetic --seed 0x10", "--seed: '0x10' is not a whole number");
  expect_one_line_error("run --scenario synthetic --train-per-task 99999999999999999999", "--train-per-task: 99999999999999999999 is out of range");
  expect_one_line_error("run --scenario synthetic --memory-bytes -1", "--memory-bytes: '-1'");
  expect_one_line_error("run --scenario synthetic --tasks 3000000000", "--tasks");
  expect_one_line_error("run --scenario synthetic --threads -2", "--threads: '-2'");
  expect_one_line_error("fisher --model m --out f --seed -5", "--seed: '-5'");
  expect_one_line_error("fisher --model m --out f --samples -1", "--samples: '-1'");
  expect_one_line_error("bench --repeats -1", "--repeats: '-1'");
  expect_one_line_error("bench --batch 99999999999", "--batch");
  // The help still shows plain types.
  EXPECT_NE(run("run --help").out.find("--seed UINT=0"), std::string::npos);
}

TEST_F(Cli, CudaWithoutAUsableGpuIsAOneLineError) {
#ifdef CLB_HAVE_CUDA
  if (cuda::usable_devices() > 0) GTEST_SKIP() << "a GPU is usable here";
#endif
  expect_one_line_error("run --scenario synthetic --backend cuda", "--backend cuda");
  expect_one_line_error("bench --backend cuda", "--backend cuda");
  expect_one_line_error("run --scenario synthetic --backend tpu", "--backend");
  // Errors the core raises name its settings by field; the CLI says its flags.
  expect_one_line_error("run --scenario synthetic --stream blurry --epochs 2", "--stream blurry: a stream is seen once; use --epochs 1");
  expect_one_line_error("run --scenario synthetic --task-boundaries detect --strategy joint",
                        "run it with --task-boundaries given");
}

TEST_F(Cli, BadDataGivesOneLineErrors) {
  expect_one_line_error("run --dataset " + (dir / "missing").string(), (dir / "missing").string());
  write_idx(dir / "tiny", 60, 30, 3);
  const std::string tiny = (dir / "tiny").string();
  // wrong dimensions: the data has 16 features
  expect_one_line_error("run --dataset " + tiny + " --arch 784-10-3", "--arch");
  // labels out of range for the model's outputs: 3 classes, 2 outputs
  expect_one_line_error("run --dataset " + tiny + " --arch 16-8-2", "--arch");
  // truncated image file
  {
    const fs::path img = dir / "tiny" / "train-images-idx3-ubyte.gz";
    gzFile f = gzopen(img.string().c_str(), "wb");
    const uint8_t header[16] = {0, 0, 8, 3, 0, 0, 0, 60, 0, 0, 0, 4, 0, 0, 0, 4};
    gzwrite(f, header, 16);
    gzwrite(f, header, 16);  // 16 of the 960 pixel bytes
    gzclose(f);
  }
  expect_one_line_error("run --dataset " + tiny + " --arch 16-8-3", "train-images-idx3-ubyte.gz");
  // a corrupt model file
  std::ofstream(dir / "bad.safetensors") << "not a safetensors file";
  expect_one_line_error("fisher --model " + (dir / "bad.safetensors").string() + " --out " +
                            (dir / "f.safetensors").string(),
                        "bad.safetensors");
  EXPECT_FALSE(fs::exists(dir / "f.safetensors"));
}

// --config reads its JSON through the bounded parser: no stack overflow on deep nesting, no key
// silently dropped.
TEST_F(Cli, HostileConfigJsonIsAOneLineError) {
  const std::string cfg = (dir / "results.json").string();
  std::ofstream(cfg) << std::string(100000, '[');
  expect_one_line_error("run --config " + cfg, "--config " + cfg + ": JSON nested deeper than 64 levels");
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "{\"a\":";
  std::ofstream(cfg) << deep;
  expect_one_line_error("run --config " + cfg, "--config " + cfg + ": JSON nested deeper than 64 levels");
  std::ofstream(cfg) << R"({"config": {"seed": 1, "seed": 2}})";
  expect_one_line_error("run --config " + cfg, "key \"seed\" appears twice");
  std::ofstream(cfg) << R"({"config": )";
  expect_one_line_error("run --config " + cfg, "--config " + cfg + ": not valid JSON (parse error at line 1");
}

TEST_F(Cli, RunWritesResultsWithTheDocumentedSchema) {
  const std::string out = (dir / "out").string();
  const CliResult r = run("run --scenario synthetic --arch 12-16-3 --tasks 2 --strategy naive,ewc,online-ewc --seeds 2 "
                          "--train-per-task 200 --test-per-task 100 --lca-batches 2 --lambda 5,online-ewc=2 --out " + out);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("| ewc |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("±"), std::string::npos) << r.out;  // two seeds: mean ± std
  const auto j = nlohmann::json::parse(slurp(dir / "out" / "results.json"));
  ASSERT_TRUE(j.contains("config"));
  EXPECT_EQ(j["config"]["arch"], "12-16-3");
  ASSERT_EQ(j["runs"].size(), 6u);  // 3 strategies x 2 seeds
  for (const auto& run : j["runs"]) {
    for (const char* k : {"strategy", "seed", "acc_matrix", "metrics", "throughput"}) EXPECT_TRUE(run.contains(k)) << k;
    for (const char* k : {"acc", "bwt", "fwt", "forgetting", "lca"}) EXPECT_TRUE(run["metrics"].contains(k)) << k;
    for (const char* k : {"train_samples_per_s", "fisher_samples_per_s", "eval_samples_per_s"})
      EXPECT_TRUE(run["throughput"].contains(k)) << k;
    EXPECT_EQ(run["acc_matrix"].size(), 2u);
    EXPECT_EQ(run["lambda"].get<float>(), run["strategy"] == "online-ewc" ? 2.0f : 5.0f);
  }
  const std::string csv = slurp(dir / "out" / "results.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 7);  // header + 6 runs
  // Each row carries the run's settings and provenance as columns, as many cells as the header.
  const std::string header = csv.substr(0, csv.find('\n'));
  for (const char* col : {",lambda,", ",config.scenario,", ",config.fisher.estimator,", ",config.provenance.commit,"})
    EXPECT_NE((header + ",").find(col), std::string::npos) << col << " missing in " << header;
  auto cells = [](const std::string& line) {  // commas outside quotes, + 1
    size_t n = 1;
    bool quoted = false;
    for (char c : line) quoted ^= c == '"', n += !quoted && c == ',';
    return n;
  };
  std::stringstream rows(csv);
  for (std::string line; std::getline(rows, line);) EXPECT_EQ(cells(line), cells(header)) << line;
  const auto j_config = j["config"];
  EXPECT_EQ(j_config["provenance"]["commit"].get<std::string>().empty(), false);
  EXPECT_NE(j_config["provenance"]["started"].get<std::string>().find('T'), std::string::npos);
  for (const auto& e : fs::directory_iterator(dir / "out"))
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << "left a temp file: " << e.path();
}

// Without --lambda each strategy runs with its own default (the registry's, from a sweep); a bare
// number is every strategy's, name=value one strategy's.
TEST_F(Cli, EachStrategyTakesItsDefaultLambdaUnlessTold) {
  auto lambdas = [&](const std::string& extra) {
    const std::string out = (dir / "lambdas" / std::to_string(std::hash<std::string>{}(extra))).string();
    const CliResult r = run("run --scenario synthetic --arch 12-16-3 --tasks 2 --strategy naive,l2,ewc,si,mas "
                            "--train-per-task 100 --test-per-task 50 --out " + out + extra);
    EXPECT_EQ(r.code, 0) << r.err;
    std::map<std::string, float> by_name;
    const auto results = nlohmann::json::parse(slurp(fs::path(out) / "results.json"));
    for (const auto& run : results["runs"])
      by_name[run["strategy"].get<std::string>()] = run["lambda"].get<float>();
    return by_name;
  };
  const auto defaults = lambdas("");
  for (const char* s : {"l2", "ewc", "si", "mas"}) {
    EXPECT_GT(strategy_info(s).default_lambda, 0) << s;
    EXPECT_EQ(defaults.at(s), strategy_info(s).default_lambda) << s;
  }
  EXPECT_EQ(defaults.at("naive"), 0);  // no penalty, no lambda
  EXPECT_NE(strategy_info("si").default_lambda, strategy_info("mas").default_lambda);  // scales differ
  for (const auto& [s, l] : lambdas(" --lambda 5")) EXPECT_EQ(l, 5) << s;
  const auto one = lambdas(" --lambda si=3");
  EXPECT_EQ(one.at("si"), 3);
  EXPECT_EQ(one.at("ewc"), strategy_info("ewc").default_lambda);
}

// A results.json is enough to rerun its run: --config gives the same runs, bitwise, timing aside.
TEST_F(Cli, ConfigFromResultsReproducesTheRun) {
  const std::string first = (dir / "first").string(), again = (dir / "again").string();
  CliResult r = run("run --scenario synthetic --arch 12-16-3 --tasks 3 --strategy naive,ewc+er,si --optimizer momentum "
                    "--train-per-task 150 --test-per-task 60 --memory-samples 40 --task-boundaries detect --seed 5 "
                    "--threads 2 --out " + first);
  ASSERT_EQ(r.code, 0) << r.err;
  r = run("run --config " + first + "/results.json --out " + again);
  ASSERT_EQ(r.code, 0) << r.err;
  auto runs_of = [&](const std::string& d) {
    auto j = nlohmann::json::parse(slurp(fs::path(d) / "results.json"));
    for (auto& run : j["runs"]) run.erase("throughput"), run.erase("seconds");
    j["config"].erase("wall_seconds"), j["config"].erase("peak_rss_mib"), j["config"].erase("provenance");
    return j;
  };
  EXPECT_EQ(runs_of(first), runs_of(again));
  expect_one_line_error("run --config " + first + "/results.json --tasks 2", "--tasks cannot change it");
  expect_one_line_error("run --config " + (dir / "none.json").string(), "cannot open");
  std::ofstream(dir / "bad.json") << "{\"config\": {\"scenario\": 3}, \"runs\": []}";
  expect_one_line_error("run --config " + (dir / "bad.json").string(), "config.scenario is 3");
}

TEST_F(Cli, FisherCommandReproducesTheSavedFisher) {
  write_idx(dir / "tiny", 90, 30, 3);
  const std::string tiny = (dir / "tiny").string(), model = (dir / "m.safetensors").string();
  // One permuted task is the data as is; its Fisher over all training rows is saved beside the model.
  CliResult r = run("run --dataset " + tiny + " --arch 16-8-3 --tasks 1 --strategy ewc --fisher exact --save " + model);
  ASSERT_EQ(r.code, 0) << r.err;
  r = run("fisher --model " + model + " --dataset " + tiny + " --estimator exact --out " + (dir / "f.safetensors").string());
  ASSERT_EQ(r.code, 0) << r.err;
  // --arch checks the model: another one names both.
  expect_one_line_error("fisher --model " + model + " --arch 16-9-3 --dataset " + tiny + " --out " +
                            (dir / "g.safetensors").string(),
                        "the model is 16-8-3 but --arch 16-9-3 was given");
  EXPECT_FALSE(fs::exists(dir / "g.safetensors"));
  const TensorFile saved = read_safetensors((dir / "m.fisher.safetensors").string());
  const TensorFile again = read_safetensors((dir / "f.safetensors").string());
  EXPECT_EQ(saved.metadata.at("estimator"), "exact");
  EXPECT_EQ(again.metadata.at("N"), "90");
  ASSERT_EQ(saved.tensors.size(), 4u);
  for (const auto& t : saved.tensors) {
    const auto& u = again.get(t.name, "f.safetensors");
    ASSERT_EQ(t.shape, u.shape) << t.name;
    // Same samples in another order (run shuffles its subset): float32 sums agree to rtol 1e-5.
    for (size_t k = 0; k < t.data.size(); ++k)
      EXPECT_NEAR(t.data[k], u.data[k], 1e-5 * std::abs(u.data[k]) + 1e-9) << t.name << "[" << k << "]";
  }
}

}  // namespace
}  // namespace clb
