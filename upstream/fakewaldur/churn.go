package fakewaldur

import (
	"math/rand/v2"
	"slices"
)

// Churn changes a Dataset the way a live Waldur's changes under a reader:
// usage moves, organisations are added and removed. It is deterministic for a
// seed and the sequence of Steps, and remembers every customer it touched, so
// that a test can tell the rows that stayed the same throughout.
type Churn struct {
	rng     *rand.Rand
	touched map[int]bool
}

// NewChurn returns a Churn whose choices follow seed.
func NewChurn(seed int64) *Churn {
	return &Churn{rng: rand.New(rand.NewPCG(uint64(seed), 0xc4a7_2e5e_ed00_0001)), touched: make(map[int]bool)}
}

// Touched reports whether Step changed, added or removed customer id.
func (c *Churn) Touched(id int) bool { return c.touched[id] }

// Step changes d: the usage of quota for `usage` customers (each takes
// another customer's usage, or its own plus one, so that rows move both into
// and out of runs of ties), then adds `added` customers and removes `removed`.
// Customers are picked among those token's user sees ("" or a staff token:
// all); added customers become visible to that user.
func (c *Churn) Step(d *Dataset, token, quota string, usage, added, removed int) {
	u := d.Users[token]
	pool := func() []int {
		var idx []int
		for i, cu := range d.Customers {
			if token == "" || u.sees(cu.ID) {
				idx = append(idx, i)
			}
		}
		return idx
	}
	if idx := pool(); len(idx) > 0 {
		for range usage {
			i := idx[c.rng.IntN(len(idx))]
			cu := &d.Customers[i]
			v := d.Customers[c.rng.IntN(len(d.Customers))].Quotas[quota]
			if compareValues(v, cu.Quotas[quota]) == 0 || c.rng.IntN(3) == 0 {
				v = bump(cu.Quotas[quota])
			}
			if cu.Quotas == nil {
				cu.Quotas = map[string]Value{}
			}
			cu.Quotas[quota] = v
			c.touched[cu.ID] = true
		}
	}
	names := make(map[string]bool, len(d.Customers))
	nextID := 1
	for _, cu := range d.Customers {
		names[cu.Name] = true
		nextID = max(nextID, cu.ID+1)
	}
	for range added {
		kind := pickOrgKind(c.rng)
		name, stem := uniqueName(c.rng, kind, names)
		d.Customers = append(d.Customers, Customer{
			ID: nextID, Name: name, Abbreviation: abbreviate(c.rng, kind, stem),
			Quotas: demoQuotas(c.rng, kind, false),
		})
		if token != "" && !u.Staff {
			u.Customers[nextID] = true
		}
		c.touched[nextID] = true
		nextID++
	}
	for range removed {
		idx := pool()
		if len(idx) == 0 {
			break
		}
		i := idx[c.rng.IntN(len(idx))]
		c.touched[d.Customers[i].ID] = true
		d.Customers = slices.Delete(d.Customers, i, i+1)
	}
}

// bump is v plus one: an integer or float stays one, null becomes 1.
func bump(v Value) Value {
	switch v.kind {
	case kindInt:
		return Int(v.i + 1)
	case kindFloat:
		return Float(v.f + 1)
	}
	return Int(1)
}
