#!/usr/bin/env bash
# quire against its peers on this machine, in one run: a 3-member quired group, a 3-member etcd 3.4
# and a 3-node ZooKeeper 3.8, each as three processes on loopback with their data on the same disk,
# under the same closed-loop write loads. Every write is durable on a majority before it is
# acknowledged in all three (quire always; etcd by default; ZooKeeper with forceSync=yes).
#
#   bash bench/vs_peers.sh [--reps N] [--writes-1 N] [--writes-many N] [--warmup N]
#                          [--clients "1 64"] [--values "256 4096"] [--systems "quire etcd zookeeper"]
#
# Workloads: every clients x value size, a fixed number of writes per run (--writes-1 for one
# client, default 2000; --writes-many for more, default 20000), --reps alternating repetitions
# (default 3: quire, etcd, zookeeper, quire, etcd, zookeeper, ...), each on fresh data directories
# and after an unmeasured warm-up of --warmup writes (default 500; JIT, connections, caches).
# Reports medians of writes/s, p50 and p99 latency, and the servers' CPU (utime+stime of the three
# server processes, JVMs included) per 1,000 writes, then one line per workload:
#   vs_peers: clients=64 value=256 quire=<rate> etcd=<rate> zookeeper=<rate> ratio_best=<quire/max>
#
# Environment: VS_PEERS_REPS, VS_PEERS_WRITES_1, VS_PEERS_WRITES_MANY, VS_PEERS_WARMUP, VS_PEERS_CLIENTS,
# VS_PEERS_VALUES, VS_PEERS_SYSTEMS (the flags' defaults); VS_PEERS_DIR=DIR keeps the runs' data
# and logs under DIR (default: a fresh temporary directory, removed at the end);
# QUIRE_BIN_DIR=DIR takes quired and quire from DIR instead of building build/release;
# VS_PEERS_QUIRE_ARGS=... extra arguments for `quire bench`.
# Installs what is missing (Debian packages), builds quire (Release) and the two load programs in
# bench/peers/ (into build/vs-peers), uses only its own ports (quire 7601-7603, etcd 2479-2481 and
# 2579-2581, ZooKeeper 2281-2283, 2891-2893, 3891-3893) and stops only the processes it started.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

reps=${VS_PEERS_REPS:-3}
writes_one=${VS_PEERS_WRITES_1:-2000}
writes_many=${VS_PEERS_WRITES_MANY:-20000}
warmup=${VS_PEERS_WARMUP:-500}
clients_list=${VS_PEERS_CLIENTS:-"1 64"}
values_list=${VS_PEERS_VALUES:-"256 4096"}
systems=${VS_PEERS_SYSTEMS:-"quire etcd zookeeper"}

usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps=$2; shift 2 ;;
    --writes-1) writes_one=$2; shift 2 ;;
    --writes-many) writes_many=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --clients) clients_list=$2; shift 2 ;;
    --values) values_list=$2; shift 2 ;;
    --systems) systems=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "vs_peers: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
for s in $systems; do
  case "$s" in quire | etcd | zookeeper) ;; *) echo "vs_peers: unknown system '$s'" >&2; exit 2 ;; esac
done
has_system() { case " $systems " in *" $1 "*) return 0 ;; esac; return 1; }

log() { echo "vs_peers: $*" >&2; }

# ---- packages (idempotent: apt only for what is missing) ----
packages=()
if has_system etcd; then packages+=(etcd-server golang-go golang-etcd-server-dev); fi
if has_system zookeeper; then packages+=(zookeeper libzookeeper-mt-dev gcc libc6-dev); fi
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  sudo_prefix=()
  if [ "$(id -u)" -ne 0 ]; then sudo_prefix=(sudo); fi
  "${sudo_prefix[@]}" apt-get -o DPkg::Lock::Timeout=300 update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_prefix[@]}" apt-get -o DPkg::Lock::Timeout=300 \
    install -y -q --no-install-recommends "${missing[@]}"
fi

