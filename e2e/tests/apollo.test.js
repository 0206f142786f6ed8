// Apollo Client (core, no React) against the live server: relayStylePagination with
// fetchMore through every page, and automatic persisted queries over GET and POST.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql as apolloGql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { relayStylePagination } from '@apollo/client/utilities';
import { startGateway } from '../lib/gateway.js';
import { TOKENS, WALK_CASES, assertNoDuplicates, referenceFor, rowOf } from '../lib/graphql.js';

const PAGE = 25;

const QUOTAS = apolloGql`
  query ApolloQuotas($quotaName: String!, $first: Int!, $after: String) {
    customerQuotas(quotaName: $quotaName, first: $first, after: $after) {
      totalCount
      edges { cursor node { customerName customerAbbreviation value } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`;

let gw;
before(async () => {
  gw = await startGateway();
});
after(async () => {
  await gw?.stop();
});

function newClient({ token, link } = {}) {
  return new ApolloClient({
    link: link ?? new HttpLink({ uri: `${gw.url}/query`, headers: token ? { Authorization: token } : {} }),
    cache: new InMemoryCache({
      typePolicies: { Query: { fields: { customerQuotas: relayStylePagination(['quotaName', 'orderBy']) } } },
    }),
  });
}

/**
 * Subscribes to an ObservableQuery and keeps its latest settled result, so a test
 * can wait for what the watching UI would render.
 */
function watch(obs) {
  const w = { latest: null, error: null, sub: null };
  w.sub = obs.subscribe({
    next: (r) => {
      if (r.error) w.error = r.error;
      else if (!r.loading && r.data) w.latest = r;
    },
    error: (e) => {
      w.error = e;
    },
  });
  w.until = async (pred, what) => {
    const deadline = Date.now() + 10_000;
    while (!(w.latest && pred(w.latest))) {
      if (w.error) throw w.error;
      if (Date.now() > deadline) throw new Error(`the watched query never emitted ${what}`);
      await new Promise((res) => setTimeout(res, 5));
    }
    return w.latest;
  };
  return w;
}

describe('relayStylePagination + fetchMore walks every row into the cache', () => {
  for (const c of WALK_CASES) {
    test(c.label, async () => {
      const ref = await referenceFor(gw, c);
      const client = newClient({ token: c.token });
      const obs = client.watchQuery({ query: QUOTAS, variables: { quotaName: c.quotaName, first: PAGE } });
      const w = watch(obs);
      const variables = { quotaName: c.quotaName, first: PAGE };
      try {
        let conn = (await w.until(() => true, 'a first page')).data.customerQuotas;
        assert.equal(conn.edges.length, Math.min(PAGE, ref.length), 'first page size');
        for (let page = 1; conn.pageInfo.hasNextPage; page++) {
          assert.ok(page <= Math.ceil(ref.length / PAGE), 'fetchMore does not end');
          const more = await obs.fetchMore({ variables: { after: conn.pageInfo.endCursor } });
          assert.equal(more.error, undefined, `fetchMore page ${page}: ${more.error}`);
          conn = client.readQuery({ query: QUOTAS, variables }).customerQuotas; // the merged list
          assert.equal(conn.edges.length, Math.min((page + 1) * PAGE, ref.length), `after fetchMore page ${page}: cached edges`);
        }
        const watched = (await w.until((r) => r.data.customerQuotas.edges.length === ref.length, 'the whole list')).data.customerQuotas;
        for (const merged of [conn, watched]) {
          const rows = merged.edges.map((e) => rowOf(e.node));
          assertNoDuplicates(rows, 'cached edges');
          assert.deepEqual(rows, ref, 'cached edges != reference list');
          assert.equal(merged.totalCount, ref.length, 'totalCount');
          assert.equal(merged.pageInfo.hasNextPage, false);
          assert.equal(merged.pageInfo.hasPreviousPage, false, 'the merged list starts at the beginning');
          assert.equal(new Set(merged.edges.map((e) => e.cursor)).size, ref.length, 'cursors are unique');
        }
      } finally {
        w.sub.unsubscribe();
        client.stop();
      }
    });
  }
});

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** A fetch that records what the link sent and what the server answered. */
function recordingFetch() {
  const requests = [];
  const fetchFn = async (input, init = {}) => {
    const url = new URL(typeof input === 'string' ? input : input.url);
    const method = (init.method ?? 'GET').toUpperCase();
    let payload; // the GraphQL request parameters, however they were sent
    if (method === 'GET') {
      const p = url.searchParams;
      payload = {
        query: p.get('query') ?? undefined,
        extensions: p.has('extensions') ? JSON.parse(p.get('extensions')) : undefined,
      };
    } else {
      payload = JSON.parse(init.body);
    }
    const res = await fetch(input, init);
    let answer = null;
    try {
      answer = await res.clone().json();
    } catch {
      // not JSON: left null
    }
    requests.push({ method, url: url.href, payload, status: res.status, answer });
    return res;
  };
  return { requests, fetchFn };
}

