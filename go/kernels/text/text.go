// Package text is the text workload of hybridbench: tokenize a batch of UTF-8 documents, hash
// the tokens into features and score them with a linear model; per document the top 5
// categories, their scores and a confidence. workloads/text.py in hybridbench is the
// specification (framing, character classes, case rules, hashes, model, output layout).
//
// One pass per document over its bytes: ASCII through a 128-entry table, other code points
// decoded with unicode/utf8 (which also finds invalid UTF-8) and looked up in a table of the
// BMP built once per process, like the model. Each token's FNV-1a hash is computed while the
// token is read, from its normalised UTF-8 bytes, so no token is materialised.
package text

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"
)

const (
	// MaxPayloadBytes is the largest request body any workload accepts (64 MiB).
	MaxPayloadBytes = 64 * 1024 * 1024
	// MaxDocuments is the most documents one batch may hold.
	MaxDocuments = 65536
	headerSize   = 12
	outHeader    = 16
	recordSize   = 72
	topK         = 5
	version      = 1
	weightScale  = 32768.0
	logitScale   = 8192.0
)

var (
	magicIn  = []byte("HBTX")
	magicOut = []byte("HBTC")
)

// InvalidInputError is input the workload rejects; the message says what is wrong.
type InvalidInputError struct{ message string }

func (e *InvalidInputError) Error() string { return e.message }

// InvalidInput marks the error as bad input (INVALID_ARGUMENT), not a failure of the engine.
func (e *InvalidInputError) InvalidInput() bool { return true }

func invalid(format string, args ...any) error {
	return &InvalidInputError{"text: " + fmt.Sprintf(format, args...)}
}

// splitDocuments checks the framing, in the order the specification gives, and returns the
// documents.
func splitDocuments(input []byte) ([][]byte, error) {
	if len(input) > MaxPayloadBytes {
		return nil, invalid("payload of %d bytes exceeds the limit of %d bytes (64 MiB)",
			len(input), MaxPayloadBytes)
	}
	if len(input) < headerSize {
		return nil, invalid("%d bytes is shorter than the 12-byte header", len(input))
	}
	if string(input[:4]) != string(magicIn) {
		return nil, invalid("bad magic %s, expected 48425458 (\"HBTX\")", hex.EncodeToString(input[:4]))
	}
	if v := binary.LittleEndian.Uint16(input[4:]); v != version {
		return nil, invalid("unsupported version %d, expected %d", v, version)
	}
	if flags := binary.LittleEndian.Uint16(input[6:]); flags != 0 {
		return nil, invalid("flags are %d, expected 0", flags)
	}
	count := uint64(binary.LittleEndian.Uint32(input[8:]))
	if count > MaxDocuments {
		return nil, invalid("%d documents exceed the limit of %d per batch", count, MaxDocuments)
	}
	at := headerSize + 4*int(count)
	if len(input) < at {
		return nil, invalid("%d bytes cannot hold the length table of %d documents (%d bytes)",
			len(input), count, at)
	}
	lengths := make([]int, count)
	var total uint64
	for i := range lengths {
		n := binary.LittleEndian.Uint32(input[headerSize+4*i:])
		lengths[i] = int(n)
		total += uint64(n)
	}
	if expected := uint64(at) + total; uint64(len(input)) != expected {
		return nil, invalid("expected %d bytes for %d documents of %d bytes in all, got %d",
			expected, count, total, len(input))
	}
	documents := make([][]byte, count)
	for i, n := range lengths {
		documents[i] = input[at : at+n]
		at += n
	}
	return documents, nil
}

// scorer is one document's state while its tokens stream past.
type scorer struct {
	sums   [categories]int64
	count  uint64
	digest uint64
}

// token adds one token, by the FNV-1a hash of its normalised UTF-8 bytes.
func (s *scorer) token(hash uint64) {
	s.count++
	s.digest += mix64(hash + s.count*golden)
	row := &model[hash%buckets]
	for c, w := range row {
		s.sums[c] += int64(w)
	}
}

