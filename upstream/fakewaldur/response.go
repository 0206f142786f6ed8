package fakewaldur

import (
	"net/http"
	"strconv"
	"unicode/utf8"
)

const contentTypeJSON = "application/json"

// writeResponse sends a complete response. Content-Length is always set, so that a
// HEAD answer carries exactly the headers the GET answer would; HEAD sends no body.
// An empty body goes without Content-Type, as DRF drops it for empty content.
func writeResponse(w http.ResponseWriter, r *http.Request, status int, contentType string, body []byte) {
	h := w.Header()
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead && len(body) > 0 {
		_, _ = w.Write(body) // the client went away; nothing useful to do
	}
}

// writeDetail sends DRF's error shape, {"detail":"..."}.
func writeDetail(w http.ResponseWriter, r *http.Request, status int, detail string) {
	b := append([]byte(`{"detail":`), appendJSONString(nil, detail)...)
	writeResponse(w, r, status, contentTypeJSON, append(b, '}'))
}

// appendRowsJSON renders rows compactly, in the field order Waldur's serializer uses.
func appendRowsJSON(b []byte, customers []Customer, rows []entry) []byte {
	b = append(b, '[')
	for i, e := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		c := &customers[e.idx]
		b = append(b, `{"customer_name":`...)
		b = appendJSONString(b, c.Name)
		b = append(b, `,"customer_abbreviation":`...)
		b = appendJSONString(b, c.Abbreviation)
		b = append(b, `,"value":`...)
		b = e.value.appendJSON(b)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendJSONString quotes s as Python's json.dumps(ensure_ascii=False) does, which is
// what DRF sends: UTF-8 as is, only quotes, backslashes and control characters
// escaped. (encoding/json would also escape <, > and &, which Waldur does not.)
// Invalid UTF-8 cannot occur in a Python string; it becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, "\uFFFD"...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			} else {
				b = append(b, c)
			}
		}
		i++
	}
	return append(b, '"')
}