describe('automatic persisted queries (PersistedQueryLink → HttpLink)', () => {
  for (const useGETForHashedQueries of [true, false]) {
    const mode = useGETForHashedQueries ? 'GET' : 'POST';
    test(`hashed queries over ${mode}: the first query registers, the second sends only the hash`, async () => {
      // An operation of its own per case, so each starts unregistered.
      const query = apolloGql`
        query ApqProbe${mode}($quotaName: String!) {
          customerQuotas(quotaName: $quotaName, first: 3) { totalCount nodes { customerName value } }
        }
      `;
      const { requests, fetchFn } = recordingFetch();
      const link = ApolloLink.from([
        new PersistedQueryLink({ sha256, useGETForHashedQueries }),
        new HttpLink({ uri: `${gw.url}/query`, fetch: fetchFn, headers: { Authorization: TOKENS.owner } }),
      ]);
      const client = newClient({ link });
      const describeRequests = () => JSON.stringify(requests, null, 1).slice(0, 3000);
      const run = async () => {
        let r;
        try {
          r = await client.query({ query, variables: { quotaName: 'os_storage_size' }, fetchPolicy: 'network-only' });
        } catch (err) {
          throw new Error(`the query failed through PersistedQueryLink (does the server support APQ?): ${err.message}\nrequests: ${describeRequests()}`);
        }
        assert.equal(r.error, undefined, `query failed: ${r.error}\nrequests: ${describeRequests()}`);
        assert.ok(r.data.customerQuotas.totalCount > 0 && r.data.customerQuotas.totalCount < 200, 'the owner\'s rows');
        return r.data;
      };
      const hashOf = (req) => req.payload.extensions?.persistedQuery?.sha256Hash;
      try {
        // 1. Registers: somewhere in the first query's requests, the full text goes
        //    with its hash and is answered with data.
        const first = await run();
        const registering = requests.find((r) => r.payload.query && hashOf(r));
        assert.ok(registering, `the first query never sent its text with its hash (APQ registration):\n${describeRequests()}`);
        assert.equal(hashOf(registering), sha256(registering.payload.query), 'the hash is the SHA-256 of the text sent');
        assert.ok(registering.answer?.data && !registering.answer.errors, `the registration was not answered with data:\n${describeRequests()}`);

        // 2. Hits: one request, the hash and no text, answered with data.
        requests.length = 0;
        const second = await run();
        assert.equal(requests.length, 1, `the second query should take one request:\n${describeRequests()}`);
        const [hit] = requests;
        assert.equal(hit.method, mode, 'method of the hashed request');
        assert.equal(hit.payload.query, undefined, 'the hashed request carries no query text');
        if (mode === 'GET') assert.ok(!new URL(hit.url).searchParams.has('query'), 'no query= in the URL');
        assert.equal(hashOf(hit), hashOf(registering), 'the same hash as registered');
        assert.equal(hit.status, 200, `HTTP status of the hit: ${hit.status}`);
        assert.equal(hit.answer?.errors, undefined, `the hit was answered with errors (PersistedQueryNotFound?): ${JSON.stringify(hit.answer?.errors)}`);
        assert.ok(hit.answer?.data?.customerQuotas, 'the hit was answered with data');
        assert.deepEqual(second, first, 'the same answer both times');
      } finally {
        client.stop();
      }
    });
  }
});
