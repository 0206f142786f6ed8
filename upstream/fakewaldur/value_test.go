package fakewaldur

import (
	"math"
	"testing"
)

func TestValueConstructors(t *testing.T) {
	tests := []struct {
		name     string
		v        Value
		null     bool
		f        float64
		json     string
		isZeroed bool // equal to the zero Value, i.e. what a missing quota reads as
	}{
		{"int", Int(5000000000), false, 5e9, "5000000000", false},
		{"negative int", Int(-3), false, -3, "-3", false},
		{"int zero", Int(0), false, 0, "0", true},
		{"float", Float(12.5), false, 12.5, "12.5", false},
		{"integral float keeps its point", Float(5), false, 5, "5.0", false},
		{"large float", Float(1e16), false, 1e16, "1e+16", false},
		{"small float", Float(1e-5), false, 1e-5, "1e-05", false},
		{"positional small float", Float(0.0001), false, 0.0001, "0.0001", false},
		{"null", Null(), true, 0, "null", false},
		{"NaN is null", Float(math.NaN()), true, 0, "null", false},
		{"Inf is null", Float(math.Inf(1)), true, 0, "null", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.v.IsNull() != tt.null {
				t.Errorf("IsNull = %v", tt.v.IsNull())
			}
			f, ok := tt.v.Float64()
			if ok == tt.null || f != tt.f {
				t.Errorf("Float64 = %v, %v; want %v, %v", f, ok, tt.f, !tt.null)
			}
			if got := tt.v.String(); got != tt.json {
				t.Errorf("JSON = %s, want %s", got, tt.json)
			}
			if (tt.v == Value{}) != tt.isZeroed {
				t.Errorf("zero Value equality = %v, want %v", tt.v == Value{}, tt.isZeroed)
			}
		})
	}
	if Int(5) == Float(5) {
		t.Error("Int(5) and Float(5) must stay distinguishable")
	}
}

func TestCompareValues(t *testing.T) {
	tests := []struct {
		a, b Value
		want int
	}{
		{Int(1), Int(2), -1},
		{Int(1<<53 + 1), Int(1 << 53), 1},
		{Int(1<<53 + 1), Float(1 << 53), 1}, // float64(2^53+1) would round to 2^53
		{Float(1 << 53), Int(1<<53 + 1), -1},
		{Int(3), Float(3), 0},
		{Int(3), Float(3.5), -1},
		{Int(-3), Float(-3.5), 1},
		{Int(math.MaxInt64), Float(1e19), -1},
		{Int(math.MinInt64), Float(-1e19), 1},
		{Float(0.1), Float(0.2), -1},
		{Null(), Int(-1000), -1},
		{Float(-1), Null(), 1},
		{Null(), Null(), 0},
	}
	for _, tt := range tests {
		if got := compareValues(tt.a, tt.b); got != tt.want {
			t.Errorf("compare(%#v, %#v) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{`Delta <&> "Co"`, `"Delta <&> \"Co\""`},
		{`back\slash`, `"back\\slash"`},
		{"Tartu Ülikool – Jyväskylä", `"Tartu Ülikool – Jyväskylä"`},
		{"a\nb\tc\x01", `"a\nb\tc\u0001"`},
		{"bad\xffutf8", "\"bad\uFFFDutf8\""},
	}
	for _, tt := range tests {
		if got := string(appendJSONString(nil, tt.in)); got != tt.want {
			t.Errorf("appendJSONString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
