package text

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func batch(documents ...string) []byte {
	out := []byte("HBTX\x01\x00\x00\x00")
	out = binary.LittleEndian.AppendUint32(out, uint32(len(documents)))
	for _, d := range documents {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(d)))
	}
	for _, d := range documents {
		out = append(out, d...)
	}
	return out
}

func hashes(text string) []uint64 {
	found := []uint64{}
	tokenize([]byte(text), func(h uint64) { found = append(found, h) })
	return found
}

func fnvOf(tokens ...string) []uint64 {
	out := []uint64{}
	for _, t := range tokens {
		out = append(out, fnv(fnvOffset, []byte(t)))
	}
	return out
}

func invalidMessage(t *testing.T, input []byte) string {
	t.Helper()
	_, err := Run(input)
	var bad interface{ InvalidInput() bool }
	if !errors.As(err, &bad) || !bad.InvalidInput() {
		t.Fatalf("expected an invalid-input error, got %v", err)
	}
	return err.Error()
}

func TestHashesAreFNV1a64(t *testing.T) {
	if fnv(fnvOffset, nil) != 0xcbf29ce484222325 || fnv(fnvOffset, []byte("hello")) != 0xa430d84680aabd0b {
		t.Fatal("FNV-1a 64 differs from the reference values")
	}
}

func TestTheModelIsThePythonOne(t *testing.T) {
	// anchors computed by workloads/text_rules.model_weights()
	if got := model[0][:6]; !slices.Equal(got, []int16{-4088, -24560, -18385, -5076, 22168, 16892}) {
		t.Fatalf("first weights %v", got)
	}
	if got := model[buckets-1][categories-1]; got != -6952 {
		t.Fatalf("last weight %d", got)
	}
}

func TestCasingAndAwkwardCharacters(t *testing.T) {
	cases := []struct {
		text   string
		tokens []string
	}{
		{"Hello, WORLD", []string{"hello", "world"}},
		{"ΟΔΥΣΣΕΥΣ σοφός", []string{"οδυσσευσ", "σοφόσ"}},         // final sigma folds to σ
		{"İstanbul ışık", []string{"istanbul", "ışık"}},           // İ is i; ı stays
		{"ＡＢＣ１２３！x", []string{"abc123", "x"}},                     // fullwidth folds to ASCII
		{"東京👩\u200d💻", []string{"東", "京", "👩", "💻"}},              // isolated; ZWJ separates
		{"cafe\u0301 e\u0301", []string{"cafe\u0301", "e\u0301"}}, // combining marks are word chars
		{"Straße GROẞ", []string{"straße", "groß"}},
		{"a\x00b\u200fשלום", []string{"a", "b", "שלום"}},
		{"", nil},
		{"  ,;  ", nil},
	}
	for _, c := range cases {
		if got, want := hashes(c.text), fnvOf(c.tokens...); !slices.Equal(got, want) {
			t.Errorf("%q: got %x, want %x", c.text, got, want)
		}
	}
}

func TestABatchMatchesThePythonReference(t *testing.T) {
	out, err := Run(batch("Hello, WORLD", ""))
	if err != nil {
		t.Fatal(err)
	}
	if string(out[:16]) != "HBTC\x01\x00\x05\x00\x02\x00\x00\x00\x20\x00\x00\x00" || len(out) != 16+2*72 {
		t.Fatalf("header or length wrong: % x (%d bytes)", out[:16], len(out))
	}
	rec := out[16:88]
	f64 := func(b []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b)) }
	if binary.LittleEndian.Uint64(rec) != 8529840378668210425 || binary.LittleEndian.Uint32(rec[8:]) != 2 {
		t.Fatalf("digest or count wrong: % x", rec[:12])
	}
	for k, want := range []uint16{26, 19, 8, 2, 28} {
		if got := binary.LittleEndian.Uint16(rec[12+2*k:]); got != want {
			t.Fatalf("category %d is %d, want %d", k, got, want)
		}
	}
	if f64(rec[24:]) != 0.5664520263671875 || math.Abs(f64(rec[64:])-0.33525491586432166) > 1e-12 {
		t.Fatalf("score %v, confidence %v", f64(rec[24:]), f64(rec[64:]))
	}
	empty := out[88:]
	if binary.LittleEndian.Uint32(empty[8:]) != 0 || math.Abs(f64(empty[64:])-1.0/32) > 1e-15 {
		t.Fatalf("empty document: % x", empty)
	}
}

