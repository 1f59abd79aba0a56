package jsonscan

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestParseFloatIsStrconvs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	literals := []string{"0", "-0", "1", "9.99", "-0.5", "123456789012345", "1234567890123456",
		"0.000001", "1e22", "1e23", "1.5e-300", "1e-400", "4.9e-324", "17976931348623157e292",
		"0.1", "100.00", "12345678901234567890"}
	for range 20000 {
		literals = append(literals, strconv.FormatFloat(rng.Float64()*500, 'f', rng.IntN(6), 64),
			strconv.Itoa(rng.IntN(1_000_000)))
	}
	for _, literal := range literals {
		want, errWant := strconv.ParseFloat(literal, 64)
		got, errGot := parseFloat([]byte(literal))
		if got != want || (errWant == nil) != (errGot == nil) {
			t.Errorf("%s: %v %v, strconv %v %v", literal, got, errGot, want, errWant)
		}
	}
}

func TestDecodeString(t *testing.T) {
	for text, want := range map[string]string{`"abc"`: "abc", `"a\"b\\c\/"`: `a"b\c/`,
		`"\u00e9\n\t"`: "é\n\t", `"\ud83d\ude00x"`: "😀x", `""`: ""} {
		if got := string(decodeString([]byte(text))); got != want {
			t.Errorf("%s: %q, want %q", text, got, want)
		}
	}
}
