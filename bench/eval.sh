#!/usr/bin/env bash
# The scoring against people's labels, on eleven sets, as one `sopilot eval`
# table (doc/scoring-eval.md):
#   (a) the maintenance fixtures, ../shared/fixtures/maintenance_filter_swap/labels.json as is;
#   (b) camera nuisances: every video of (a) as a camera sees it on another
#       day (lighting, white balance, half resolution at 15 fps, strong
#       compression, a small zoom and shift, sensor noise) against the
#       untouched gold, each keeping its source's labels; without ../shared,
#       a generated procedure stands in for (a);
#   (c) real hand washing (../shared/fixtures/handwash): take 004 as the gold;
#       takes 008, 010 and 005 (other performances, steps left out); 004 with a
#       step left out and with a step done late. Also scored with the
#       labelled steps, which separates segmentation from matching, and with
#       the labelled names alone, placed by the scorer.
#   (d) another person at another basin, filmed from the side
#       (../shared/fixtures/handwash/other-person): the whole procedure as the
#       gold, without a step, with two steps swapped; the same three ways.
#   (e) generated: a wrong tool that differs from the right one only in
#       colour, as filmed and under the lighting nuisance.
#   (f) real hand washing, another correct take: take 004 cut to the seven
#       steps takes 008 and 010 also hold, as the gold; 008 (same sink) and
#       010 (other basin) doing exactly those steps; the same three ways.
#   (g) generated: the camera started early. The steps of (e) with the empty
#       workbench before and after them in the gold, whose steps are timed;
#       trainees without that time, with more of it, and without a step;
#       and a gold that starts with the work against trainees whose camera
#       started a second or two early or ran on a little. Both also with
#       the steps found and with their names placed: nobody timed them.
#   (h) real hand washing under the nuisances of (b): take 004 and 004
#       without a step, each as another day's camera films it, against the
#       untouched gold; the same three ways.
#   (i) real hand washing, the camera running before and after: take 004
#       with its first and last frames held (a person standing still, with
#       sensor noise) as the gold; trainees as filmed, without a step, with
#       a step late, and with a longer still lead-in; then take 004 as filmed
#       as the gold against the held ones and against two takes that stop
#       6 s between two steps; the same three ways.
#   (j) the light changing during the recording: the lamp of (b) switched
#       on halfway through, or drifting in over the whole take, on the
#       maintenance gold (and its left-out step) and on hand-washing take
#       004 (and 004 without Step_3; the same three ways), against the
#       untouched gold.
#   (k) another pace: the same work done 10 % faster or slower throughout
#       (every frame's time scaled by 0.9 or 1.1, under the 15 % over-time
#       tolerance): the videos of (a) (or its generated stand-in) and of (e)
#       whose labels expect no over-time step, and hand-washing take 004
#       the same three ways as (c), against their untouched golds.
# Builds nothing: expects build/sopilot. Videos are made once and kept in
# the work directory (default /tmp/sopilot-eval); delete it to start again.
#   bench/eval.sh [WORK_DIR] [sopilot eval options, e.g. --json or --strict]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/build/sopilot
work=${1:-/tmp/sopilot-eval}
shift || true
shared=$(cd "$root/.." && pwd)/shared/fixtures
[ -x "$bin" ] || { echo "bench/eval.sh: $bin is missing; build it first (scripts/build.sh)" >&2; exit 1; }
mkdir -p "$work"
work=$(cd "$work" && pwd)
labels=()
say() { echo "bench/eval.sh: $*" >&2; }

# A real set scored three ways: with the steps found automatically, with the
# labelled steps, and with the labelled names alone, placed by the scorer
# (score/step_placer.h). PROGRAM (Python) runs after three_ways_prelude: it
# sets `names` (a timeline file's step number -> step name) and `videos`,
# and calls dump(TASK_ID, STEPS, videos) to print the labels file for the
# directory `d` and the way `use_labelled` (false, true or "names").
three_ways_prelude=$(cat <<'EOF'
import json, sys
d = sys.argv[1]
use_labelled = {"true": True, "false": False, "names": "names"}[sys.argv[2]]
def timeline(video):  # a joined video's "NUMBER START END ..." lines, as [name, start, end]
    rows = [line.split() for line in open(f"{d}/{video}.timeline") if line.strip()]
    return [[names[int(r[0])], float(r[1]), float(r[2])] for r in rows]
def dump(task_id, steps, videos):
    suffix = {True: "+labelled_steps", False: "", "names": "+step_names"}[use_labelled]
    json.dump({"task_id": task_id + suffix, "steps": steps, "use_labelled_steps": use_labelled,
               "videos": videos}, sys.stdout, indent=1)
EOF
)
three_ways() {  # DIR PROGRAM
  local dir=$1 program=$2 use_labelled out
  for use_labelled in false true names; do
    out=$dir/labels.json
    [ "$use_labelled" = true ] && out=$dir/labels-labelled-steps.json
    [ "$use_labelled" = names ] && out=$dir/labels-step-names.json
    python3 -c "$three_ways_prelude
$program" "$dir" "$use_labelled" > "$out"
    labels+=("$out")
  done
}

# ffmpeg into a temporary name, then renamed: an interrupted run leaves no
# half-written file that a later run would take as done. The arguments (the
# source's path among them) are kept beside the video as its recipe, and a
# video is only re-used for the same recipe: a run without ../shared makes
# the nuisance and pace variants from the generated stand-in, and a later
# run with it must not score those against the fixtures' gold.
encode() {  # OUT, then ffmpeg arguments
  local out=$1; shift
  local recipe
  recipe=$(printf '%s\n' "$@")
  [ -s "$out" ] && [ "$(cat "$out.recipe" 2>/dev/null)" = "$recipe" ] && return 0
  ffmpeg -nostdin -y -loglevel error "$@" "$out.part.mp4"
  mv "$out.part.mp4" "$out"
  # After the video: interrupted between the two, the next run makes it again.
  printf '%s\n' "$recipe" > "$out.recipe"
}

