/**
 * yargs drops a lone "-" from positional arguments, yet "-" is how users name standard input
 * (`tcpdump -w - | kubectl shark read -`): main.ts carries it through as this path.
 */
export const STDIN_PATH = '/dev/stdin';
