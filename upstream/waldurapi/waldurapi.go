// Package waldurapi names the facts of Waldur's customer-quotas endpoint that
// the client (package upstream), the page planner (package paging) and the fake
// Waldur (package fakewaldur) must agree on, so each is written down once. See
// waldur-upstream.md in the shared reference for where they come from.
package waldurapi

const (
	// Path is where Waldur serves the endpoint, below the API's base URL.
	Path = "/api/customer-quotas/"
	// DefaultPageSize is the page size Waldur uses when page_size is absent.
	DefaultPageSize = 10
	// MaxPageSize is the largest page_size Waldur honours; it clamps larger ones.
	MaxPageSize = 300
	// MaxRows bounds the lists the gateway pages through, and so cursor
	// offsets and the X-Result-Count it accepts: a billion organisations is far
	// beyond any Waldur, and a larger total is a broken answer, not a list.
	MaxRows = 1_000_000_000
)

// QuotaNames are the quota names Waldur is known to keep. Waldur does not
// check quota_name (an unknown one lists every customer with value 0), so
// this list only tells a known name from any other, for instance to keep a
// metric's labels to a bounded set.
var QuotaNames = []string{
	"estimated_price", "nc_resource_count",
	"os_cpu_count", "os_ram_size", "os_storage_size",
	"vpc_cpu_count", "vpc_floating_ip_count", "vpc_instance_count", "vpc_ram_size", "vpc_storage_size",
}
