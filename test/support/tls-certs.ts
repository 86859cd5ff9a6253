// Test PKI for TLS integration tests: a CA, a server cert valid for 127.0.0.1/localhost, and a client cert.
// Generated once per test process with the `openssl` CLI (no extra npm dependency).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertPair {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface TlsCerts {
  readonly dir: string;
  readonly caFile: string;
  readonly ca: Buffer;
  readonly server: CertPair;
  readonly client: CertPair;
}

// One minimal config so the result does not depend on the distribution's openssl.cnf defaults.
const OPENSSL_CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = replication-engine test
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
[v3_client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
`;

let cached: Promise<TlsCerts> | undefined;

/** The process-wide test PKI, generated on first use. */
export function getTlsCerts(): Promise<TlsCerts> {
  cached ??= generate().catch((err: unknown) => {
    cached = undefined; // let a later caller retry rather than caching the failure
    throw err;
  });
  return cached;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('openssl is not on PATH; TLS tests need it: apt-get install openssl', { cause: err });
    }
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0] ?? ''} failed: ${stderr.trim()}`, { cause: err });
  }
}

// EC P-256 keys: generation is instant, unlike RSA, and Redis/Node both accept them.
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function generate(): Promise<TlsCerts> {
  // Inside the test run dir when there is one: vitest stops workers with SIGTERM, which skips 'exit' hooks,
  // and global teardown removes that dir whatever happened to the worker.
  const parent = process.env.RE_TEST_RUN_DIR ?? os.tmpdir();
  const dir = await mkdtemp(path.join(parent, 're-tls-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'openssl.cnf'), OPENSSL_CONFIG);
  const cfg = ['-config', 'openssl.cnf'];

  await openssl(
    ['req', '-x509', ...NEW_KEY, ...cfg, '-extensions', 'v3_ca', '-subj', '/CN=re-test-ca',
      '-days', '3650', '-keyout', 'ca.key', '-out', 'ca.crt'],
    dir,
  );
  const issue = async (name: string, cn: string, extensions: string): Promise<CertPair> => {
    await openssl(['req', '-new', ...NEW_KEY, ...cfg, '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`], dir);
    await openssl(
      ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
        '-days', '3650', '-extfile', 'openssl.cnf', '-extensions', extensions, '-out', `${name}.crt`],
      dir,
    );
    const certFile = path.join(dir, `${name}.crt`);
    const keyFile = path.join(dir, `${name}.key`);
    return { certFile, keyFile, cert: await readFile(certFile), key: await readFile(keyFile) };
  };
  // Sequential: the serial file is shared between the two signings.
  const server = await issue('server', 'localhost', 'v3_server');
  const client = await issue('client', 're-test-client', 'v3_client');
  const caFile = path.join(dir, 'ca.crt');
  return { dir, caFile, ca: await readFile(caFile), server, client };
}
