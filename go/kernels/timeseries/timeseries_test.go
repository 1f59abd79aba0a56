package timeseries

import (
	"math"
	"strings"
	"testing"

	"hybridbench/goengine/kernels/internal/tstest"
)

func TestAggregate(t *testing.T) {
	// two points in region 1 window -1 (negative timestamps floor), one in region 0 window 1
	payload := tstest.Batch(3, []int64{-1, -60_000, 60_000}, []uint32{7, 7, 2}, []uint16{1, 1, 0},
		[]float64{10, 30, 5}, []float64{1, 2, 3})
	out, err := Run(payload)
	if err != nil {
		t.Fatal(err)
	}
	if string(out[:4]) != "HBTA" || le.Uint32(out[8:]) != 2 || le.Uint32(out[12:]) != 2 {
		t.Fatalf("header % x", out[:16])
	}
	if len(out) != 16+48*2+16*2 {
		t.Fatalf("length %d", len(out))
	}
	f := func(at int) float64 { return math.Float64frombits(le.Uint64(out[at:])) }
	g0, g1 := 16, 16+48
	if int64(le.Uint64(out[g0:])) != 1 || le.Uint16(out[g0+8:]) != 0 || le.Uint32(out[g0+12:]) != 1 {
		t.Errorf("group 0 % x", out[g0:g0+16])
	}
	if int64(le.Uint64(out[g1:])) != -1 || le.Uint16(out[g1+8:]) != 1 || le.Uint32(out[g1+12:]) != 2 {
		t.Errorf("group 1 % x", out[g1:g1+16])
	}
	if f(g1+16) != 20 || f(g1+24) != 10 || f(g1+32) != 30 || f(g1+40) != 2 {
		t.Errorf("group 1 mean/min/max/p95 %v %v %v %v", f(g1+16), f(g1+24), f(g1+32), f(g1+40))
	}
	h0 := 16 + 96
	if le.Uint32(out[h0:]) != 2 || le.Uint32(out[h0+16:]) != 7 || le.Uint32(out[h0+20:]) != 2 ||
		f(h0+24) != 30 {
		t.Errorf("hosts % x", out[h0:])
	}
}

func TestP95IsNearestRank(t *testing.T) {
	values := make([]float64, 20)
	for i := range values {
		values[i] = float64(20 - i)
	}
	if got := p95(values); got != 19 { // rank ceil(0.95 * 20) = 19
		t.Errorf("p95 = %v", got)
	}
	if got := p95([]float64{4}); got != 4 {
		t.Errorf("p95 of one = %v", got)
	}
}

func TestEmptyBatch(t *testing.T) {
	out, err := Run(tstest.Batch(2, nil, nil, nil, nil, nil))
	if err != nil || len(out) != 16 {
		t.Fatalf("%v % x", err, out)
	}
}

func TestBadInput(t *testing.T) {
	good := tstest.Batch(2, []int64{0, 1}, []uint32{0, 0}, []uint16{0, 0}, []float64{1, 2}, []float64{1, 2})
	nan := tstest.Batch(2, []int64{0, 1}, []uint32{0, 0}, []uint16{0, 0}, []float64{1, 2},
		[]float64{1, math.NaN()})
	inf := tstest.Batch(2, []int64{0}, []uint32{0}, []uint16{0}, []float64{math.Inf(-1)}, []float64{1})
	cases := []struct {
		payload []byte
		want    string
	}{
		{[]byte("HBTS"), "shorter than the 16-byte header"},
		{append([]byte("XXXX"), good[4:]...), "bad magic"},
		{good[:len(good)-3], "expected 80 bytes for 2 points and 2 metrics, got 77"},
		{append(good, 0), "truncated or misaligned"},
		{tstest.Batch(1, []int64{0}, []uint32{0}, []uint16{0}, []float64{1}, nil), "at least 2"},
		{nan, "metric 1 of point 1 is NaN"},
		{inf, "metric 0 of point 0 is infinite"},
	}
	for _, c := range cases {
		if _, err := Run(c.payload); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}

// meansOf runs one group per entry of groups (group r in region r, window 0, a host per point)
// and returns the groups' means.
func meansOf(t *testing.T, groups ...[]float64) []float64 {
	t.Helper()
	var ts []int64
	var host []uint32
	var region []uint16
	var cpu, latency []float64
	for r, values := range groups {
		for _, v := range values {
			ts, host, region = append(ts, 0), append(host, uint32(len(host))), append(region, uint16(r))
			cpu, latency = append(cpu, v), append(latency, 1)
		}
	}
	out, err := Run(tstest.Batch(2, ts, host, region, cpu, latency))
	if err != nil {
		t.Fatal(err)
	}
	means := make([]float64, len(groups))
	for i := range means {
		means[i] = math.Float64frombits(le.Uint64(out[16+48*i+16:]))
	}
	return means
}

func TestASumBeyondTheDoubleRangeGivesTheFiniteMean(t *testing.T) {
	means := meansOf(t, []float64{1.5e308, 1.5e308},
		[]float64{math.MaxFloat64, math.MaxFloat64, math.MaxFloat64},
		[]float64{-1.7e308, -1.7e308, -1.7e308, 5},
		[]float64{1, 3}) // no overflow: the plain sum / count
	if means[0] != 1.5e308 || means[1] != math.MaxFloat64 || means[3] != 2 {
		t.Errorf("means %v", means)
	}
	if want := -1.7e308 / 4 * 3; math.Abs(means[2]-want) > 1e-9*1.7e308 {
		t.Errorf("mean %v, want %v", means[2], want)
	}
}

func TestCancellingHugeValuesGiveAMeanWithinTheSpecTolerance(t *testing.T) {
	// the sum overflows in input order, although the exact sum (1) is small; the spec
	// verifies the mean to 1e-9 of the group's largest magnitude
	mean := meansOf(t, []float64{1.7e308, 1.7e308, -1.7e308, -1.7e308, 1})[0]
	if math.IsInf(mean, 0) || math.IsNaN(mean) || math.Abs(mean-0.2) > 1e-9*1.7e308 {
		t.Errorf("mean %v", mean)
	}
}
