package jsonorders

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"hybridbench/goengine/kernels/kernelerr"
)

// MaxDepth is the deepest nesting accepted: the specification asks for at least 128; orjson
// and the Rust engine allow 1024.
const MaxDepth = 1024

// number is a JSON number literal exactly as written: integers of any size pass through
// unchanged, and the schema can tell 1 (an integer) from 1.0 (a float) as Python does.
type number string

func (n number) isInteger() bool { return !strings.ContainsAny(string(n), ".eE") }

func (n number) float() (float64, error) { return strconv.ParseFloat(string(n), 64) }

// member is one name/value pair of an object.
type member struct {
	name  string
	value any
}

// object keeps its members in input order; a repeated name keeps its first position and takes
// the last value, as Python's dict does (so "the last one wins").
type object struct {
	members []member
	index   map[string]int // built when the object outgrows a linear search
}

const linearLimit = 16

func (o *object) find(name string) int {
	if o.index != nil {
		if i, ok := o.index[name]; ok {
			return i
		}
		return -1
	}
	for i := range o.members {
		if o.members[i].name == name {
			return i
		}
	}
	return -1
}

func (o *object) get(name string) (any, bool) {
	if i := o.find(name); i >= 0 {
		return o.members[i].value, true
	}
	return nil, false
}

func (o *object) set(name string, value any) {
	if i := o.find(name); i >= 0 {
		o.members[i].value = value
		return
	}
	o.members = append(o.members, member{name, value})
	if o.index != nil {
		o.index[name] = len(o.members) - 1
	} else if len(o.members) > linearLimit {
		o.index = make(map[string]int, 2*len(o.members))
		for i, m := range o.members {
			o.index[m.name] = i
		}
	}
}

// errTooDeep is returned past MaxDepth.
var errTooDeep = kernelerr.Invalidf("json: document nested too deeply (more than %d levels)", MaxDepth)

// raw is a value the transform never looks into, kept as its JSON text (checked by jsontext,
// and by checkRaw for what jsontext does not check) and copied to the output compacted.
type raw jsontext.Value

// decodeFunc decodes the value at the decoder's position; depth is the nesting level of the
// container holding it.
type decodeFunc func(dec *jsontext.Decoder, depth int) (any, error)

// parse reads one JSON document into a tree of *object, []any, string, number, bool, nil and
// raw. Only what the transform reads is decoded (the orders' id, status, customer, tags and
// items' qty and price); everything else stays raw, which spares most of the allocations.
// jsontext checks the grammar, rejects invalid UTF-8 and lone surrogate escapes; duplicate
// names are allowed (the last one wins).
func parse(payload []byte) (any, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(payload), jsontext.AllowDuplicateNames(true))
	value, err := decodeObjectOf(dec, 0, documentMember)
	if err == nil {
		// one value only: anything after it but whitespace is an error
		if _, err = dec.ReadToken(); err == io.EOF {
			return value, nil
		} else if err == nil {
			err = errors.New("unexpected data after the top-level value")
		}
	}
	return nil, parseError(err)
}

func documentMember(name string) decodeFunc {
	if name == "orders" {
		return decodeOrders
	}
	return readRaw
}

func decodeOrders(dec *jsontext.Decoder, depth int) (any, error) {
	return decodeArrayOf(dec, depth, decodeOrder)
}

func decodeOrder(dec *jsontext.Decoder, depth int) (any, error) {
	return decodeObjectOf(dec, depth, orderMember)
}

func orderMember(name string) decodeFunc {
	switch name {
	case "id", "status", "customer", "tags":
		return decodeValue
	case "items":
		return decodeItems
	}
	return readRaw
}

func decodeItems(dec *jsontext.Decoder, depth int) (any, error) {
	return decodeArrayOf(dec, depth, decodeItem)
}

func decodeItem(dec *jsontext.Decoder, depth int) (any, error) {
	return decodeObjectOf(dec, depth, itemMember)
}

func itemMember(name string) decodeFunc {
	if name == "qty" || name == "price" {
		return decodeValue
	}
	return readRaw
}

func anyMember(string) decodeFunc { return decodeValue }

func parseError(err error) error {
	var invalid *kernelerr.Invalid
	message := strings.TrimPrefix(err.Error(), "jsontext: ")
	switch {
	case errors.As(err, &invalid):
		return err
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return kernelerr.Invalidf("json: malformed JSON: unexpected end of input (EOF)")
	case strings.Contains(message, "surrogate") || strings.Contains(message, "invalid UTF-8"):
		// the body was checked to be UTF-8 before parsing: this can only be a \u escape
		return kernelerr.Invalidf("json: document contains a lone UTF-16 surrogate escape (%s)", message)
	case strings.Contains(message, "max depth"):
		return errTooDeep
	}
	return kernelerr.Invalidf("json: malformed JSON: %s", message)
}

