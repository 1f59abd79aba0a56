package kernels

import (
	"bytes"
	"testing"
)

func TestTableNamesAreUniqueAndEveryKernelRuns(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Table {
		if k.Name == "" || seen[k.Name] || k.Run == nil {
			t.Errorf("bad entry %q (duplicate: %v, Run set: %v)", k.Name, seen[k.Name], k.Run != nil)
		}
		seen[k.Name] = true
	}
	for _, name := range []string{"json", "image", "thumbnail", "timeseries", "echo", "text"} {
		if !seen[name] {
			t.Errorf("workload %q is not registered", name)
		}
	}
}

func TestEchoReturnsItsInput(t *testing.T) {
	for _, k := range Table {
		if k.Name != "echo" {
			continue
		}
		for _, in := range [][]byte{{}, []byte("hi"), bytes.Repeat([]byte{0xff}, 1<<20)} {
			if out, err := k.Run(in); err != nil || !bytes.Equal(out, in) {
				t.Errorf("echo of %d bytes: %d bytes, %v", len(in), len(out), err)
			}
		}
	}
}
