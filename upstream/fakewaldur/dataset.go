package fakewaldur

import (
	"cmp"
	"maps"
	"slices"
)

// Customer is one organisation in Waldur, with the summed usage of its quotas.
type Customer struct {
	ID           int              // stable identity, also the deterministic tie-break
	Name         string           // customer_name
	Abbreviation string           // customer_abbreviation (<=12 chars, may be "")
	Quotas       map[string]Value // quota name -> usage; a missing name means 0 (integer)
}

// User is what a token authenticates as.
type User struct {
	Staff     bool         // staff/support: sees every customer
	Customers map[int]bool // otherwise: IDs of customers where the user holds a role
	Forbidden bool         // simulates older Waldur: 403 {"detail":"You do not have permission to perform this action."}
	Inactive  bool         // 401 {"detail":"User inactive or deleted."}
}

// Dataset is the upstream's state: its customers and who may see them.
type Dataset struct {
	Customers []Customer
	Users     map[string]User // key: the bare token/key, accepted both as "Token <key>" and "Bearer <key>"
}

// Row is one element of the JSON answer, in the order Waldur returns it. Tests use it
// as the reference ("upstream order") to compare the gateway's output with.
type Row struct {
	CustomerName         string
	CustomerAbbreviation string
	Value                Value
}

// Rows returns what the endpoint lists for this caller (token as given in Users),
// quota and ordering ("value" or "name"; "" means value), across all pages, in the
// endpoint's order, with ties ordered by Customer.ID ascending.
//
// It returns nil where the endpoint answers an error (unknown, inactive or forbidden
// token, empty quota name, unknown ordering) and an empty, non-nil slice where it
// answers 200 [].
func (d *Dataset) Rows(token, quotaName, ordering string) []Row {
	if d == nil {
		return nil
	}
	u, ok := d.Users[token]
	if !ok || u.Inactive || u.Forbidden || quotaName == "" {
		return nil
	}
	byName, ok := parseOrdering(ordering)
	if !ok {
		return nil
	}
	rows := []Row{}
	for _, e := range orderCustomers(d.Customers, quotaName, byName) {
		if c := &d.Customers[e.idx]; u.sees(c.ID) {
			rows = append(rows, Row{CustomerName: c.Name, CustomerAbbreviation: c.Abbreviation, Value: e.value})
		}
	}
	return rows
}

// clone deep-copies d, so that a Handler serves a snapshot its caller cannot change
// underneath it (and the race detector has nothing to report when a test reuses a
// Dataset after New).
func (d *Dataset) clone() *Dataset {
	out := &Dataset{Users: make(map[string]User)}
	if d == nil {
		return out
	}
	out.Customers = make([]Customer, len(d.Customers))
	for i, c := range d.Customers {
		c.Quotas = maps.Clone(c.Quotas)
		out.Customers[i] = c
	}
	for k, u := range d.Users {
		u.Customers = maps.Clone(u.Customers)
		out.Users[k] = u
	}
	return out
}

// sees reports whether u may see customer id: staff see all, others only customers
// where they hold a role.
func (u User) sees(id int) bool { return u.Staff || u.Customers[id] }

// parseOrdering maps the "o" parameter to name ordering (true) or value ordering
// (false); ok is false for anything the endpoint rejects with 400.
func parseOrdering(o string) (byName, ok bool) {
	switch o {
	case "", "value":
		return false, true
	case "name":
		return true, true
	}
	return false, false
}

// entry is one customer in an ordered list: its index in the customer slice and its
// value for the quota the list was ordered by.
type entry struct {
	idx   int
	value Value
}

// orderCustomers lists every customer ordered as the endpoint does: value DESC NULLS
// LAST, or name DESC. Waldur has no tie-breaker; the fake breaks ties by ID (then by
// position, for datasets that repeat an ID) so that the default order is stable.
func orderCustomers(customers []Customer, quotaName string, byName bool) []entry {
	list := make([]entry, len(customers))
	for i := range customers {
		list[i] = entry{idx: i, value: customers[i].Quotas[quotaName]}
	}
	slices.SortFunc(list, func(a, b entry) int {
		if c := compareKeys(customers, a, b, byName); c != 0 {
			return -c // descending
		}
		if c := cmp.Compare(customers[a.idx].ID, customers[b.idx].ID); c != 0 {
			return c
		}
		return cmp.Compare(a.idx, b.idx)
	})
	return list
}

// compareKeys compares the sort keys only, so that equal keys are exactly the ties
// PostgreSQL may return in any order.
func compareKeys(customers []Customer, a, b entry, byName bool) int {
	if byName {
		return cmp.Compare(customers[a.idx].Name, customers[b.idx].Name)
	}
	return compareValues(a.value, b.value)
}
