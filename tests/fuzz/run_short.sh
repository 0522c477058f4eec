#!/bin/sh
# tests/fuzz/run_short.sh: one short libFuzzer run, as ctest -L fuzz runs it.
#   run_short.sh TARGET_BINARY SEED_CORPUS_DIR WORK_DIR SECONDS
# Runs TARGET for SECONDS over the committed seeds. What the run finds goes
# to WORK_DIR (emptied first, so that every short run starts from the seeds
# alone and takes the same time), never into the source tree: new inputs to
# WORK_DIR/corpus, a crashing input to WORK_DIR/crash-* (kept for replay:
# TARGET WORK_DIR/crash-...). Exits with libFuzzer's status.
set -eu
target=$1
seeds=$2
work=$3
seconds=$4

rm -rf "$work"
mkdir -p "$work/corpus"
# -timeout: one input may not take longer (a hang is a finding);
# -rss_limit_mb: the process may not grow past it (a leak or a blow-up is too).
exec "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" "$seeds"