# ---- builds ----
tools=$repo/build/vs-peers
mkdir -p "$tools"
if has_system quire; then
  if [ -n "${QUIRE_BIN_DIR:-}" ]; then
    bin=$QUIRE_BIN_DIR
  else
    bash scripts/setup.sh
    bash scripts/build.sh build/release Release quired quire
    bin=$repo/build/release/tools
  fi
  for program in quired quire; do
    [ -x "$bin/$program" ] || { log "no $bin/$program"; exit 1; }
  done
  usage_text=$("$bin/quire" --help 2>&1 || true)
  if ! grep -q '^  bench ' <<< "$usage_text"; then
    log "$bin/quire has no bench command (it came with branch quire-bench): point QUIRE_BIN_DIR" \
      "at a build that has it, or leave quire out with --systems \"etcd zookeeper\""
    exit 1
  fi
fi
# Rebuilt only when the source is newer than the binary.
if has_system etcd && [ ! "$tools/etcd_put" -nt bench/peers/etcd_put.go ]; then
  log "building etcd_put (GOPATH mode against Debian's clientv3 in /usr/share/gocode)"
  gopath=$(mktemp -d)
  GO111MODULE=off GOPATH=/usr/share/gocode:$gopath GOFLAGS= GOPROXY=off \
    GOCACHE=$tools/gocache go build -o "$tools/etcd_put" bench/peers/etcd_put.go
  rm -rf "$gopath"
fi
if has_system zookeeper && [ ! "$tools/zk_put" -nt bench/peers/zk_put.c ]; then
  log "building zk_put"
  cc -O2 -Wall -Wextra -o "$tools/zk_put" bench/peers/zk_put.c -lzookeeper_mt -lpthread
fi

# ---- ports, folders, processes ----
quire_ports=(7601 7602 7603)
etcd_client_ports=(2479 2480 2481)
etcd_peer_ports=(2579 2580 2581)
zk_client_ports=(2281 2282 2283)
zk_quorum_ports=(2891 2892 2893)
zk_election_ports=(3891 3892 3893)
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "${quire_ports[@]}" "${etcd_client_ports[@]}" "${etcd_peer_ports[@]}" \
  "${zk_client_ports[@]}" "${zk_quorum_ports[@]}" "${zk_election_ports[@]}"; do
  if port_busy "$port"; then
    log "port $port on 127.0.0.1 is busy (another program, or an earlier run still stopping)"
    exit 1
  fi
done

if [ -n "${VS_PEERS_DIR:-}" ]; then
  work=$VS_PEERS_DIR
  remove_work=0
  mkdir -p "$work"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/vs-peers.XXXXXX")
  remove_work=1
fi
results=$work/results.tsv
: > "$results"

