package jsonscan

import (
	"cmp"
	"unicode/utf16"
	"unicode/utf8"

	"hybridbench/goengine/kernels/kernelerr"
)

// MaxDepth is the deepest nesting accepted, as the idiomatic engine's (jsonorders.MaxDepth).
const MaxDepth = 1024

// val is one scanned value: its kind ('{', '[', '"', '0' for numbers, 't', 'f', 'n'; 0 for
// none) and its compacted JSON text, out[start:end] of the scanner.
type val struct {
	kind       byte
	start, end int
}

// member is one name/value pair of an object the transform reads: its name as in the input
// (name: decoded; key: the compacted text, quotes included) and its value.
type member struct {
	name, key []byte
	v         val
}

// item is one element of an order's items: whether it is an object, and its qty and price.
type item struct {
	object     bool
	qty, price val
}

// order is one element of the orders array: the members of an object (first..last of
// scanner.members; a repeated name keeps its first position and takes the last value), and
// what the schema check reads below it, captured while scanning.
type order struct {
	v                   val // the element (kind '{' for an object)
	first, last         int // its members in scanner.members
	tier                val // customer.tier, if customer is an object
	items0, items1      int // its items in scanner.items (the last "items" member's)
	tags0, tags1        int // its tags in scanner.tags
	itemsSeen, tagsSeen bool
}

// scanner reads the document once, checking the grammar as the idiomatic engine's jsontext
// does, and writes every value compacted into out, so that passing a value through is one
// copy of out[start:end].
type scanner struct {
	in      []byte
	pos     int
	out     []byte
	top     []member // the top-level object's members
	orders  []order  // the last "orders" array's elements
	members []member // every order's members, each order a range
	items   []item
	tags    []val
	// Inside a pass-through value (raw), a number out of range or a nesting past MaxDepth is
	// reported only once the value's grammar has been checked, as the idiomatic engine (its
	// jsontext reads the whole value, then checks both): the first such error waits here.
	raw     bool
	pending error
}

// syntaxDepthLimit is where even a pass-through value stops being read (jsontext's limit).
const syntaxDepthLimit = 10000

var errTooDeep = kernelerr.Invalidf("json: document nested too deeply (more than %d levels)", MaxDepth)

func (s *scanner) fail() error {
	if s.pos >= len(s.in) {
		return kernelerr.Invalidf("json: malformed JSON: unexpected end of input (EOF)")
	}
	return kernelerr.Invalidf("json: malformed JSON: invalid character %q at byte %d",
		rune(s.in[s.pos]), s.pos)
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.in) {
		switch s.in[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek is the next significant byte (0 at the end, or a NUL byte: never a valid one).
func (s *scanner) peek() byte {
	s.skipSpace()
	if s.pos < len(s.in) {
		return s.in[s.pos]
	}
	return 0
}

func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		return s.fail()
	}
	s.pos++
	s.out = append(s.out, c)
	return nil
}

// document scans the whole input: one value, then only whitespace.
func (s *scanner) document() (val, error) {
	var v val
	var err error
	if s.peek() == '{' {
		v, err = s.object(1, s.topMember)
	} else {
		v, err = s.value(0)
	}
	if err != nil {
		return val{}, err
	}
	if s.skipSpace(); s.pos < len(s.in) { // (peek's 0 would take a NUL byte for the end)
		return val{}, s.fail()
	}
	return v, nil
}

// value scans any value; depth is the nesting level of the container holding it.
func (s *scanner) value(depth int) (val, error) {
	switch c := s.peek(); c {
	case '{':
		return s.object(depth+1, s.anyMember)
	case '[':
		return s.array(depth+1, s.value)
	case '"':
		return s.str()
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		if c == '-' || ('0' <= c && c <= '9') {
			return s.number()
		}
	}
	return val{}, s.fail()
}

func (s *scanner) literal(word string) (val, error) {
	if len(s.in)-s.pos < len(word) || string(s.in[s.pos:s.pos+len(word)]) != word {
		for i := 0; i < len(word) && s.pos < len(s.in) && s.in[s.pos] == word[i]; i++ {
			s.pos++ // so that the error names the first wrong byte, or the end
		}
		return val{}, s.fail()
	}
	start := len(s.out)
	s.out = append(s.out, word...)
	s.pos += len(word)
	return val{word[0], start, len(s.out)}, nil
}

