/**
 * Interface names of the current network namespace, for error messages. /sys/class/net shows the
 * namespace sysfs was mounted in (ip netns exec and container runtimes remount it); /proc/net/dev
 * always follows the reading process's namespace, so it is the fallback.
 */
import { readdirSync, readFileSync } from 'node:fs';

export function listInterfaces(): string[] {
  try {
    const names = readdirSync('/sys/class/net');
    if (names.length > 0) return names.sort();
  } catch {
    /* no sysfs: try procfs */
  }
  try {
    return readFileSync('/proc/net/dev', 'utf8')
      .split('\n')
      .slice(2)
      .map((line) => line.split(':')[0]!.trim())
      .filter((name) => name !== '')
      .sort();
  } catch {
    return [];
  }
}
