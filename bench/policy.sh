#!/usr/bin/env bash
# Policy engine benchmark: compile time and memory of 100,000 rules with 1,000,000 categorised
# domains, then Decide for four flows under BenchmarkDotNet (short job). Target: ≤ 2,000 ns, 0 B.
# Usage: bench/policy.sh [BenchmarkDotNet arguments, default --filter '*']
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -eq 0 ]; then
  set -- --filter '*'
fi
exec dotnet run -c Release --project bench/Gatehouse.Bench.Policy -- "$@"