# ---- (a) the maintenance fixtures ----
maintenance=$shared/maintenance_filter_swap
if [ -f "$maintenance/labels.json" ]; then
  labels+=("$maintenance/labels.json")
  source_dir=$maintenance
else
  say "(a) skipped: no ../shared/fixtures/maintenance_filter_swap (a clone without the shared fixtures)"
  # A generated 4-step procedure stands in for the nuisance suite.
  source_dir=$work/generated
  mkdir -p "$source_dir"
  procedure() {  # OUT, then "source:seconds" per step
    local out=$1; shift
    local inputs=() filter="" n=0
    for s in "$@"; do
      inputs+=(-t "${s##*:}" -f lavfi -i "${s%:*}")
      filter+="[$n:v]scale=320:180,setsar=1,fps=12,format=yuv420p[v$n];"
      n=$((n + 1))
    done
    for ((i = 0; i < n; i++)); do filter+="[v$i]"; done
    filter+="concat=n=$n:v=1:a=0[out]"
    encode "$out" "${inputs[@]}" -filter_complex "$filter" -map "[out]" -c:v libx264 -preset veryfast -pix_fmt yuv420p
  }
  A=testsrc2 B=mandelbrot C=smptehdbars D=rgbtestsrc
  procedure "$source_dir/gold.mp4" "$A:6" "$B:6" "$C:6" "$D:6"
  procedure "$source_dir/missing.mp4" "$A:6" "$C:6" "$D:12"
  procedure "$source_dir/swap.mp4" "$A:6" "$C:6" "$B:6" "$D:6"
  cat > "$source_dir/labels.json" <<'EOF'
{"task_id": "generated", "steps": ["A", "B", "C", "D"],
 "videos": {
  "gold": {"timeline": [["A", 0, 6], ["B", 6, 12], ["C", 12, 18], ["D", 18, 24]], "expected_deviations": []},
  "missing": {"timeline": [["A", 0, 6], ["C", 6, 12], ["D", 12, 24]],
              "expected_deviations": [{"type": "step_missing", "gold_step": "B"}]},
  "swap": {"timeline": [["A", 0, 6], ["C", 6, 12], ["B", 12, 18], ["D", 18, 24]],
           "expected_deviations": [{"type": "order_swap", "gold_steps": ["B", "C"]}]}}}
EOF
fi

# ---- (b) camera nuisances ----
nuisances=(lighting white_balance half_res_15fps compression zoom_shift noise)
nuisance_args() {  # NAME WIDTH HEIGHT: the ffmpeg output arguments of a nuisance
  local x264=(-c:v libx264 -preset veryfast -crf 20 -pix_fmt yuv420p)
  case $1 in
    lighting) echo -vf eq=brightness=0.06:contrast=0.9:saturation=0.85 "${x264[@]}" ;;
    white_balance) echo -vf colorbalance=rs=0.08:gs=0.02:bs=-0.08 "${x264[@]}" ;;
    half_res_15fps) echo -vf scale=iw/2:-2,fps=15 "${x264[@]}" ;;
    compression) echo -c:v libx264 -preset veryfast -crf 35 -pix_fmt yuv420p ;;
    zoom_shift) echo -vf "crop=iw*0.92:ih*0.92:iw*0.03:ih*0.05,scale=$2:$3,setsar=1" "${x264[@]}" ;;
    noise) echo -vf noise=alls=10:allf=t "${x264[@]}" ;;
  esac
}
videos=$(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["videos"]))' "$source_dir/labels.json")
for n in "${nuisances[@]}"; do
  dir=$work/nuisance/$n
  mkdir -p "$dir"
  for v in $videos; do
    src=$source_dir/$v.mp4
    size=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 "$src")
    # shellcheck disable=SC2046 # the arguments are words on purpose
    encode "$dir/$v.mp4" -i "$src" $(nuisance_args "$n" "${size%,*}" "${size#*,}")
  done
  # The gold stays untouched; every video (the gold too) is a trainee in
  # its nuisance, with its source's labels.
  python3 - "$source_dir/labels.json" "$dir" "$n" > "$dir/labels.json" <<'EOF'
import json, os, sys
src, out_dir, nuisance = sys.argv[1:]
labels = json.load(open(src))
gold = labels.get("gold", "gold")
src_dir = os.path.dirname(os.path.abspath(src))
videos = {gold: dict(labels["videos"][gold], file=os.path.join(src_dir, gold + ".mp4"))}
for name, v in labels["videos"].items():
    videos[name + "+" + nuisance] = dict(v, file=name + ".mp4")
labels["videos"] = videos
labels["gold"] = gold
labels["task_id"] = labels.get("task_id", "") + "+" + nuisance
json.dump(labels, sys.stdout, indent=1)
EOF
  labels+=("$dir/labels.json")
done

