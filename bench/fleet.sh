#!/usr/bin/env bash
# Fleet simulator: 1,000,000 virtual devices through a staged rollout, driven by the portal's
# real rollout controller (src/Gatehouse.Rollouts). Prints how many devices received a bad
# release before the rollout halted itself (target: at most 0.1% of the fleet, against 100%
# without halting), that a good release completes, and that halt and resume reach the same
# devices. Exit 0 when every target is met.
# Usage: bench/fleet.sh [--devices N] [--internal N]
set -euo pipefail
cd "$(dirname "$0")/.."
exec dotnet run -c Release --project bench/Gatehouse.Bench.Fleet -- "$@"
