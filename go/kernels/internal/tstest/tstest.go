// Package tstest lays out the timeseries batches the tests of every Go timeseries engine
// (idiomatic and best) share.
package tstest

import (
	"encoding/binary"
	"math"
)

// Batch lays out a batch of points (ts, host, region, cpu, latency) with m metric columns;
// the columns past the second are zero.
func Batch(m int, ts []int64, host []uint32, region []uint16, cpu, latency []float64) []byte {
	le := binary.LittleEndian
	n := len(ts)
	out := []byte("HBTS")
	out = le.AppendUint16(out, 1)
	out = le.AppendUint16(out, uint16(m))
	out = le.AppendUint32(out, uint32(n))
	out = le.AppendUint32(out, 0)
	for _, v := range ts {
		out = le.AppendUint64(out, uint64(v))
	}
	for _, v := range host {
		out = le.AppendUint32(out, v)
	}
	for _, v := range region {
		out = le.AppendUint16(out, v)
	}
	out = append(out, make([]byte, (16+14*n+7)/8*8-len(out))...) // metrics 8-byte aligned
	for k := range m {
		for i := range n {
			v := 0.0
			switch k {
			case 0:
				v = cpu[i]
			case 1:
				v = latency[i]
			}
			out = le.AppendUint64(out, math.Float64bits(v))
		}
	}
	return out
}