# ---- (c) real hand washing ----
handwash=$shared/handwash
if [ -x "$handwash/make-pair.sh" ]; then
  dir=$work/handwash
  mkdir -p "$dir"
  pair() {  # NAME TAKE CODES: the joined video and its timeline (make-pair's output)
    if [ ! -s "$dir/$1.mp4" ] || [ ! -s "$dir/$1.timeline" ]; then
      "$handwash/make-pair.sh" "$2" "$3" "$dir/$1.part.mp4" > "$dir/$1.timeline.part"
      mv "$dir/$1.timeline.part" "$dir/$1.timeline"
      mv "$dir/$1.part.mp4" "$dir/$1.mp4"
    fi
  }
  all="1 2 3 4 5 6 7 8 9 10 11"
  pair gold 004 "$all"
  pair take008 008 "1 2 5 6 7 9 10 11"
  pair take010 010 "2 3 4 5 6 7 9 10 11"
  pair take005 005 "2 3 4 5 6 8 9 10"
  pair 004_without_code4 004 "1 2 3 5 6 7 8 9 10 11"
  pair 004_code4_after_6 004 "1 2 3 5 6 4 7 8 9 10 11"
  program=$(cat <<'EOF'
# The README's code table: code 1 = Step_1, 2 and 3 = Step_2_Left/Right...
names = {1: "Step_1", 2: "Step_2_Left", 3: "Step_2_Right", 4: "Step_3", 5: "Step_4_Left", 6: "Step_4_Right",
         7: "Step_5_Left", 8: "Step_5_Right", 9: "Step_6_Left", 10: "Step_6_Right", 11: "Step_7_Left",
         12: "Step_7_Right"}
steps = [names[c] for c in range(1, 12)]
missing = lambda *codes: [{"type": "step_missing", "gold_step": names[c]} for c in codes]
# Another take: its pace and hands differ from the gold's.
pace = [{"type": t, "gold_step": s} for s in steps for t in ("over_time", "execution_deviation")]
videos = {
    "gold": {"timeline": timeline("gold"), "expected_deviations": [],
             "note": "take 004 against itself"},
    "take008": {"timeline": timeline("take008"), "expected_deviations": missing(3, 4, 8),
                "allowed_deviations": pace, "note": "same person, another take; no codes 3, 4, 8"},
    "take010": {"timeline": timeline("take010"), "expected_deviations": missing(1, 8),
                "allowed_deviations": pace, "note": "another basin; no codes 1, 8"},
    "take005": {"timeline": timeline("take005"), "expected_deviations": missing(1, 7, 11),
                "allowed_deviations": pace,
                "note": "same person and sink, another take; no codes 1, 7, 11; codes 9 and 10 re-use 004's footage"},
    "004_without_code4": {"timeline": timeline("004_without_code4"), "expected_deviations": missing(4)},
    "004_code4_after_6": {
        "timeline": timeline("004_code4_after_6"),
        "expected_deviations": [{"type": "order_swap", "gold_steps": [names[4], names[5]],
                                 "note": "Step_3 done after Step_4_Left and Step_4_Right"}],
        "allowed_deviations": [{"type": "order_swap", "gold_steps": [names[4], names[6]]}]},
}
dump("handwash", steps, videos)
EOF
)
  three_ways "$dir" "$program"
else
  say "(c) skipped: no ../shared/fixtures/handwash"
fi

# A set over (c)'s gold: `dir` is WORK/NAME, holding that gold's video
# (linked) and its timeline.
handwash_set() {  # NAME
  dir=$work/$1
  mkdir -p "$dir"
  ln -sf ../handwash/gold.mp4 "$dir/gold.mp4"
  cp "$work/handwash/gold.timeline" "$dir/gold.timeline"
}

# ---- (h) real hand washing under the camera nuisances of (b) ----
# Take 004 (the gold of (c)) and 004 without code 4, each as the camera of
# another day sees it (every nuisance of (b)), against the untouched gold:
# the gold's copies should pass with nothing found, the defective copies
# show exactly their step missing. The same three ways as (c).
if [ -s "$work/handwash/gold.mp4" ]; then
  handwash_set handwash-nuisance
  for n in "${nuisances[@]}"; do
    for v in gold 004_without_code4; do
      # shellcheck disable=SC2046 # the arguments are words on purpose
      encode "$dir/$v+$n.mp4" -i "$work/handwash/$v.mp4" $(nuisance_args "$n" 720 480)
      cp "$work/handwash/$v.timeline" "$dir/$v+$n.timeline"
    done
  done
  program=$(cat <<EOF
nuisances = "${nuisances[*]}".split()
EOF
)$(cat <<'EOF'

names = {1: "Step_1", 2: "Step_2_Left", 3: "Step_2_Right", 4: "Step_3", 5: "Step_4_Left", 6: "Step_4_Right",
         7: "Step_5_Left", 8: "Step_5_Right", 9: "Step_6_Left", 10: "Step_6_Right", 11: "Step_7_Left"}
steps = list(names.values())
videos = {"gold": {"timeline": timeline("gold"), "expected_deviations": [], "note": "take 004 against itself"}}
for n in nuisances:
    videos["gold+" + n] = {"timeline": timeline("gold+" + n), "expected_deviations": [],
                           "note": "take 004 filmed another day: " + n}
    videos["004_without_code4+" + n] = {
        "timeline": timeline("004_without_code4+" + n),
        "expected_deviations": [{"type": "step_missing", "gold_step": names[4]}],
        "note": "take 004 without Step_3, filmed another day: " + n}
dump("handwash_nuisance", steps, videos)
EOF
)
  three_ways "$dir" "$program"
else
  say "(h) skipped: no ../shared/fixtures/handwash"
fi

