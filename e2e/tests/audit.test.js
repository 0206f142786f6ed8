// graphql-http's audit of the GraphQL over HTTP spec against the live /query endpoint.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { auditServer } from 'graphql-http';
import { startGateway } from '../lib/gateway.js';
import { artifactPath } from '../lib/util.js';

let gw;
before(async () => {
  gw = await startGateway();
});
after(async () => {
  await gw?.stop();
});

test('GraphQL over HTTP audit (graphql-http auditServer): no MUST and no SHOULD failures', async (t) => {
  const results = await auditServer({ url: `${gw.url}/query` });
  const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
  const failures = [];
  for (const r of results) {
    counts[r.status] = (counts[r.status] ?? 0) + 1;
    if (r.status !== 'ok') {
      let body = '';
      try {
        body = await r.response.text();
      } catch {
        // the body was read by the audit already
      }
      failures.push({
        status: r.status,
        id: r.id,
        name: r.name,
        reason: r.reason,
        httpStatus: r.response?.status,
        contentType: r.response?.headers?.get('content-type') ?? null,
        body: body.slice(0, 500),
      });
    }
  }
  const report = { total: results.length, ...counts, failures };
  writeFileSync(artifactPath('audit.json'), JSON.stringify(report, null, 2) + '\n');

  t.diagnostic(`audit: ${results.length} audits: ${counts.ok} ok, ${counts.warn} warn (SHOULD), ` +
    `${counts.error} error (MUST), ${counts.notice} notice (MAY)`);
  for (const f of failures) t.diagnostic(`${f.status} ${f.id} ${f.name}: ${f.reason} (HTTP ${f.httpStatus})`);

  const list = (status) => failures.filter((f) => f.status === status).map((f) => `  ${f.id} ${f.name}: ${f.reason}`).join('\n');
  assert.equal(counts.error, 0, `MUST failures:\n${list('error')}`);
  assert.equal(counts.warn, 0, `SHOULD failures:\n${list('warn')}`);
});
