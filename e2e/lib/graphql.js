// Plain-fetch GraphQL helpers and the reference list every client walk is compared with.
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
 * The reference list of a WALK_CASES entry, checked to be the list the case is
 * meant to cover: staff see the whole demo (hundreds of rows), the owner a few
 * dozen, and estimated_price has organisations without a value.
 */
export async function referenceFor(url, c) {
  const ref = await referenceList(url, c);
  if (c.staff) assert.ok(ref.length >= 500, `${c.label}: staff should see the whole demo, saw ${ref.length} rows`);
  else assert.ok(ref.length > 0 && ref.length < 200, `${c.label}: the owner should see a few dozen rows, saw ${ref.length}`);
  if (c.nulls) assert.ok(ref.some((r) => r.value === null), `${c.label}: expected rows with a null value`);
  return ref;
}
