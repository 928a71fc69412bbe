// clbench fisher: the diagonal Fisher of a saved model on a data set (first N samples, no
// permutation), written as safetensors under the model's tensor names: how a PyTorch user checks us.
#include <memory>
#include <optional>

#include "framework/io/checkpoint.h"
#include "framework/cli/commands.h"
#include "framework/cli/flag_checks.h"
#include "framework/core/error.h"
#include "framework/consolidation/fisher.h"
#include "framework/engine/engine.h"
#include "framework/data/scenarios.h"

namespace clb::cli {

namespace {

struct FisherOptions {
  std::string model, arch, dataset = "fashion-mnist", split = "train", estimator = "empirical", out, backend = "auto";
  int64_t samples = 0;
  int draws = 1, threads = 0;
  uint64_t seed = 0;
};

void fisher(const FisherOptions& o) {
  set_threads(o.threads);
  check_non_negative(o.samples, "--samples");
  check_in_range(o.draws, 1, kMaxFisherDraws, "--draws");
  std::optional<MlpArch> expected;
  if (!o.arch.empty()) expected = MlpArch::parse(o.arch);
  const Mlp m = load_model(o.model, expected ? &*expected : nullptr);
  const SourceData source = load_source_data(o.dataset);
  const std::shared_ptr<const Dataset> data = o.split == "train" ? source.train : source.test;
  if (data->dim != m.arch.input_dim())
    fail("--model {}: the model takes {} inputs but {} has {} features per sample", o.model, m.arch.input_dim(),
         o.dataset, data->dim);
  if (data->num_classes > m.arch.num_outputs())
    fail("--model {}: the model has {} outputs but {} has labels up to {}", o.model, m.arch.num_outputs(), o.dataset,
         data->num_classes - 1);
  if (o.samples > data->n) fail("--samples {}: {} {} has only {} samples", o.samples, o.dataset, o.split, data->n);
  std::vector<Task> tasks{whole_dataset_task(data, o.samples)};
  FisherConfig fc;
  fc.estimator = parse_fisher_estimator(o.estimator);
  fc.draws = o.draws;
  fc.seed = o.seed;
  auto be = make_backend(o.backend);
  FisherStats st;
  auto F = fisher_on(*be, tasks, m, sample_refs(tasks[0], Split::kTrain), fc, &st);
  save_flat_params(o.out, m.arch, F,
                   {{"estimator", o.estimator}, {"N", std::to_string(st.samples)}, {"split", o.split},
                    {"dataset", o.dataset}, {"kind", "fisher"}, {"normalisation", "mean over N samples"}});
  fmt::print("wrote {}: {} Fisher of {} ({}) on the first {} {} samples of {}, trace {:.6g}, {:.0f} samples/s\n",
             o.out, o.estimator, o.model, m.arch.str(), st.samples, o.split, o.dataset, st.trace,
             st.samples / std::max(st.seconds, 1e-9));
}

}  // namespace

void register_fisher(CLI::App& app) {
  auto o = std::make_shared<FisherOptions>();
  CLI::App* c = app.add_subcommand("fisher", "Diagonal Fisher of a saved model on a data set, as safetensors");
  c->option_defaults()->always_capture_default();
  c->add_option("--model", o->model, "Model .safetensors (layers.{i}.weight / layers.{i}.bias)")->required();
  c->add_option("--arch", o->arch, "The model's MLP widths, checked against the file (empty: take the file's)");
  c->add_option("--dataset", o->dataset, "fashion-mnist or an IDX directory");
  c->add_option("--split", o->split, "train | test")->check(CLI::IsMember({"train", "test"}));
  c->add_option("--samples", o->samples, "First N samples (0 = all)");
  c->add_option("--estimator", o->estimator, "empirical | sampled | exact | batch")
      ->check(CLI::IsMember({"empirical", "sampled", "exact", "batch"}));
  c->add_option("--draws", o->draws, "sampled: label draws per sample");
  c->add_option("--seed", o->seed, "sampled: seed of the label draws");
  c->add_option("--threads", o->threads, "CPU threads (0 = every core)");
  c->add_option("--backend", o->backend, "cpu | cuda | auto (CUDA when a GPU is usable, else cpu)")
      ->check(CLI::IsMember(backend_names()));
  c->add_option("--out", o->out, "Output .safetensors (written atomically)")->required();
  c->callback([o] { fisher(*o); });
}

}  // namespace clb::cli
