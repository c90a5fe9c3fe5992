/**
 * The sandbox's certificates, made with the `openssl` CLI: a CA, the API server's certificate
 * (IP SAN 127.0.0.1, DNS localhost) and client certificates (Kubernetes x509 authn: CN = user,
 * O = groups). EC keys: much faster to make than RSA, and Go and Node both take them.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export function makePki(dir: string): Pki {
  openssl(
    ['req', '-x509', ...KEY, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '7', '-subj', '/CN=sandbox-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature'],
    dir,
  );
  signed(dir, 'server', '/CN=kube-apiserver', [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
  };
}

function signed(dir: string, base: string, subject: string, ext: string[]): void {
  writeFileSync(join(dir, `${base}.ext`), `${ext.join('\n')}\n`);
  openssl(['req', ...KEY, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', subject], dir);
  openssl(
    ['x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${base}.crt`, '-days', '7', '-extfile', `${base}.ext`],
    dir,
  );
}

/** A client certificate for `user` in `groups`; returns the cert and key paths. */
export function makeClientCert(pki: Pki, base: string, user: string, groups: readonly string[]): { cert: string; key: string } {
  const escape = (s: string): string => s.replace(/[/\\+=,]/g, (c) => `\\${c}`);
  const subject = `${groups.map((g) => `/O=${escape(g)}`).join('')}/CN=${escape(user)}`;
  signed(pki.dir, base, subject, ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth']);
  return { cert: join(pki.dir, `${base}.crt`), key: join(pki.dir, `${base}.key`) };
}

/** A kubeconfig with file paths for the certificates, context "sandbox". */
export function kubeconfigYaml(o: {
  server: string;
  ca: string;
  user: string;
  namespace: string;
  clientCert?: string;
  clientKey?: string;
  token?: string;
}): string {
  const q = (s: string): string => JSON.stringify(s);
  const creds = o.token !== undefined ? [`    token: ${q(o.token)}`] : [`    client-certificate: ${q(o.clientCert!)}`, `    client-key: ${q(o.clientKey!)}`];
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: sandbox',
    '  cluster:',
    `    server: ${q(o.server)}`,
    `    certificate-authority: ${q(o.ca)}`,
    'users:',
    `- name: ${q(o.user)}`,
    '  user:',
    ...creds,
    'contexts:',
    '- name: sandbox',
    '  context:',
    '    cluster: sandbox',
    `    user: ${q(o.user)}`,
    `    namespace: ${q(o.namespace)}`,
    'current-context: sandbox',
    '',
  ].join('\n');
}
