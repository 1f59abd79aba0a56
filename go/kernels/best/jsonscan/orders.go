// Package jsonscan is the best Go engine of the json workload (workloads/json_orders.py is the
// specification; package jsonorders is the idiomatic engine, whose verdicts and error words
// this one repeats): one pass of a hand-written scanner over the bytes checks the grammar,
// writes every value compacted into one buffer and captures what the transform reads (each
// order's id, status, customer.tier, items' qty and price, tags); the transform then works on
// those, and the output is assembled from slices of that buffer. Nothing is decoded that the
// transform does not read, and no tree is built.
//
// Tried and slower on this workload (go/README.md, "Go at its best", has the figures):
// encoding/json v1 and v2 (jsontext, the idiomatic engine), goccy/go-json, segmentio/encoding
// and bytedance/sonic, each into the generic map/slice tree the transform needs.
package jsonscan

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"

	"hybridbench/goengine/kernels/jsonorders"
	"hybridbench/goengine/kernels/kernelerr"
)

// Run transforms one document; see the package documentation.
func Run(payload []byte) ([]byte, error) {
	if err := jsonorders.CheckUTF8(payload); err != nil {
		return nil, err
	}
	// compacted text is never longer than the input: out never moves, so slices stay valid
	s := &scanner{in: payload, out: make([]byte, 0, len(payload))}
	// generous guesses from the generated documents (an order is some 700 bytes, with some 8
	// members, 4 items and 2 tags): growing these slices was a sixth of the time
	n := len(payload)
	s.orders, s.members = make([]order, 0, n/400+1), make([]member, 0, n/50+1)
	s.items, s.tags = make([]item, 0, n/120+1), make([]val, 0, n/200+1)
	top, err := s.document()
	if err != nil {
		return nil, err
	}
	if top.kind != '{' || s.find(s.top, "orders").kind != '[' {
		return nil, kernelerr.Invalidf(
			"expected a JSON object with an 'orders' array at the top level")
	}
	kept, err := s.transform()
	if err != nil {
		return nil, err
	}
	summary, err := summarise(kept)
	if err != nil {
		return nil, err
	}
	return s.emit(kept, summary), nil
}

// -- scanning what the transform reads ---------------------------------------------------

// set adds a member to members[first:], or replaces the value of the one of that name (which
// keeps its position: a repeated name's last value wins, as in Python's dict).
func set(members []member, first int, m member) []member {
	for i := first; i < len(members); i++ {
		if string(members[i].name) == string(m.name) {
			members[i].v = m.v
			return members
		}
	}
	return append(members, m)
}

func (s *scanner) find(members []member, name string) val {
	for _, m := range members {
		if string(m.name) == name {
			return m.v
		}
	}
	return val{}
}

func (s *scanner) named(key []byte) member {
	return member{name: decodeString(key), key: key}
}

func (s *scanner) topMember(key []byte, depth int) (val, error) {
	m := s.named(key)
	var err error
	if string(m.name) == "orders" && s.peek() == '[' {
		s.orders = s.orders[:0] // the last "orders" wins
		m.v, err = s.array(depth+1, s.order)
	} else {
		m.v, err = s.passThrough(depth)
	}
	s.top = set(s.top, 0, m)
	return m.v, err
}

// order scans one element of the orders array.
func (s *scanner) order(depth int) (val, error) {
	if s.peek() != '{' {
		v, err := s.value(depth)
		s.orders = append(s.orders, order{v: v})
		return v, err
	}
	s.orders = append(s.orders, order{first: len(s.members)})
	v, err := s.object(depth+1, s.orderMember)
	s.orders[len(s.orders)-1].v = v
	s.orders[len(s.orders)-1].last = len(s.members)
	return v, err
}

// current is the order being scanned (orders do not nest).
func (s *scanner) current() *order { return &s.orders[len(s.orders)-1] }

