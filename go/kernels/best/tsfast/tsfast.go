// Package tsfast is the best Go engine of the timeseries workload (workloads/timeseries.py is
// the specification; package timeseries is the idiomatic engine, whose error words this one
// repeats). Same algorithm, none of its allocation in the hot loop:
//
//   - every point gets a small group id and host id, ascending in key order: plain arithmetic
//     on the key when the key ranges are compact (a grid of at most 2n+4096 slots, as the Rust
//     tuned kernel does), else a map over the distinct keys, sorted once;
//   - sums, minima, maxima, counts and host maxima live in preallocated slices indexed by id,
//     the latencies of all groups in one slice laid out by group (a counting sort), and the
//     p95 is a selection (quickselect) in each group's part instead of a sort.
package tsfast

import (
	"cmp"
	"encoding/binary"
	"math"
	"slices"

	"hybridbench/goengine/kernels/kernelerr"
	"hybridbench/goengine/kernels/timeseries"
)

var le = binary.LittleEndian

// batch is a validated input: its columns, read in place.
type batch struct {
	n, m            int
	ts, hosts, regs []byte
	cpu, latency    []byte
}

// parse checks the header and the length (package timeseries' Shape: the same words) and
// every metric value.
func parse(payload []byte) (*batch, error) {
	n, m, off, err := timeseries.Shape(payload)
	if err != nil {
		return nil, err
	}
	if err := checkFinite(payload[off:], n); err != nil {
		return nil, err
	}
	columns := payload[timeseries.HeaderSize:]
	return &batch{n: n, m: m, ts: columns[:8*n], hosts: columns[8*n : 12*n],
		regs: columns[12*n : 14*n],
		cpu:  payload[off : off+8*n], latency: payload[off+8*n : off+16*n]}, nil
}

// checkFinite names the first NaN or infinity, metric by metric, point by point. The exponent
// bits of both are all ones, so the common case is one mask and compare per value.
func checkFinite(metrics []byte, n int) error {
	const exponent = 0x7ff0000000000000
	for at := 0; at+8 <= len(metrics); at += 8 {
		if bits := le.Uint64(metrics[at:]); bits&exponent == exponent {
			kind := "infinite"
			if math.IsNaN(math.Float64frombits(bits)) {
				kind = "NaN"
			}
			k, i := (at/8)/max(n, 1), (at/8)%max(n, 1)
			return kernelerr.Invalidf("timeseries: metric %d of point %d is %s", k, i, kind)
		}
	}
	return nil
}

// Run aggregates a batch; see the package documentation.
func Run(payload []byte) ([]byte, error) {
	b, err := parse(payload)
	if err != nil {
		return nil, err
	}
	return aggregate(b), nil
}

type groupKey struct {
	region uint16
	window int64
}

func compareKeys(x, y groupKey) int {
	return cmp.Or(cmp.Compare(x.region, y.region), cmp.Compare(x.window, y.window))
}

// groupIDs numbers every point's (region, window), ascending in key order; it returns the
// ids and the key of each id.
func groupIDs(b *batch) ([]uint32, []groupKey) {
	ids := make([]uint32, b.n)
	if b.n == 0 {
		return ids, nil
	}
	windows := make([]int64, b.n)
	r0, r1 := le.Uint16(b.regs), le.Uint16(b.regs)
	w0 := timeseries.FloorDiv(int64(le.Uint64(b.ts)), timeseries.WindowMs)
	w1 := w0
	for i := range b.n {
		w := timeseries.FloorDiv(int64(le.Uint64(b.ts[8*i:])), timeseries.WindowMs)
		windows[i] = w
		r := le.Uint16(b.regs[2*i:])
		r0, r1, w0, w1 = min(r0, r), max(r1, r), min(w0, w), max(w1, w)
	}
	limit := uint64(2*b.n + 4096)
	span := uint64(w1-w0) + 1 // windows are floor(ts / 60000): the difference cannot wrap
	if regions := uint64(r1-r0) + 1; span <= limit && regions*span <= limit {
		keys := make([]groupKey, regions*span)
		for id := range keys {
			keys[id] = groupKey{r0 + uint16(uint64(id)/span), w0 + int64(uint64(id)%span)}
		}
		for i := range b.n {
			ids[i] = uint32(uint64(le.Uint16(b.regs[2*i:])-r0)*span + uint64(windows[i]-w0))
		}
		return ids, keys
	}
	byKey := map[groupKey]uint32{}
	var keys []groupKey
	for i := range b.n {
		key := groupKey{le.Uint16(b.regs[2*i:]), windows[i]}
		id, ok := byKey[key]
		if !ok {
			id = uint32(len(keys))
			byKey[key] = id
			keys = append(keys, key)
		}
		ids[i] = id
	}
	return ids, renumber(ids, keys, compareKeys)
}