# ---- (i) real hand washing, the camera running before and after ----
# Take 004 with its first frame held 6 s before the work and its last
# frame 5 s after it, with sensor noise, as a camera left running films a
# person standing still: the gold. Nobody timed its steps in the found and
# named ways, so its still time must be recognised (score/work_span.h).
# Trainees: 004 as filmed (nothing expected), 004 without code 4 (Step_3
# missing), Step_3 done late (the swap), and 004 without code 4 with 10 s
# of its own held first frame and no tail. The same three ways as (c); the
# labelled way times the gold's steps, so its still time is no step there
# by the user's word.
held_edges() {  # OUT SOURCE BEFORE AFTER: SOURCE with its first frame held BEFORE s and its last AFTER s
  local out=$1 src=$2 before=$3 after=$4 inputs=() filter="" n=0 parts=""
  [ -s "$out" ] && return 0
  ffmpeg -nostdin -y -loglevel error -i "$src" -frames:v 1 "$out.first.png"
  ffmpeg -nostdin -y -loglevel error -sseof -1 -i "$src" -update 1 "$out.last.png"
  still() {  # SECONDS PICTURE
    inputs+=(-loop 1 -t "$1" -framerate 30 -i "$2")
    filter+="[$n:v]noise=alls=6:allf=t,format=yuv420p,setsar=1[v$n];"
    parts+="[v$n]"
    n=$((n + 1))
  }
  [ "$before" != 0 ] && still "$before" "$out.first.png"
  inputs+=(-i "$src")
  filter+="[$n:v]format=yuv420p,setsar=1,fps=30[v$n];"
  parts+="[v$n]"
  n=$((n + 1))
  [ "$after" != 0 ] && still "$after" "$out.last.png"
  ffmpeg -nostdin -y -loglevel error "${inputs[@]}" -filter_complex "${filter}${parts}concat=n=$n:v=1:a=0[out]" \
    -map "[out]" -c:v libx264 -preset veryfast -crf 20 "$out.part.mp4"
  rm -f "$out.first.png" "$out.last.png"
  mv "$out.part.mp4" "$out"
}
paused() {  # OUT FIRST SECOND SECONDS FRAME: FIRST, then FRAME ("last" of FIRST or "first" of SECOND)
  # held SECONDS with sensor noise, then SECOND; videos and timelines in $dir
  local out=$1 a=$dir/$2 b=$dir/$3 seconds=$4 frame=$5 held
  if [ ! -s "$out.mp4" ]; then
    if [ "$frame" = last ]; then
      ffmpeg -nostdin -y -loglevel error -sseof -1 -i "$a.mp4" -update 1 "$out.png"
    else
      ffmpeg -nostdin -y -loglevel error -i "$b.mp4" -frames:v 1 "$out.png"
    fi
    held="[1:v]noise=alls=6:allf=t,format=yuv420p,setsar=1[v1];"
    ffmpeg -nostdin -y -loglevel error -i "$a.mp4" -loop 1 -t "$seconds" -framerate 30 -i "$out.png" -i "$b.mp4" \
      -filter_complex "[0:v]format=yuv420p,setsar=1,fps=30[v0];${held}[2:v]format=yuv420p,setsar=1,fps=30[v2];[v0][v1][v2]concat=n=3:v=1:a=0[out]" \
      -map "[out]" -c:v libx264 -preset veryfast -crf 20 "$out.part.mp4"
    rm -f "$out.png"
    mv "$out.part.mp4" "$out.mp4"
  fi
  # SECOND's steps start after FIRST's end and the pause.
  awk -v s="$seconds" 'NR == FNR { print; end = $3; next } { $2 += end + s; $3 += end + s; print }' \
    "$a.timeline" "$b.timeline" > "$out.timeline"
}
if [ -s "$work/handwash/gold.mp4" ]; then
  dir=$work/handwash-held
  mkdir -p "$dir"
  shifted() {  # NAME SECONDS: the timeline of handwash/NAME, later by SECONDS
    awk -v s="$2" '{ $2 += s; $3 += s; print }' "$work/handwash/$1.timeline"
  }
  held_edges "$dir/gold.mp4" "$work/handwash/gold.mp4" 6 5
  shifted gold 6 > "$dir/gold.timeline"
  for v in gold 004_without_code4 004_code4_after_6; do
    ln -sf "../handwash/$v.mp4" "$dir/as_filmed_$v.mp4"
    cp "$work/handwash/$v.timeline" "$dir/as_filmed_$v.timeline"
  done
  held_edges "$dir/held10_004_without_code4.mp4" "$work/handwash/004_without_code4.mp4" 10 0
  shifted 004_without_code4 10 > "$dir/held10_004_without_code4.timeline"
  program=$(cat <<'EOF'
names = {1: "Step_1", 2: "Step_2_Left", 3: "Step_2_Right", 4: "Step_3", 5: "Step_4_Left", 6: "Step_4_Right",
         7: "Step_5_Left", 8: "Step_5_Right", 9: "Step_6_Left", 10: "Step_6_Right", 11: "Step_7_Left"}
steps = list(names.values())
missing = [{"type": "step_missing", "gold_step": names[4]}]
videos = {
    "gold": {"timeline": timeline("gold"), "expected_deviations": [],
             "note": "take 004 with its first frame held 6 s and its last 5 s, with sensor noise"},
    "as_filmed_gold": {"timeline": timeline("as_filmed_gold"), "expected_deviations": [],
                       "note": "take 004 as filmed: no still time"},
    "as_filmed_004_without_code4": {"timeline": timeline("as_filmed_004_without_code4"),
                                    "expected_deviations": missing},
    "as_filmed_004_code4_after_6": {
        "timeline": timeline("as_filmed_004_code4_after_6"),
        "expected_deviations": [{"type": "order_swap", "gold_steps": [names[4], names[5]],
                                 "note": "Step_3 done after Step_4_Left and Step_4_Right"}],
        "allowed_deviations": [{"type": "order_swap", "gold_steps": [names[4], names[6]]}]},
    "held10_004_without_code4": {"timeline": timeline("held10_004_without_code4"), "expected_deviations": missing,
                                 "note": "its own first frame held 10 s, no tail"},
}
dump("handwash_held", steps, videos)
EOF
)
  three_ways "$dir" "$program"
  # And the other way round: take 004 as filmed is the gold, the trainees
  # stand still before (and after) the work.
  handwash_set handwash-held-trainees
  for v in gold held10_004_without_code4; do
    ln -sf "../handwash-held/$v.mp4" "$dir/held_$v.mp4"
    cp "$work/handwash-held/$v.timeline" "$dir/held_$v.timeline"
  done
  # A person who stops between two steps, hands held still: take 004 with
  # the last frame of Step_4_Left held 6 s before Step_4_Right, and with the
  # first frame of Step_5_Right held 6 s before it starts.
  pair part_to5 004 "1 2 3 4 5"
  pair part_from6 004 "6 7 8 9 10 11"
  pair part_to7 004 "1 2 3 4 5 6 7"
  pair part_from8 004 "8 9 10 11"
  paused "$dir/paused_after_code5" part_to5 part_from6 6 last
  paused "$dir/paused_before_code8" part_to7 part_from8 6 first
  program=$(cat <<'EOF'
names = {1: "Step_1", 2: "Step_2_Left", 3: "Step_2_Right", 4: "Step_3", 5: "Step_4_Left", 6: "Step_4_Right",
         7: "Step_5_Left", 8: "Step_5_Right", 9: "Step_6_Left", 10: "Step_6_Right", 11: "Step_7_Left"}
steps = list(names.values())
videos = {
    "gold": {"timeline": timeline("gold"), "expected_deviations": [], "note": "take 004 as filmed"},
    "held_gold": {"timeline": timeline("held_gold"), "expected_deviations": [],
                  "note": "take 004, its first frame held 6 s and its last 5 s, with sensor noise"},
    "held_held10_004_without_code4": {"timeline": timeline("held_held10_004_without_code4"),
                                      "expected_deviations": [{"type": "step_missing", "gold_step": names[4]}],
                                      "note": "its first frame held 10 s; no Step_3"},
}
# A stop between two steps: the time between the step before's end and the
# next step's start, which is no step.
for v, before in (("paused_after_code5", 5), ("paused_before_code8", 8)):
    t = timeline(v)
    gap = [t[i][2] for i in range(len(t) - 1) if t[i + 1][1] > t[i][2] + 1e-6][0], \
          [t[i + 1][1] for i in range(len(t) - 1) if t[i + 1][1] > t[i][2] + 1e-6][0]
    videos[v] = {"timeline": t, "expected_deviations": [{"type": "extra_segment", "trainee_time": list(gap)}],
                 "note": f"take 004 with its hands held still 6 s before {names[before]}"}
dump("handwash_held_trainees", steps, videos)
EOF
)
  three_ways "$dir" "$program"
