package upstream

import (
	"strconv"

	// goccy/go-json decodes Waldur's rows about three times as fast as
	// encoding/json, with the same API and the same strictness.
	"github.com/goccy/go-json"
)

// wireRow is a row as Waldur sends it. Pointers and RawMessage tell a missing
// field from a present one, so a changed shape is caught rather than zeroed.
type wireRow struct {
	CustomerName         *string         `json:"customer_name"`
	CustomerAbbreviation *string         `json:"customer_abbreviation"`
	Value                json.RawMessage `json:"value"`
}

// decodeRows parses a page body: a JSON array of rows, no envelope.
func decodeRows(body []byte) ([]Row, error) {
	var wire []wireRow
	if err := json.Unmarshal(body, &wire); err != nil {
		return nil, newError(BadResponse, 200, err, "Waldur's answer is not the expected JSON list")
	}
	if wire == nil {
		// "null" decodes to a nil slice without error.
		return nil, newError(BadResponse, 200, nil, "Waldur's answer is not the expected JSON list")
	}
	rows := make([]Row, len(wire))
	for i, w := range wire {
		if w.CustomerName == nil || w.CustomerAbbreviation == nil || len(w.Value) == 0 {
			return nil, newError(BadResponse, 200, nil, "Waldur's row %d lacks customer_name, customer_abbreviation or value", i)
		}
		rows[i] = Row{CustomerName: *w.CustomerName, CustomerAbbreviation: *w.CustomerAbbreviation}
		v, ok := parseValue(w.Value)
		if !ok {
			return nil, newError(BadResponse, 200, nil, "Waldur's row %d has a value that is not a number", i)
		}
		rows[i].Value = v
	}
	return rows, nil
}

// parseValue accepts a JSON number or null. The decoder has already checked the
// syntax, so a leading '-' or digit means a JSON number.
func parseValue(raw json.RawMessage) (*float64, bool) {
	if string(raw) == "null" {
		return nil, true
	}
	if c := raw[0]; c != '-' && (c < '0' || c > '9') {
		return nil, false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		// Only out-of-range magnitudes get here; no quota is that large.
		return nil, false
	}
	return &f, true
}