// write appends the output record: digest, count, top categories, scores, confidence.
func (s *scorer) write(out []byte) []byte {
	order := make([]int, categories)
	for c := range order {
		order[c] = c
	}
	// stable: equal sums keep the lower category first
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case s.sums[a] > s.sums[b]:
			return -1
		case s.sums[a] < s.sums[b]:
			return 1
		}
		return 0
	})
	n := float64(max(s.count, 1))
	out = binary.LittleEndian.AppendUint64(out, s.digest)
	out = binary.LittleEndian.AppendUint32(out, uint32(s.count))
	for _, c := range order[:topK] {
		out = binary.LittleEndian.AppendUint16(out, uint16(c))
	}
	out = binary.LittleEndian.AppendUint16(out, 0)
	for _, c := range order[:topK] {
		out = binary.LittleEndian.AppendUint64(out, math.Float64bits(float64(s.sums[c])/(weightScale*n)))
	}
	return binary.LittleEndian.AppendUint64(out, math.Float64bits(s.confidence(n)))
}

// confidence is the softmax probability of the top category over all categories.
func (s *scorer) confidence(n float64) float64 {
	scale := logitScale * math.Sqrt(n)
	var logits [categories]float64
	best := math.Inf(-1)
	for c, sum := range s.sums {
		logits[c] = float64(sum) / scale
		best = math.Max(best, logits[c])
	}
	total := 0.0
	for _, z := range logits {
		total += math.Exp(z - best)
	}
	return 1 / total
}

func fnv(hash uint64, bytes []byte) uint64 {
	for _, b := range bytes {
		hash = (hash ^ uint64(b)) * fnvPrime
	}
	return hash
}

// tokenize calls token with the hash of each token of document, in order; it returns the
// offset of the first byte that is not valid UTF-8, or -1.
func tokenize(document []byte, token func(uint64)) int {
	hash, inWord := fnvOffset, false
	for at := 0; at < len(document); {
		b := document[at]
		if b < utf8.RuneSelf {
			if entry := ascii[b]; entry[0] == word {
				hash = (hash ^ uint64(entry[1])) * fnvPrime
				inWord = true
			} else if inWord {
				token(hash)
				hash, inWord = fnvOffset, false
			}
			at++
			continue
		}
		code, size := utf8.DecodeRune(document[at:])
		if code == utf8.RuneError && size <= 1 {
			return at
		}
		class, normal := separator, code
		if code <= 0xFFFF {
			entry := bmp[code]
			class, normal = byte(entry>>24), rune(entry&0xFFFFFF)
		} else if inRanges(code, isolatedRanges) {
			class = isolated
		}
		bytes := document[at : at+size]
		if normal != code {
			bytes = utf8.AppendRune(make([]byte, 0, 4), normal)
		}
		switch {
		case class == word:
			hash = fnv(hash, bytes)
			inWord = true
		default:
			if inWord {
				token(hash)
				hash, inWord = fnvOffset, false
			}
			if class == isolated {
				token(fnv(fnvOffset, bytes))
			}
		}
		at += size
	}
	if inWord {
		token(hash)
	}
	return -1
}

// Run computes the text workload's output for one request body. Bad input is an error that
// implements interface{ InvalidInput() bool }.
func Run(payload []byte) ([]byte, error) {
	documents, err := splitDocuments(payload)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, outHeader+recordSize*len(documents))
	out = append(out, magicOut...)
	out = binary.LittleEndian.AppendUint16(out, version)
	out = binary.LittleEndian.AppendUint16(out, topK)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(documents)))
	out = binary.LittleEndian.AppendUint32(out, categories)
	for index, document := range documents {
		var s scorer
		if bad := tokenize(document, s.token); bad >= 0 {
			return nil, invalid("document %d is not valid UTF-8 at byte %d", index, bad)
		}
		out = s.write(out)
	}
	return out, nil
}