func (s *scanner) orderMember(key []byte, depth int) (val, error) {
	m := s.named(key)
	o := s.current()
	var err error
	switch c := s.peek(); {
	case string(m.name) == "customer" && c == '{':
		o.tier = val{}
		m.v, err = s.object(depth+1, s.customerMember)
	case string(m.name) == "items" && c == '[':
		o.items0 = len(s.items)
		m.v, err = s.array(depth+1, s.item)
		o.items1 = len(s.items)
	case string(m.name) == "tags" && c == '[':
		o.tags0 = len(s.tags)
		m.v, err = s.array(depth+1, s.tag)
		o.tags1 = len(s.tags)
	case isDecoded(m.name):
		m.v, err = s.value(depth)
	default:
		m.v, err = s.passThrough(depth)
	}
	s.members = set(s.members, o.first, m)
	return m.v, err
}

// isDecoded says which order members the idiomatic engine decodes in full (the others it
// passes through): the words of a bad document depend on it (see scanner.raw).
func isDecoded(name []byte) bool {
	switch string(name) {
	case "id", "status", "customer", "tags", "items":
		return true
	}
	return false
}

func (s *scanner) customerMember(key []byte, depth int) (val, error) {
	v, err := s.value(depth)
	if string(decodeString(key)) == "tier" {
		s.current().tier = v
	}
	return v, err
}

func (s *scanner) item(depth int) (val, error) {
	if s.peek() != '{' {
		s.items = append(s.items, item{})
		return s.value(depth)
	}
	s.items = append(s.items, item{object: true})
	return s.object(depth+1, s.itemMember)
}

func (s *scanner) itemMember(key []byte, depth int) (val, error) {
	it := &s.items[len(s.items)-1]
	switch string(decodeString(key)) {
	case "qty":
		v, err := s.value(depth)
		it.qty = v
		return v, err
	case "price":
		v, err := s.value(depth)
		it.price = v
		return v, err
	}
	return s.passThrough(depth)
}

func (s *scanner) tag(depth int) (val, error) {
	v, err := s.value(depth)
	s.tags = append(s.tags, v)
	return v, err
}

// -- the transform ------------------------------------------------------------------------

// kept is an order that stays: its index in scanner.orders, id, tier and total.
type kept struct {
	index int
	id    int64
	tier  string
	total float64
}

