package httpapi

// The caches' budgets, for the tests of package httpapi_test.
const (
	DocumentCacheBytes = documentCacheBytes
	APQCacheBytes      = apqCacheBytes
)
