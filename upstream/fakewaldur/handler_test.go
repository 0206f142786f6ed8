package fakewaldur

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const list = "/api/customer-quotas/?quota_name=os_cpu_count"

func TestRouting(t *testing.T) {
	ts := newServer(t, New(fixture()))
	tests := []struct {
		name, method, target, auth string
		status                     int
		detail                     string // JSON detail expected, "" for none
		location, allow            string
	}{
		{name: "unknown path", method: "GET", target: "/api/customers/", auth: "Token " + tokStaff, status: 404, detail: "Not found."},
		{name: "sub path", method: "GET", target: "/api/customer-quotas/1/", auth: "Token " + tokStaff, status: 404, detail: "Not found."},
		{name: "root", method: "GET", target: "/", status: 404, detail: "Not found."},
		{name: "append slash keeps query", method: "GET", target: "/api/customer-quotas?quota_name=os_cpu_count&page=2", status: 301,
			location: "/api/customer-quotas/?quota_name=os_cpu_count&page=2"},
		{name: "append slash HEAD", method: "HEAD", target: "/api/customer-quotas", status: 301, location: "/api/customer-quotas/"},
		{name: "OPTIONS", method: "OPTIONS", target: list, auth: "Token " + tokStaff, status: 200, allow: "GET, HEAD, OPTIONS"},
		{name: "POST", method: "POST", target: list, auth: "Token " + tokStaff, status: 405,
			detail: `Method "POST" not allowed.`, allow: "GET, HEAD, OPTIONS"},
		{name: "DELETE", method: "DELETE", target: list, auth: "Token " + tokStaff, status: 405,
			detail: `Method "DELETE" not allowed.`, allow: "GET, HEAD, OPTIONS"},
		// DRF authenticates before it looks for the method's handler.
		{name: "anonymous POST", method: "POST", target: list, status: 401, detail: detailNotProvided},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, ts, tt.method, tt.target, tt.auth)
			if tt.detail != "" {
				wantDetail(t, res, tt.status, tt.detail)
			} else if res.status != tt.status {
				t.Errorf("status = %d, want %d", res.status, tt.status)
			}
			if got := res.header.Get("Location"); got != tt.location {
				t.Errorf("Location = %q, want %q", got, tt.location)
			}
			if tt.allow != "" && res.header.Get("Allow") != tt.allow {
				t.Errorf("Allow = %q, want %q", res.header.Get("Allow"), tt.allow)
			}
		})
	}
}

func TestAuthentication(t *testing.T) {
	ts := newServer(t, New(fixture()))
	tests := []struct {
		name, auth string
		status     int
		detail     string
	}{
		{"missing header", "", 401, detailNotProvided},
		{"blank header", "   ", 401, detailNotProvided},
		{"scheme alone", "Token", 401, detailInvalid},
		{"key with space", "Token a b", 401, detailInvalid},
		{"basic", "Basic dXNlcjpwYXNz", 401, detailInvalid},
		{"unknown key", "Token nope", 401, detailInvalid},
		{"bare key", tokStaff, 401, detailInvalid},
		{"inactive user", "Token " + tokInactive, 401, detailInactive},
		{"inactive user bearer", "Bearer " + tokInactive, 401, detailInactive},
		{"legacy waldur", "Token " + tokLegacy, 403, detailForbidden},
		{"token", "Token " + tokStaff, 200, ""},
		{"bearer", "Bearer " + tokStaff, 200, ""},
		{"lower-case scheme", "token " + tokStaff, 200, ""},
		{"upper-case bearer", "BEARER " + tokStaff, 200, ""},
		{"extra whitespace", "Token   " + tokStaff + " ", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", ts.URL+list, nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			res, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", res.StatusCode, tt.status)
			}
			if tt.status == 200 {
				return
			}
			r := do(t, ts, "GET", list, tt.auth)
			wantDetail(t, r, tt.status, tt.detail)
			wantWWW := ""
			if tt.status == 401 {
				wantWWW = "Token"
			}
			if got := r.header.Get("WWW-Authenticate"); got != wantWWW {
				t.Errorf("WWW-Authenticate = %q, want %q", got, wantWWW)
			}
		})
	}
}