// memberFunc scans the value of the member called name (already consumed, with its colon).
type memberFunc func(name []byte, depth int) (val, error)

func (s *scanner) anyMember(_ []byte, depth int) (val, error) { return s.value(depth) }

// passThrough scans a value the transform never reads (see scanner.raw).
func (s *scanner) passThrough(depth int) (val, error) {
	s.raw, s.pending = true, nil
	v, err := s.value(depth)
	if err == nil {
		err = s.pending
	}
	s.raw, s.pending = false, nil
	return v, err
}

// tooDeep is nil while depth is allowed, else the error now, or nil with the error pending.
func (s *scanner) tooDeep(depth int) error {
	if depth <= MaxDepth {
		return nil
	}
	if s.raw && depth <= syntaxDepthLimit {
		s.pending = cmp.Or(s.pending, errTooDeep)
		return nil
	}
	return errTooDeep
}

// object scans an object at nesting level depth; member scans each value.
func (s *scanner) object(depth int, member memberFunc) (val, error) {
	if err := s.tooDeep(depth); err != nil {
		return val{}, err
	}
	start := len(s.out)
	if err := s.expect('{'); err != nil {
		return val{}, err
	}
	if s.peek() == '}' {
		s.pos++
		s.out = append(s.out, '}')
		return val{'{', start, len(s.out)}, nil
	}
	for {
		if s.peek() != '"' {
			return val{}, s.fail()
		}
		key, err := s.str()
		if err != nil {
			return val{}, err
		}
		if err := s.expect(':'); err != nil {
			return val{}, err
		}
		if _, err := member(s.out[key.start:key.end], depth); err != nil {
			return val{}, err
		}
		switch s.peek() {
		case ',':
			s.pos++
			s.out = append(s.out, ',')
		case '}':
			s.pos++
			s.out = append(s.out, '}')
			return val{'{', start, len(s.out)}, nil
		default:
			return val{}, s.fail()
		}
	}
}

// array scans an array at nesting level depth; element scans each element.
func (s *scanner) array(depth int, element func(depth int) (val, error)) (val, error) {
	if err := s.tooDeep(depth); err != nil {
		return val{}, err
	}
	start := len(s.out)
	if err := s.expect('['); err != nil {
		return val{}, err
	}
	if s.peek() == ']' {
		s.pos++
		s.out = append(s.out, ']')
		return val{'[', start, len(s.out)}, nil
	}
	for {
		if _, err := element(depth); err != nil {
			return val{}, err
		}
		switch s.peek() {
		case ',':
			s.pos++
			s.out = append(s.out, ',')
		case ']':
			s.pos++
			s.out = append(s.out, ']')
			return val{'[', start, len(s.out)}, nil
		default:
			return val{}, s.fail()
		}
	}
}

// str scans a string (the input is valid UTF-8, checked before): no control characters,
// only JSON's escapes, and no \u escape that leaves a lone UTF-16 surrogate.
func (s *scanner) str() (val, error) {
	start := len(s.out)
	begin := s.pos
	s.pos++ // the opening quote
	for {
		for s.pos < len(s.in) && stringSafe[s.in[s.pos]] {
			s.pos++
		}
		if s.pos >= len(s.in) {
			return val{}, s.fail()
		}
		switch c := s.in[s.pos]; {
		case c == '"':
			s.pos++
			s.out = append(s.out, s.in[begin:s.pos]...)
			return val{'"', start, len(s.out)}, nil
		case c == '\\':
			if err := s.escape(); err != nil {
				return val{}, err
			}
		default: // a control character
			return val{}, s.fail()
		}
	}
}

// stringSafe marks the bytes that need no check inside a string.
var stringSafe = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 0x20 && c != '"' && c != '\\'
	}
	return t
}()

// escape checks the escape at s.pos (a backslash).
func (s *scanner) escape() error {
	s.pos++
	if s.pos >= len(s.in) {
		return s.fail()
	}
	switch s.in[s.pos] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.pos++
		return nil
	case 'u':
	default:
		return s.fail()
	}
	at := s.pos - 1
	r, ok := s.hex4()
	if !ok {
		return s.fail()
	}
	switch {
	case utf16.IsSurrogate(r) && r < 0xDC00: // a high surrogate needs a low one next
		if s.pos+1 < len(s.in) && s.in[s.pos] == '\\' && s.in[s.pos+1] == 'u' {
			s.pos++
			low, ok := s.hex4()
			if !ok {
				return s.fail()
			}
			if 0xDC00 <= low && low <= 0xDFFF {
				return nil
			}
		}
		return loneSurrogate(at)
	case utf16.IsSurrogate(r):
		return loneSurrogate(at)
	}
	return nil
}

