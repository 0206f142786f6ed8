// Package scalars holds the gateway's marshalling of GraphQL's built-in scalars
// where gqlgen's default does not suit the data.
package scalars

import (
	"io"
	"math"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
)

// MarshalFloat writes a Float as JavaScript prints numbers: quota usages are
// mostly whole numbers of MiB or cores, and 41477568187 reads better in a
// playground than gqlgen's default %g form 4.1477568187e+10. The value is the
// same either way; every JSON parser reads both.
func MarshalFloat(f float64) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		var buf [32]byte
		_, _ = w.Write(AppendFloat(buf[:0], f))
	})
}

// AppendFloat appends f to b as MarshalFloat writes it.
func AppendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 0) || math.IsNaN(f):
		// Not representable in JSON; Waldur never sends these.
		return append(b, "null"...)
	case f == 0 || math.Abs(f) >= 1e-7 && math.Abs(f) < 1e21:
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// UnmarshalFloat reads a Float argument as gqlgen does.
func UnmarshalFloat(v any) (float64, error) {
	return graphql.UnmarshalFloat(v)
}
