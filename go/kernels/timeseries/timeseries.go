// Package timeseries is the timeseries workload (workloads/timeseries.py, whose docstring is the
// specification): a columnar batch of metrics aggregated by (region, 1-minute window), plus
// count and peak cpu per host, written as a binary table.
package timeseries

import (
	"cmp"
	"encoding/binary"
	"math"
	"slices"

	"hybridbench/goengine/kernels/kernelerr"
)

// The wire format's layout and the mean's overflow fallback, shared by every Go timeseries
// engine (the best engine, kernels/best/tsfast, reads them from here).
const (
	HeaderSize  = 16
	Version     = 1
	WindowMs    = 60_000
	GroupRecord = 48
	HostRecord  = 16
	// The mean's overflow fallback (spec, "Aggregation"): a group whose cpu sum is not finite
	// is summed again with the values times 2^-64, and its mean scaled back by 2^64.
	RescaleUp   = 1 << 64
	RescaleDown = 1.0 / RescaleUp
)

var le = binary.LittleEndian

// batch is a validated input: the columns, read in place.
type batch struct {
	n, m     int
	payload  []byte
	metrics0 int // offset of the metric columns
}

func (b *batch) ts(i int) int64      { return int64(le.Uint64(b.payload[HeaderSize+8*i:])) }
func (b *batch) host(i int) uint32   { return le.Uint32(b.payload[HeaderSize+8*b.n+4*i:]) }
func (b *batch) region(i int) uint16 { return le.Uint16(b.payload[HeaderSize+12*b.n+2*i:]) }
func (b *batch) metric(k, i int) float64 {
	return math.Float64frombits(le.Uint64(b.payload[b.metrics0+8*(k*b.n+i):]))
}

func metricsOffset(n int) int { return (HeaderSize + 14*n + 7) / 8 * 8 }

// Shape checks a batch's header and length, in the words of the specification, and returns
// its points n, metric columns m and the offset of the metric columns. Every Go engine of the
// workload starts with it, so that their verdicts and words on malformed batches are one.
func Shape(payload []byte) (n, m, metrics0 int, err error) {
	if len(payload) < HeaderSize {
		return 0, 0, 0, kernelerr.Invalidf(
			"timeseries: %d bytes is shorter than the 16-byte header", len(payload))
	}
	if magic := payload[:4]; string(magic) != "HBTS" {
		return 0, 0, 0, kernelerr.Invalidf("timeseries: bad magic %q, expected \"HBTS\"", magic)
	}
	if v := le.Uint16(payload[4:]); v != Version {
		return 0, 0, 0, kernelerr.Invalidf(
			"timeseries: unsupported version %d, expected %d", v, Version)
	}
	m = int(le.Uint16(payload[6:]))
	n = int(le.Uint32(payload[8:]))
	if m < 2 {
		return 0, 0, 0, kernelerr.Invalidf(
			"timeseries: %d metric columns, at least 2 are needed", m)
	}
	if want := metricsOffset(n) + 8*n*m; len(payload) != want {
		return 0, 0, 0, kernelerr.Invalidf("timeseries: expected %d bytes for %d points and %d "+
			"metrics, got %d (truncated or misaligned batch)", want, n, m, len(payload))
	}
	return n, m, metricsOffset(n), nil
}

// parse checks the header, the length and every metric value.
func parse(payload []byte) (*batch, error) {
	n, m, metrics0, err := Shape(payload)
	if err != nil {
		return nil, err
	}
	b := &batch{n: n, m: m, payload: payload, metrics0: metrics0}
	for k := range m {
		for i := range n {
			if v := b.metric(k, i); math.IsNaN(v) || math.IsInf(v, 0) {
				kind := "infinite"
				if math.IsNaN(v) {
					kind = "NaN"
				}
				return nil, kernelerr.Invalidf("timeseries: metric %d of point %d is %s", k, i, kind)
			}
		}
	}
	return b, nil
}

type groupKey struct {
	region uint16
	window int64
}

type group struct {
	key           groupKey
	sum, min, max float64
	rescaled      bool // sum is of the values times RescaleDown (the overflow fallback)
	latencies     []float64
}

// mean is sum / count, or the overflow fallback's scaled-back mean, clamped to [min, max]:
// near the double limit, rounding past max would scale back to an infinity.
func (g *group) mean() float64 {
	mean := g.sum / float64(len(g.latencies))
	if !g.rescaled {
		return mean
	}
	return min(max(mean*RescaleUp, g.min), g.max)
}

