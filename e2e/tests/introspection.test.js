// GRAPHQL_INTROSPECTION=false: __schema and __type are refused, while Federation's
// _service { sdl } (what a router composes from) keeps working.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGateway } from '../lib/gateway.js';
import { gql, gqlData } from '../lib/graphql.js';

const SCHEMA_QUERY = '{ __schema { queryType { name } } }';
const TYPE_QUERY = '{ __type(name: "CustomerQuota") { name fields { name } } }';

describe('GRAPHQL_INTROSPECTION=false', () => {
  let gw;
  let control; // introspection left at its default
  before(async () => {
    gw = await startGateway({ env: { GRAPHQL_INTROSPECTION: 'false' } });
    control = await startGateway();
  });
  after(async () => {
    await gw?.stop();
    await control?.stop();
  });

  test('by default, introspection answers (control)', async () => {
    const data = await gqlData(control.url, SCHEMA_QUERY);
    assert.equal(data.__schema.queryType.name, 'Query');
  });

  for (const [label, query, field] of [['__schema', SCHEMA_QUERY, '__schema'], ['__type', TYPE_QUERY, '__type']]) {
    test(`${label} is refused`, async () => {
      const { status, body } = await gql(gw.url, query);
      assert.ok(body.errors?.length > 0,
        `introspection answered although GRAPHQL_INTROSPECTION=false (HTTP ${status}): ${JSON.stringify(body).slice(0, 300)}`);
      assert.ok(body.data?.[field] == null, `${field} data leaked: ${JSON.stringify(body.data)}`);
      assert.deepEqual(body.errors.map((e) => e.extensions?.code), ['INTROSPECTION_DISABLED'],
        `want one INTROSPECTION_DISABLED error: ${JSON.stringify(body.errors)}`);
    });
  }

  test('_service { sdl } still answers, and __typename too', async () => {
    const data = await gqlData(gw.url, '{ __typename _service { sdl } }');
    assert.equal(data.__typename, 'Query');
    assert.match(data._service.sdl, /customerQuotas/);
  });

  test('ordinary queries are unaffected', async () => {
    const data = await gqlData(gw.url, '{ customerQuotas(quotaName: "os_storage_size", first: 1) { totalCount } }');
    assert.equal(data.customerQuotas.totalCount, 1000);
  });
});
