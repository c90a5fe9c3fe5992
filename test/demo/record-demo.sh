#!/usr/bin/env bash
# Records the bundled demo capture (assets/demo/microservices.pcapng): six small HTTP services and two
# data stores (a real redis-server the catalogue caches in, a real PostgreSQL the orders live in), each
# in its own network namespace on one bridge (like pods on a node), a client driving them, tcpdump on
# the bridge, then pod names written into pcapng name-resolution records. Needs root, iproute2, curl,
# tcpdump, redis-server and postgresql 15 (Debian packages). Regenerate with: sudo test/demo/record-demo.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
node="$root/node_modules/.bin/node"
out="$root/assets/demo/microservices.pcapng"
tag="ksd$$"
node_ns="$tag-node"
services=(front-end catalogue carts orders payment user)
stores=(redis postgres)
declare -A ip=([client]=10.244.0.10 [front-end]=10.244.0.11 [catalogue]=10.244.0.12 [carts]=10.244.0.13 [orders]=10.244.0.14 [payment]=10.244.0.15 [user]=10.244.0.16 [redis]=10.244.0.17 [postgres]=10.244.0.18)
pgbin=/usr/lib/postgresql/15/bin
tmp=$(mktemp -d)
chmod 755 "$tmp" # the postgres user reaches its data and socket folders inside
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$tmp/pg/data/postmaster.pid" ] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$tmp/pg/data" -m immediate stop > /dev/null 2>&1 || true
  for n in client "${services[@]}" "${stores[@]}"; do ip netns del "$tag-$n" 2>/dev/null || true; done
  ip netns del "$node_ns" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$node_ns"
ip -n "$node_ns" link add br0 type bridge
ip -n "$node_ns" link set br0 up
hosts="$tmp/hosts"
for n in "${services[@]}" "${stores[@]}"; do echo "${ip[$n]} $n" >> "$hosts"; done
i=0
for n in client "${services[@]}" "${stores[@]}"; do
  ns="$tag-$n"; i=$((i + 1))
  ip netns add "$ns"
  ip link add "v$tag$i" type veth peer name eth0 netns "$ns"
  ip link set "v$tag$i" netns "$node_ns"
  ip -n "$node_ns" link set "v$tag$i" master br0 up
  ip -n "$ns" addr add "${ip[$n]}/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
done

# The data stores start empty on every recording (no persistence), so what the services do to them
# repeats exactly.
mkdir "$tmp/redis"
ip netns exec "$tag-redis" redis-server --bind "${ip[redis]}" --port 6379 --save '' --appendonly no --protected-mode no --dir "$tmp/redis" > "$tmp/redis.log" 2>&1 &
pids+=($!)
mkdir "$tmp/pg" && chown postgres: "$tmp/pg"
runuser -u postgres -- "$pgbin/initdb" -D "$tmp/pg/data" -U postgres -E UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 -N > "$tmp/initdb.log"
echo "host all all ${ip[postgres]%.*}.0/24 scram-sha-256" >> "$tmp/pg/data/pg_hba.conf"
ip netns exec "$tag-postgres" runuser -u postgres -- "$pgbin/pg_ctl" -D "$tmp/pg/data" -w -l "$tmp/pg/server.log" \
  -o "-c listen_addresses=${ip[postgres]} -c port=5432 -k $tmp/pg" start > /dev/null
psql=(runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -h "$tmp/pg" -U postgres)
"${psql[@]}" -c "CREATE ROLE shop LOGIN PASSWORD 'shop-demo-password'" -c "CREATE DATABASE shop OWNER shop"
"${psql[@]}" -d shop -c "SET ROLE shop" -c "CREATE TABLE orders (id serial PRIMARY KEY, ref text NOT NULL UNIQUE, customer text NOT NULL, amount numeric(10,2) NOT NULL, status text NOT NULL, created timestamptz NOT NULL DEFAULT now())"
for _ in $(seq 50); do grep -q 'Ready to accept' "$tmp/redis.log" 2>/dev/null && break; sleep 0.1; done

# Services resolve each other through /etc/hosts inside a private mount namespace.
for n in "${services[@]}"; do
  unshare --mount sh -c "mount --bind '$hosts' /etc/hosts && exec ip netns exec '$tag-$n' env SERVICE='$n' PORT=80 '$node' '$here/services.mjs'" > "$tmp/$n.log" 2>&1 &
  pids+=($!)
done
for n in "${services[@]}"; do
  for _ in $(seq 50); do grep -q listening "$tmp/$n.log" 2>/dev/null && break; sleep 0.1; done
done

ip netns exec "$node_ns" tcpdump -i br0 -s 0 -U -w "$tmp/raw.pcap" 'tcp' 2> "$tmp/tcpdump.log" &
pids+=($!)
sleep 1

fe="http://${ip[front-end]}"
for round in $(seq 1 20); do
  clients=()
  ip netns exec "$tag-client" curl -s -o /dev/null "$fe/" & clients+=($!)
  ip netns exec "$tag-client" curl -s -o /dev/null -H 'content-type: application/json' -d "{\"amount\": $((round * 9))}" "$fe/orders" & clients+=($!)
  ip netns exec "$tag-client" curl -s -o /dev/null "$fe/customers/$((round % 6))" & clients+=($!)
  wait "${clients[@]}" || true
  sleep 0.4
done
sleep 1
kill -INT "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

names="$tmp/names.txt"
for n in client "${services[@]}" "${stores[@]}"; do echo "${ip[$n]} $n.sock-shop.pod.cluster.local" >> "$names"; done
"$node" "$here/pcap-to-pcapng-with-names.ts" "$tmp/raw.pcap" "$names" "$out"
ls -l "$out"