else
  say "(i) skipped: no ../shared/fixtures/handwash"
fi

# ---- (f) another correct take: the promise of "another correct take passes" ----
# Set (c)'s other takes each leave steps out, so none of its pairs is a
# correct performance filmed on another day. Here the gold is take 004 cut
# to the seven steps takes 008 and 010 also hold (codes 2 5 6 7 9 10 11),
# and each of them does exactly those steps in that order: 008 at the same
# sink, 010 at the other basin. Both should pass: their pace differs
# (over_time and execution_deviation are allowed), and the other basin is
# not by itself a deviation. The same three ways as (c).
if [ -x "$handwash/make-pair.sh" ]; then
  dir=$work/handwash-correct
  mkdir -p "$dir"
  common="2 5 6 7 9 10 11"
  pair gold 004 "$common"
  pair take008 008 "$common"
  pair take010 010 "$common"
  program=$(cat <<'EOF'
names = {2: "Step_2_Left", 5: "Step_4_Left", 6: "Step_4_Right", 7: "Step_5_Left", 9: "Step_6_Left",
         10: "Step_6_Right", 11: "Step_7_Left"}
steps = list(names.values())
pace = [{"type": t, "gold_step": s} for s in steps for t in ("over_time", "execution_deviation")]
videos = {
    "gold": {"timeline": timeline("gold"), "expected_deviations": [],
             "note": "take 004, seven steps, against itself"},
    "take008": {"timeline": timeline("take008"), "expected_deviations": [], "allowed_deviations": pace,
                "note": "same person and sink, another take, the same seven steps"},
    "take010": {"timeline": timeline("take010"), "expected_deviations": [], "allowed_deviations": pace,
                "note": "the other basin, another take, the same seven steps"},
}
dump("handwash_correct", steps, videos)
EOF
)
  three_ways "$dir" "$program"
else
  say "(f) skipped: no ../shared/fixtures/handwash"
fi

# ---- (d) another person, another basin, another camera ----
# The ten clips of ../shared/fixtures/handwash/other-person (one complete
# procedure filmed from the side, 1920x1080 VP9 at 25 fps): joined as the
# gold, without step 5, and with step 7 done after step 8. The variants
# re-use the gold's footage, as 004's do; what they add is a second real
# camera and person, and a recording that starts and ends with work the
# hand-washing takes lack (wetting, soap, rinsing, drying).
other=$handwash/other-person
if [ -d "$other" ]; then
  dir=$work/other-person
  mkdir -p "$dir"
  join() {  # NAME "STEP NUMBERS": the clips joined without re-encoding, and the timeline
    [ -s "$dir/$1.webm" ] && [ -s "$dir/$1.timeline" ] && return 0
    local at=0 n f d list=$dir/$1.list
    : > "$list"
    : > "$dir/$1.timeline.part"
    for n in $2; do
      f=$(ls "$other"/who_"$n"_*-vp9.webm)
      echo "file '$f'" >> "$list"
      d=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$f")
      echo "$n $at $(python3 -c "print(round($at + $d, 3))")" >> "$dir/$1.timeline.part"
      at=$(python3 -c "print(round($at + $d, 3))")
    done
    ffmpeg -nostdin -y -loglevel error -f concat -safe 0 -i "$list" -c copy "$dir/$1.part.webm"
    mv "$dir/$1.timeline.part" "$dir/$1.timeline"
    mv "$dir/$1.part.webm" "$dir/$1.webm"
  }
  join gold "1 2 3 4 5 6 7 8 9 10"
  join without_5 "1 2 3 4 6 7 8 9 10"
  join 7_after_8 "1 2 3 4 5 6 8 7 9 10"
  program=$(cat <<'EOF'
# The README's list: 1 wet, 2 soap, 3 rub palms, ... 10 dry.
names = {1: "wet", 2: "soap", 3: "rub_palms", 4: "palm_over_back", 5: "palm_to_palm_interlaced",
         6: "backs_of_fingers", 7: "thumbs", 8: "fingertips", 9: "rinse", 10: "dry"}
video = lambda name, **kw: dict({"file": name + ".webm", "timeline": timeline(name)}, **kw)
videos = {
    "gold": video("gold", expected_deviations=[], note="the other person's procedure against itself"),
    "without_5": video("without_5", expected_deviations=[{"type": "step_missing", "gold_step": names[5]}]),
    "7_after_8": video("7_after_8", expected_deviations=[
        {"type": "order_swap", "gold_steps": [names[7], names[8]]}]),
}
dump("other_person", [names[c] for c in range(1, 11)], videos)
EOF
)
  three_ways "$dir" "$program"
