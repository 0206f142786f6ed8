// relay-compiler against the live schema; then the query Relay generated walks every
// row forward and backward through the live server, by hand (exact pageInfo on every
// page) and through relay-runtime's own store and ConnectionHandler, as
// usePaginationFragment's loadNext/loadPrevious drive it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { buildClientSchema, getIntrospectionQuery, printSchema } from 'graphql';
import relayRuntime from 'relay-runtime';
import { E2E_DIR, startGateway } from '../lib/gateway.js';
import { WALK_CASES, assertNoDuplicates, gqlData, referenceFor, rowOf } from '../lib/graphql.js';
import { FRAGMENT_SOURCE } from '../lib/relayfragment.js';
import { artifactPath } from '../lib/util.js';

const PAGE = 7;


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
let artifacts; // the generated query and fragment, as relay-runtime takes them

test('relay-compiler compiles a @connection/@refetchable fragment against the live schema', async (t) => {
  // The SDL from introspection: _service.sdl carries federation's @link, which is
  // not a schema relay-compiler can read on its own.
  const introspection = await gqlData(gw.url, getIntrospectionQuery());
  const sdl = printSchema(buildClientSchema(introspection));
  writeFileSync(join(project, 'schema.graphql'), sdl);
  writeFileSync(artifactPath('schema.graphql'), sdl);
  mkdirSync(join(project, 'src'));
  // CommonJS artifacts: Relay's ES module artifacts import each other without
  // the file extension node's ESM loader needs; require() resolves them.
  writeFileSync(join(project, 'package.json'), JSON.stringify({ private: true, type: 'commonjs' }));
  writeFileSync(join(project, 'src', 'Quotas.js'), FRAGMENT_SOURCE);
  writeFileSync(
    join(project, 'relay.config.json'),
    JSON.stringify({ src: './src', schema: './schema.graphql', language: 'javascript', eagerEsModules: false }, null, 2),
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

  // CommonJS artifacts (see package.json above): import() takes module.exports as default.
  const { default: node } = await import(pathToFileURL(artifact).href);
  assert.equal(node.kind, 'Request');
  assert.equal(node.params.operationKind, 'query');
  assert.equal(node.params.name, 'QuotasPaginationQuery');
  operationText = node.params.text;
  const { default: fragment } = await import(
    pathToFileURL(join(project, 'src', '__generated__', 'Quotas_query.graphql.js')).href
  );
  assert.equal(fragment.kind, 'Fragment');
  assert.ok(fragment.metadata?.connection, 'the fragment artifact has no @connection metadata');
  artifacts = { query: node, fragment };
  assert.match(operationText, /query QuotasPaginationQuery\(/);
  assert.match(operationText, /pageInfo\s*{/, 'Relay adds pageInfo for @connection');
  assert.match(operationText, /cursor/, 'Relay adds cursors for @connection');
});

describe('the generated QuotasPaginationQuery walks the live connection', () => {
  for (const c of WALK_CASES) {
    test(c.label, async () => {
      assert.ok(operationText, 'relay-compiler did not produce the query (see the test above)');
      const ref = await referenceFor(gw, c);
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

// What react-relay's usePaginationFragment does, without React: fetch the
// refetchable query with the cursor of the connection as the store holds it,
// let relay-runtime's ConnectionHandler merge the page into the store (it
// appends after the end cursor, prepends before the start cursor, and ignores a
// page that does not join the edges it has), then read the fragment back.
describe('relay-runtime walks every row through its store (loadNext / loadPrevious)', () => {
  const { Environment, Network, RecordSource, Store, createOperationDescriptor, fetchQuery, getSelector } = relayRuntime;

  function relayEnvironment(token) {
    const network = Network.create(async (params, variables) => {
      const res = await fetch(`${gw.url}/query`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/graphql-response+json', Authorization: token },
        body: JSON.stringify({ query: params.text, variables }),
      });
      return res.json();
    });
    return new Environment({ network, store: new Store(new RecordSource()) });
  }

  // Fetches one page and returns the connection as the fragment reads it from
  // the store: every edge merged so far.
  async function load(env, variables) {
    await fetchQuery(env, artifacts.query, variables).toPromise();
    const root = env.lookup(createOperationDescriptor(artifacts.query, variables).fragment).data;
    const snapshot = env.lookup(getSelector(artifacts.fragment, root));
    assert.ok(!snapshot.isMissingData, 'the store lacks data the fragment needs');
    return snapshot.data.customerQuotas;
  }

  for (const c of WALK_CASES) {
    test(c.label, async () => {
      assert.ok(artifacts, 'relay-compiler did not produce the artifacts (see the test above)');
      const ref = await referenceFor(gw, c);
      const n = ref.length;
      const page = { quotaName: c.quotaName, first: null, after: null, last: null, before: null };

      // Forward: the first page, then loadNext(PAGE) until hasNextPage is false.
      let env = relayEnvironment(c.token);
      let conn = await load(env, { ...page, first: PAGE });
      for (let i = 0; conn.pageInfo.hasNextPage; i++) {
        assert.ok(i <= Math.ceil(n / PAGE), 'loadNext does not end');
        const before = conn.edges.length;
        conn = await load(env, { ...page, first: PAGE, after: conn.pageInfo.endCursor });
        assert.equal(conn.edges.length, Math.min(before + PAGE, n), `loadNext ${i}: edges in the store`);
      }
      assert.equal(conn.totalCount, n);
      assert.deepEqual(conn.edges.map((e) => rowOf(e.node)), ref, 'the store after loadNext != upstream list');

      // Backward: the last page, then loadPrevious(PAGE) until hasPreviousPage is false.
      env = relayEnvironment(c.token);
      conn = await load(env, { ...page, last: PAGE });
      assert.equal(conn.pageInfo.hasNextPage, false, 'the last page says there is a next one');
      for (let i = 0; conn.pageInfo.hasPreviousPage; i++) {
        assert.ok(i <= Math.ceil(n / PAGE), 'loadPrevious does not end');
        const before = conn.edges.length;
        conn = await load(env, { ...page, last: PAGE, before: conn.pageInfo.startCursor });
        assert.equal(conn.edges.length, Math.min(before + PAGE, n), `loadPrevious ${i}: edges in the store`);
      }
      assert.deepEqual(conn.edges.map((e) => rowOf(e.node)), ref, 'the store after loadPrevious != upstream list');
      assertNoDuplicates(conn.edges.map((e) => rowOf(e.node)), 'relay store');
    });
  }
});
