// Small shared helpers: the artifacts folder and throwaway HTTP servers on 127.0.0.1.
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { E2E_DIR } from './gateway.js';

export const ARTIFACTS_DIR = resolve(E2E_DIR, 'artifacts');

/** Path of an artifact under e2e/artifacts/, creating the folder. */
export function artifactPath(name) {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return resolve(ARTIFACTS_DIR, name);
}

/**
 * Serves one HTML page at every path, on 127.0.0.1 with an ephemeral port.
 * @returns {Promise<{origin: string, close: () => Promise<void>}>}
 */
export async function servePage(html) {
  const server = createServer((req, res) => {
    if (req.url === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(html);
  });
  await new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', res);
  });
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((res) => {
        server.closeAllConnections();
        server.close(() => res());
      }),
  };
}
