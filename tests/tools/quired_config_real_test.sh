#!/usr/bin/env bash
# Goal: real processes. quired runs from TOML settings files: --version prints the version, commit
# and format version; --check-config prints the effective settings (which read back the same) and
# exits 0, or names the key or flag, the value and why and exits 2; three members started with
# --config (names, and IPv6 loopback where the machine has it) elect a leader and serve a put and
# a get through the CLI; `cmake --install` puts a quired that runs into a prefix.
# Method: ports 7611-7614 (or free ones near them), a settings file per member, bounded waits;
# every process started here is killed on exit (real_processes.sh).
# Usage: quired_config_real_test.sh QUIRED QUIRE CMAKE BUILD_DIR
set -euo pipefail
quired=$1
quire=$2
cmake=$3
build_dir=$4
source "$(dirname "$0")/real_processes.sh"
base=7611
while ! port_free "$base" || ! port_free $((base + 1)) || ! port_free $((base + 2)) ||
  ! port_free $((base + 3)); do
  base=$((base + 4))
  [ "$base" -lt 7696 ] || fail "no four free ports in 7611-7699"
done

# --version: three lines, the format version a number.
"$quired" --version > "$work/version.out" || fail "--version exited $?"
grep -q '^quired ' "$work/version.out" || fail "no version line: $(cat "$work/version.out")"
grep -q '^git commit [0-9a-f]\{7,\}\|^git commit unknown' "$work/version.out" ||
  fail "no git commit line: $(cat "$work/version.out")"
grep -q '^on-disk format version [0-9]\+$' "$work/version.out" ||
  fail "no format version line: $(cat "$work/version.out")"
echo "--version: $(tr '\n' ' ' < "$work/version.out")"

# IPv6 loopback: member 3 and member 1's HTTP endpoint use [::1] where the kernel has it.
if grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null; then
  v6_host="[::1]"
else
  v6_host="localhost"
  echo "SKIP IPv6: no ::1 on this machine (/proc/net/if_inet6); member 3 uses localhost instead"
fi
write_settings() {  # id
  cat > "$work/n$1.toml" <<TOML
member.id = $1
group.name = "real"
group.token = "5eed"
data_dir = "$work/n$1"
log.level = "debug"
[members]
1 = "localhost:$base"
2 = "127.0.0.1:$((base + 1))"
3 = "$v6_host:$((base + 2))"
TOML
}
for id in 1 2 3; do write_settings "$id"; done

# --check-config: exit 0, the effective settings, and they read back to the same text.
"$quired" --config "$work/n1.toml" --http-listen "$v6_host:$((base + 3))" --check-config \
  > "$work/check.toml" || fail "--check-config exited $? on good settings"
grep -q '^member.id = 1$' "$work/check.toml" || fail "no member.id in: $(cat "$work/check.toml")"
grep -qxF "http.listen = \"$v6_host:$((base + 3))\"" "$work/check.toml" ||
  fail "the flag did not override: $(cat "$work/check.toml")"
grep -q '^log.level = "debug"$' "$work/check.toml" || fail "no log.level: $(cat "$work/check.toml")"
"$quired" --config "$work/check.toml" --check-config > "$work/check-again.toml" ||
  fail "the printed settings do not read back"
cmp -s "$work/check.toml" "$work/check-again.toml" || fail "the printed settings read back differently"
echo "--check-config prints settings that read back the same"

# Bad settings: exit 2 and an error that names the key or flag, the value and why.
expect_refusal() {  # expected-text quired-arguments...
  local expected=$1
  shift
  set +e
  "$quired" "$@" > "$work/refused.out" 2>&1
  local status=$?
  set -e
  [ "$status" -eq 2 ] || fail "quired $* exited $status, not 2: $(cat "$work/refused.out")"
  grep -qF -- "$expected" "$work/refused.out" ||
    fail "quired $* did not say '$expected': $(cat "$work/refused.out")"
}
sed 's/^log.level = "debug"$/protocol.tick_ms = 0/' "$work/n1.toml" > "$work/bad.toml"
expect_refusal "key protocol.tick_ms '0': not between 1 and 10000" --config "$work/bad.toml" --check-config
expect_refusal "--log-level (key log.level) 'loud': not one of" --config "$work/n1.toml" --log-level loud --check-config
expect_refusal "--log-format (key log.format) 'xml': not one of text, json" --config "$work/n1.toml" --log-format xml --check-config
printf 'group.colour = "red"\n' > "$work/colour.toml"
expect_refusal "unknown key 'group.colour'" --config "$work/colour.toml" --check-config
expect_refusal "member.id (--id) 7: not among the members" --config "$work/n1.toml" --id 7 --check-config
echo "bad settings exit 2 naming the key, the value and why"

# Three members from their files (member 1 also serves HTTP, set by a flag over its file).
"$quired" --config "$work/n1.toml" --http-listen "$v6_host:$((base + 3))" >> "$work/n1.log" 2>&1 &
pids+=($!)
for id in 2 3; do
  "$quired" --config "$work/n$id.toml" >> "$work/n$id.log" 2>&1 &
  pids+=($!)
done
members="1=localhost:$base,2=127.0.0.1:$((base + 1)),3=$v6_host:$((base + 2))"
cli=("$quire" --members "$members" --group real --token 5eed --timeout 10)
wait_for_leader "${cli[@]}"
"${cli[@]}" put configured yes > /dev/null || fail "put failed"
got=$("${cli[@]}" get configured) || fail "get failed"
[ "$got" = "yes" ] || fail "get configured: '$got', not 'yes'"
echo "three members from TOML settings ($members): put and get ok"
http_url="http://$v6_host:$((base + 3))/health"
for _ in $(seq 50); do
  curl -gsf "$http_url" > /dev/null 2>&1 && break
  sleep 0.1
done
curl -gsf "$http_url" > /dev/null || fail "GET $http_url did not answer 200"
echo "GET $http_url: 200"

# The install: quired and quire in P/bin (nothing else), the sample settings in P/share/quire.
"$cmake" --install "$build_dir" --prefix "$work/prefix" > "$work/install.log" 2>&1 ||
  fail "cmake --install failed: $(cat "$work/install.log")"
installed=$(cd "$work/prefix/bin" && ls | tr '\n' ' ')
[ "$installed" = "quire quired " ] || fail "P/bin holds '$installed', not 'quire quired'"
"$work/prefix/bin/quired" --version | grep -q '^on-disk format version' ||
  fail "the installed quired --version failed"
example="$work/prefix/share/quire/quired.example.toml"
[ -f "$work/prefix/share/quire/quired.service" ] || fail "no quired.service installed"
"$work/prefix/bin/quired" --config "$example" --data-dir "$work/example" --check-config \
  > /dev/null || fail "the installed example settings do not check"
echo "cmake --install: bin/quire, bin/quired (--version runs), share/quire/ example and unit"
