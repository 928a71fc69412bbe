#!/usr/bin/env bash
# The docs name every strategy the registry has: each name `clbench run --help` lists (it reads the
# registry, framework/strategies/registry.cpp) must appear in README.md's --strategy row.
#   scripts/check_docs.sh CLBENCH
set -euo pipefail
cd "$(dirname "$0")/.."
clbench=${1:?usage: scripts/check_docs.sh CLBENCH}
# The lines under --strategy in the help, up to the next flag: "    name: summary".
names=$("$clbench" run --help | awk '/^ +--strategy /{on=1; next} /^ +-/{on=0} on && /^ +[a-z0-9+-]+: /{sub(/^ +/, ""); sub(/:.*/, ""); print}')
[ -n "$names" ] || { echo "check_docs: clbench run --help listed no strategies"; exit 1; }
row=$(grep -F -- '| `--strategy' README.md || true)
[ -n "$row" ] || { echo "README.md: no row for --strategy in the flags table"; exit 1; }
bad=0
for n in $names; do
  # a name as a word of its own: "ewc" in "ewc (a separate penalty ...)", not inside "online-ewc"
  if ! grep -qE "(^|[ ,(])${n//+/\\+}( |,|\)|$)" <<<"$row"; then
    echo "README.md: the --strategy row does not describe '$n' (registered in framework/strategies/registry.cpp)"
    bad=1
  fi
done
[ "$bad" -eq 0 ] && echo "docs: README.md describes every registered strategy ($(echo $names | wc -w))"
exit "$bad"
