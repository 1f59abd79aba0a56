package best

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkEngines compares the idiomatic and the best engine of each workload on the inputs
// in $HB_BENCH_INPUTS (files named in-WORKLOAD-SIZE.bin, written by hybridbench.make_input);
// skipped without them. go test ./kernels/best -run '^$' -bench Engines -count 5
func BenchmarkEngines(b *testing.B) {
	dir := os.Getenv("HB_BENCH_INPUTS")
	if dir == "" {
		b.Skip("HB_BENCH_INPUTS is not set")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "in-*.bin"))
	for _, file := range files {
		payload, err := os.ReadFile(file)
		if err != nil {
			b.Fatal(err)
		}
		var workload, size string
		name := filepath.Base(file)
		for i := 3; i < len(name); i++ {
			if name[i] == '-' {
				workload, size = name[3:i], name[i+1:len(name)-4]
				break
			}
		}
		for engine, k := range map[string]func([]byte) ([]byte, error){
			"idiomatic": idiomatic(workload).Run, "best": bestOf(workload).Run} {
			b.Run(workload+"-"+size+"/"+engine, func(b *testing.B) {
				b.SetBytes(int64(len(payload)))
				for b.Loop() {
					if _, err := k(payload); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