func TestNormalisingNeverChangesAClass(t *testing.T) {
	for code := rune(0); code <= 0x10FFFF; code++ {
		if code >= 0xD800 && code <= 0xDFFF {
			continue
		}
		if classOf(normalise(code)) != classOf(code) {
			t.Fatalf("U+%04X changes class", code)
		}
	}
}

func TestFramingErrorsInTheSpecifiedOrder(t *testing.T) {
	good := batch("ab", "c")
	with := func(at int, b ...byte) []byte {
		c := slices.Clone(good)
		copy(c[at:], b)
		return c
	}
	noTable := with(8, 3)[:12]
	cases := []struct {
		input   []byte
		message string
	}{
		{[]byte("HBTX"), "text: 4 bytes is shorter than the 12-byte header"},
		{[]byte("XXXX\x01\x00\x00\x00\x00\x00\x00\x00"), "text: bad magic 58585858, expected 48425458 (\"HBTX\")"},
		{with(4, 2), "text: unsupported version 2, expected 1"},
		{with(6, 1), "text: flags are 1, expected 0"},
		{with(8, 1, 0, 1, 0), "text: 65537 documents exceed the limit of 65536 per batch"},
		{noTable, "text: 12 bytes cannot hold the length table of 3 documents (24 bytes)"},
		{good[:len(good)-1], "text: expected 23 bytes for 2 documents of 3 bytes in all, got 22"},
		{make([]byte, MaxPayloadBytes+1), "text: payload of 67108865 bytes exceeds the limit of 67108864 bytes (64 MiB)"},
	}
	for _, c := range cases {
		if got := invalidMessage(t, c.input); got != c.message {
			t.Errorf("got %q, want %q", got, c.message)
		}
	}
	if _, err := Run(batch()); err != nil {
		t.Fatal(err)
	}
}

func TestInvalidUTF8NamesTheFirstBadDocumentAndByte(t *testing.T) {
	if got := invalidMessage(t, batch("fine", "ok \xed\xa0\x80", "\xff")); got != "text: document 1 is not valid UTF-8 at byte 3" {
		t.Error(got)
	}
	if got := invalidMessage(t, batch("ab\xe2\x82")); got != "text: document 0 is not valid UTF-8 at byte 2" {
		t.Error(got)
	}
}

// TestFiles runs the kernel on every *.in file of $HYBRIDBENCH_TEXT_CASES and writes the
// output to *.out or the error message to *.err: the Go side of hybridbench's differential
// test (tests/test_text_differential.py), skipped when the variable is unset.
func TestFiles(t *testing.T) {
	dir := os.Getenv("HYBRIDBENCH_TEXT_CASES")
	if dir == "" {
		t.Skip("HYBRIDBENCH_TEXT_CASES is not set")
	}
	inputs, err := filepath.Glob(filepath.Join(dir, "*.in"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no *.in files in %s (%v)", dir, err)
	}
	for _, path := range inputs {
		payload, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		stem := strings.TrimSuffix(path, ".in")
		out, runErr := Run(payload)
		var bad interface{ InvalidInput() bool }
		switch {
		case runErr == nil:
			err = os.WriteFile(stem+".out", out, 0o644)
		case errors.As(runErr, &bad) && bad.InvalidInput():
			err = os.WriteFile(stem+".err", []byte(runErr.Error()), 0o644)
		default:
			t.Fatalf("%s: not an invalid-input error: %v", path, runErr)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
