#pragma once
// The clbench subcommands. Each registers its flags (with defaults shown by --help) and a callback.
#include <CLI/CLI.hpp>

namespace clb::cli {

// check_only: the callback builds and checks the run's config from the flags (or --config) and
// stops there, training nothing (tests/fuzz/fuzz_cli_args.cpp).
void register_run(CLI::App& app, bool check_only = false);
void register_bench(CLI::App& app);
void register_fisher(CLI::App& app);
void register_report(CLI::App& app);

// Applies --threads (0 = every core) to OpenBLAS and OpenMP.
void set_threads(int threads);

}  // namespace clb::cli
