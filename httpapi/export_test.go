package httpapi

// The caches' budgets, for the tests of package httpapi_test.
const (
	DocumentCacheBytes = documentCacheBytes
	APQCacheBytes      = apqCacheBytes
)

// PlainString is the transport's shortcut for strings in a request body.
var PlainString = plainString
