// The registry is the one list of strategies: every entry builds the strategy it names, names are
// unique, and an unknown name's error lists them all.
#include <gtest/gtest.h>

#include <set>

#include "framework/core/error.h"
#include "framework/strategies/registry.h"

namespace clb {
namespace {

TEST(StrategyRegistry, EveryEntryBuildsTheStrategyItNames) {
  std::set<std::string> seen;
  for (const StrategyInfo& info : strategy_registry()) {
    EXPECT_TRUE(seen.insert(info.name).second) << info.name << " is registered twice";
    EXPECT_FALSE(info.summary.empty()) << info.name;
    EXPECT_EQ(make_strategy(info.name, {}, 10)->name(), info.name);
  }
  EXPECT_EQ(seen.size(), strategy_names().size());
}

TEST(StrategyRegistry, UnknownNameErrorListsEveryStrategy) {
  try {
    make_strategy("ewc2", {}, 10);
    FAIL() << "no error for an unknown strategy";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("strategies: unknown strategy 'ewc2'"), std::string::npos) << what;
    for (const std::string& name : strategy_names()) EXPECT_NE(what.find(name), std::string::npos) << name;
  }
}

TEST(StrategyRegistry, DefaultStrategiesAreRegistered) {
  std::string list = default_strategies() + ",";
  for (size_t start = 0, comma; (comma = list.find(',', start)) != std::string::npos; start = comma + 1)
    EXPECT_NO_THROW(make_strategy(list.substr(start, comma - start), {}, 10));
}

}  // namespace
}  // namespace clb
