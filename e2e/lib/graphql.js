// Plain-fetch GraphQL helpers, and the upstream list every client walk is compared with.
import assert from 'node:assert/strict';

export const TOKENS = {
  staff: 'Token demo-staff-token',
  owner: 'Token demo-owner-token',
  nobody: 'Token demo-nobody-token',
  legacy: 'Token demo-legacy-token',
};

/**
 * POSTs one GraphQL request to `${url}/query` and returns {status, headers, body}.
 * @param {string} url the gateway's base URL
 */
export async function gql(url, query, { variables, operationName, token, headers = {} } = {}) {
  const res = await fetch(`${url}/query`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/graphql-response+json, application/json;q=0.9',
      ...(token ? { Authorization: token } : {}),
      ...headers,
    },
    body: JSON.stringify({ query, variables, operationName }),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`non-JSON answer (HTTP ${res.status}): ${text.slice(0, 300)}`);
  }
  return { status: res.status, headers: res.headers, body };
}

/** Like gql, but fails on any GraphQL error and returns `data`. */
export async function gqlData(url, query, opts) {
  const { status, body } = await gql(url, query, opts);
  assert.equal(body.errors, undefined, `GraphQL errors (HTTP ${status}): ${JSON.stringify(body.errors)}`);
  assert.ok(body.data, `no data (HTTP ${status})`);
  return body.data;
}

const REFERENCE_QUERY = `
  query Reference($quotaName: String!, $after: String) {
    customerQuotas(quotaName: $quotaName, first: 100, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { customerName customerAbbreviation value } }
    }
  }`;

/**
 * The reference list: a plain forward walk with first: 100. Returns
 * [{customerName, customerAbbreviation, value}] in upstream order; the walk
 * itself checks that totalCount matches the rows seen and that no row repeats.
 */
export async function referenceList(url, { quotaName, token }) {
  const rows = [];
  let after = null;
  let totalCount = null;
  for (let i = 0; i < 1000; i++) {
    const data = await gqlData(url, REFERENCE_QUERY, { variables: { quotaName, after }, token });
    const c = data.customerQuotas;
    totalCount ??= c.totalCount;
    assert.equal(c.totalCount, totalCount, 'totalCount changed during the reference walk');
    rows.push(...c.edges.map((e) => rowOf(e.node)));
    if (!c.pageInfo.hasNextPage) break;
    after = c.pageInfo.endCursor;
  }
  assert.equal(rows.length, totalCount, 'reference walk: rows seen != totalCount');
  assertNoDuplicates(rows, 'reference walk');
  return rows;
}

/** The comparable part of a node: names and value, without __typename and friends. */
export function rowOf(node) {
  return { customerName: node.customerName, customerAbbreviation: node.customerAbbreviation, value: node.value };
}

/** Organisation names are unique in the demo, so a repeated name is a repeated row. */
export function assertNoDuplicates(rows, what) {
  const seen = new Set();
  for (const r of rows) {
    assert.ok(!seen.has(r.customerName), `${what}: ${r.customerName} appears twice`);
    seen.add(r.customerName);
  }
}

/** The reference cases every client walks: staff on two quotas (one with nulls), and the owner. */
export const WALK_CASES = [
  { label: 'staff, os_storage_size', quotaName: 'os_storage_size', token: TOKENS.staff, staff: true },
  { label: 'staff, estimated_price (has nulls)', quotaName: 'estimated_price', token: TOKENS.staff, staff: true, nulls: true },
  { label: 'owner, os_storage_size', quotaName: 'os_storage_size', token: TOKENS.owner },
];

/**
 * The list as Waldur itself answers it: the demo's fake Waldur, whose loopback
 * address the gateway logs at start, paged through directly with the caller's
 * token at the largest page size. What every client walk must reproduce.
 *
 * @param {{logs: object[]}} gw a gateway from startGateway, in demo mode
 */
export async function upstreamList(gw, { quotaName, token, ordering = 'value' }) {
  const demo = gw.logs.find((l) => typeof l.upstream === 'string');
  assert.ok(demo, 'the gateway did not log its demo upstream address (is it in demo mode?)');
  const rows = [];
  let total = null;
  for (let page = 1; total === null || rows.length < total; page++) {
    assert.ok(page <= 100, 'upstream walk does not end');
    const u = new URL('/api/customer-quotas/', demo.upstream);
    u.search = new URLSearchParams({ quota_name: quotaName, o: ordering, page: String(page), page_size: '300' }).toString();
    const res = await fetch(u, { headers: { Authorization: token } });
    assert.equal(res.status, 200, `upstream page ${page}: HTTP ${res.status}`);
    total = Number(res.headers.get('x-result-count'));
    const body = await res.json();
    if (body.length === 0) break;
    for (const r of body) {
      rows.push({ customerName: r.customer_name, customerAbbreviation: r.customer_abbreviation, value: r.value });
    }
  }
  assert.equal(rows.length, total, 'upstream walk: rows seen != X-Result-Count');
  return rows;
}

/**
 * The reference list of a WALK_CASES entry: Waldur's own list, read directly
 * from the demo upstream, checked to be the list the case is meant to cover
 * (staff see the whole demo, the owner a few dozen, estimated_price has
 * organisations without a value) and, as a first check of the gateway, equal
 * to a plain forward walk through it with first: 100.
 */
export async function referenceFor(gw, c) {
  const ref = await upstreamList(gw, c);
  if (c.staff) assert.ok(ref.length >= 500, `${c.label}: staff should see the whole demo, saw ${ref.length} rows`);
  else assert.ok(ref.length > 0 && ref.length < 200, `${c.label}: the owner should see a few dozen rows, saw ${ref.length}`);
  if (c.nulls) assert.ok(ref.some((r) => r.value === null), `${c.label}: expected rows with a null value`);
  assertNoDuplicates(ref, `${c.label}: upstream list`);
  assert.deepEqual(await referenceList(gw.url, c), ref, `${c.label}: a first: 100 walk through the gateway != upstream`);
  return ref;
}