// hostIDs numbers every point's host, ascending; it returns the ids and the host of each id.
func hostIDs(b *batch) ([]uint32, []uint32) {
	ids := make([]uint32, b.n)
	if b.n == 0 {
		return ids, nil
	}
	h0, h1 := le.Uint32(b.hosts), le.Uint32(b.hosts)
	for i := range b.n {
		h := le.Uint32(b.hosts[4*i:])
		h0, h1 = min(h0, h), max(h1, h)
	}
	if uint64(h1-h0)+1 <= uint64(2*b.n+4096) {
		hosts := make([]uint32, h1-h0+1)
		for id := range hosts {
			hosts[id] = h0 + uint32(id)
		}
		for i := range b.n {
			ids[i] = le.Uint32(b.hosts[4*i:]) - h0
		}
		return ids, hosts
	}
	byHost := map[uint32]uint32{}
	var hosts []uint32
	for i := range b.n {
		h := le.Uint32(b.hosts[4*i:])
		id, ok := byHost[h]
		if !ok {
			id = uint32(len(hosts))
			byHost[h] = id
			hosts = append(hosts, h)
		}
		ids[i] = id
	}
	return ids, renumber(ids, hosts, cmp.Compare[uint32])
}

// renumber sorts keys (distinct, numbered in first-seen order) and rewrites ids to match.
func renumber[K any](ids []uint32, keys []K, compare func(K, K) int) []K {
	order := make([]uint32, len(keys))
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(a, b uint32) int { return compare(keys[a], keys[b]) })
	newID := make([]uint32, len(keys))
	sorted := make([]K, len(keys))
	for rank, old := range order {
		newID[old] = uint32(rank)
		sorted[rank] = keys[old]
	}
	for i, id := range ids {
		ids[i] = newID[id]
	}
	return sorted
}

// groups holds the per-group aggregates, indexed by group id.
type groups struct {
	count              []uint32
	sum, lo, hi        []float64
	rescaled           []bool
	start              []uint32 // where each group's latencies begin in latencies
	latencies          []float64
	hostCount          []uint32
	hostMax            []float64
	groupKeys          []groupKey
	hostKeys           []uint32
	groupIDs, hostIDsV []uint32
}

func aggregate(b *batch) []byte {
	gid, gkeys := groupIDs(b)
	hid, hkeys := hostIDs(b)
	g := &groups{count: make([]uint32, len(gkeys)), sum: make([]float64, len(gkeys)),
		lo: make([]float64, len(gkeys)), hi: make([]float64, len(gkeys)),
		rescaled: make([]bool, len(gkeys)), start: make([]uint32, len(gkeys)+1),
		latencies: make([]float64, b.n), hostCount: make([]uint32, len(hkeys)),
		hostMax: make([]float64, len(hkeys)), groupKeys: gkeys, hostKeys: hkeys,
		groupIDs: gid, hostIDsV: hid}
	g.accumulate(b)
	g.placeLatencies(b)
	return g.encode()
}

