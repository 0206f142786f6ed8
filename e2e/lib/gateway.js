// Starting and stopping the real gateway binary for the ecosystem tests.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const E2E_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The gateway binary: $GATEWAY_BIN, or ../bin/gateway (built by `make build`). */
export function gatewayBin() {
  return process.env.GATEWAY_BIN ? resolve(process.env.GATEWAY_BIN) : resolve(E2E_DIR, '..', 'bin', 'gateway');
}

// Variables the gateway reads. They are cleared from the inherited environment so
// that a developer's shell (say, a WALDUR_API_URL) cannot change what a test sees;
// each test passes what it means explicitly.
const GATEWAY_VARS = /^(LISTEN_ADDR|METRICS_LISTEN_ADDR|DEMO_CUSTOMERS|WALDUR_API_URL|WALDUR_API_TOKEN|UPSTREAM_TIMEOUT|CORS_ALLOWED_ORIGINS|GRAPHQL_[A-Z_]+|PERSISTED_DOCUMENTS_[A-Z_]+)$/;

const STARTUP_TIMEOUT_MS = 15_000;
const KILL_AFTER_MS = 5_000;

/**
 * Spawns the gateway on 127.0.0.1 with an ephemeral port (demo mode unless env
 * sets WALDUR_API_URL) and resolves once it logged "gateway listening".
 *
 * @param {{env?: Record<string,string>, args?: string[]}} [opts]
 * @returns {Promise<{url: string, addr: string, pid: number, logs: object[], stderr: string[], stop: () => Promise<number|null>}>}
 */
export async function startGateway({ env = {}, args = [] } = {}) {
  const bin = gatewayBin();
  if (!existsSync(bin)) {
    throw new Error(`gateway binary not found at ${bin}: run \`make build\` in the repository root (or set GATEWAY_BIN)`);
  }
  const childEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!GATEWAY_VARS.test(k)) childEnv[k] = v;
  }
  // Both listeners on ephemeral loopback ports: tests run gateways side by side.
  Object.assign(childEnv, { LISTEN_ADDR: '127.0.0.1:0', METRICS_LISTEN_ADDR: '127.0.0.1:0' }, env);

  const child = spawn(bin, args, { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  const logs = []; // parsed JSON log lines
  const stderr = []; // every stderr line, raw
  let exited = null; // {code, signal} once the child is gone
  const exitPromise = new Promise((res) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      res(exited);
    });
  });

  const addr = await new Promise((res, rej) => {
    let done = false;
    const finish = (err, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) rej(err);
      else res(value);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new Error(`gateway did not log "gateway listening" within ${STARTUP_TIMEOUT_MS} ms; stderr:\n${stderr.join('\n')}`));
    }, STARTUP_TIMEOUT_MS);
    child.once('error', (err) => finish(new Error(`cannot start ${bin}: ${err.message}`)));
    exitPromise.then(({ code, signal }) =>
      finish(new Error(`gateway exited (code ${code}, signal ${signal}) before listening; stderr:\n${stderr.join('\n')}`)),
    );
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderr.push(line);
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        return; // not a log line (a flag error, say): kept in stderr
      }
      logs.push(entry);
      if (entry.msg === 'gateway listening' && typeof entry.addr === 'string') finish(null, entry.addr);
    });
  });

  const stop = async () => {
    if (exited) return exited.code;
    child.kill('SIGTERM'); // this child's PID only
    const killer = setTimeout(() => {
      if (!exited) child.kill('SIGKILL');
    }, KILL_AFTER_MS);
    const { code } = await exitPromise;
    clearTimeout(killer);
    return code;
  };

  return { url: `http://${addr}`, addr, pid: child.pid, logs, stderr, stop };
}