else
  say "(d) skipped: no ../shared/fixtures/handwash/other-person"
fi

# ---- (e) a wrong tool that differs only in colour (generated) ----
# Four steps on one grey workbench, each a tool moving its own way; in the
# defective take the third step's tool is blue instead of red and moves just
# as the red one does. The maintenance fixtures' wrong tool differs in
# colour, label and motion; here only the colour of the part tells. Also
# under the lighting nuisance of (b): a correct take and the defective one.
# Needs nothing from ../shared.
dir=$work/colour-tool
mkdir -p "$dir"
tool_step() {  # OUT COLOUR X Y: 6 s of the workbench with a 64x40 tool at (X(t), Y(t))
  encode "$1" -f lavfi -i "color=c=0x6a6258:s=320x180:r=12:d=6" -f lavfi -i "color=c=$2:s=64x40:r=12:d=6" \
    -filter_complex "[0:v]drawgrid=w=40:h=40:t=1:c=0x4a443c[bg];[bg][1:v]overlay=x='$3':y='$4':shortest=1,format=yuv420p" \
    -c:v libx264 -preset veryfast -crf 20
}
tool_step "$dir/loosen.step.mp4" 0xd0d0d0 "50+30*cos(2*PI*t/1.5)" "60+30*sin(2*PI*t/1.5)"
tool_step "$dir/drain.step.mp4" 0xd0b020 "130" "10+mod(t*60\,120)"
tool_step "$dir/fit.step.mp4" 0xc02020 "128+100*sin(2*PI*t/3)" "70"
tool_step "$dir/fit_wrong.step.mp4" 0x2040c0 "128+100*sin(2*PI*t/3)" "70"
tool_step "$dir/tighten.step.mp4" 0xf0f0f0 "220+20*cos(2*PI*t)" "100+20*sin(2*PI*t)"
steps_video() {  # OUT STEP...: the steps' files joined without re-encoding
  local out=$1 list=$1.list s
  shift
  [ -s "$out" ] && return 0
  : > "$list"
  for s in "$@"; do echo "file '$dir/$s.step.mp4'" >> "$list"; done
  ffmpeg -nostdin -y -loglevel error -f concat -safe 0 -i "$list" -c copy "$out.part.mp4"
  mv "$out.part.mp4" "$out"
}
steps_video "$dir/gold.mp4" loosen drain fit tighten
steps_video "$dir/wrong_tool.mp4" loosen drain fit_wrong tighten
# shellcheck disable=SC2046 # the arguments are words on purpose
encode "$dir/correct+lighting.mp4" -i "$dir/gold.mp4" $(nuisance_args lighting 320 180)
# shellcheck disable=SC2046
encode "$dir/wrong_tool+lighting.mp4" -i "$dir/wrong_tool.mp4" $(nuisance_args lighting 320 180)
python3 - > "$dir/labels.json" <<'EOF'
import json
timeline = [["LOOSEN", 0, 6], ["DRAIN", 6, 12], ["FIT", 12, 18], ["TIGHTEN", 18, 24]]
wrong = [{"type": "execution_deviation", "gold_step": "FIT"}]
video = lambda expected: {"timeline": timeline, "expected_deviations": expected}
json.dump({"task_id": "colour_tool", "steps": [s[0] for s in timeline],
           "about": "Generated: a tool per step on one grey workbench; the wrong tool differs from "
                    "the right one only in colour (blue for red) and moves the same way.",
           "videos": {"gold": video([]), "wrong_tool": video(wrong),
                      "correct+lighting": video([]), "wrong_tool+lighting": video(wrong)}},
          __import__("sys").stdout, indent=1)
EOF
labels+=("$dir/labels.json")

# ---- (g) the camera started early (generated) ----
# The steps of (e) with the empty workbench before and after them, as a
# camera left running films it; the gold's steps are timed (a steps file),
# so its 5 s before and 4 s after are no step. Trainees filmed without that
# time, with more of it, and without a step.
idle_step() {  # OUT SECONDS: the workbench of (e) with no tool
  encode "$1" -f lavfi -i "color=c=0x6a6258:s=320x180:r=12:d=$2" \
    -vf "drawgrid=w=40:h=40:t=1:c=0x4a443c,format=yuv420p" -c:v libx264 -preset veryfast -crf 20
}
idle_step "$dir/idle5.step.mp4" 5
idle_step "$dir/idle4.step.mp4" 4
idle_step "$dir/idle12.step.mp4" 12
idle_step "$dir/idle2.step.mp4" 2
early=$work/camera-early
mkdir -p "$early"
steps_video "$early/gold.mp4" idle5 loosen drain fit tighten idle4
steps_video "$early/no_idle.mp4" loosen drain fit tighten
steps_video "$early/long_idle.mp4" idle12 loosen drain fit tighten idle2
steps_video "$early/without_drain.mp4" idle5 loosen fit tighten idle4
python3 - > "$early/labels.json" <<'EOF'
import json
def timeline(start, names):
    return [[n, start + 6 * k, start + 6 * (k + 1)] for k, n in enumerate(names)]
