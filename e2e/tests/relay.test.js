// relay-compiler against the live schema, then the query Relay generated walks every
// row forward and backward through the live server.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { buildClientSchema, getIntrospectionQuery, printSchema } from 'graphql';
import { E2E_DIR, startGateway } from '../lib/gateway.js';
import { WALK_CASES, assertNoDuplicates, gqlData, referenceFor, rowOf } from '../lib/graphql.js';
import { artifactPath } from '../lib/util.js';

const PAGE = 7;

const FRAGMENT_SOURCE = `// A Relay pagination fragment, as an app would write it.
import { graphql } from 'react-relay';

export const quotasFragment = graphql\`
  fragment Quotas_query on Query
  @argumentDefinitions(
    first: { type: "Int" }
    after: { type: "String" }
    last: { type: "Int" }
    before: { type: "String" }
    quotaName: { type: "String!" }
  )
  @refetchable(queryName: "QuotasPaginationQuery") {
    customerQuotas(quotaName: $quotaName, first: $first, after: $after, last: $last, before: $before)
      @connection(key: "Quotas_customerQuotas") {
      totalCount
      edges {
        node {
          customerName
          customerAbbreviation
          value
        }
      }
    }
  }
\`;
`;

let gw;
let project; // the temporary Relay project
before(async () => {
  gw = await startGateway();
  project = mkdtempSync(join(tmpdir(), 'relay-e2e-'));
});
after(async () => {
  await gw?.stop();
  if (project) rmSync(project, { recursive: true, force: true });
});

let operationText; // the generated QuotasPaginationQuery's text

test('relay-compiler compiles a @connection/@refetchable fragment against the live schema', async (t) => {
  // The SDL from introspection: _service.sdl carries federation's @link, which is
  // not a schema relay-compiler can read on its own.
  const introspection = await gqlData(gw.url, getIntrospectionQuery());
  const sdl = printSchema(buildClientSchema(introspection));
  writeFileSync(join(project, 'schema.graphql'), sdl);
  writeFileSync(artifactPath('schema.graphql'), sdl);
  mkdirSync(join(project, 'src'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  writeFileSync(join(project, 'src', 'Quotas.js'), FRAGMENT_SOURCE);
  writeFileSync(
    join(project, 'relay.config.json'),
    JSON.stringify({ src: './src', schema: './schema.graphql', language: 'javascript' }, null, 2),
  );

  const bin = resolve(E2E_DIR, 'node_modules', '.bin', 'relay-compiler');
  const relay = (...args) => {
    const r = spawnSync(bin, args, { cwd: project, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.error, undefined, `relay-compiler did not run: ${r.error}`);
    // eslint-disable-next-line no-control-regex
    return { status: r.status, out: `${r.stdout}\n${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '').trim() };
  };
  const compile = relay();
  t.diagnostic(`relay-compiler: ${compile.out.split('\n').filter(Boolean).join(' | ')}`);
  assert.equal(compile.status, 0, `relay-compiler failed:\n${compile.out}`);
  const validate = relay('--validate'); // the artifacts are what the schema and source say
  assert.equal(validate.status, 0, `relay-compiler --validate failed after compiling:\n${validate.out}`);

  const artifact = join(project, 'src', '__generated__', 'QuotasPaginationQuery.graphql.js');
  assert.ok(existsSync(artifact), `relay-compiler did not write ${artifact}:\n${compile.out}`);
  assert.ok(existsSync(join(project, 'src', '__generated__', 'Quotas_query.graphql.js')), 'no fragment artifact');
  writeFileSync(artifactPath('QuotasPaginationQuery.graphql.js'), readFileSync(artifact));

  // Relay writes ES modules: the project's package.json says so to node.
  const { default: node } = await import(pathToFileURL(artifact).href);
  assert.equal(node.kind, 'Request');
  assert.equal(node.params.operationKind, 'query');
  assert.equal(node.params.name, 'QuotasPaginationQuery');
  operationText = node.params.text;
  assert.match(operationText, /query QuotasPaginationQuery\(/);
  assert.match(operationText, /pageInfo\s*{/, 'Relay adds pageInfo for @connection');
  assert.match(operationText, /cursor/, 'Relay adds cursors for @connection');
});

describe('the generated QuotasPaginationQuery walks the live connection', () => {
  for (const c of WALK_CASES) {
    test(c.label, async () => {
      assert.ok(operationText, 'relay-compiler did not produce the query (see the test above)');
      const ref = await referenceFor(gw.url, c);
      const n = ref.length;
      assert.ok(n > 0, 'empty reference list');
      const run = (variables) => gqlData(gw.url, operationText, { variables: { quotaName: c.quotaName, ...variables }, token: c.token });

      // Forward: first: 7, after: endCursor.
      const forward = [];
      let after = null;
      for (let page = 0; ; page++) {
        assert.ok(page <= Math.ceil(n / PAGE), 'forward walk does not end');
        const conn = (await run({ first: PAGE, after })).customerQuotas;
        const start = forward.length;
        const want = ref.slice(start, start + PAGE);
        assert.equal(conn.totalCount, n, `forward page ${page}: totalCount`);
        assert.deepEqual(conn.edges.map((e) => rowOf(e.node)), want, `forward page ${page}: rows`);
        assert.deepEqual(
          conn.pageInfo,
          {
            hasNextPage: start + want.length < n,
            hasPreviousPage: start > 0,
            startCursor: conn.edges[0]?.cursor ?? null,
            endCursor: conn.edges.at(-1)?.cursor ?? null,
          },
          `forward page ${page}: pageInfo`,
        );
        forward.push(...want);
        if (!conn.pageInfo.hasNextPage) break;
        after = conn.pageInfo.endCursor;
      }
      assertNoDuplicates(forward, 'forward walk');
      assert.deepEqual(forward, ref, 'forward walk != reference');

      // Backward: last: 7, before: startCursor.
      const backward = []; // built from the end
      let before = null;
      for (let page = 0; ; page++) {
        assert.ok(page <= Math.ceil(n / PAGE), 'backward walk does not end');
        const conn = (await run({ last: PAGE, before })).customerQuotas;
        const end = n - backward.length;
        const want = ref.slice(Math.max(0, end - PAGE), end);
        assert.equal(conn.totalCount, n, `backward page ${page}: totalCount`);
        assert.deepEqual(conn.edges.map((e) => rowOf(e.node)), want, `backward page ${page}: rows`);
        assert.deepEqual(
          conn.pageInfo,
          {
            hasNextPage: end < n,
            hasPreviousPage: end - want.length > 0,
            startCursor: conn.edges[0]?.cursor ?? null,
            endCursor: conn.edges.at(-1)?.cursor ?? null,
          },
          `backward page ${page}: pageInfo`,
        );
        backward.unshift(...want);
        if (!conn.pageInfo.hasPreviousPage) break;
        before = conn.pageInfo.startCursor;
      }
      assertNoDuplicates(backward, 'backward walk');
      assert.deepEqual(backward, ref, 'backward walk != reference');
    });
  }
});
