// Settings in core errors: named by their config field in what(), by the front end's own names
// through with_names; a field is only what the format string marks, never text from an argument.
#include <gtest/gtest.h>

#include "framework/core/error.h"

namespace clb {
namespace {

std::string as_flag(const std::string& field) {
  std::string f = "--" + field;
  for (char& c : f)
    if (c == '.' || c == '_') c = '-';
  return f;
}

TEST(SettingError, FieldsInWhatFlagsThroughWithNames) {
  try {
    fail_setting("@fisher.draws {}: use 1 to {}; or lower @train_per_task.", 0, 1000);
    FAIL() << "no error";
  } catch (const SettingError& e) {
    EXPECT_STREQ(e.what(), "fisher.draws 0: use 1 to 1000; or lower train_per_task.");
    EXPECT_EQ(e.with_names(as_flag), "--fisher-draws 0: use 1 to 1000; or lower --train-per-task.");
  }
}

TEST(SettingError, ArgumentsAreNeverTakenForSettings) {
  try {
    fail_setting("{} {}: bad path {}", setting("dataset"), 3, "/tmp/@home/x");
    FAIL() << "no error";
  } catch (const SettingError& e) {
    EXPECT_STREQ(e.what(), "dataset 3: bad path /tmp/@home/x");
    EXPECT_EQ(e.with_names(as_flag), "--dataset 3: bad path /tmp/@home/x");
  }
}

TEST(SettingError, IsAnError) {
  EXPECT_THROW(fail_setting("@tasks: need at least 1"), Error);
  EXPECT_EQ(mark_settings("a @ b, me@ x"), "a @ b, me@ x");  // '@' not before a field name stays
}

}  // namespace
}  // namespace clb
