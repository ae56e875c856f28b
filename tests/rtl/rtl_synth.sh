#!/bin/sh
# Yosys (0.23) reads every RTL template and runs `synth -top` on it at a few small corners
# (kept small so that the rtl suite stays within minutes on 2 cores; docs/rtl.md lists them).
# Any Yosys warning fails the test. Usage: rtl_synth.sh SV_DIR [JOBS]
set -eu
SV=$1
JOBS=${2:-2}
command -v yosys >/dev/null || { echo "yosys not installed"; exit 77; }
LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT
cat > "$LOGS/corners" <<'CORNERS'
rtl_mac_pe Bits=8 AccBits=32 Dataflow=0
rtl_mac_pe Bits=4 AccBits=8 Dataflow=1
rtl_systolic_array Rows=2 Cols=3 Bits=8 AccBits=24 Dataflow=0
rtl_systolic_array Rows=3 Cols=2 Bits=4 AccBits=12 Dataflow=1
rtl_spad Banks=3 Width=8 Depth=5
rtl_acc_buffer Banks=2 AccBits=24 Depth=8
rtl_vector_unit Lanes=2 Bits=8 AccBits=24
rtl_controller Rows=2 Cols=3 Dataflow=0 ColBits=2
rtl_controller Rows=3 Cols=1 Dataflow=1 ColBits=1
rtl_top Rows=2 Cols=2 Bits=8 AccBits=24 Dataflow=0 XDepth=8 WDepth=8 AccDepth=8 OutDepth=8
rtl_top Rows=2 Cols=1 Bits=4 AccBits=12 Dataflow=1 XDepth=4 WDepth=4 AccDepth=4 OutDepth=4
CORNERS
FILES=$(ls "$SV"/*.sv | tr '\n' ' ')
# shellcheck disable=SC2016
xargs -P "$JOBS" -L 1 sh -c '
  top=$1; shift
  chp=""
  for kv in "$@"; do chp="$chp -set ${kv%%=*} ${kv#*=}"; done
  log='"$LOGS"'/$(echo "$top $*" | tr " =" "__").log
  if ! yosys -p "read_verilog -sv '"$FILES"'; chparam $chp $top; synth -top $top; stat" > "$log" 2>&1; then
    echo "FAIL: yosys $top $*"; tail -20 "$log"; exit 255
  fi
  if grep -qi "warning" "$log"; then
    echo "FAIL: yosys warnings for $top $*"; grep -i "warning" "$log" | head; exit 255
  fi
  cells=$(grep "Number of cells" "$log" | tail -1 | awk "{print \$4}")
  echo "ok: $top $* ($cells cells)"' sh < "$LOGS/corners" || { echo "rtl_synth: a corner failed"; exit 1; }
# Yosys also reads and elaborates (hierarchy -check, proc) the top at the extreme corners.
for corner in "1 1 4 8 0" "1 1 4 8 1" "16 16 32 80 0" "16 16 32 80 1" "3 16 16 48 0" "16 3 8 32 1"; do
  set -- $corner
  log="$LOGS/elab_$1_$2_$3_$5.log"
  if ! yosys -p "read_verilog -sv $FILES; chparam -set Rows $1 -set Cols $2 -set Bits $3 -set AccBits $4 -set Dataflow $5 rtl_top; hierarchy -check -top rtl_top; proc; flatten; stat" > "$log" 2>&1 \
     || grep -qi "warning" "$log"; then
    echo "FAIL: yosys elaboration of rtl_top Rows=$1 Cols=$2 Bits=$3 AccBits=$4 Dataflow=$5"
    grep -iE "warning|error" "$log" | head
    exit 1
  fi
  echo "ok: yosys elaborates rtl_top Rows=$1 Cols=$2 Bits=$3 AccBits=$4 Dataflow=$5"
done
echo "rtl_synth: $(wc -l < "$LOGS/corners") template corners synthesize with Yosys, 6 top corners elaborate"
