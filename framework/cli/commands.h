#pragma once
// The clbench subcommands. Each registers its flags (with defaults shown by --help) and a callback.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "framework/harness/run_config.h"

namespace clb::cli {

// check_only: the callback builds and checks the run's config from the flags (or --config) and
// stops there, training nothing (tests/fuzz/fuzz_cli_args.cpp).
void register_run(CLI::App& app, bool check_only = false);
void register_bench(CLI::App& app);
void register_sweep(CLI::App& app);
void register_fisher(CLI::App& app);
void register_report(CLI::App& app);

// The config clbench run builds from these flags ("--scenario", "split", ...), checked as run checks
// it; a bad flag or value throws clb::Error with run's message (clbench sweep builds its cells so).
RunConfig run_config_from_flags(const std::vector<std::string>& flags);

// Applies --threads (0 = every core) to OpenBLAS and OpenMP.
void set_threads(int threads);

}  // namespace clb::cli
