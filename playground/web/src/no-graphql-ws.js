// Stand-in for the optional `graphql-ws` package, which @graphiql/toolkit imports
// only when a subscription URL is given. The playground gives none, so this is
// never called; it keeps the bundle free of unresolved imports.
export function createClient() {
  throw new Error('GraphQL subscriptions over websockets are not available in this playground');
}
