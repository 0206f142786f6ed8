package upstream

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// SharedStore keeps bytes under a key for a while where every replica finds
// them (redisstore.Store, in Redis). Like the cache's own store it never
// fails: an unreachable store misses and drops what it is given.
type SharedStore interface {
	Get(ctx context.Context, key string) ([]byte, bool)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration)
}

// WithSharedCache keeps the cache's pages and totals in store instead of this
// process's memory, so that a page one replica fetched answers the same
// caller on another. The cache is still on only with WithCache's TTL, and its
// byte bound is then the store's own (Redis's maxmemory).
func WithSharedCache(store SharedStore) Option {
	return func(c *Client) { c.sharedCache = store }
}

// sharedPages is the cache's store in a SharedStore. A key is a SHA-256 of
// the cache key: that already names the caller by digest only, and hashing it
// again keeps every key short whatever quota name a caller sends.
type sharedPages struct{ store SharedStore }

// pageKeyPrefix names the format of the stored pages: a change of format
// changes it, and old entries are then simply never read.
const pageKeyPrefix = "page:v1:"

func (s sharedPages) key(key string) string {
	sum := sha256.Sum256([]byte(key))
	return pageKeyPrefix + hex.EncodeToString(sum[:])
}

func (s sharedPages) Get(ctx context.Context, key string) (Page, bool) {
	b, ok := s.store.Get(ctx, s.key(key))
	if !ok {
		return Page{}, false
	}
	page, err := decodePage(b)
	if err != nil {
		// Not ours to trust, nor to fail on: Waldur will answer instead.
		return Page{}, false
	}
	return page, true
}

func (s sharedPages) Set(ctx context.Context, key string, page Page, ttl time.Duration) {
	b, err := encodePage(page)
	if err != nil {
		return
	}
	s.store.Set(ctx, s.key(key), b, ttl)
}

// storedRow is a row as the shared store keeps it: short names, since a page
// of 300 rows is stored and read whole.
type storedRow struct {
	Name  string   `json:"n"`
	Abbr  string   `json:"a,omitempty"`
	Value *float64 `json:"v"`
}

type storedPageJSON struct {
	Total int         `json:"t"`
	Rows  []storedRow `json:"r"`
}

// encodePage writes a page as JSON. A float64 survives the round trip
// exactly, null stays null.
func encodePage(p Page) ([]byte, error) {
	rows := make([]storedRow, len(p.Rows))
	for i, r := range p.Rows {
		rows[i] = storedRow{Name: r.CustomerName, Abbr: r.CustomerAbbreviation, Value: r.Value}
	}
	return json.Marshal(storedPageJSON{Total: p.Total, Rows: rows})
}

func decodePage(b []byte) (Page, error) {
	var s storedPageJSON
	if err := json.Unmarshal(b, &s); err != nil {
		return Page{}, err
	}
	p := Page{Total: s.Total}
	if s.Rows != nil {
		p.Rows = make([]Row, len(s.Rows))
		for i, r := range s.Rows {
			p.Rows[i] = Row{CustomerName: r.Name, CustomerAbbreviation: r.Abbr, Value: r.Value}
		}
	}
	return p, nil
}
