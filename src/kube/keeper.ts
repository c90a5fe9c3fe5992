/**
 * The capture container's main process. An ephemeral container can never be removed from its pod,
 * so it must end by itself once nobody uses it, and leave nothing behind: the keeper scans /proc
 * every few seconds for agents of its container (an argument `<tmp>/<prefix>XXXXXXXXXX/agent.js`,
 * where each upload unpacked into a fresh `mktemp -d` folder named with the container's prefix),
 * removes a folder as soon as its agent is gone (and one no agent ever used once it is `idle` ms
 * old: an upload whose tap died before starting it), and exits 0, removing every folder of its
 * prefix, after `idle` ms without an agent.
 *
 * A POSIX shell script (`sh -c`), with grep, tr, stat, date, sleep, renice and rm: what the image
 * must provide anyway (agent-runner.ts: sh, mktemp, head, tar, gzip; node:24-slim has them all). It
 * was a `node -e` script: ~43 MiB resident for a process that waits, and the pages of the node
 * executable it mapped stayed resident in the agent too, which gives the rest back when idle
 * (remote-agent/live/idle-memory.ts; the kernel leaves pages another process maps). A shell costs
 * ~2 MiB RSS, 0.1 MiB of it anonymous (dash). Its time is counted in slept intervals, so a slow machine only makes it stay longer.
 *
 * Arguments (after the script and its $0): prefix [idleMs=60000] [intervalMs=2000] [procDir=/proc] [tmpDir=$TMPDIR or /tmp].
 */
export const KEEPER_IDLE_MS = 60_000;
export const KEEPER_INTERVAL_MS = 2_000;

/** The name every agent folder of `container` starts with (mktemp adds the random rest). */
export function agentFolderPrefix(container: string): string {
  return `kubectl-shark-${container}.`;
}

export const KEEPER_SCRIPT = `prefix=$1
idle_ms=\${2:-${KEEPER_IDLE_MS}}
every_ms=\${3:-${KEEPER_INTERVAL_MS}}
proc=\${4:-/proc}
tmp=\${5:-\${TMPDIR:-/tmp}}
tmp=\${tmp%/}
# Ours, not the app's: the kernel's first OOM victim when the pod runs out of memory, and the
# last in line for CPU (as the agent: src/remote-agent/agent/yield-to-app.ts). Its commands inherit both.
echo 1000 > /proc/self/oom_score_adj 2>/dev/null
renice -n 19 -p $$ > /dev/null 2>&1
interval=$((every_ms / 1000)).$(printf '%03d' $((every_ms % 1000)))
# The agent folders (names) that a running process names as <folder>/agent.js, one per line.
# tr puts each argument on a line of its own (a newline inside one becomes a space).
running_folders() {
  grep -l -s -a -F /agent.js "$proc"/[0-9]*/cmdline | while IFS= read -r cmdline; do
    pid=\${cmdline%/cmdline}
    [ "\${pid##*/}" = "$$" ] && continue
    tr '\\n\\0' ' \\n' < "$cmdline" 2>/dev/null | while IFS= read -r arg; do
      case $arg in
        */agent.js)
          folder=\${arg%/agent.js}
          folder=\${folder##*/}
          case $folder in "$prefix"*) printf '%s\\n' "$folder" ;; esac ;;
      esac
    done
  done
}
# Folder names, one per line between newlines: those an agent used, and those running now. Names
# come from other processes' arguments: they are only ever compared, never expanded or run.
nl='
'
used=$nl
# Removes the folders of this container no running agent names: those an agent used, those older
# than the idle time (an upload never started), or all of them ($1 = all).
sweep() {
  for dir in "$tmp/$prefix"*; do
    [ -d "$dir" ] || continue
    name=\${dir##*/}
    case "$nl$running$nl" in *"$nl$name$nl"*) continue ;; esac
    gone=$1
    case $used in *"$nl$name$nl"*) gone=all ;; esac
    if [ "$gone" != all ]; then
      modified=$(stat -c %Y "$dir" 2>/dev/null) || continue
      [ $((($(date +%s) - modified) * 1000)) -ge "$idle_ms" ] || continue
    fi
    rm -rf -- "$dir"
    rest=$nl
    while IFS= read -r other; do
      [ -n "$other" ] && [ "$other" != "$name" ] && rest="$rest$other$nl"
    done <<EOF
$used
EOF
    used=$rest
  done
}
sleeper=
finish() {
  [ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null
  running=
  sweep all
  exit 0
}
trap finish TERM INT
idle_for=0
while :; do
  running=$(running_folders)
  while IFS= read -r name; do
    [ -n "$name" ] || continue
    case $used in *"$nl$name$nl"*) ;; *) used="$used$name$nl" ;; esac
  done <<EOF
$running
EOF
  [ -n "$running" ] && idle_for=0
  sweep some
  [ -z "$running" ] && [ "$idle_for" -ge "$idle_ms" ] && finish
  # In the background, so that TERM is handled at once rather than after the sleep.
  sleep "$interval" &
  sleeper=$!
  wait "$sleeper"
  sleeper=
  idle_for=$((idle_for + every_ms))
done
`;

/** The name the keeper's shell runs under ($0): what `ps` shows. */
export const KEEPER_NAME = 'kubectl-shark-keeper';

/** The container command: `sh -c <keeper> kubectl-shark-keeper <prefix of its agent folders>`. */
export function keeperCommand(container: string): string[] {
  return ['sh', '-c', KEEPER_SCRIPT, KEEPER_NAME, agentFolderPrefix(container)];
}