// decodeValue decodes any value fully.
func decodeValue(dec *jsontext.Decoder, depth int) (any, error) {
	switch dec.PeekKind() {
	case '{':
		return decodeObjectOf(dec, depth, anyMember)
	case '[':
		return decodeArrayOf(dec, depth, decodeValue)
	}
	tok, err := dec.ReadToken()
	if err != nil {
		return nil, err
	}
	switch tok.Kind() {
	case '"':
		return tok.String(), nil
	case '0':
		return checkedNumber(tok.String())
	case 't', 'f':
		return tok.Bool(), nil
	case 'n':
		return nil, nil
	}
	return nil, errors.New("unexpected " + tok.String())
}

// readRaw keeps a value as its text, after the checks jsontext does not make.
func readRaw(dec *jsontext.Decoder, depth int) (any, error) {
	value, err := dec.ReadValue()
	if err != nil {
		return nil, err
	}
	if err := checkRaw(value, depth); err != nil {
		return nil, err
	}
	return raw(value.Clone()), nil // the decoder reuses its buffer
}

// checkRaw applies to a value jsontext validated the two rules it does not know: no float
// literal overflows a double, and nesting stays within MaxDepth.
func checkRaw(value []byte, depth int) error {
	level := depth
	for i := 0; i < len(value); i++ {
		switch c := value[i]; {
		case c == '"':
			for i++; value[i] != '"'; i++ {
				if value[i] == '\\' {
					i++
				}
			}
		case c == '[' || c == '{':
			if level++; level > MaxDepth {
				return errTooDeep
			}
		case c == ']' || c == '}':
			level--
		case c == '-' || ('0' <= c && c <= '9'):
			end := i + 1
			for end < len(value) && strings.IndexByte("0123456789+-.eE", value[end]) >= 0 {
				end++
			}
			if bytes.ContainsAny(value[i:end], ".eE") {
				if _, err := checkedNumber(string(value[i:end])); err != nil {
					return err
				}
			}
			i = end - 1
		}
	}
	return nil
}

// checkedNumber rejects a float literal that overflows a double (1e400) wherever it stands:
// Python's parser reads it as infinity, which is not JSON. Integers of any length are kept
// (Python reads them as exact integers); they are converted where the transform needs floats.
func checkedNumber(literal string) (any, error) {
	n := number(literal)
	if !n.isInteger() {
		if _, err := n.float(); err != nil {
			return nil, kernelerr.Invalidf(
				"json: a number is out of range (overflows a double): %.40s", literal)
		}
	}
	return n, nil
}

// decodeObjectOf decodes an object whose members member(name) decodes; any other value is
// decoded by decodeValue (the schema check names it later).
func decodeObjectOf(dec *jsontext.Decoder, depth int, member func(string) decodeFunc) (any, error) {
	if dec.PeekKind() != '{' {
		return decodeValue(dec, depth)
	}
	if depth++; depth > MaxDepth {
		return nil, errTooDeep
	}
	if _, err := dec.ReadToken(); err != nil { // {
		return nil, err
	}
	obj := &object{}
	for dec.PeekKind() != '}' {
		token, err := dec.ReadToken()
		if err != nil {
			return nil, err
		}
		name := token.String() // before the next read voids the token
		value, err := member(name)(dec, depth)
		if err != nil {
			return nil, err
		}
		obj.set(name, value)
	}
	_, err := dec.ReadToken() // }
	return obj, err
}

// decodeArrayOf decodes an array whose elements element decodes (any other value: decodeValue).
func decodeArrayOf(dec *jsontext.Decoder, depth int, element decodeFunc) (any, error) {
	if dec.PeekKind() != '[' {
		return decodeValue(dec, depth)
	}
	if depth++; depth > MaxDepth {
		return nil, errTooDeep
	}
	if _, err := dec.ReadToken(); err != nil { // [
		return nil, err
	}
	values := []any{}
	for dec.PeekKind() != ']' {
		value, err := element(dec, depth)
		if err != nil {
			return nil, err
		}
		values = append(values, value)
	}
	_, err := dec.ReadToken() // ]
	return values, err
}

// encodeValue writes a tree (as parse makes it, plus float64 and int for computed values).
func encodeValue(enc *jsontext.Encoder, value any) error {
	switch v := value.(type) {
	case *object:
		if err := enc.WriteToken(jsontext.BeginObject); err != nil {
			return err
		}
		for _, m := range v.members {
			if err := enc.WriteToken(jsontext.String(m.name)); err != nil {
				return err
			}
			if err := encodeValue(enc, m.value); err != nil {
				return err
			}
		}
		return enc.WriteToken(jsontext.EndObject)
	case []any:
		if err := enc.WriteToken(jsontext.BeginArray); err != nil {
			return err
		}
		for _, item := range v {
			if err := encodeValue(enc, item); err != nil {
				return err
			}
		}
		return enc.WriteToken(jsontext.EndArray)
	case string:
		return enc.WriteToken(jsontext.String(v))
	case number:
		return enc.WriteValue(jsontext.Value(v))
	case raw:
		return enc.WriteValue(jsontext.Value(v))
	case float64:
		return enc.WriteToken(jsontext.Float(v))
	case int:
		return enc.WriteToken(jsontext.Int(int64(v)))
	case bool:
		return enc.WriteToken(jsontext.Bool(v))
	case nil:
		return enc.WriteToken(jsontext.Null)
	}
	return errors.New("unexpected value in the document tree")
}