func TestOrderOfChecks(t *testing.T) {
	ts := newServer(t, New(fixture()))
	base := "/api/customer-quotas/"
	tests := []struct {
		name, target, auth string
		status             int
	}{
		{"bad token before missing quota", base, "Token nope", 401},
		{"no token before everything", base + "?o=bad&page=99", "", 401},
		{"forbidden before missing quota", base + "?o=bad", "Token " + tokLegacy, 403},
		{"missing quota before bad ordering", base + "?o=bad&page=99", "Token " + tokStaff, 400},
		{"bad ordering before bad page", base + "?quota_name=x&o=bad&page=99", "Token " + tokStaff, 400},
		{"bad page last", base + "?quota_name=x&page=99", "Token " + tokStaff, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if res := do(t, ts, "GET", tt.target, tt.auth); res.status != tt.status {
				t.Errorf("status = %d, want %d (body %s)", res.status, tt.status, res.body)
			}
		})
	}
}

func TestBadRequestsHaveEmptyBody(t *testing.T) {
	ts := newServer(t, New(fixture()))
	tests := []struct{ name, query string }{
		{"quota_name missing", "?page=1"},
		{"quota_name empty", "?quota_name="},
		{"quota_name empty last", "?quota_name=os_cpu_count&quota_name="},
		{"o descending sign", "?quota_name=os_cpu_count&o=-value"},
		{"o abbreviation", "?quota_name=os_cpu_count&o=abbreviation"},
		{"o upper case", "?quota_name=os_cpu_count&o=NAME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := get(t, ts, "/api/customer-quotas/"+tt.query, tokStaff)
			if res.status != 400 || len(res.body) != 0 {
				t.Errorf("got %d %q, want 400 with an empty body", res.status, res.body)
			}
			if ct := res.header.Get("Content-Type"); ct != "" {
				t.Errorf("Content-Type = %q, want none for an empty body", ct)
			}
		})
	}
}

func TestAcceptedParameters(t *testing.T) {
	ts := newServer(t, New(fixture()))
	for _, q := range []string{
		"?quota_name=os_cpu_count",
		"?quota_name=&quota_name=os_cpu_count", // the last value counts, as in Django
		"?quota_name=os_cpu_count&o=",
		"?quota_name=os_cpu_count&o=value",
		"?quota_name=os_cpu_count&o=name",
		"?quota_name=os_cpu_count&page=",
		"?quota_name=os_cpu_count&unknown=1",
	} {
		if res := get(t, ts, "/api/customer-quotas/"+q, tokStaff); res.status != 200 {
			t.Errorf("%s: status %d, want 200", q, res.status)
		}
	}
}

func TestOrdering(t *testing.T) {
	ts := newServer(t, New(fixture()))
	tests := []struct {
		name, query string
		want        []string
	}{
		{"value desc, ties by ID", "?quota_name=os_cpu_count",
			[]string{"Epsilon Group", "Alpha University", "Beta Institute", "Gamma Labs", `Delta <&> "Co"`, "Zeta Oy", "Eta Ltd"}},
		{"explicit value", "?quota_name=os_cpu_count&o=value",
			[]string{"Epsilon Group", "Alpha University", "Beta Institute", "Gamma Labs", `Delta <&> "Co"`, "Zeta Oy", "Eta Ltd"}},
		{"floats, nulls last", "?quota_name=estimated_price",
			[]string{"Gamma Labs", "Alpha University", "Epsilon Group", `Delta <&> "Co"`, "Zeta Oy", "Eta Ltd", "Beta Institute"}},
		{"int beyond 2^53 beats float 2^53", "?quota_name=os_ram_size",
			[]string{"Zeta Oy", "Alpha University", "Beta Institute", "Gamma Labs", `Delta <&> "Co"`, "Epsilon Group", "Eta Ltd"}},
		{"name desc", "?quota_name=os_cpu_count&o=name",
			[]string{"Zeta Oy", "Gamma Labs", "Eta Ltd", "Epsilon Group", `Delta <&> "Co"`, "Beta Institute", "Alpha University"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := get(t, ts, "/api/customer-quotas/"+tt.query, tokStaff)
			if got := names(decodeRows(t, res.body)); !slices.Equal(got, tt.want) {
				t.Errorf("order = %q\nwant    %q", got, tt.want)
			}
		})
	}
}

