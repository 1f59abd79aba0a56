package text

// The text workload's rules as data: character classes, the case map, the hashes and the
// pre-loaded model, copied from workloads/text_rules.py (the specification lists them).

const (
	separator byte = 0
	word      byte = 1
	isolated  byte = 2
)

type codeRange struct{ first, last rune }

// wordRanges: inclusive code point ranges of word characters (all in the BMP).
var wordRanges = []codeRange{
	{0x0030, 0x0039}, {0x0041, 0x005A}, {0x0061, 0x007A},
	{0x00C0, 0x00D6}, {0x00D8, 0x00F6}, {0x00F8, 0x02AF},
	{0x0300, 0x036F},
	{0x0370, 0x0373}, {0x0376, 0x0377}, {0x037B, 0x037D}, {0x037F, 0x037F},
	{0x0386, 0x0386}, {0x0388, 0x038A}, {0x038C, 0x038C}, {0x038E, 0x03A1},
	{0x03A3, 0x03FF},
	{0x0400, 0x0481}, {0x0483, 0x052F},
	{0x0531, 0x0556}, {0x0561, 0x0587},
	{0x0591, 0x05BD}, {0x05BF, 0x05BF}, {0x05C1, 0x05C2}, {0x05C4, 0x05C5},
	{0x05C7, 0x05C7}, {0x05D0, 0x05EA},
	{0x0620, 0x0669}, {0x066E, 0x06D3},
	{0x0900, 0x0963}, {0x0966, 0x097F},
	{0x0E01, 0x0E3A}, {0x0E40, 0x0E4E}, {0x0E50, 0x0E59},
	{0x1100, 0x11FF},
	{0x1E00, 0x1EFF},
	{0x3041, 0x3096}, {0x3099, 0x309A}, {0x309D, 0x309F},
	{0x30A1, 0x30FA}, {0x30FC, 0x30FF},
	{0xAC00, 0xD7A3},
	{0xFF10, 0xFF19}, {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A},
}

// isolatedRanges: inclusive code point ranges of characters that are tokens on their own.
var isolatedRanges = []codeRange{
	{0x2600, 0x27BF},
	{0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0xF900, 0xFAFF},
	{0x1F1E6, 0x1F1FF},
	{0x1F300, 0x1F6FF}, {0x1F900, 0x1FAFF},
	{0x20000, 0x3134F},
}

// Fullwidth ASCII forms fold to ASCII before the case rules.
const (
	fullwidthFirst  rune = 0xFF01
	fullwidthLast   rune = 0xFF5E
	fullwidthOffset rune = -0xFEE0
)

type which int

const (
	all which = iota
	even
	odd
)

type caseRule struct {
	first, last rune
	which       which
	offset      rune
}

// caseRules: code points of the range selected by which map to themselves plus offset.
var caseRules = []caseRule{
	{0x0041, 0x005A, all, 0x20},
	{0x00C0, 0x00D6, all, 0x20}, {0x00D8, 0x00DE, all, 0x20},
	{0x0100, 0x012F, even, 1}, {0x0130, 0x0130, all, 0x0069 - 0x0130},
	{0x0132, 0x0137, even, 1}, {0x0139, 0x0148, odd, 1}, {0x014A, 0x0177, even, 1},
	{0x0178, 0x0178, all, 0x00FF - 0x0178}, {0x0179, 0x017E, odd, 1},
	{0x0386, 0x0386, all, 0x26}, {0x0388, 0x038A, all, 0x25}, {0x038C, 0x038C, all, 0x40},
	{0x038E, 0x038F, all, 0x3F}, {0x0391, 0x03A1, all, 0x20}, {0x03A3, 0x03AB, all, 0x20},
	{0x03C2, 0x03C2, all, 1},
	{0x0400, 0x040F, all, 0x50}, {0x0410, 0x042F, all, 0x20},
	{0x0460, 0x0481, even, 1}, {0x048A, 0x04BF, even, 1}, {0x04C0, 0x04C0, all, 0x0F},
	{0x04C1, 0x04CE, odd, 1}, {0x04D0, 0x052F, even, 1},
	{0x0531, 0x0556, all, 0x30},
	{0x1E00, 0x1E95, even, 1}, {0x1E9E, 0x1E9E, all, 0x00DF - 0x1E9E},
	{0x1EA0, 0x1EFF, even, 1},
}

func inRanges(code rune, ranges []codeRange) bool {
	for _, r := range ranges {
		if r.first <= code && code <= r.last {
			return true
		}
	}
	return false
}

// classOf is the class of a code point (and of its normalised form: normalising never
// changes it).
func classOf(code rune) byte {
	switch {
	case inRanges(code, wordRanges):
		return word
	case inRanges(code, isolatedRanges):
		return isolated
	}
	return separator
}

// normalise folds fullwidth forms, then applies the case rules.
func normalise(code rune) rune {
	if fullwidthFirst <= code && code <= fullwidthLast {
		code += fullwidthOffset
	}
	for _, r := range caseRules {
		if r.first <= code && code <= r.last &&
			(r.which == all || (r.which == even) == (code%2 == 0)) {
			return code + r.offset
		}
	}
	return code
}

// bmp holds, for every BMP code point, its class (top 8 bits) and normalised form (low 24
// bits); astral code points are never words and never change, so a range test does for them.
var bmp = func() []uint32 {
	table := make([]uint32, 0x10000)
	for code := range table {
		table[code] = uint32(classOf(rune(code)))<<24 | uint32(normalise(rune(code)))
	}
	return table
}()

// ascii: class and lowercase byte of the ASCII code points, from the same rules.
var ascii = func() (table [128][2]byte) {
	for b := range table {
		table[b] = [2]byte{classOf(rune(b)), byte(normalise(rune(b)))}
	}
	return table
}()

const (
	fnvOffset  uint64 = 0xCBF29CE484222325
	fnvPrime   uint64 = 0x100000001B3
	golden     uint64 = 0x9E3779B97F4A7C15
	buckets           = 8192
	categories        = 32
	modelSeed  uint64 = 0x7E47C1A551F1E5ED
)

// mix64 is splitmix64's output function.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// model is the pre-loaded model, derived once per process: splitmix64 output k (from 0),
// mix64(modelSeed + (k+1)*golden), gives weights 4k..4k+3, its 16-bit lanes from the least
// significant, as two's complement; one row of weights per bucket.
var model = func() *[buckets][categories]int16 {
	m := new([buckets][categories]int16)
	for k := 0; k < buckets*categories/4; k++ {
		w := mix64(modelSeed + uint64(k+1)*golden)
		for lane := 0; lane < 4; lane++ {
			i := 4*k + lane
			m[i/categories][i%categories] = int16(uint16(w >> (16 * lane)))
		}
	}
	return m
}()
