package best

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"hybridbench/goengine/kernels"
	"hybridbench/goengine/kernels/internal/jpegtest"
	"hybridbench/goengine/kernels/internal/tstest"
)

// idiomatic is the idiomatic table by name: every best engine is held to its verdicts and
// error words.
func idiomatic(name string) kernels.Kernel {
	for _, k := range kernels.Table {
		if k.Name == name {
			return k
		}
	}
	panic("no idiomatic " + name)
}

func bestOf(name string) kernels.Kernel {
	for _, k := range Table {
		if k.Name == name {
			return k
		}
	}
	panic("no best " + name)
}

func TestTableHasTheIdiomaticWorkloadsInOrder(t *testing.T) {
	if len(Table) != len(kernels.Table) {
		t.Fatalf("%d workloads, the idiomatic table has %d", len(Table), len(kernels.Table))
	}
	for i, k := range Table {
		want := kernels.Table[i]
		if k.Name != want.Name || k.Inline != want.Inline || k.Engine == "" {
			t.Errorf("entry %d: %q inline %v engine %q; want %q inline %v and an engine",
				i, k.Name, k.Inline, k.Engine, want.Name, want.Inline)
		}
	}
}

// alikeWords is how two engines' messages for the same bad input must agree: equal, except
// for the text a parser or decoder adds after the engines' common words.
func alikeWords(a, b string) bool {
	for _, common := range []string{"json: malformed JSON", "json: document contains a lone UTF-16",
		"cannot read the JPEG header", "corrupt or truncated JPEG", "unsupported JPEG colour model",
		"json: a number is out of range (overflows a double)"} {
		if i := strings.Index(a, common); i >= 0 {
			return strings.HasPrefix(b, a[:i+len(common)])
		}
	}
	return a == b
}

// sameVerdict runs both engines of a workload and reports any difference in verdict or words;
// same compares two accepted outputs.
func sameVerdict(t *testing.T, workload string, payload []byte, same func(a, b []byte) bool) {
	t.Helper()
	want, errWant := idiomatic(workload).Run(payload)
	got, errGot := bestOf(workload).Run(payload)
	switch {
	case (errWant == nil) != (errGot == nil):
		t.Errorf("%s %.80q: idiomatic error %v, best error %v", workload, payload, errWant, errGot)
	case errWant != nil && !alikeWords(errWant.Error(), errGot.Error()):
		t.Errorf("%s %.80q: idiomatic says %q, best says %q", workload, payload, errWant, errGot)
	case errWant == nil && !same(want, got):
		t.Errorf("%s %.80q: outputs differ\nidiomatic %.300s\nbest      %.300s", workload,
			payload, want, got)
	}
}