func (g *groups) accumulate(b *batch) {
	for i := range b.n {
		cpu := math.Float64frombits(le.Uint64(b.cpu[8*i:]))
		id := g.groupIDs[i]
		if g.count[id] == 0 {
			g.lo[id], g.hi[id] = cpu, cpu
		}
		g.count[id]++
		g.sum[id] += cpu
		g.lo[id], g.hi[id] = min(g.lo[id], cpu), max(g.hi[id], cpu)
		h := g.hostIDsV[i]
		if g.hostCount[h] == 0 || cpu > g.hostMax[h] {
			g.hostMax[h] = cpu
		}
		g.hostCount[h]++
	}
	overflowed := false
	for id, sum := range g.sum {
		if math.IsInf(sum, 0) || math.IsNaN(sum) {
			g.sum[id], g.rescaled[id], overflowed = 0, true, true
		}
	}
	if overflowed { // the rare fallback of the specification: sum again, times 2^-64
		for i := range b.n {
			if id := g.groupIDs[i]; g.rescaled[id] {
				g.sum[id] += math.Float64frombits(le.Uint64(b.cpu[8*i:])) * timeseries.RescaleDown
			}
		}
	}
}

// placeLatencies lays the latencies out by group (a counting sort on the group id).
func (g *groups) placeLatencies(b *batch) {
	for id, c := range g.count {
		g.start[id+1] = g.start[id] + c
	}
	next := slices.Clone(g.start[:len(g.count)])
	for i := range b.n {
		id := g.groupIDs[i]
		g.latencies[next[id]] = math.Float64frombits(le.Uint64(b.latency[8*i:]))
		next[id]++
	}
}

func (g *groups) mean(id int) float64 {
	mean := g.sum[id] / float64(g.count[id])
	if !g.rescaled[id] {
		return mean
	}
	return min(max(mean*timeseries.RescaleUp, g.lo[id]), g.hi[id])
}

func (g *groups) encode() []byte {
	nGroups, nHosts := 0, 0
	for _, c := range g.count {
		nGroups += min(int(c), 1)
	}
	for _, c := range g.hostCount {
		nHosts += min(int(c), 1)
	}
	out := make([]byte, 0, timeseries.HeaderSize+timeseries.GroupRecord*nGroups+timeseries.HostRecord*nHosts)
	out = append(out, "HBTA"...)
	out = le.AppendUint16(out, timeseries.Version)
	out = le.AppendUint16(out, 0)
	out = le.AppendUint32(out, uint32(nGroups))
	out = le.AppendUint32(out, uint32(nHosts))
	for id, count := range g.count {
		if count == 0 {
			continue
		}
		key := g.groupKeys[id]
		out = le.AppendUint64(out, uint64(key.window))
		out = le.AppendUint16(out, key.region)
		out = le.AppendUint16(out, 0)
		out = le.AppendUint32(out, count)
		tail := g.latencies[g.start[id]:g.start[id+1]]
		rank := (95*len(tail) + 99) / 100
		for _, v := range [4]float64{g.mean(id), g.lo[id], g.hi[id], selectNth(tail, rank-1)} {
			out = le.AppendUint64(out, math.Float64bits(v))
		}
	}
	for id, count := range g.hostCount {
		if count == 0 {
			continue
		}
		out = le.AppendUint32(out, g.hostKeys[id])
		out = le.AppendUint32(out, count)
		out = le.AppendUint64(out, math.Float64bits(g.hostMax[id]))
	}
	return out
}

// selectNth returns the value a sort of values would put at index k (values are finite),
// reordering values: Hoare's quickselect with a median-of-three pivot, a sort for short parts.
func selectNth(values []float64, k int) float64 {
	lo, hi := 0, len(values)-1
	for hi-lo > 16 {
		mid := lo + (hi-lo)/2
		if values[mid] < values[lo] {
			values[mid], values[lo] = values[lo], values[mid]
		}
		if values[hi] < values[lo] {
			values[hi], values[lo] = values[lo], values[hi]
		}
		if values[hi] < values[mid] {
			values[hi], values[mid] = values[mid], values[hi]
		}
		pivot := values[mid]
		i, j := lo, hi
		for i <= j {
			for values[i] < pivot {
				i++
			}
			for pivot < values[j] {
				j--
			}
			if i <= j {
				values[i], values[j] = values[j], values[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return values[k]
		}
	}
	slices.Sort(values[lo : hi+1])
	return values[k]
}
