package fakewaldur

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// Tokens of the fixture's users.
const (
	tokStaff    = "staff-key"
	tokOwner    = "owner-key"
	tokNobody   = "nobody-key"
	tokLegacy   = "legacy-key"
	tokInactive = "inactive-key"
)

// fixture is a small dataset whose every answer can be written down by hand. The
// customers are listed out of ID order, so that tie-breaking by ID is visible.
func fixture() *Dataset {
	return &Dataset{
		Customers: []Customer{
			{ID: 5, Name: "Epsilon Group", Abbreviation: "EG", Quotas: map[string]Value{
				"os_cpu_count": Int(16), "estimated_price": Float(12.5)}},
			{ID: 2, Name: "Beta Institute", Abbreviation: "", Quotas: map[string]Value{
				"os_cpu_count": Int(8), "estimated_price": Null()}},
			{ID: 1, Name: "Alpha University", Abbreviation: "AU", Quotas: map[string]Value{
				"os_cpu_count": Int(8), "estimated_price": Float(12.5), "os_storage_size": Int(5000000000),
				"os_ram_size": Float(1 << 53)}},
			{ID: 4, Name: `Delta <&> "Co"`, Abbreviation: "DC"},
			{ID: 3, Name: "Gamma Labs", Abbreviation: "GL", Quotas: map[string]Value{
				"os_cpu_count": Int(0), "estimated_price": Float(99.99)}},
			{ID: 6, Name: "Zeta Oy", Abbreviation: "ZO", Quotas: map[string]Value{
				"os_ram_size": Int(1<<53 + 1)}},
			{ID: 7, Name: "Eta Ltd", Abbreviation: "EL"},
		},
		Users: map[string]User{
			tokStaff:    {Staff: true},
			tokOwner:    {Customers: map[int]bool{2: true, 3: true, 5: true}},
			tokNobody:   {},
			tokLegacy:   {Forbidden: true},
			tokInactive: {Inactive: true},
		},
	}
}

// response is what a test looks at: status, headers and the raw body.
type response struct {
	status int
	header http.Header
	body   []byte
}

// newServer serves h over loopback for the duration of the test.
func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

// do sends one request; auth is the Authorization header, omitted when "".
// Redirects are not followed, so that a 301 can be inspected.
func do(t *testing.T, ts *httptest.Server, method, target, auth string) response {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	client := *ts.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: body}
}

// get is a GET with "Token <token>".
func get(t *testing.T, ts *httptest.Server, target, token string) response {
	t.Helper()
	return do(t, ts, http.MethodGet, target, "Token "+token)
}

// decodeRows parses a 200 body into Rows, telling integers from floats the way a
// careful client does: a JSON number with '.' or an exponent is a float.
func decodeRows(t *testing.T, body []byte) []Row {
	t.Helper()
	var raw []struct {
		Name  *string         `json:"customer_name"`
		Abbr  *string         `json:"customer_abbreviation"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("body is not a JSON array of rows: %v\n%s", err, body)
	}
	rows := make([]Row, 0, len(raw))
	for _, r := range raw {
		if r.Name == nil || r.Abbr == nil || r.Value == nil {
			t.Fatalf("row lacks a field or has a null name/abbreviation: %s", body)
		}
		rows = append(rows, Row{CustomerName: *r.Name, CustomerAbbreviation: *r.Abbr, Value: parseValue(t, r.Value)})
	}
	return rows
}

func parseValue(t *testing.T, raw json.RawMessage) Value {
	t.Helper()
	s := string(raw)
	if s == "null" {
		return Null()
	}
	if bytes.ContainsAny(raw, ".eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("value %s: %v", s, err)
		}
		return Float(f)
	}
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("value %s: %v", s, err)
	}
	return Int(i)
}

func names(rows []Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.CustomerName
	}
	return out
}

// wantDetail checks a DRF error answer: status, JSON content type and exact body.
func wantDetail(t *testing.T, res response, status int, detail string) {
	t.Helper()
	if res.status != status {
		t.Errorf("status = %d, want %d (body %s)", res.status, status, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	want, _ := json.Marshal(map[string]string{"detail": detail})
	if string(res.body) != string(want) {
		t.Errorf("body = %s, want %s", res.body, want)
	}
}

// serve hands one request to h in process, for what loopback hides (a HEAD
// body net/http would drop, the Host a client cannot choose) and for
// benchmarks; auth is the Authorization header, omitted when "". It calls no
// testing function, so other goroutines may use it.
func serve(h http.Handler, method, target, auth string) response {
	req := httptest.NewRequest(method, target, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}