func sameJSON(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

const document = `{"meta": {"big": 123456789012345678901234567890, "f": 1.5e3, "s": "a\"\\\u00e9"},
 "orders": [
  {"id": 2, "status": "paid", "customer": {"tier": "gold", "n": [1, {"x": null}]},
   "tags": ["ΔΕΛΤΑΣ", "Gift", "\u0041b"], "items": [{"qty": 2, "price": 1.25},
   {"qty": 1, "price": 0.5, "dims_cm": [1.0, 2.5]}], "note": null, "total": "old"},
  {"id": 1, "status": "new", "customer": {"tier": "s\u0069lver"}, "tags": [],
   "items": [{"qty": 3, "price": 1}], "id": 7},
  {"id": 3, "status": "cancelled", "customer": {"tier": "gold"}, "tags": [], "items": []},
  {"id": -4, "status": "new", "customer": {"tier": "gold"}, "tags": ["İ", "ς"], "items": [],
   "item_count": 9}
 ],
 "summary": "replaced"}`

func TestJSONAgreesWithTheIdiomaticEngine(t *testing.T) {
	order := func(fields string) string {
		return `{"orders": [{"id": 1, "status": "new", "customer": {"tier": "gold"}, ` +
			`"items": [], "tags": []` + fields + `}]}`
	}
	cases := []string{document, `{"orders": []}`, ` {"orders":[]} `, `{"orders": [`, "{\"orders\": [], \"x\": \"\xff\"}",
		`[1]`, `{"orders": 5}`, `{"orders": []} {}`, `{"orders": [], "x": NaN}`,
		`{"orders": [], "x": [1.5, 2e400]}`, `{"orders": [], "x": "\ud800"}`,
		`{"orders": [], "x": "\udc00x"}`, `{"orders": [], "x": "\ud800\udc00"}`,
		`{"orders": [], "x": 01}`, `{"orders": [], "x": 1.}`, `{"orders": [], "x": "\x01"}`,
		`{"orders": [], "x": 1e-400}`, `{"orders": [5]}`, "",
		`{"orders": [], "x": ` + strings.Repeat("[", 1023) + strings.Repeat("]", 1023) + `}`,
		`{"orders": [], "x": ` + strings.Repeat("[", 1024) + strings.Repeat("]", 1024) + `}`,
		order(`, "id": 1.5`), order(`, "id": true`), order(`, "id": 9223372036854775808`),
		order(`, "status": 3`), order(`, "customer": {}`), order(`, "customer": 1`),
		order(`, "items": [{"qty": "2", "price": 1}]`), order(`, "items": [3]`),
		order(`, "items": [{"qty": 2, "price": true}]`), order(`, "tags": ["a", 1]`),
		order(`, "items": [{"qty": 1` + strings.Repeat("0", 320) + `, "price": 1}]`),
		order(`, "items": [{"qty": 1e308, "price": 10}]`), order(`, "tags": {}`),
		`{"orders": [{"id": 1, "status": "new", "customer": {"tier": "gold"}, "items": [{"qty": 1e308, "price": 1}], "tags": []},` +
			`{"id": 2, "status": "new", "customer": {"tier": "gold"}, "items": [{"qty": 1e308, "price": 1}], "tags": []}]}`,
	}
	for _, c := range cases {
		sameVerdict(t, "json", []byte(c), sameJSON)
	}
}

func TestJSONAgreesOnMutatedDocuments(t *testing.T) {
	significant := []string{"{", "}", "[", "]", `"`, ",", ":", `\`, "-", "0", "9", ".", "e", "E",
		"+", "n", "t", "f", "u", " ", "\x00", "\xff", "\xc3", "1e400", `\ud800`, "NaN", "[[[",
		"]]]", `\u`, "1.5", `"id"`, `"items"`, `"tags"`, `"customer"`}
	rng := rand.New(rand.NewPCG(2026, 27))
	for range 4000 {
		data := []byte(document)
		for range 1 + rng.IntN(3) {
			if len(data) == 0 {
				break
			}
			at := rng.IntN(len(data))
			insert := []byte(significant[rng.IntN(len(significant))])
			switch r := rng.Float64(); {
			case r < 0.3:
				data = append(data[:at:at], data[min(len(data), at+1+rng.IntN(4)):]...)
			case r < 0.7:
				data = append(data[:at:at], append(insert, data[at:]...)...)
			case r < 0.9:
				data[at] = insert[0]
			default:
				data = data[:at]
			}
		}
		sameVerdict(t, "json", data, sameJSON)
	}
}

func randomBatch(rng *rand.Rand, n int, sparse bool) []byte {
	ts, host, region := make([]int64, n), make([]uint32, n), make([]uint16, n)
	cpu, latency := make([]float64, n), make([]float64, n)
	for i := range n {
		ts[i] = rng.Int64N(600_000) - 300_000
		host[i], region[i] = uint32(rng.IntN(50)), uint16(rng.IntN(4))
		if sparse { // keys over their whole ranges: the map path
			ts[i], host[i], region[i] = rng.Int64()-rng.Int64(), rng.Uint32(), uint16(rng.Uint32())
			if i%3 == 1 {
				ts[i], host[i], region[i] = ts[i-1], host[i-1], region[i-1]
			}
		}
		cpu[i], latency[i] = rng.Float64()*100, rng.ExpFloat64()*20
	}
	return tstest.Batch(2+rng.IntN(2), ts, host, region, cpu, latency)
}

func TestTimeseriesIsByteIdenticalToTheIdiomaticEngine(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 1))
	for _, n := range []int{0, 1, 2, 19, 20, 21, 100, 5000} {
		for _, sparse := range []bool{false, true} {
			sameVerdict(t, "timeseries", randomBatch(rng, n, sparse), bytes.Equal)
		}
	}
	huge := []float64{1.7e308, 1.7e308, -1.7e308, math.MaxFloat64}
	sameVerdict(t, "timeseries", tstest.Batch(2, []int64{0, 1, 2, 3}, []uint32{1, 2, 3, 4},
		[]uint16{0, 0, 0, 0}, huge, []float64{1, 2, 3, 4}), bytes.Equal)
	good := randomBatch(rng, 10, false)
	nan := randomBatch(rng, 10, false)
	binary.LittleEndian.PutUint64(nan[len(nan)-8*3:], math.Float64bits(math.NaN()))
	for _, bad := range [][]byte{nil, []byte("HBTS"), append([]byte("XXXX"), good[4:]...),
		good[:len(good)-3], append(good, 0), nan,
		tstest.Batch(1, []int64{0}, []uint32{0}, []uint16{0}, []float64{1}, []float64{1})} {
		sameVerdict(t, "timeseries", bad, bytes.Equal)
	}
}

func TestJPEGWorkloadsRejectWithTheIdiomaticWords(t *testing.T) {
	good := jpegtest.Photo(t, 320, 240, false)
	grey := jpegtest.Photo(t, 64, 48, true)
	accepted := func(a, b []byte) bool { return len(a) > 0 && len(b) > 0 }
	for _, workload := range []string{"image", "thumbnail"} {
		for _, payload := range [][]byte{good, grey, []byte("hello, this is not a picture"),
			nil, good[:len(good)/2], good[:20], jpegtest.WithSize(t, good, 60000, 60000),
			jpegtest.WithSize(t, good, 8000, 8000), jpegtest.CMYKHeader(64, 48)} {
			sameVerdict(t, workload, payload, accepted)
		}
	}
}

// FuzzJSONAgrees is TestJSONAgreesOnMutatedDocuments with Go's fuzzer choosing the documents:
//
//	go test ./kernels/best -run '^$' -fuzz FuzzJSONAgrees -fuzztime 60s
func FuzzJSONAgrees(f *testing.F) {
	f.Add([]byte(document))
	f.Add([]byte(`{"orders": [{"id": 1, "status": "new", "customer": {"tier": "gold"}, "items": [], "tags": []}]}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		sameVerdict(t, "json", payload, sameJSON)
	})
}