func (s *scanner) transform() ([]kept, error) {
	var out []kept
	for index := range s.orders {
		k, cancelled, err := s.check(index)
		if err != nil {
			return nil, err
		}
		if cancelled {
			continue
		}
		if k.total, err = s.total(index); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	// stable, like Python's sort: equal (total, id) keys keep their input order
	slices.SortStableFunc(out, func(a, b kept) int {
		return cmp.Or(cmp.Compare(b.total, a.total), cmp.Compare(a.id, b.id))
	})
	return out, nil
}

// check validates orders[index] and names the first field that breaks the schema, with the
// reference's (and the idiomatic engine's) messages.
func (s *scanner) check(index int) (kept, bool, error) {
	o := &s.orders[index]
	bad := func(field, what string) (kept, bool, error) {
		return kept{}, false, kernelerr.Invalidf("orders[%d]%s: %s", index, field, what)
	}
	if o.v.kind != '{' {
		return bad("", "expected an object")
	}
	members := s.members[o.first:o.last]
	id := s.find(members, "id")
	if id.kind != '0' || !isInteger(s.text(id)) {
		return bad(".id", "expected an integer")
	}
	idValue, err := strconv.ParseInt(string(s.text(id)), 10, 64)
	if err != nil {
		return bad(".id", "integer out of the 64-bit range")
	}
	status := s.find(members, "status")
	if status.kind != '"' {
		return bad(".status", "expected a string")
	}
	if s.find(members, "customer").kind != '{' {
		return bad(".customer", "expected an object")
	}
	if o.tier.kind != '"' {
		return bad(".customer.tier", "expected a string")
	}
	if s.find(members, "items").kind != '[' {
		return bad(".items", "expected an array")
	}
	for j, it := range s.items[o.items0:o.items1] {
		switch {
		case !it.object:
			return bad(fmt.Sprintf(".items[%d]", j), "expected an object")
		case it.qty.kind != '0':
			return bad(fmt.Sprintf(".items[%d].qty", j), "expected a number")
		case it.price.kind != '0':
			return bad(fmt.Sprintf(".items[%d].price", j), "expected a number")
		}
	}
	if s.find(members, "tags").kind != '[' {
		return bad(".tags", "expected an array")
	}
	for j, tag := range s.tags[o.tags0:o.tags1] {
		if tag.kind != '"' {
			return bad(fmt.Sprintf(".tags[%d]", j), "expected a string")
		}
	}
	cancelled := string(decodeString(s.text(status))) == "cancelled"
	tier := string(decodeString(s.text(o.tier)))
	return kept{index: index, id: idValue, tier: tier}, cancelled, nil
}

func isInteger(literal []byte) bool {
	for _, c := range literal {
		if c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	return true
}

// total sums float(qty) * float(price) over the items, left to right from 0.0. The explicit
// float64 conversion rounds the product, so the compiler cannot fuse it into an FMA (the
// specification forbids one: totals must be bit-identical in every language).
func (s *scanner) total(index int) (float64, error) {
	o := &s.orders[index]
	sum := 0.0
	for _, it := range s.items[o.items0:o.items1] {
		qty, errQ := parseFloat(s.text(it.qty))
		price, errP := parseFloat(s.text(it.price))
		if errQ != nil || errP != nil {
			return 0, jsonorders.OutOfRange(fmt.Sprintf("orders[%d].items", index))
		}
		sum += float64(qty * price)
	}
	if math.IsInf(sum, 0) || math.IsNaN(sum) {
		return 0, jsonorders.OutOfRange(fmt.Sprintf("orders[%d].total", index))
	}
	return sum, nil
}

// summary is the summary object's values; tiers in first-seen order of the output.
type summary struct {
	count   int
	revenue float64
	tiers   []string
	byTier  []float64
}

func summarise(orders []kept) (summary, error) {
	sum := summary{count: len(orders)}
	for _, o := range orders {
		sum.revenue += o.total
		i := slices.Index(sum.tiers, o.tier)
		if i < 0 {
			sum.tiers = append(sum.tiers, o.tier)
			sum.byTier = append(sum.byTier, 0)
			i = len(sum.tiers) - 1
		}
		sum.byTier[i] += o.total
	}
	if math.IsInf(sum.revenue, 0) || math.IsNaN(sum.revenue) {
		return summary{}, jsonorders.OutOfRange("summary.revenue")
	}
	for _, v := range sum.byTier {
		if math.IsInf(v, 0) {
			return summary{}, jsonorders.OutOfRange("summary.revenue_by_tier")
		}
	}
	return sum, nil
}

// -- the output ---------------------------------------------------------------------------

// emit writes the top-level object with orders transformed and summary set.
func (s *scanner) emit(orders []kept, sum summary) []byte {
	out := make([]byte, 0, len(s.out)+64*len(orders)+256)
	out = append(out, '{')
	hasSummary := false
	for i, m := range s.top {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, m.key...)
		out = append(out, ':')
		switch string(m.name) {
		case "orders":
			out = s.emitOrders(out, orders)
		case "summary":
			hasSummary = true
			out = emitSummary(out, sum)
		default:
			out = append(out, s.text(m.v)...)
		}
	}
	if !hasSummary {
		out = append(out, `,"summary":`...)
		out = emitSummary(out, sum)
	}
	return append(out, '}')
}

func (s *scanner) emitOrders(out []byte, orders []kept) []byte {
	lower := cases.Lower(language.Und)
	out = append(out, '[')
	for i, k := range orders {
		if i > 0 {
			out = append(out, ',')
		}
		out = s.emitOrder(out, k, lower)
	}
	return append(out, ']')
}

// emitOrder writes an order with total, item_count and the lowercased tags set.
func (s *scanner) emitOrder(out []byte, k kept, lower cases.Caser) []byte {
	o := &s.orders[k.index]
	out = append(out, '{')
	hasTotal, hasCount := false, false
	for i, m := range s.members[o.first:o.last] {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, m.key...)
		out = append(out, ':')
		switch string(m.name) {
		case "total":
			hasTotal = true
			out = appendFloat(out, k.total)
		case "item_count":
			hasCount = true
			out = strconv.AppendInt(out, int64(o.items1-o.items0), 10)
		case "tags":
			out = s.emitTags(out, o, lower)
		default:
			out = append(out, s.text(m.v)...)
		}
	}
	if !hasTotal {
		out = appendFloat(append(out, `,"total":`...), k.total)
	}
	if !hasCount {
		out = strconv.AppendInt(append(out, `,"item_count":`...), int64(o.items1-o.items0), 10)
	}
	return append(out, '}')
}