type hostStats struct {
	host   uint32
	count  uint32
	maxCPU float64
}

// FloorDiv is division rounding toward minus infinity (Go's / truncates toward zero): the
// minute window of a timestamp, in every Go engine of the workload.
func FloorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Run aggregates a batch; see the package documentation.
func Run(payload []byte) ([]byte, error) {
	b, err := parse(payload)
	if err != nil {
		return nil, err
	}
	groups, hosts := aggregate(b)
	return encode(groups, hosts), nil
}

func aggregate(b *batch) ([]*group, []hostStats) {
	byKey := make(map[groupKey]*group)
	byHost := make(map[uint32]*hostStats)
	for i := range b.n {
		cpu, latency := b.metric(0, i), b.metric(1, i)
		key := groupKey{b.region(i), FloorDiv(b.ts(i), WindowMs)}
		g := byKey[key]
		if g == nil {
			g = &group{key: key, min: cpu, max: cpu}
			byKey[key] = g
		}
		g.sum += cpu
		g.min, g.max = min(g.min, cpu), max(g.max, cpu)
		g.latencies = append(g.latencies, latency)

		id := b.host(i)
		h := byHost[id]
		if h == nil {
			h = &hostStats{host: id, maxCPU: cpu}
			byHost[id] = h
		}
		h.count++
		h.maxCPU = max(h.maxCPU, cpu)
	}
	groups := make([]*group, 0, len(byKey))
	overflowed := false
	for _, g := range byKey {
		groups = append(groups, g)
		// an overflow leaves an infinity or a NaN: a finite sum proves none happened
		overflowed = overflowed || math.IsInf(g.sum, 0) || math.IsNaN(g.sum)
	}
	if overflowed {
		rescaleOverflowedSums(b, byKey)
	}
	slices.SortFunc(groups, func(x, y *group) int {
		return cmp.Or(cmp.Compare(x.key.region, y.key.region), cmp.Compare(x.key.window, y.key.window))
	})
	hosts := make([]hostStats, 0, len(byHost))
	for _, h := range byHost {
		hosts = append(hosts, *h)
	}
	slices.SortFunc(hosts, func(x, y hostStats) int { return cmp.Compare(x.host, y.host) })
	return groups, hosts
}

// rescaleOverflowedSums sums again, times 2^-64, the cpu of the groups whose sum overflowed
// (finite values beyond the double range): exact for every value that matters to such a sum,
// and 2^32 scaled values cannot overflow. Only batches with such a group run it.
func rescaleOverflowedSums(b *batch, byKey map[groupKey]*group) {
	for _, g := range byKey {
		if math.IsInf(g.sum, 0) || math.IsNaN(g.sum) {
			g.sum, g.rescaled = 0, true
		}
	}
	for i := range b.n {
		if g := byKey[groupKey{b.region(i), FloorDiv(b.ts(i), WindowMs)}]; g.rescaled {
			g.sum += b.metric(0, i) * RescaleDown
		}
	}
}

// p95 is the nearest-rank 95th percentile: the value at 1-based rank ceil(0.95 * count).
func p95(latencies []float64) float64 {
	slices.Sort(latencies)
	rank := (95*len(latencies) + 99) / 100
	return latencies[rank-1]
}

func encode(groups []*group, hosts []hostStats) []byte {
	out := make([]byte, 0, HeaderSize+GroupRecord*len(groups)+HostRecord*len(hosts))
	out = append(out, "HBTA"...)
	out = le.AppendUint16(out, Version)
	out = le.AppendUint16(out, 0)
	out = le.AppendUint32(out, uint32(len(groups)))
	out = le.AppendUint32(out, uint32(len(hosts)))
	for _, g := range groups {
		count := len(g.latencies)
		out = le.AppendUint64(out, uint64(g.key.window))
		out = le.AppendUint16(out, g.key.region)
		out = le.AppendUint16(out, 0)
		out = le.AppendUint32(out, uint32(count))
		for _, v := range []float64{g.mean(), g.min, g.max, p95(g.latencies)} {
			out = le.AppendUint64(out, math.Float64bits(v))
		}
	}
	for _, h := range hosts {
		out = le.AppendUint32(out, h.host)
		out = le.AppendUint32(out, h.count)
		out = le.AppendUint64(out, math.Float64bits(h.maxCPU))
	}
	return out
}
