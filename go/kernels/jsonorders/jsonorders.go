// Package jsonorders is the json workload (workloads/json_orders.py, whose docstring is the
// specification): parse a document of orders, drop the cancelled ones, add each order's total
// and item count, lowercase its tags, sort by total, add a summary, re-serialize.
//
// JSON is read and written with jsontext (github.com/go-json-experiment/json, the
// implementation of the standard library's encoding/json/v2), which checks the full grammar,
// rejects invalid UTF-8 and lone surrogate escapes, and gives numbers as their literal text,
// so that integers of any size pass through unchanged. Only what the transform reads is decoded
// into Go values; everything else is kept as its JSON text and written back compacted (found by
// profiling: a full tree of interfaces spent most of the time allocating and collecting it).
// Tags are lowercased with
// golang.org/x/text/cases (the full Unicode mapping, as Python's str.lower: strings.ToLower
// knows neither final sigma nor the special casings).
package jsonorders

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"

	"hybridbench/goengine/kernels/kernelerr"
)

// Run transforms one document; see the package documentation.
func Run(payload []byte) ([]byte, error) {
	if err := CheckUTF8(payload); err != nil {
		return nil, err
	}
	document, err := parse(payload)
	if err != nil {
		return nil, err
	}
	top, ok := document.(*object)
	orders, isArray := lookup(top, ok, "orders").([]any)
	if !ok || !isArray {
		return nil, kernelerr.Invalidf(
			"expected a JSON object with an 'orders' array at the top level")
	}
	kept, err := transform(orders)
	if err != nil {
		return nil, err
	}
	summary, err := summarise(kept)
	if err != nil {
		return nil, err
	}
	keptValues := make([]any, len(kept))
	for i, o := range kept {
		keptValues[i] = o.obj
	}
	top.set("orders", keptValues)
	top.set("summary", summary)
	var out bytes.Buffer
	out.Grow(len(payload))
	if err := encodeValue(jsontext.NewEncoder(&out), top); err != nil {
		return nil, fmt.Errorf("json: serialization failed: %w", err)
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
}

func lookup(obj *object, ok bool, name string) any {
	if !ok {
		return nil
	}
	value, _ := obj.get(name)
	return value
}

// order is a kept order: its object, validated id and tier, and computed total.
type order struct {
	obj   *object
	id    int64
	tier  string
	total float64
}

func transform(orders []any) ([]order, error) {
	lower := cases.Lower(language.Und)
	var kept []order
	for index, value := range orders {
		o, err := checkOrder(value, index)
		if err != nil {
			return nil, err
		}
		if status, _ := o.obj.get("status"); status == "cancelled" {
			continue
		}
		if o.total, err = total(o.obj, index); err != nil {
			return nil, err
		}
		items, _ := o.obj.get("items")
		o.obj.set("total", o.total)
		o.obj.set("item_count", len(items.([]any)))
		tags, _ := o.obj.get("tags")
		lowered := make([]any, len(tags.([]any)))
		for j, tag := range tags.([]any) {
			lowered[j] = lower.String(tag.(string))
		}
		o.obj.set("tags", lowered)
		kept = append(kept, o)
	}
	// stable, like Python's sort: equal (total, id) keys keep their input order
	slices.SortStableFunc(kept, func(a, b order) int {
		return cmp.Or(cmp.Compare(b.total, a.total), cmp.Compare(a.id, b.id))
	})
	return kept, nil
}

// total sums float(qty) * float(price) over the items, left to right from 0.0. The explicit
// float64 conversion rounds the product, so the compiler cannot fuse it into an FMA (the
// specification forbids one: totals must be bit-identical in every language).
func total(obj *object, index int) (float64, error) {
	items, _ := obj.get("items")
	sum := 0.0
	for _, value := range items.([]any) {
		item := value.(*object)
		qty, errQ := numberField(item, "qty").float()
		price, errP := numberField(item, "price").float()
		if errQ != nil || errP != nil {
			return 0, OutOfRange(fmt.Sprintf("orders[%d].items", index))
		}
		sum += float64(qty * price)
	}
	if math.IsInf(sum, 0) || math.IsNaN(sum) {
		return 0, OutOfRange(fmt.Sprintf("orders[%d].total", index))
	}
	return sum, nil
}

func numberField(obj *object, name string) number {
	value, _ := obj.get(name)
	return value.(number)
}

// CheckUTF8 is the first check of every Go json engine, as Python decodes the body before
// parsing it; its words are the reference's (one source: kernels/best/jsonscan calls it too).
func CheckUTF8(payload []byte) error {
	if !utf8.Valid(payload) {
		return kernelerr.Invalidf("json: input is not valid UTF-8")
	}
	return nil
}

// OutOfRange names a sum that overflowed a double, in the reference's words (shared with
// kernels/best/jsonscan).
func OutOfRange(where string) error {
	return kernelerr.Invalidf("%s: a number is out of range (overflows a double)", where)
}

func summarise(kept []order) (*object, error) {
	revenue := 0.0
	byTier := &object{}
	for _, o := range kept {
		revenue += o.total
		sum, _ := byTier.get(o.tier)
		previous, _ := sum.(float64)
		byTier.set(o.tier, previous+o.total)
	}
	if math.IsInf(revenue, 0) || math.IsNaN(revenue) {
		return nil, OutOfRange("summary.revenue")
	}
	for _, m := range byTier.members {
		if v := m.value.(float64); math.IsInf(v, 0) {
			return nil, OutOfRange("summary.revenue_by_tier")
		}
	}
	summary := &object{}
	summary.set("count", len(kept))
	summary.set("revenue", revenue)
	summary.set("revenue_by_tier", byTier)
	return summary, nil
}

// checkOrder validates orders[index] and names the first field that breaks the schema, with
// the reference's messages.
func checkOrder(value any, index int) (order, error) {
	where := fmt.Sprintf("orders[%d]", index)
	bad := func(field, what string) (order, error) {
		return order{}, kernelerr.Invalidf("%s%s: %s", where, field, what)
	}
	obj, ok := value.(*object)
	if !ok {
		return bad("", "expected an object")
	}
	id, ok := lookup(obj, true, "id").(number)
	if !ok || !id.isInteger() {
		return bad(".id", "expected an integer")
	}
	idValue, err := strconv.ParseInt(string(id), 10, 64)
	if err != nil {
		return bad(".id", "integer out of the 64-bit range")
	}
	if _, ok := lookup(obj, true, "status").(string); !ok {
		return bad(".status", "expected a string")
	}
	customer, ok := lookup(obj, true, "customer").(*object)
	if !ok {
		return bad(".customer", "expected an object")
	}
	tier, ok := lookup(customer, true, "tier").(string)
	if !ok {
		return bad(".customer.tier", "expected a string")
	}
	items, ok := lookup(obj, true, "items").([]any)
	if !ok {
		return bad(".items", "expected an array")
	}
	for j, value := range items {
		item, ok := value.(*object)
		if !ok {
			return bad(fmt.Sprintf(".items[%d]", j), "expected an object")
		}
		for _, key := range []string{"qty", "price"} {
			if _, ok := lookup(item, true, key).(number); !ok {
				return bad(fmt.Sprintf(".items[%d].%s", j, key), "expected a number")
			}
		}
	}
	tags, ok := lookup(obj, true, "tags").([]any)
	if !ok {
		return bad(".tags", "expected an array")
	}
	for j, tag := range tags {
		if _, ok := tag.(string); !ok {
			return bad(fmt.Sprintf(".tags[%d]", j), "expected a string")
		}
	}
	return order{obj: obj, id: idValue, tier: tier}, nil
}
