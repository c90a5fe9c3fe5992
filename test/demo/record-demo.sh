#!/usr/bin/env bash
# Records the bundled demo capture (assets/demo/microservices.pcapng): six small HTTP services, each
# in its own network namespace on one bridge (like pods on a node), a client driving them, tcpdump on
# the bridge, then pod names written into pcapng name-resolution records. Needs root, iproute2, curl
# and tcpdump. Regenerate with: sudo test/demo/record-demo.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
node="$root/node_modules/.bin/node"
out="$root/assets/demo/microservices.pcapng"
tag="ksd$$"
node_ns="$tag-node"
services=(front-end catalogue carts orders payment user)
declare -A ip=([client]=10.244.0.10 [front-end]=10.244.0.11 [catalogue]=10.244.0.12 [carts]=10.244.0.13 [orders]=10.244.0.14 [payment]=10.244.0.15 [user]=10.244.0.16)
tmp=$(mktemp -d)
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for n in client "${services[@]}"; do ip netns del "$tag-$n" 2>/dev/null || true; done
  ip netns del "$node_ns" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$node_ns"
ip -n "$node_ns" link add br0 type bridge
ip -n "$node_ns" link set br0 up
hosts="$tmp/hosts"
for n in "${services[@]}"; do echo "${ip[$n]} $n" >> "$hosts"; done
i=0
for n in client "${services[@]}"; do
  ns="$tag-$n"; i=$((i + 1))
  ip netns add "$ns"
  ip link add "v$tag$i" type veth peer name eth0 netns "$ns"
  ip link set "v$tag$i" netns "$node_ns"
  ip -n "$node_ns" link set "v$tag$i" master br0 up
  ip -n "$ns" addr add "${ip[$n]}/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
done

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
for n in client "${services[@]}"; do echo "${ip[$n]} $n.sock-shop.pod.cluster.local" >> "$names"; done
"$node" "$here/pcap-to-pcapng-with-names.ts" "$tmp/raw.pcap" "$names" "$out"
ls -l "$out"