servers=()   # the pids of the current run's three servers
stop_servers() {
  local pid
  for pid in "${servers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    local alive=0
    for pid in "${servers[@]}"; do if kill -0 "$pid" 2>/dev/null; then alive=1; fi; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${servers[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${servers[@]}"; do wait "$pid" 2>/dev/null || true; done
  servers=()
}
cleanup() {
  stop_servers
  if [ "$remove_work" = 1 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ticks_per_second=$(getconf CLK_TCK)
# utime + stime, in clock ticks, of every server process of the current run (all threads).
server_ticks() {
  local pid total=0 t
  for pid in "${servers[@]}"; do
    t=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $12 + $13}') || t=0
    total=$((total + ${t:-0}))
  done
  echo "$total"
}

alive_or_fail() {
  local pid
  for pid in "${servers[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then log "a server exited early (pid $pid)"; return 1; fi
  done
}

# ---- quire ----
quire_members="1=127.0.0.1:${quire_ports[0]},2=127.0.0.1:${quire_ports[1]},3=127.0.0.1:${quire_ports[2]}"
quire_cli() { "$bin/quire" --members "$quire_members" --group vs-peers --token 5eed "$@"; }
start_quire() {
  local dir=$1 id
  for id in 1 2 3; do
    "$bin/quired" --id "$id" --members "$quire_members" --group vs-peers --token 5eed \
      --data-dir "$dir/n$id" 2>"$dir/n$id.log" &
    servers+=($!)
  done
  for _ in $(seq 1 100); do
    alive_or_fail || return 1
    if quire_cli status >/dev/null 2>&1; then return 0; fi
    sleep 0.3
  done
  log "quire: no leader after 30 s"
  return 1
}
# Prints "operations errors seconds rate p50 p99" from quire bench's JSON object.
load_quire() {
  local clients=$1 value=$2 writes=$3 out=$4
  # `quire bench` picks its own keys: the warm-up and the measured run may write the same ones.
  # shellcheck disable=SC2086
  quire_cli bench --clients "$clients" --value-size "$value" --count "$writes" --json \
    ${VS_PEERS_QUIRE_ARGS:-} > "$out" || true
  local json latency
  json=$(tr -d ' \n' < "$out")
  latency=$(sed -n 's/.*"latency_ms":{\([^}]*\)}.*/\1/p' <<< "$json")
  num() { grep -o "\"$1\":[-0-9.eE+]*" | head -1 | cut -d: -f2; }
  local ops errors seconds rate p50 p99
  ops=$(num operations <<< "$json")
  errors=$(num error_count <<< "$json")
  seconds=$(num seconds <<< "$json")
  rate=$(num rate <<< "$json")
  p50=$(num p50 <<< "$latency")
  p99=$(num p99 <<< "$latency")
  [ -n "$ops" ] && [ -n "$rate" ] && [ -n "$p50" ] && [ -n "$p99" ] || return 1
  echo "$ops ${errors:-0} ${seconds:-0} $rate $p50 $p99"
}

# ---- etcd ----
etcd_endpoints="127.0.0.1:${etcd_client_ports[0]},127.0.0.1:${etcd_client_ports[1]},127.0.0.1:${etcd_client_ports[2]}"
start_etcd() {
  local dir=$1 i cluster=""
  for i in 0 1 2; do
    cluster+="${cluster:+,}e$((i + 1))=http://127.0.0.1:${etcd_peer_ports[$i]}"
  done
  for i in 0 1 2; do
    local client=http://127.0.0.1:${etcd_client_ports[$i]} peer=http://127.0.0.1:${etcd_peer_ports[$i]}
    etcd --name "e$((i + 1))" --data-dir "$dir/e$((i + 1))" \
      --listen-client-urls "$client" --advertise-client-urls "$client" \
      --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token vs-peers \
      --logger zap --log-level warn 2>"$dir/e$((i + 1)).log" &
    servers+=($!)
  done
  for _ in $(seq 1 100); do
    alive_or_fail || return 1
    local healthy=0
    for i in 0 1 2; do
      if (exec 3<>"/dev/tcp/127.0.0.1/${etcd_client_ports[$i]}" &&
        printf 'GET /health HTTP/1.0\r\n\r\n' >&3 && cat <&3) 2>/dev/null |
        grep -q '"health":"true"'; then
        healthy=$((healthy + 1))
      fi
    done
    [ "$healthy" = 3 ] && return 0
    sleep 0.3
  done
  log "etcd: not healthy after 30 s"
  return 1
}
# "etcd_put operations=.. errors=.. seconds=.. rate=.. p50_ms=.. p90_ms=.. p99_ms=.. max_ms=.."
parse_kv_line() {
  local line
  line=$(grep -E "^$1 operations=" "$2" | tail -1)
  [ -n "$line" ] || return 1
  awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
         print v["operations"], v["errors"], v["seconds"], v["rate"], v["p50_ms"], v["p99_ms"] }' \
    <<< "$line"
}
load_etcd() {
  "$tools/etcd_put" --endpoints "$etcd_endpoints" --clients "$1" --value-size "$2" --count "$3" \
    --prefix "${5:-bench}/" > "$4" || true
  parse_kv_line etcd_put "$4"
}

# ---- ZooKeeper ----
zk_hosts="127.0.0.1:${zk_client_ports[0]},127.0.0.1:${zk_client_ports[1]},127.0.0.1:${zk_client_ports[2]}"
zk_classpath=/usr/share/java/zookeeper.jar
if [ -f /usr/share/java/slf4j-simple.jar ]; then zk_classpath+=:/usr/share/java/slf4j-simple.jar; fi
start_zookeeper() {
  local dir=$1 i
  for i in 0 1 2; do
    local node=$dir/z$((i + 1))
    mkdir -p "$node"
    echo $((i + 1)) > "$node/myid"
    {
      echo "tickTime=2000"
      echo "initLimit=10"
      echo "syncLimit=5"
      echo "dataDir=$node"
      echo "clientPort=${zk_client_ports[$i]}"
      echo "clientPortAddress=127.0.0.1"
      echo "forceSync=yes"
      echo "maxClientCnxns=0"
      echo "admin.enableServer=false"
      echo "4lw.commands.whitelist=srvr"
      for j in 0 1 2; do
        echo "server.$((j + 1))=127.0.0.1:${zk_quorum_ports[$j]}:${zk_election_ports[$j]}"
      done
    } > "$node.cfg"
    java -Xms1g -Xmx1g -cp "$zk_classpath" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
      -Dzookeeper.jmx.log4j.disable=true \
      org.apache.zookeeper.server.quorum.QuorumPeerMain "$node.cfg" >"$node.log" 2>&1 &
    servers+=($!)
  done
  for _ in $(seq 1 100); do
    alive_or_fail || return 1
    local modes=""
    for i in 0 1 2; do
      modes+=$( (exec 3<>"/dev/tcp/127.0.0.1/${zk_client_ports[$i]}" && printf srvr >&3 &&
        cat <&3) 2>/dev/null | sed -n 's/^Mode: //p' || true)" "
    done
    case "$modes" in
      *leader*) [ "$(wc -w <<< "$modes")" = 3 ] && return 0 ;;
    esac
    sleep 0.3
  done
  log "zookeeper: no quorum after 30 s"
  return 1
}
load_zookeeper() {
  "$tools/zk_put" --hosts "$zk_hosts" --clients "$1" --value-size "$2" --count "$3" \
    --root "/${5:-bench}" > "$4" || true
  parse_kv_line zk_put "$4"
}

# ---- one run: fresh data, start, measure, stop ----
failures=0
run_one() {
  local system=$1 clients=$2 value=$3 writes=$4 rep=$5 label=$6
  local dir=$work/$system-c$clients-v$value-r$rep
  rm -rf "$dir"
  mkdir -p "$dir"
  local measured=""
  if "start_$system" "$dir"; then
    local before after
    if [ "$warmup" -gt 0 ]; then
      "load_$system" "$clients" "$value" "$warmup" "$dir/warmup.out" warmup > /dev/null ||
        log "$label $system: the warm-up failed (see $dir/warmup.out); measuring anyway"
    fi
    before=$(server_ticks)
    measured=$("load_$system" "$clients" "$value" "$writes" "$dir/load.out") || measured=""
    if alive_or_fail; then after=$(server_ticks); else measured=""; fi
  fi
  stop_servers
  if [ -z "$measured" ]; then
    log "$label $system clients=$clients value=$value rep $rep FAILED; its output and logs:"
    for f in "$dir"/warmup.out "$dir"/load.out "$dir"/*.log; do
      [ -f "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }
    done
    failures=$((failures + 1))
    return 0
  fi
  local ops errors seconds rate p50 p99 cpu
  read -r ops errors seconds rate p50 p99 <<< "$measured"
  cpu=$(awk -v t=$((after - before)) -v hz="$ticks_per_second" -v n="$ops" \
    'BEGIN { printf "%.1f", (n > 0 ? t * 1000 / hz / n * 1000 : 0) }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$system" "$clients" "$value" "$rep" \
    "$ops" "$errors" "$seconds" "$rate" "$p50" "$p99" "$cpu" >> "$results"
  log "$(printf '%s %s clients=%s value=%s rep %s: %s writes in %.2f s, %.0f writes/s, p50 %.2f ms, p99 %.2f ms, server CPU %s ms/1000 writes, %s errors' \
    "$label" "$system" "$clients" "$value" "$rep" "$ops" "$seconds" "$rate" "$p50" "$p99" "$cpu" "$errors")"
  if [ "$remove_work" = 1 ]; then rm -rf "$dir"; fi
}

n_runs=0
for clients in $clients_list; do for value in $values_list; do for _ in $(seq 1 "$reps"); do
  for _ in $systems; do n_runs=$((n_runs + 1)); done
done; done; done
log "$n_runs runs (${reps} repetitions of $(wc -w <<< "$systems") systems x" \
  "$(wc -w <<< "$clients_list") client counts x $(wc -w <<< "$values_list") value sizes); data in $work"
run=0
for clients in $clients_list; do
  for value in $values_list; do
    writes=$writes_many
    if [ "$clients" = 1 ]; then writes=$writes_one; fi
    for rep in $(seq 1 "$reps"); do
      for system in $systems; do
        run=$((run + 1))
        run_one "$system" "$clients" "$value" "$writes" "$rep" "[$run/$n_runs]"
      done
    done
  done
done

# ---- report: medians over the repetitions ----
awk -F'\t' -v systems="$systems" -v clients_list="$clients_list" -v values_list="$values_list" \
  -v reps="$reps" -v writes_one="$writes_one" -v writes_many="$writes_many" -v warmup="$warmup" '
function median(key, col,   n, i, j, a, t) {
  n = count[key]
  if (n == 0) return ""
  for (i = 1; i <= n; i++) a[i] = val[key, i, col] + 0
  for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function fmt(x, d) { return x == "" ? "NA" : sprintf("%." d "f", x) }
function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "NA" : sprintf("%.2f", a / b) }
{
  key = $1 SUBSEP $2 SUBSEP $3
  n = ++count[key]
  val[key, n, "rate"] = $8; val[key, n, "p50"] = $9; val[key, n, "p99"] = $10; val[key, n, "cpu"] = $11
  errs[key] += $6
}
END {
  ns = split(systems, sys, " "); nc = split(clients_list, cl, " "); nv = split(values_list, vl, " ")
  print ""
  printf "## vs_peers: medians of %d repetitions (writes per run: %d for 1 client, %d for more, after %d unmeasured)\n\n", reps, writes_one, writes_many, warmup
  print "| clients | value B | system | runs | writes/s | p50 ms | p99 ms | server CPU ms / 1,000 writes | errors |"
  print "|---:|---:|---|---:|---:|---:|---:|---:|---:|"
  for (c = 1; c <= nc; c++) for (v = 1; v <= nv; v++) for (s = 1; s <= ns; s++) {
    key = sys[s] SUBSEP cl[c] SUBSEP vl[v]
    printf "| %s | %s | %s | %d | %s | %s | %s | %s | %d |\n", cl[c], vl[v], sys[s], count[key],
      fmt(median(key, "rate"), 0), fmt(median(key, "p50"), 2), fmt(median(key, "p99"), 2),
      fmt(median(key, "cpu"), 0), errs[key]
  }
  print ""
  print "| clients | value B | writes/s quire/etcd | writes/s quire/ZooKeeper | p99 quire/etcd | p99 quire/ZooKeeper | CPU quire/etcd | CPU quire/ZooKeeper |"
  print "|---:|---:|---:|---:|---:|---:|---:|---:|"
  for (c = 1; c <= nc; c++) for (v = 1; v <= nv; v++) {
    q = "quire" SUBSEP cl[c] SUBSEP vl[v]; e = "etcd" SUBSEP cl[c] SUBSEP vl[v]; z = "zookeeper" SUBSEP cl[c] SUBSEP vl[v]
    printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", cl[c], vl[v],
      ratio(median(q, "rate"), median(e, "rate")), ratio(median(q, "rate"), median(z, "rate")),
      ratio(median(q, "p99"), median(e, "p99")), ratio(median(q, "p99"), median(z, "p99")),
      ratio(median(q, "cpu"), median(e, "cpu")), ratio(median(q, "cpu"), median(z, "cpu"))
  }
  print ""
  for (c = 1; c <= nc; c++) for (v = 1; v <= nv; v++) {
    qr = median("quire" SUBSEP cl[c] SUBSEP vl[v], "rate")
    er = median("etcd" SUBSEP cl[c] SUBSEP vl[v], "rate")
    zr = median("zookeeper" SUBSEP cl[c] SUBSEP vl[v], "rate")
    best = ""
    if (er != "") best = er
    if (zr != "" && (best == "" || zr > best)) best = zr
    printf "vs_peers: clients=%s value=%s quire=%s etcd=%s zookeeper=%s ratio_best=%s\n",
      cl[c], vl[v], fmt(qr, 0), fmt(er, 0), fmt(zr, 0), ratio(qr, best)
  }
}' "$results"

if [ "$failures" -gt 0 ]; then
  log "$failures of $n_runs runs failed (see above); their medians are over the runs that passed"
  exit 1
fi
