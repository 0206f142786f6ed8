package scalars

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

func TestMarshalFloat(t *testing.T) {
	cases := map[float64]string{
		0:                           "0",
		41477568187:                 "41477568187",
		5000000000:                  "5000000000",
		1 << 53:                     "9007199254740992",
		123.45:                      "123.45",
		-0.5:                        "-0.5",
		0.0000001:                   "0.0000001",
		1e21:                        "1e+21",
		math.Inf(1):                 "null",
		math.MaxFloat64:             "1.7976931348623157e+308",
		-41477568187.25:             "-41477568187.25",
		1e-8:                        "1e-08",
		math.SmallestNonzeroFloat64: "5e-324",
	}
	for f, want := range cases {
		var buf bytes.Buffer
		MarshalFloat(f).MarshalGQL(&buf)
		if buf.String() != want {
			t.Errorf("MarshalFloat(%v) = %s, want %s", f, buf.String(), want)
		}
		if !math.IsInf(f, 0) {
			var back float64
			if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back != f {
				t.Errorf("%s does not read back as %v: %v", buf.String(), f, err)
			}
		}
	}
}
