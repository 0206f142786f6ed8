// Apollo Federation v2: our live subgraph composes with a second subgraph, and an
// Apollo Gateway in front of both forwards the caller's Authorization to us.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { composeServices } from '@apollo/composition';
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { startGateway } from '../lib/gateway.js';
import { TOKENS, gqlData } from '../lib/graphql.js';
import { artifactPath } from '../lib/util.js';

// A second subgraph, as another team would write it. It shares PageInfo with ours.
const CUSTOMERS_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])

  type Customer @key(fields: "id") {
    id: ID!
    name: String!
  }

  type PageInfo @shareable {
    hasNextPage: Boolean!
    hasPreviousPage: Boolean!
    startCursor: String
    endCursor: String
  }

  type CustomerEdge {
    cursor: String!
    node: Customer!
  }

  type CustomerConnection {
    edges: [CustomerEdge!]!
    pageInfo: PageInfo!
  }

  type Query {
    customers(first: Int): CustomerConnection!
  }
`;

const CUSTOMERS = [
  { id: 'c1', name: 'Alpha Institute' },
  { id: 'c2', name: 'Beta University' },
  { id: 'c3', name: 'Gamma Lab' },
];

const customersResolvers = {
  Query: {
    customers: (_, { first }) => {
      const rows = CUSTOMERS.slice(0, first ?? CUSTOMERS.length);
      return {
        edges: rows.map((node) => ({ cursor: node.id, node })),
        pageInfo: {
          hasNextPage: rows.length < CUSTOMERS.length,
          hasPreviousPage: false,
          startCursor: rows[0]?.id ?? null,
          endCursor: rows.at(-1)?.id ?? null,
        },
      };
    },
  },
  Customer: {
    __resolveReference: ({ id }) => CUSTOMERS.find((c) => c.id === id) ?? null,
  },
};

const listen = { host: '127.0.0.1', port: 0 };

const QUOTAS_SELECTION = `customerQuotas(quotaName: "os_storage_size", first: 3, after: null) {
  totalCount
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  edges { cursor node { customerName customerAbbreviation value } }
  nodes { customerName }
}`;

describe('Apollo Federation v2', () => {
  let gw; // our gateway binary: the "quotas" subgraph
  let customers; // {server, url}: the second subgraph
  let router; // {server, url}: Apollo Gateway in front of both
  before(async () => {
    // No usage reporting or managed federation, whatever the environment says.
    for (const k of ['APOLLO_KEY', 'APOLLO_GRAPH_REF', 'APOLLO_SCHEMA_CONFIG_DELIVERY_ENDPOINT']) delete process.env[k];
    gw = await startGateway();
    const server = new ApolloServer({
      schema: buildSubgraphSchema([{ typeDefs: parse(CUSTOMERS_SDL), resolvers: customersResolvers }]),
      plugins: [ApolloServerPluginInlineTraceDisabled()],
    });
    const { url } = await startStandaloneServer(server, { listen });
    customers = { server, url };
  });
  after(async () => {
    await router?.server.stop();
    await customers?.server.stop();
    await gw?.stop();
  });

  const subgraphs = () => [
    { name: 'quotas', url: `${gw.url}/query` },
    { name: 'customers', url: customers.url },
  ];

  test('our _service.sdl composes with another subgraph (@apollo/composition)', async () => {
    const { _service } = await gqlData(gw.url, '{ _service { sdl } }');
    assert.match(_service.sdl, /@link\(url: "https:\/\/specs\.apollo\.dev\/federation\/v2/, 'a Federation v2 subgraph');
    const result = composeServices([
      { name: 'quotas', typeDefs: parse(_service.sdl), url: `${gw.url}/query` },
      { name: 'customers', typeDefs: parse(CUSTOMERS_SDL), url: customers.url },
    ]);
    const errors = (result.errors ?? []).map((e) => `${e.extensions?.code ?? ''} ${e.message}`);
    assert.deepEqual(errors, [], 'composition errors');
    assert.ok(result.supergraphSdl, 'no supergraph SDL');
    writeFileSync(artifactPath('supergraph.graphql'), result.supergraphSdl);
    assert.match(result.supergraphSdl, /customerQuotas/);
    assert.match(result.supergraphSdl, /customers\(/);
  });

  test('Apollo Gateway (IntrospectAndCompose) forwards Authorization and answers from both subgraphs in one query', async () => {
    const gateway = new ApolloGateway({
      supergraphSdl: new IntrospectAndCompose({ subgraphs: subgraphs() }),
      buildService: ({ url }) =>
        new RemoteGraphQLDataSource({
          url,
          willSendRequest({ request, context }) {
            if (context?.authorization) request.http.headers.set('authorization', context.authorization);
          },
        }),
    });
    const server = new ApolloServer({ gateway });
    const { url } = await startStandaloneServer(server, {
      listen,
      context: async ({ req }) => ({ authorization: req.headers.authorization }),
    });
    router = { server, url };

    const ask = async (token) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: token } : {}) },
        body: JSON.stringify({
          query: `query Both {
            ${QUOTAS_SELECTION}
            customers(first: 2) { edges { node { id name } } pageInfo { hasNextPage endCursor } }
          }`,
        }),
      });
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      return body.data;
    };

    // Through the router, our connection (its PageInfo included, which both
    // subgraphs define) is exactly what our subgraph answers directly.
    const direct = await gqlData(gw.url, `{ ${QUOTAS_SELECTION} }`, { token: TOKENS.owner });
    const owner = await ask(TOKENS.owner);
    assert.deepEqual(owner.customerQuotas, direct.customerQuotas, 'the router changed our connection');
    assert.equal(owner.customerQuotas.pageInfo.hasNextPage, true);
    assert.ok(owner.customerQuotas.totalCount > 0 && owner.customerQuotas.totalCount < 200,
      `the owner's token should see a few dozen organisations through the router, saw ${owner.customerQuotas.totalCount} (Authorization not forwarded?)`);
    assert.equal(owner.customerQuotas.nodes.length, 3);
    assert.deepEqual(owner.customers, {
      edges: [{ node: CUSTOMERS[0] }, { node: CUSTOMERS[1] }],
      pageInfo: { hasNextPage: true, endCursor: 'c2' },
    });

    // Without a header, our subgraph falls back to the demo's staff token.
    const anonymous = await ask(null);
    assert.equal(anonymous.customerQuotas.totalCount, 1000, 'the demo staff default sees every organisation');
  });
});