func TestValuesSerialisedExactly(t *testing.T) {
	ts := newServer(t, New(fixture()))
	tests := []struct {
		quota string
		want  []string // substrings of the raw body
	}{
		{"os_storage_size", []string{`{"customer_name":"Alpha University","customer_abbreviation":"AU","value":5000000000}`}},
		{"os_ram_size", []string{`"value":9007199254740993}`, `"value":9007199254740992.0}`}},
		{"estimated_price", []string{`"value":99.99}`, `"value":12.5}`, `"value":null}`,
			`{"customer_name":"Delta <&> \"Co\"","customer_abbreviation":"DC","value":0}`}},
		{"os_cpu_count", []string{`{"customer_name":"Beta Institute","customer_abbreviation":"","value":8}`}},
	}
	for _, tt := range tests {
		t.Run(tt.quota, func(t *testing.T) {
			res := get(t, ts, "/api/customer-quotas/?quota_name="+tt.quota, tokStaff)
			if ct := res.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(res.body), w) {
					t.Errorf("body lacks %s:\n%s", w, res.body)
				}
			}
		})
	}
}

func TestUnknownQuotaIsZeroForEveryone(t *testing.T) {
	ts := newServer(t, New(fixture()))
	for _, quota := range []string{"no_such_quota", "another_one"} {
		res := get(t, ts, "/api/customer-quotas/?quota_name="+quota, tokStaff)
		rows := decodeRows(t, res.body)
		want := []string{"Alpha University", "Beta Institute", "Gamma Labs", `Delta <&> "Co"`, "Epsilon Group", "Zeta Oy", "Eta Ltd"}
		if got := names(rows); !slices.Equal(got, want) {
			t.Errorf("%s: order = %q, want ID order %q", quota, got, want)
		}
		for _, r := range rows {
			if r.Value != Int(0) {
				t.Errorf("%s: %s has %v, want integer 0", quota, r.CustomerName, r.Value)
			}
		}
		if !strings.Contains(string(res.body), `"value":0}`) || strings.Contains(string(res.body), "0.0") {
			t.Errorf("zeros must be JSON integers: %s", res.body)
		}
	}
}

func TestVisibility(t *testing.T) {
	ts := newServer(t, New(fixture()))
	tests := []struct {
		token string
		want  []string
	}{
		{tokStaff, []string{"Epsilon Group", "Alpha University", "Beta Institute", "Gamma Labs", `Delta <&> "Co"`, "Zeta Oy", "Eta Ltd"}},
		{tokOwner, []string{"Epsilon Group", "Beta Institute", "Gamma Labs"}},
		{tokNobody, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.token, func(t *testing.T) {
			res := get(t, ts, list, tt.token)
			if res.status != 200 {
				t.Fatalf("status %d", res.status)
			}
			if got := names(decodeRows(t, res.body)); !slices.Equal(got, tt.want) {
				t.Errorf("rows = %q, want %q", got, tt.want)
			}
			if got, want := res.header.Get("X-Result-Count"), strconv.Itoa(len(tt.want)); got != want {
				t.Errorf("X-Result-Count = %q, want %q", got, want)
			}
		})
	}
}

func TestEmptyResult(t *testing.T) {
	ts := newServer(t, New(fixture()))
	for _, page := range []string{"", "&page=1", "&page=last"} {
		res := get(t, ts, list+page, tokNobody)
		if res.status != 200 || string(res.body) != "[]" || res.header.Get("X-Result-Count") != "0" {
			t.Errorf("page %q: got %d %s count %q, want 200 [] count 0", page, res.status, res.body, res.header.Get("X-Result-Count"))
		}
		host := strings.TrimPrefix(ts.URL, "http://")
		u := "http://" + host + "/api/customer-quotas/?page=1&quota_name=os_cpu_count"
		if want := "<" + u + `>; rel="first", <` + u + `>; rel="last"`; res.header.Get("Link") != want {
			t.Errorf("Link = %q\nwant   %q", res.header.Get("Link"), want)
		}
	}
	wantDetail(t, get(t, ts, list+"&page=2", tokNobody), 404, "Invalid page.")
}

