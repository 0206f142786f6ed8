// The source file of the Relay walks' pagination fragment, as an app would
// write it: relay-compiler compiles it, for the free-form walk and for the
// persisted one alike.
export const FRAGMENT_SOURCE = `// A Relay pagination fragment, as an app would write it.
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
