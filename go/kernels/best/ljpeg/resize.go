package ljpeg

import "math"

// precisionBits is the fixed-point precision of the filter weights, Pillow's (32 - 8 - 2):
// a sum of 8-bit samples times weights fits an int32 with room for the rounding.
const precisionBits = 22

// Lanczos3 resizes to w x h with the Lanczos kernel (a = 3), in Pillow's algorithm (its
// ImagingResample): separable, the support widened by the reduction factor when shrinking,
// weights normalised per output sample and held in fixed point, a horizontal pass then a
// vertical one. Integer arithmetic in the inner loops is what makes it fast in Go: no
// float conversion per sample, and three channels per weight loaded.
func Lanczos3(src RGB, w, h int) RGB {
	tmp := src
	if w != src.W {
		tmp = horizontal(src, w)
	}
	if h != src.H {
		return vertical(tmp, h)
	}
	return tmp
}

// weights are the fixed-point filter taps of every output sample: sample i reads
// inputs start[i] .. start[i]+size[i]-1 with taps coef[i*stride:].
type weights struct {
	start, size []int
	coef        []int32
	stride      int
}

func lanczos(x float64) float64 {
	if x < -3 || x > 3 {
		return 0
	}
	return sinc(x) * sinc(x/3)
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	x *= math.Pi
	return math.Sin(x) / x
}

// precompute is Pillow's precompute_coeffs for one axis, then its fixed-point normalisation.
func precompute(inSize, outSize int) weights {
	scale := float64(inSize) / float64(outSize)
	filterScale := max(scale, 1)
	support := 3 * filterScale
	stride := int(math.Ceil(support))*2 + 1
	wt := weights{start: make([]int, outSize), size: make([]int, outSize),
		coef: make([]int32, outSize*stride), stride: stride}
	k := make([]float64, stride)
	for i := range outSize {
		center := (float64(i) + 0.5) * scale
		lo := max(int(center-support+0.5), 0)
		hi := min(int(center+support+0.5), inSize)
		total := 0.0
		for x := range hi - lo {
			k[x] = lanczos((float64(x+lo) - center + 0.5) / filterScale)
			total += k[x]
		}
		for x := range hi - lo {
			v := k[x]
			if total != 0 {
				v /= total
			}
			// Pillow rounds half away from zero
			wt.coef[i*stride+x] = int32(math.Round(v * (1 << precisionBits)))
		}
		wt.start[i], wt.size[i] = lo, hi-lo
	}
	return wt
}

func clip8(v int32) byte {
	v >>= precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return byte(v)
}

func horizontal(src RGB, w int) RGB {
	wt := precompute(src.W, w)
	dst := RGB{W: w, H: src.H, Pix: make([]byte, w*src.H*3)}
	const half = 1 << (precisionBits - 1)
	for y := range src.H {
		in := src.Pix[y*src.W*3 : (y+1)*src.W*3]
		out := dst.Pix[y*w*3 : (y+1)*w*3]
		for x := range w {
			taps := wt.coef[x*wt.stride : x*wt.stride+wt.size[x]]
			px := in[wt.start[x]*3 : (wt.start[x]+len(taps))*3]
			r, g, b := int32(half), int32(half), int32(half)
			for k, c := range taps {
				p := px[k*3 : k*3+3 : k*3+3]
				r += int32(p[0]) * c
				g += int32(p[1]) * c
				b += int32(p[2]) * c
			}
			out[x*3], out[x*3+1], out[x*3+2] = clip8(r), clip8(g), clip8(b)
		}
	}
	return dst
}

// vertical walks each output row's input rows once per tap, accumulating whole rows: the
// inner loop runs along a row, sequential in memory.
func vertical(src RGB, h int) RGB {
	wt := precompute(src.H, h)
	rowLen := src.W * 3
	dst := RGB{W: src.W, H: h, Pix: make([]byte, rowLen*h)}
	acc := make([]int32, rowLen)
	const half = 1 << (precisionBits - 1)
	for y := range h {
		for i := range acc {
			acc[i] = half
		}
		taps := wt.coef[y*wt.stride : y*wt.stride+wt.size[y]]
		for k, c := range taps {
			row := src.Pix[(wt.start[y]+k)*rowLen : (wt.start[y]+k+1)*rowLen]
			row = row[:len(acc)]
			for i, p := range row {
				acc[i] += int32(p) * c
			}
		}
		out := dst.Pix[y*rowLen : (y+1)*rowLen]
		for i, v := range acc {
			out[i] = clip8(v)
		}
	}
	return dst
}
