// localStorage for GraphiQL, minus request headers. GraphiQL 3 keeps headers out
// of its tab state with shouldPersistHeaders={false}, but still writes each run's
// headers into its history ("graphiql:queries") and favourites: a Waldur token
// typed into the Headers tab would outlive the browser tab. This wrapper drops
// them on the way in.

const NAMESPACE = 'graphiql:';
const HEADERS_KEY = `${NAMESPACE}headers`;
const LIST_KEYS = new Set([`${NAMESPACE}queries`, `${NAMESPACE}favorites`]);

// withoutHeaders returns what may be stored under key, or null for nothing.
export function withoutHeaders(key, value) {
  if (key === HEADERS_KEY) return null;
  if (!LIST_KEYS.has(key)) return value;
  let parsed;
  try {
    parsed = JSON.parse(value);
  } catch {
    return null;
  }
  if (parsed && typeof parsed === 'object') {
    for (const list of Object.values(parsed)) {
      if (!Array.isArray(list)) continue;
      for (const item of list) {
        if (item && typeof item === 'object') delete item.headers;
      }
    }
  }
  return JSON.stringify(parsed);
}

function local() {
  try {
    const s = window.localStorage;
    const probe = `${NAMESPACE}probe`;
    s.setItem(probe, '1');
    s.removeItem(probe);
    return s;
  } catch {
    return null; // disabled or full: GraphiQL then keeps everything in memory
  }
}

export function headerlessStorage() {
  const s = local();
  if (!s) return null;
  const ownKeys = () => Object.keys(s).filter((k) => k.startsWith(NAMESPACE));
  // Clean what an earlier version of this page may have stored.
  for (const k of ownKeys()) {
    const v = s.getItem(k);
    const clean = v === null ? null : withoutHeaders(k, v);
    if (clean === null) s.removeItem(k);
    else if (clean !== v) s.setItem(k, clean);
  }
  return {
    getItem: (key) => s.getItem(key),
    setItem(key, value) {
      const clean = withoutHeaders(key, String(value));
      if (clean === null) s.removeItem(key);
      else s.setItem(key, clean);
    },
    removeItem: (key) => s.removeItem(key),
    get length() {
      return ownKeys().length;
    },
    clear() {
      for (const k of ownKeys()) s.removeItem(k);
    },
  };
}