steps = ["LOOSEN", "DRAIN", "FIT", "TIGHTEN"]
video = lambda start, names, expected: {"timeline": timeline(start, names), "expected_deviations": expected}
json.dump({"task_id": "camera_early", "steps": steps, "use_labelled_steps": True,
           "about": "Generated: the steps of the colour-tool set with the empty workbench filmed before "
                    "and after them; the gold's steps are timed, so that time is no step.",
           "videos": {"gold": video(5, steps, []), "no_idle": video(0, steps, []),
                      "long_idle": video(12, steps, []),
                      "without_drain": video(5, ["LOOSEN", "FIT", "TIGHTEN"],
                                             [{"type": "step_missing", "gold_step": "DRAIN"}])}},
          __import__("sys").stdout, indent=1)
EOF
labels+=("$early/labels.json")
# And a gold that starts with the work (its steps timed), against trainees
# whose camera started a second or two early or ran on a little: too short
# for a "none" run of its own, that time used to count as the first or last
# step (doc/scoring.md, "The edges of the work").
idle_step "$dir/idle1.step.mp4" 1
idle_step "$dir/idle1.5.step.mp4" 1.5
idle_step "$dir/idle2.5.step.mp4" 2.5
steps_video "$early/short_lead.mp4" idle1.5 loosen drain fit tighten
steps_video "$early/short_tail.mp4" loosen drain fit tighten idle2.5
steps_video "$early/short_both.mp4" idle1 loosen drain fit tighten idle1.5
steps_video "$early/short_lead_without_fit.mp4" idle1.5 loosen drain tighten
python3 - > "$early/labels-work-gold.json" <<'EOF'
import json
def timeline(start, names):
    return [[n, start + 6 * k, start + 6 * (k + 1)] for k, n in enumerate(names)]
steps = ["LOOSEN", "DRAIN", "FIT", "TIGHTEN"]
video = lambda start, names, expected: {"timeline": timeline(start, names), "expected_deviations": expected}
json.dump({"task_id": "camera_early_short", "steps": steps, "gold": "no_idle", "use_labelled_steps": True,
           "about": "Generated: a gold that starts with the work; trainees whose camera started a second "
                    "or two early or ran on a little.",
           "videos": {"no_idle": video(0, steps, []), "short_lead": video(1.5, steps, []),
                      "short_tail": video(0, steps, []), "short_both": video(1, steps, []),
                      "short_lead_without_fit": video(1.5, ["LOOSEN", "DRAIN", "TIGHTEN"],
                                                      [{"type": "step_missing", "gold_step": "FIT"}])}},
          __import__("sys").stdout, indent=1)
EOF
labels+=("$early/labels-work-gold.json")
# Both again with the gold's steps found, and with their names alone,
# placed by the scorer: a gold filmed with the camera running before and
# after the work, whose steps nobody timed. Its still time is then no step
# because it is still (score/work_span.h).
for f in labels labels-work-gold; do
  for way in false names; do
    out=$early/$f-found-steps.json
    [ "$way" = names ] && out=$early/$f-step-names.json
    python3 - "$early/$f.json" "$way" > "$out" <<'EOF'
import json, sys
labels = json.load(open(sys.argv[1]))
way = {"false": False, "names": "names"}[sys.argv[2]]
labels["use_labelled_steps"] = way
labels["task_id"] += {False: "+found_steps", "names": "+step_names"}[way]
json.dump(labels, sys.stdout, indent=1)
EOF
    labels+=("$out")
  done
done

# ---- (j) the light changes during the recording ----
# The lamp of (b) switched on halfway through a correct take (a lamp, the
# sun through a window), and the same change drifting in over the whole
# take (a camera's automatic exposure). Against the untouched gold: the
# maintenance gold (and its left-out step, switched on halfway) and real
# hand-washing take 004, the latter the same three ways as (c).
lamp="eq=brightness=0.06:contrast=0.9:saturation=0.85"
halfway() {  # OUT SOURCE SECONDS: the lamp switched on at SECONDS
  encode "$1" -i "$2" -vf "$lamp:enable='gte(t,$3)'" -c:v libx264 -preset veryfast -crf 20 -pix_fmt yuv420p
}
drifting() {  # OUT SOURCE SECONDS: the lamp drifting in over SECONDS
  local k="min(t/$3,1)"
  encode "$1" -i "$2" -vf "eq=brightness='0.06*$k':contrast='1-0.1*$k':saturation='1-0.15*$k':eval=frame" \
    -c:v libx264 -preset veryfast -crf 20 -pix_fmt yuv420p
}
if [ -f "$maintenance/labels.json" ]; then
  dir=$work/light-change
  mkdir -p "$dir"
  halfway "$dir/gold+lamp_halfway.mp4" "$maintenance/gold.mp4" 12
  drifting "$dir/gold+lamp_drifting.mp4" "$maintenance/gold.mp4" 24
  halfway "$dir/missing+lamp_halfway.mp4" "$maintenance/missing.mp4" 12
  python3 - "$maintenance/labels.json" > "$dir/labels.json" <<'EOF'
import json, os, sys
src = json.load(open(sys.argv[1]))
videos = {"gold": dict(src["videos"]["gold"], file=os.path.join(os.path.dirname(sys.argv[1]), "gold.mp4"))}
for name, source in (("gold+lamp_halfway", "gold"), ("gold+lamp_drifting", "gold"), ("missing+lamp_halfway", "missing")):
    videos[name] = dict(src["videos"][source], file=name + ".mp4")
src.update(task_id=src["task_id"] + "+light_change", videos=videos)
json.dump(src, sys.stdout, indent=1)
EOF
  labels+=("$dir/labels.json")
