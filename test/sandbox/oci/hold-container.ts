/**
 * For runc.test.ts's sweep test: starts one container named after this process (`ks-<pid>-...`),
 * prints "started <id> <cgroupsPath>" and waits to be SIGKILLed, leaving its container, mount,
 * bundle and cgroups behind as a crashed sandbox would.
 * argv: <bundle base> <image rootfs> <netns path>
 */
import { startContainer } from './runc.ts';

const [base, rootfs, netns] = process.argv.slice(2);
if (base === undefined || rootfs === undefined || netns === undefined) {
  process.stderr.write('usage: hold-container.ts <bundle base> <image rootfs> <netns path>\n');
  process.exit(2);
}
const id = `ks-${process.pid}-1-held`;
const cgroupsPath = `ks-${process.pid}-1-pod/held`;
await startContainer({
  id,
  bundleDir: `${base}/${id}`,
  config: {
    image: { ref: 'sandbox.local/oci-test:1', id: 'sha256:test', rootfs, config: { entrypoint: [], cmd: [], env: [], user: { uid: 0, gid: 0 }, workingDir: '/' } },
    args: ['sleep', '3600'],
    env: { PATH: '/bin' },
    cwd: '/',
    uid: 0,
    gid: 0,
    groups: [],
    capabilities: ['KILL'],
    privileged: false,
    noNewPrivileges: true,
    seccomp: 'RuntimeDefault',
    namespaces: { network: netns },
    mounts: [],
    cgroupsPath,
    stdin: false,
  },
});
process.stdout.write(`started ${id} ${cgroupsPath}\n`);
setInterval(() => {}, 1 << 30);
