// GraphiQL for the gateway. Everything it needs is bundled by build.mjs; the page
// that loads it is rendered by ../playground.go, which passes configuration in
// <meta> tags (the Content-Security-Policy forbids inline scripts).
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import 'graphiql/graphiql.css';
import './playground.css';
import { headerlessStorage } from './storage.js';

function meta(name) {
  const el = document.querySelector(`meta[name="${name}"]`);
  return el ? el.getAttribute('content') : null;
}

// The endpoint may be a path ("/query") or a URL; a path is resolved against
// the page, so the playground works behind any host name.
const endpoint = new URL(meta('graphiql-endpoint') || '/query', window.location.href).toString();

const fetcher = createGraphiQLFetcher({ url: endpoint });

const container = document.getElementById('graphiql');
container.textContent = '';
createRoot(container).render(
  <GraphiQL
    fetcher={fetcher}
    defaultQuery={meta('graphiql-default-query') || ''}
    // The Headers tab starts with an empty Authorization to fill in (sent empty,
    // it counts as none: the demo's token applies, a real Waldur answers 401).
    // Headers are never written to localStorage: a Waldur token typed here
    // lives only as long as the browser tab.
    defaultHeaders={'{\n  "Authorization": ""\n}'}
    shouldPersistHeaders={false}
    storage={headerlessStorage()}
    isHeadersEditorEnabled
    defaultEditorToolsVisibility="headers"
  />,
);
