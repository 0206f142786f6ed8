package fakewaldur

import (
	"math"
	"net/http"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"
)

var knownQuotas = []string{
	"estimated_price", "nc_resource_count", "os_cpu_count", "os_ram_size", "os_storage_size",
	"vpc_cpu_count", "vpc_floating_ip_count", "vpc_instance_count", "vpc_ram_size", "vpc_storage_size",
}

func TestDemoProperties(t *testing.T) {
	start := time.Now()
	d := Demo(1000, 1)
	if el := time.Since(start); el > 500*time.Millisecond { // 50 ms target; slack for -race
		t.Errorf("Demo(1000, 1) took %v", el)
	}
	if len(d.Customers) != 1000 {
		t.Fatalf("%d customers, want 1000", len(d.Customers))
	}

	names, ids := map[string]bool{}, map[int]bool{}
	emptyAbbr := 0
	for _, c := range d.Customers {
		if names[c.Name] || c.Name == "" {
			t.Errorf("duplicate or empty name %q", c.Name)
		}
		if ids[c.ID] {
			t.Errorf("duplicate ID %d", c.ID)
		}
		names[c.Name], ids[c.ID] = true, true
		if n := utf8.RuneCountInString(c.Abbreviation); n > 12 {
			t.Errorf("abbreviation %q has %d characters", c.Abbreviation, n)
		}
		if c.Abbreviation == "" {
			emptyAbbr++
		}
		for q, v := range c.Quotas {
			if f, ok := v.Float64(); ok && (f < 0 || f > 1<<53) {
				t.Errorf("%s %s = %v out of [0, 2^53]", c.Name, q, v)
			}
			if q != "estimated_price" && v.kind != kindInt {
				t.Errorf("%s %s = %#v, want an integer", c.Name, q, v)
			}
		}
	}
	if emptyAbbr == 0 || emptyAbbr > 300 {
		t.Errorf("%d empty abbreviations, want some but not most", emptyAbbr)
	}

	for _, q := range knownQuotas {
		rows := d.Rows(DemoStaffToken, q, "")
		zeros, nonZeroTies, nulls, above31 := 0, 0, 0, 0
		for i, r := range rows {
			f, ok := r.Value.Float64()
			switch {
			case !ok:
				nulls++
			case f == 0:
				zeros++
			case i > 0 && r.Value == rows[i-1].Value:
				nonZeroTies++
			}
			if f > 1<<31 {
				above31++
			}
		}
		if zeros < 100 {
			t.Errorf("%s: %d zeros, want many (ties at 0)", q, zeros)
		}
		if zeros > 950 {
			t.Errorf("%s: %d zeros, want real usage too", q, zeros)
		}
		if nonZeroTies == 0 {
			t.Errorf("%s: no equal non-zero values", q)
		}
		if q == "estimated_price" {
			if nulls < 100 || nulls > 200 {
				t.Errorf("estimated_price: %d nulls, want about 15%%", nulls)
			}
			for _, r := range rows {
				if f, ok := r.Value.Float64(); ok && (r.Value.kind != kindFloat || math.Abs(f*100-math.Round(f*100)) > 1e-6) {
					t.Errorf("estimated_price %v is not a float with 2 decimals", r.Value)
					break
				}
			}
		} else if nulls != 0 {
			t.Errorf("%s: %d nulls, want none", q, nulls)
		}
		if q == "os_storage_size" && above31 < 3 {
			t.Errorf("os_storage_size: %d values above 2^31, want several", above31)
		}
	}
}

func TestDemoUsers(t *testing.T) {
	for _, n := range []int{10, 1000} {
		d := Demo(n, 2)
		owned := len(d.Rows(DemoOwnerToken, "os_cpu_count", ""))
		if want := min(n, max(20, n/20)); owned != want {
			t.Errorf("n=%d: owner sees %d, want %d", n, owned, want)
		}
		if got := len(d.Rows(DemoStaffToken, "os_cpu_count", "")); got != n {
			t.Errorf("n=%d: staff sees %d", n, got)
		}
		if rows := d.Rows(DemoNobodyToken, "os_cpu_count", ""); rows == nil || len(rows) != 0 {
			t.Errorf("n=%d: nobody sees %v", n, rows)
		}
	}
	ts := newServer(t, New(Demo(1000, 1)))
	wantDetail(t, get(t, ts, list, DemoLegacyToken), 403, detailForbidden)
	if res := get(t, ts, list, DemoNobodyToken); res.status != 200 || string(res.body) != "[]" {
		t.Errorf("nobody: %d %s", res.status, res.body)
	}
	if res := get(t, ts, list, DemoOwnerToken); res.header.Get("X-Result-Count") != "50" {
		t.Errorf("owner count %s, want 50", res.header.Get("X-Result-Count"))
	}
}

func TestDemoDeterministic(t *testing.T) {
	if a, b := Demo(300, 9), Demo(300, 9); !reflect.DeepEqual(a, b) {
		t.Error("Demo(300, 9) differs between calls")
	}
	if a, b := Demo(300, 9), Demo(300, 10); reflect.DeepEqual(a.Customers, b.Customers) {
		t.Error("different seeds gave the same customers")
	}
	if d := Demo(0, 1); len(d.Customers) != 0 || len(d.Users) != 4 {
		t.Errorf("Demo(0) = %d customers, %d users", len(d.Customers), len(d.Users))
	}
	// Far more names than the word lists combine into must still be unique.
	seen := map[string]bool{}
	for _, c := range Demo(20000, 3).Customers {
		if seen[c.Name] {
			t.Fatalf("duplicate name %q", c.Name)
		}
		seen[c.Name] = true
	}
}

func BenchmarkServeHTTP(b *testing.B) {
	h := New(Demo(1000, 1))
	for _, tok := range []string{DemoStaffToken, DemoOwnerToken} {
		b.Run(tok, func(b *testing.B) {
			for b.Loop() {
				serve(h, http.MethodGet, "/api/customer-quotas/?quota_name=os_ram_size&page_size=300&page=2", "Token "+tok)
			}
		})
	}
}
