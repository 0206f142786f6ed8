// Trusted documents: the manifests are made by the real tools from the walks'
// own documents (@apollo/generate-persisted-query-manifest over the Apollo
// Client walk's file; relay-compiler's local persisting over the Relay walk's
// fragment), the real binary runs with PERSISTED_DOCUMENTS_FILE and
// PERSISTED_DOCUMENTS_ONLY=true, and each client walks every row sending ids
// only, while anything else is refused with Apollo Router's codes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql as apolloGql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { relayStylePagination } from '@apollo/client/utilities';
import { generatePersistedQueryIdsFromManifest } from '@apollo/persisted-query-lists';
import relayRuntime from 'relay-runtime';
import { E2E_DIR, gatewayBin, startGateway } from '../lib/gateway.js';
import { TOKENS, WALK_CASES, assertNoDuplicates, gql, rowOf, upstreamList } from '../lib/graphql.js';
import { FRAGMENT_SOURCE } from '../lib/relayfragment.js';
import { artifactPath } from '../lib/util.js';

const FREE_FORM = '{ customerQuotas(quotaName: "os_storage_size", first: 100) { nodes { customerName value } } }';

let work; // temporary folder: configs, manifests, the Relay project
before(() => {
  work = mkdtempSync(join(tmpdir(), 'trusted-e2e-'));
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function run(bin, args, cwd) {
  const r = spawnSync(bin, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.error, undefined, `${bin} did not run: ${r.error}`);
  // eslint-disable-next-line no-control-regex
  return { status: r.status, out: `${r.stdout}\n${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '').trim() };
}

/** The reference of a walk case: Waldur's own list, read directly (the free-form reference walk is refused here). */
async function reference(gw, c) {
  const ref = await upstreamList(gw, c);
  assert.ok(ref.length > 0, `${c.label}: empty reference list`);
  assertNoDuplicates(ref, `${c.label}: upstream list`);
  return ref;
}

/** What every safelisted gateway must refuse, whatever client sent it. */
async function assertRefusesTheRest(t, gw) {
  const freeForm = await gql(gw.url, FREE_FORM, { token: TOKENS.staff });
  assert.equal(freeForm.status, 403, `free-form: HTTP ${freeForm.status}`);
  assert.equal(freeForm.body.errors?.[0]?.extensions?.code, 'QUERY_NOT_IN_SAFELIST', JSON.stringify(freeForm.body));
  assert.equal(freeForm.body.data, undefined);
  const unknown = await fetch(`${gw.url}/query`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: TOKENS.staff },
    body: JSON.stringify({ doc_id: 'not-in-the-list' }),
  });
  const unknownBody = await unknown.json();
  assert.equal(unknown.status, 404, `unknown id: HTTP ${unknown.status}`);
  assert.equal(unknownBody.errors?.[0]?.extensions?.code, 'PERSISTED_QUERY_NOT_IN_LIST', JSON.stringify(unknownBody));
  t.diagnostic(`free-form document: HTTP ${freeForm.status} ${JSON.stringify(freeForm.body)}`);
  t.diagnostic(`unknown id: HTTP ${unknown.status} ${JSON.stringify(unknownBody)}`);
}

test('a manifest that does not validate against the schema stops the binary with exit 2', () => {
  const bad = join(work, 'bad-manifest.json');
  writeFileSync(bad, JSON.stringify({ 'id-1': 'query Q { customerQuotas(quotaName: "x") { nosuchfield } }' }));
  const r = spawnSync(gatewayBin(), [], {
    env: { PATH: process.env.PATH, LISTEN_ADDR: '127.0.0.1:0', PERSISTED_DOCUMENTS_FILE: bad, PERSISTED_DOCUMENTS_ONLY: 'true' },
    encoding: 'utf8',
    timeout: 15_000,
  });
  assert.equal(r.status, 2, `exit ${r.status}: ${r.stderr}`);
  assert.match(r.stderr, /PERSISTED_DOCUMENTS_FILE/);
  assert.match(r.stderr, /nosuchfield/);
});

describe('Apollo Client with a generated manifest, PERSISTED_DOCUMENTS_ONLY=true', () => {
  const PAGE = 25;
  let gw;
  let manifest;
  before(async () => {
    // The Apollo walk's own file, as an Apollo app's build would scan its sources.
    const config = join(work, 'persisted-query-manifest.config.json');
    const output = join(work, 'apollo-manifest.json');
    writeFileSync(config, JSON.stringify({ documents: [resolve(E2E_DIR, 'tests', 'apollo.test.js')], output }));
    const gen = run(resolve(E2E_DIR, 'node_modules', '.bin', 'generate-persisted-query-manifest'), ['--config', config], E2E_DIR);
    assert.equal(gen.status, 0, `generate-persisted-query-manifest failed:\n${gen.out}`);
    manifest = JSON.parse(readFileSync(output, 'utf8'));
    writeFileSync(artifactPath('apollo-persisted-query-manifest.json'), JSON.stringify(manifest, null, 2));
    gw = await startGateway({ env: { PERSISTED_DOCUMENTS_FILE: output, PERSISTED_DOCUMENTS_ONLY: 'true' } });
  });
  after(async () => {
    await gw?.stop();
  });

  test('the manifest holds the walk\'s operation, named by the SHA-256 of its body', (t) => {
    const op = manifest.operations.find((o) => o.name === 'ApolloQuotas');
    assert.ok(op, `no ApolloQuotas in the manifest: ${JSON.stringify(manifest.operations.map((o) => o.name))}`);
    assert.equal(manifest.format, 'apollo-persisted-query-manifest');
    const loaded = gw.logs.find((l) => l.msg === 'persisted documents loaded');
    assert.ok(loaded, 'the gateway did not log the loaded documents');
    t.diagnostic(`generated: ${manifest.operations.length} operations (${manifest.operations.map((o) => o.name).join(', ')}); gateway: ${JSON.stringify(loaded)}`);
  });

  for (const c of WALK_CASES) {
    test(`relayStylePagination + fetchMore walks every row by id: ${c.label}`, async (t) => {
      const ref = await reference(gw, c);
      // The document the walk uses, as the manifest holds it (Apollo Client
      // prints it back to the same body and name).
      const QUOTAS = apolloGql(manifest.operations.find((o) => o.name === 'ApolloQuotas').body);
      const sent = [];
      const fetchFn = async (input, init) => {
        sent.push(JSON.parse(init.body));
        return fetch(input, init);
      };
      const client = new ApolloClient({
        link: ApolloLink.from([
          new PersistedQueryLink(generatePersistedQueryIdsFromManifest({ loadManifest: () => manifest })),
          new HttpLink({ uri: `${gw.url}/query`, fetch: fetchFn, headers: { Authorization: c.token } }),
        ]),
        cache: new InMemoryCache({
          typePolicies: { Query: { fields: { customerQuotas: relayStylePagination(['quotaName', 'orderBy']) } } },
        }),
      });
      const variables = { quotaName: c.quotaName, first: PAGE };
      let sub;
      try {
        const obs = client.watchQuery({ query: QUOTAS, variables });
        // The first page, as a watching UI renders it.
        const first = await new Promise((res, rej) => {
          sub = obs.subscribe({
            next: (r) => {
              if (r.error) rej(new Error(`first page: ${r.error}\nsent: ${JSON.stringify(sent.at(-1))}`));
              else if (!r.loading && r.data) res(r);
            },
            error: rej,
          });
        });
        let conn = first.data.customerQuotas;
        for (let page = 1; conn.pageInfo.hasNextPage; page++) {
          assert.ok(page <= Math.ceil(ref.length / PAGE), 'fetchMore does not end');
          const more = await obs.fetchMore({ variables: { after: conn.pageInfo.endCursor } });
          assert.equal(more.error, undefined, `fetchMore page ${page}: ${more.error}`);
          conn = client.readQuery({ query: QUOTAS, variables }).customerQuotas;
        }
        const rows = conn.edges.map((e) => rowOf(e.node));
        assertNoDuplicates(rows, 'cached edges');
        assert.deepEqual(rows, ref, 'cached edges != upstream list');
        assert.equal(conn.totalCount, ref.length);
        // Every request named the operation by id and carried no text.
        const id = manifest.operations.find((o) => o.name === 'ApolloQuotas').id;
        for (const body of sent) {
          assert.equal(body.query, undefined, 'a request carried the query text');
          assert.equal(body.extensions?.persistedQuery?.sha256Hash, id, 'a request carried another id');
        }
        t.diagnostic(`${ref.length} rows in ${sent.length} requests, each {extensions.persistedQuery.sha256Hash: ${id.slice(0, 12)}…}, no query text`);
      } finally {
        sub?.unsubscribe();
        client.stop();
      }
    });
  }

  test('a free-form document and an unknown id are refused', async (t) => {
    await assertRefusesTheRest(t, gw);
  });
});


describe('Relay with relay-compiler\'s persisted_queries.json, PERSISTED_DOCUMENTS_ONLY=true', () => {
  const PAGE = 7;
  const { Environment, Network, RecordSource, Store, createOperationDescriptor, fetchQuery, getSelector } = relayRuntime;
  let gw;
  let artifacts;
  let persisted;
  before(async () => {
    const project = join(work, 'relay');
    mkdirSync(join(project, 'src'), { recursive: true });
    // The schema as clients see it: the committed contract.
    writeFileSync(join(project, 'schema.graphql'), readFileSync(resolve(E2E_DIR, '..', 'schema', 'contract.graphql')));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ private: true, type: 'commonjs' }));
    writeFileSync(join(project, 'src', 'Quotas.js'), FRAGMENT_SOURCE);
    writeFileSync(
      join(project, 'relay.config.json'),
      JSON.stringify({
        src: './src',
        schema: './schema.graphql',
        language: 'javascript',
        eagerEsModules: false,
        persistConfig: { file: './persisted_queries.json', algorithm: 'SHA256' },
      }),
    );
    writeFileSync(join(project, 'persisted_queries.json'), '{}'); // relay-compiler adds to it
    const compile = run(resolve(E2E_DIR, 'node_modules', '.bin', 'relay-compiler'), [], project);
    assert.equal(compile.status, 0, `relay-compiler failed:\n${compile.out}`);
    const file = join(project, 'persisted_queries.json');
    persisted = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(artifactPath('relay-persisted_queries.json'), JSON.stringify(persisted, null, 2));
    const load = async (name) => (await import(pathToFileURL(join(project, 'src', '__generated__', `${name}.graphql.js`)).href)).default;
    artifacts = { query: await load('QuotasPaginationQuery'), fragment: await load('Quotas_query') };
    gw = await startGateway({ env: { PERSISTED_DOCUMENTS_FILE: file, PERSISTED_DOCUMENTS_ONLY: 'true' } });
  });
  after(async () => {
    await gw?.stop();
  });

  test('relay-compiler persisted the query: the artifact has an id and no text', (t) => {
    const { params } = artifacts.query;
    assert.equal(params.text, null, 'a persisted artifact carries no text');
    assert.ok(params.id && persisted[params.id], `the artifact's id ${params.id} is not in persisted_queries.json`);
    t.diagnostic(`persisted_queries.json: ${Object.keys(persisted).length} operation(s); QuotasPaginationQuery id ${params.id}`);
  });

  for (const c of WALK_CASES) {
    test(`relay-runtime walks every row both ways by doc_id: ${c.label}`, async (t) => {
      const ref = await reference(gw, c);
      const n = ref.length;
      let requests = 0;
      const environment = () =>
        new Environment({
          network: Network.create(async (params, variables) => {
            requests++;
            assert.equal(params.text, null);
            const res = await fetch(`${gw.url}/query`, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json', Accept: 'application/graphql-response+json', Authorization: c.token },
              body: JSON.stringify({ doc_id: params.id, variables }),
            });
            const body = await res.json();
            assert.equal(res.status, 200, `HTTP ${res.status}: ${JSON.stringify(body)}`);
            return body;
          }),
          store: new Store(new RecordSource()),
        });
      const load = async (env, variables) => {
        await fetchQuery(env, artifacts.query, variables).toPromise();
        const root = env.lookup(createOperationDescriptor(artifacts.query, variables).fragment).data;
        const snapshot = env.lookup(getSelector(artifacts.fragment, root));
        assert.ok(!snapshot.isMissingData, 'the store lacks data the fragment needs');
        return snapshot.data.customerQuotas;
      };
      const page = { quotaName: c.quotaName, first: null, after: null, last: null, before: null };

      let env = environment();
      let conn = await load(env, { ...page, first: PAGE });
      for (let i = 0; conn.pageInfo.hasNextPage; i++) {
        assert.ok(i <= Math.ceil(n / PAGE), 'loadNext does not end');
        conn = await load(env, { ...page, first: PAGE, after: conn.pageInfo.endCursor });
      }
      assert.deepEqual(conn.edges.map((e) => rowOf(e.node)), ref, 'the store after loadNext != upstream list');

      env = environment();
      conn = await load(env, { ...page, last: PAGE });
      for (let i = 0; conn.pageInfo.hasPreviousPage; i++) {
        assert.ok(i <= Math.ceil(n / PAGE), 'loadPrevious does not end');
        conn = await load(env, { ...page, last: PAGE, before: conn.pageInfo.startCursor });
      }
      assert.deepEqual(conn.edges.map((e) => rowOf(e.node)), ref, 'the store after loadPrevious != upstream list');
      t.diagnostic(`${n} rows forward and backward in ${requests} requests, each {doc_id: ${artifacts.query.params.id.slice(0, 12)}…}, no query text`);
    });
  }

  test('a free-form document and an unknown id are refused', async (t) => {
    await assertRefusesTheRest(t, gw);
  });
});