// emitTags writes the tags lowercased with the full Unicode mapping (x/text/cases, as Python's
// str.lower); ASCII tags, the common case, are lowered byte by byte.
func (s *scanner) emitTags(out []byte, o *order, lower cases.Caser) []byte {
	out = append(out, '[')
	for i, tag := range s.tags[o.tags0:o.tags1] {
		if i > 0 {
			out = append(out, ',')
		}
		text := decodeString(s.text(tag))
		if ascii(text) {
			out = append(out, '"')
			for _, c := range text {
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				out = appendEscaped(out, c)
			}
			out = append(out, '"')
		} else {
			out = appendString(out, lower.Bytes(text))
		}
	}
	return append(out, ']')
}

func ascii(text []byte) bool {
	for _, c := range text {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func emitSummary(out []byte, sum summary) []byte {
	out = strconv.AppendInt(append(out, `{"count":`...), int64(sum.count), 10)
	out = appendFloat(append(out, `,"revenue":`...), sum.revenue)
	out = append(out, `,"revenue_by_tier":{`...)
	for i, tier := range sum.tiers {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendString(out, []byte(tier))
		out = appendFloat(append(out, ':'), sum.byTier[i])
	}
	return append(out, "}}"...)
}

// appendFloat writes the shortest text that reads back as f, always as a float ("100.0").
func appendFloat(out []byte, f float64) []byte {
	start := len(out)
	out = strconv.AppendFloat(out, f, 'g', -1, 64)
	for _, c := range out[start:] {
		if c == '.' || c == 'e' {
			return out
		}
	}
	return append(out, ".0"...)
}

// appendString writes text (valid UTF-8) as a JSON string.
func appendString(out, text []byte) []byte {
	out = append(out, '"')
	for _, c := range text {
		out = appendEscaped(out, c)
	}
	return append(out, '"')
}

func appendEscaped(out []byte, c byte) []byte {
	switch {
	case c == '"' || c == '\\':
		return append(out, '\\', c)
	case c < 0x20:
		const hex = "0123456789abcdef"
		return append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
	}
	return append(out, c)
}

// -- numbers --------------------------------------------------------------------------------

// pow10 are the powers of ten a double holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
	1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat reads a JSON number literal (checked by the scanner) as the nearest double.
// Literals of at most 15 significant digits and a small exponent, all the generated ones,
// take Clinger's fast path (exact: both the digits and the power of ten are exact doubles, and
// one division or multiplication rounds once); the rest go to strconv.ParseFloat.
func parseFloat(literal []byte) (float64, error) {
	i, negative := 0, false
	if literal[0] == '-' {
		negative, i = true, 1
	}
	var mantissa uint64
	digits, exp := 0, 0
	for ; i < len(literal) && literal[i] >= '0' && literal[i] <= '9'; i++ {
		mantissa = mantissa*10 + uint64(literal[i]-'0')
		if mantissa != 0 {
			digits++
		}
	}
	if i < len(literal) && literal[i] == '.' {
		for i++; i < len(literal) && literal[i] >= '0' && literal[i] <= '9'; i++ {
			mantissa = mantissa*10 + uint64(literal[i]-'0')
			exp--
			if mantissa != 0 {
				digits++
			}
		}
	}
	if i == len(literal) && digits <= 15 && exp >= -22 {
		f := float64(mantissa) / pow10[-exp]
		if negative {
			f = -f
		}
		return f, nil
	}
	return strconv.ParseFloat(string(literal), 64)
}
