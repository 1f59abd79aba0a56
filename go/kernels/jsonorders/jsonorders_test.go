package jsonorders

import (
	"strings"
	"testing"

	"github.com/go-json-experiment/json"

	"hybridbench/goengine/kernels/kernelerr"
)

const document = `{"meta": {"big": 123456789012345678901234567890, "f": 1.5e3},
 "orders": [
  {"id": 2, "status": "paid", "customer": {"tier": "gold"}, "tags": ["ΔΕΛΤΑΣ", "Gift"],
   "items": [{"qty": 2, "price": 1.25}, {"qty": 1, "price": 0.5}], "note": null},
  {"id": 1, "status": "new", "customer": {"tier": "silver"}, "tags": [],
   "items": [{"qty": 3, "price": 1}]},
  {"id": 3, "status": "cancelled", "customer": {"tier": "gold"}, "tags": [], "items": []},
  {"id": 0, "status": "new", "customer": {"tier": "gold"}, "tags": ["İ"], "items": []}
 ],
 "summary": "replaced"}`

func run(t *testing.T, payload string) map[string]any {
	t.Helper()
	out, err := Run([]byte(payload))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	return got
}

func TestTransform(t *testing.T) {
	out, err := Run([]byte(document))
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	if strings.ContainsAny(text, "\n ") && strings.Contains(text, ": ") {
		t.Errorf("output is not compact: %s", text)
	}
	if !strings.Contains(text, "123456789012345678901234567890") {
		t.Errorf("a big integer did not pass through unchanged: %s", text)
	}
	got := run(t, document)
	orders := got["orders"].([]any)
	var ids []float64
	for _, o := range orders {
		ids = append(ids, o.(map[string]any)["id"].(float64))
	}
	// totals 3.0 (id 1), 3.0 (id 2), 0.0 (id 0): ties by id ascending; cancelled dropped
	if want := []float64{1, 2, 0}; !equal(ids, want) {
		t.Errorf("order ids %v, want %v", ids, want)
	}
	first := orders[1].(map[string]any)
	if first["total"] != 3.0 || first["item_count"] != 2.0 {
		t.Errorf("order 2: total %v item_count %v", first["total"], first["item_count"])
	}
	tags := first["tags"].([]any)
	if tags[0] != "δελτας" || tags[1] != "gift" { // final sigma, as Python's str.lower
		t.Errorf("tags %q", tags)
	}
	if dotted := orders[2].(map[string]any)["tags"].([]any)[0]; dotted != "i̇" {
		t.Errorf("İ lowercased to %q, want i + combining dot above", dotted)
	}
	summary := got["summary"].(map[string]any)
	if summary["count"] != 3.0 || summary["revenue"] != 6.0 {
		t.Errorf("summary %v", summary)
	}
	byTier := summary["revenue_by_tier"].(map[string]any)
	if len(byTier) != 2 || byTier["gold"] != 3.0 || byTier["silver"] != 3.0 {
		t.Errorf("revenue_by_tier %v", byTier)
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDuplicateKeysLastWins(t *testing.T) {
	got := run(t, `{"orders": 5, "orders": [], "x": 1, "x": 2}`)
	if got["x"] != 2.0 || len(got["orders"].([]any)) != 0 {
		t.Errorf("got %v", got)
	}
}

func TestUnderflowReadsAsZero(t *testing.T) {
	run(t, `{"orders": [], "tiny": 1e-400}`)
}

func TestDepth(t *testing.T) {
	deep := func(n int) string {
		return `{"orders": [], "x": ` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + "}"
	}
	run(t, deep(MaxDepth))
	if _, err := Run([]byte(deep(MaxDepth + 1))); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("too deep: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	order := func(fields string) string {
		return `{"orders": [{"id": 1, "status": "new", "customer": {"tier": "gold"}, ` +
			`"items": [], "tags": []` + fields + `}]}`
	}
	cases := []struct{ payload, want string }{
		{`{"orders": [`, "malformed JSON"},
		{"{\"orders\": [], \"x\": \"\xff\xfe\"}", "not valid UTF-8"},
		{`[1, 2, 3]`, "'orders' array"},
		{`{"orders": 5}`, "'orders' array"},
		{`{"orders": []} {}`, "malformed JSON"},
		{`{"orders": [], "x": NaN}`, "malformed JSON"},
		{`{"orders": [], "x": [1.5, 2e400]}`, "out of range"},
		{`{"orders": [], "x": "\ud800"}`, "lone UTF-16 surrogate"},
		{`{"orders": [], "x": "\udc00x"}`, "lone UTF-16 surrogate"},
		{order(`, "id": 1.5`), "orders[0].id: expected an integer"},
		{order(`, "id": 1.0`), "orders[0].id: expected an integer"},
		{order(`, "id": true`), "orders[0].id: expected an integer"},
		{order(`, "id": 9223372036854775808`), "orders[0].id: integer out of the 64-bit range"},
		{order(`, "status": 3`), "orders[0].status: expected a string"},
		{order(`, "customer": {}`), "orders[0].customer.tier: expected a string"},
		{order(`, "items": [{"qty": "2", "price": 1}]`), "orders[0].items[0].qty: expected a number"},
		{order(`, "items": [{"qty": 2, "price": true}]`), "orders[0].items[0].price: expected a number"},
		{order(`, "items": [{"qty": 1` + strings.Repeat("0", 320) + `, "price": 1}]`), "out of range"},
		{order(`, "items": [{"qty": 1e308, "price": 10}]`), "out of range"},
		{order(`, "tags": ["a", 1]`), "orders[0].tags[1]: expected a string"},
	}
	for _, c := range cases {
		_, err := Run([]byte(c.payload))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%.60q: got %v, want an error containing %q", c.payload, err, c.want)
			continue
		}
		if invalid, ok := err.(*kernelerr.Invalid); !ok || !invalid.InvalidInput() {
			t.Errorf("%.60q: %T is not an invalid-input error", c.payload, err)
		}
	}
}

func TestPassThroughValuesAreCompactedAndChecked(t *testing.T) {
	payload := `{"orders": [], "meta": { "note" : "a \"1e400\" \\", "n": [ -0.5e-3, 10 ] }}`
	out, err := Run([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	if want := `"meta":{"note":"a \"1e400\" \\","n":[-0.5e-3,10]}`; !strings.Contains(string(out), want) {
		t.Errorf("got %s, want it to contain %s", out, want)
	}
	for _, bad := range []string{
		`{"orders": [], "meta": {"n": [1, -1e999]}}`,
		`{"orders": [{"id": 1, "status": "new", "customer": {"tier": "gold"}, "tags": [], ` +
			`"items": [{"qty": 1, "price": 2, "dims": [1E+309]}]}]}`,
	} {
		if _, err := Run([]byte(bad)); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