else
  say "(j) maintenance part skipped: no ../shared/fixtures/maintenance_filter_swap"
fi
if [ -s "$work/handwash/gold.mp4" ]; then
  handwash_set light-change-handwash
  halfway "$dir/lamp_halfway.mp4" "$work/handwash/gold.mp4" 65
  drifting "$dir/lamp_drifting.mp4" "$work/handwash/gold.mp4" 130
  halfway "$dir/without_code4+lamp_halfway.mp4" "$work/handwash/004_without_code4.mp4" 60
  for v in gold lamp_halfway lamp_drifting; do cp "$work/handwash/gold.timeline" "$dir/$v.timeline"; done
  cp "$work/handwash/004_without_code4.timeline" "$dir/without_code4+lamp_halfway.timeline"
  program=$(cat <<'EOF'
names = {1: "Step_1", 2: "Step_2_Left", 3: "Step_2_Right", 4: "Step_3", 5: "Step_4_Left", 6: "Step_4_Right",
         7: "Step_5_Left", 8: "Step_5_Right", 9: "Step_6_Left", 10: "Step_6_Right", 11: "Step_7_Left"}
videos = {v: {"timeline": timeline(v), "expected_deviations": [], "note": note} for v, note in (
    ("gold", "take 004 against itself"),
    ("lamp_halfway", "take 004, a lamp switched on halfway through"),
    ("lamp_drifting", "take 004, the exposure drifting over the whole take"))}
videos["without_code4+lamp_halfway"] = {"timeline": timeline("without_code4+lamp_halfway"),
                                        "expected_deviations": [{"type": "step_missing", "gold_step": names[4]}],
                                        "note": "take 004 without Step_3, a lamp switched on halfway through"}
dump("handwash_light_change", list(names.values()), videos)
EOF
)
  three_ways "$dir" "$program"
else
  say "(j) hand-washing part skipped: no ../shared/fixtures/handwash"
fi

# ---- (k) another pace ----
# A person works at their own pace: the gold's own work 10 % faster or
# slower throughout is no deviation, and a defective take at another pace
# still shows exactly its deviations. Every frame's time is scaled (the
# motion slows or quickens with it) and the labelled times with it. Takes
# whose labels expect an over-time step are left out: scaling moves them
# across the tolerance.
paces=(0.9 1.1)
paced() {  # OUT SOURCE FACTOR: SOURCE with every frame's time scaled by FACTOR
  local fps
  fps=$(ffprobe -v error -select_streams v:0 -show_entries stream=r_frame_rate -of csv=p=0 "$2")
  encode "$1" -i "$2" -vf "setpts=$3*PTS,fps=$fps" -c:v libx264 -preset veryfast -crf 20 -pix_fmt yuv420p
}
# The videos of LABELS whose labels expect no over-time step.
without_over_time() {  # LABELS
  python3 -c 'import json, sys
for name, v in json.load(open(sys.argv[1]))["videos"].items():
    if not any(d["type"] == "over_time" for d in v.get("expected_deviations", [])): print(name)' "$1"
}
pace_set() {  # LABELS OUT_DIR: those videos at each pace against the untouched gold
  local v p
  mkdir -p "$2"
  for v in $(without_over_time "$1"); do
    for p in "${paces[@]}"; do paced "$2/$v+pace_$p.mp4" "$(dirname "$1")/$v.mp4" "$p"; done
  done
  python3 - "$1" "${paces[@]}" > "$2/labels.json" <<'EOF'
import json, os, sys
src, *paces = sys.argv[1:]
labels = json.load(open(src))
gold = labels.get("gold", "gold")
src_dir = os.path.dirname(os.path.abspath(src))
videos = {gold: dict(labels["videos"][gold], file=os.path.join(src_dir, gold + ".mp4"))}
for name, v in labels["videos"].items():
    if any(d["type"] == "over_time" for d in v.get("expected_deviations", [])):
        continue
    for p in paces:
        timeline = [[step, float(p) * start, float(p) * end] for step, start, end in v["timeline"]]
        videos[f"{name}+pace_{p}"] = dict(v, timeline=timeline, file=f"{name}+pace_{p}.mp4")
labels.update(gold=gold, videos=videos, task_id=labels.get("task_id", "") + "+pace")
json.dump(labels, sys.stdout, indent=1)
EOF
  labels+=("$2/labels.json")
}
pace_set "$source_dir/labels.json" "$work/pace"
pace_set "$work/colour-tool/labels.json" "$work/pace-colour-tool"
if [ -s "$work/handwash/gold.mp4" ]; then
  handwash_set pace-handwash
  for p in "${paces[@]}"; do
    paced "$dir/gold+pace_$p.mp4" "$work/handwash/gold.mp4" "$p"
    awk -v f="$p" '{ $2 = $2 * f; $3 = $3 * f; print }' "$work/handwash/gold.timeline" > "$dir/gold+pace_$p.timeline"
  done
  program=$(cat <<'EOF'
names = {1: "Step_1", 2: "Step_2_Left", 3: "Step_2_Right", 4: "Step_3", 5: "Step_4_Left", 6: "Step_4_Right",
         7: "Step_5_Left", 8: "Step_5_Right", 9: "Step_6_Left", 10: "Step_6_Right", 11: "Step_7_Left"}
videos = {"gold": {"timeline": timeline("gold"), "expected_deviations": [], "note": "take 004 against itself"}}
for p in ("0.9", "1.1"):
    videos["gold+pace_" + p] = {"timeline": timeline("gold+pace_" + p), "expected_deviations": [],
                                "note": f"take 004 with every frame's time scaled by {p}"}
dump("handwash_pace", list(names.values()), videos)
EOF
)
  three_ways "$dir" "$program"
else
  say "(k) hand-washing part skipped: no ../shared/fixtures/handwash"
fi

"$bin" eval "$@" "${labels[@]}"