func TestHeadMatchesGet(t *testing.T) {
	ts := newServer(t, New(Demo(100, 3)))
	auth := "Token " + DemoStaffToken
	for _, tt := range []struct{ target, auth string }{
		{"/api/customer-quotas/?quota_name=os_cpu_count&page=2", auth},
		{"/api/customer-quotas/?quota_name=estimated_price&page=last&page_size=7", auth},
		{"/api/customer-quotas/?quota_name=os_cpu_count&page=99", auth},
		{"/api/customer-quotas/?quota_name=", auth},
		{"/api/customer-quotas/?quota_name=os_cpu_count", ""},
		{"/api/customer-quotas/?quota_name=os_cpu_count", "Token " + DemoLegacyToken},
	} {
		getRes := do(t, ts, "GET", tt.target, tt.auth)
		headRes := do(t, ts, "HEAD", tt.target, tt.auth)
		if headRes.status != getRes.status {
			t.Errorf("%s: HEAD status %d, GET %d", tt.target, headRes.status, getRes.status)
		}
		if len(headRes.body) != 0 {
			t.Errorf("%s: HEAD has a body: %q", tt.target, headRes.body)
		}
		getRes.header.Del("Date")
		headRes.header.Del("Date")
		if !equalHeaders(getRes.header, headRes.header) {
			t.Errorf("%s: headers differ\nGET  %v\nHEAD %v", tt.target, getRes.header, headRes.header)
		}
	}
}

// TestHeadWritesNoBody checks the handler itself: net/http's server would drop a
// HEAD body anyway, so the loopback test above cannot see one written by mistake.
func TestHeadWritesNoBody(t *testing.T) {
	res := serve(New(fixture()), http.MethodHead, list, "Token "+tokStaff)
	if res.status != 200 || len(res.body) != 0 || res.header.Get("Content-Length") == "0" {
		t.Errorf("HEAD: %d, body %q, Content-Length %s", res.status, res.body, res.header.Get("Content-Length"))
	}
}

func equalHeaders(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func TestHandlerServesSnapshot(t *testing.T) {
	d := fixture()
	ts := newServer(t, New(d))
	d.Customers[0].Name = "Changed"
	d.Customers[0].Quotas["os_cpu_count"] = Int(1)
	d.Users[tokOwner].Customers[1] = true
	delete(d.Users, tokStaff)
	res := get(t, ts, list, tokStaff)
	if rows := decodeRows(t, res.body); len(rows) != 7 || rows[0].CustomerName != "Epsilon Group" || rows[0].Value != Int(16) {
		t.Errorf("handler saw changes made after New: %v", rows)
	}
	if got := get(t, ts, list, tokOwner).header.Get("X-Result-Count"); got != "3" {
		t.Errorf("owner count = %s, want 3", got)
	}
}

func TestNilDataset(t *testing.T) {
	ts := newServer(t, New(nil))
	wantDetail(t, get(t, ts, list, "x"), 401, detailInvalid)
	if rows := (*Dataset)(nil).Rows("x", "q", ""); rows != nil {
		t.Errorf("Rows on nil = %v", rows)
	}
}

// TestConcurrentRequests gives the race detector concurrent first uses of the
// ordering cache and of the tie shuffler.
func TestConcurrentRequests(t *testing.T) {
	d := Demo(300, 7)
	for _, h := range []*Handler{New(d), New(d, WithShuffledTies(1))} {
		errs := make(chan string, 64)
		done := make(chan struct{})
		for g := range 8 {
			go func() {
				defer func() { done <- struct{}{} }()
				for i := range 20 {
					quota := []string{"os_cpu_count", "estimated_price", "unknown"}[(g+i)%3]
					o := []string{"value", "name"}[i%2]
					tok := []string{DemoStaffToken, DemoOwnerToken}[g%2]
					res := serve(h, http.MethodGet, "/api/customer-quotas/?quota_name="+quota+"&o="+o+"&page_size=50", "Token "+tok)
					if want := strconv.Itoa(len(d.Rows(tok, quota, o))); res.status != 200 || res.header.Get("X-Result-Count") != want {
						errs <- quota + " " + o + ": " + http.StatusText(res.status)
					}
				}
			}()
		}
		for range 8 {
			<-done
		}
		close(errs)
		for e := range errs {
			t.Error(e)
		}
	}
}