// hex4 reads the 4 hex digits after a 'u' at s.pos.
func (s *scanner) hex4() (rune, bool) {
	s.pos++ // the 'u'
	var r rune
	for range 4 {
		if s.pos >= len(s.in) {
			return 0, false
		}
		d := hexValue[s.in[s.pos]]
		if d < 0 {
			return 0, false
		}
		r = r<<4 | rune(d)
		s.pos++
	}
	return r, true
}

var hexValue = func() (t [256]int8) {
	for c := range t {
		t[c] = -1
	}
	for i, c := range "0123456789abcdef" {
		t[c] = int8(i)
	}
	for i, c := range "ABCDEF" {
		t[c] = int8(10 + i)
	}
	return t
}()

func loneSurrogate(at int) error {
	return kernelerr.Invalidf("json: document contains a lone UTF-16 surrogate escape (at byte %d)", at)
}

// number scans a number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?. A float literal that
// overflows a double is rejected here, wherever it stands (the idiomatic engine's rule);
// integers of any length pass.
func (s *scanner) number() (val, error) {
	begin := s.pos
	if s.in[s.pos] == '-' {
		s.pos++
	}
	if !s.digits(true) {
		return val{}, s.fail()
	}
	isFloat := false
	if s.pos < len(s.in) && s.in[s.pos] == '.' {
		s.pos++
		isFloat = true
		if !s.digits(false) {
			return val{}, s.fail()
		}
	}
	if s.pos < len(s.in) && (s.in[s.pos] == 'e' || s.in[s.pos] == 'E') {
		s.pos++
		isFloat = true
		if s.pos < len(s.in) && (s.in[s.pos] == '+' || s.in[s.pos] == '-') {
			s.pos++
		}
		if !s.digits(false) {
			return val{}, s.fail()
		}
	}
	literal := s.in[begin:s.pos]
	if isFloat {
		if _, err := parseFloat(literal); err != nil {
			err = kernelerr.Invalidf("json: a number is out of range (overflows a double): %.40s",
				literal)
			if !s.raw {
				return val{}, err
			}
			s.pending = cmp.Or(s.pending, err)
		}
	}
	start := len(s.out)
	s.out = append(s.out, literal...)
	return val{'0', start, len(s.out)}, nil
}

// digits reads [0-9]+; with integer, a leading 0 must stand alone (JSON has no 012).
func (s *scanner) digits(integer bool) bool {
	begin := s.pos
	for s.pos < len(s.in) && '0' <= s.in[s.pos] && s.in[s.pos] <= '9' {
		s.pos++
	}
	if s.pos == begin {
		return false
	}
	return !integer || s.in[begin] != '0' || s.pos-begin == 1
}

// decodeString is the value of a string's JSON text (quotes included), checked by str.
func decodeString(text []byte) []byte {
	text = text[1 : len(text)-1]
	escaped := false
	for _, c := range text {
		if c == '\\' {
			escaped = true
			break
		}
	}
	if !escaped {
		return text
	}
	out := make([]byte, 0, len(text))
	for i := 0; i < len(text); i++ {
		if text[i] != '\\' {
			out = append(out, text[i])
			continue
		}
		i++
		switch c := text[i]; c {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hexRune(text[i+1 : i+5])
			i += 4
			if utf16.IsSurrogate(r) { // checked: a high one followed by a low one
				r = utf16.DecodeRune(r, hexRune(text[i+3:i+7]))
				i += 6
			}
			out = utf8.AppendRune(out, r)
		default: // '"', '\\', '/'
			out = append(out, c)
		}
	}
	return out
}

func hexRune(digits []byte) rune {
	var r rune
	for _, d := range digits {
		r = r<<4 | rune(hexValue[d])
	}
	return r
}

// text is a value's compacted JSON text.
func (s *scanner) text(v val) []byte { return s.out[v.start:v.end] }
