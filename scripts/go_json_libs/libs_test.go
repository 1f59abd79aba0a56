// Package gojsonlibs measures the Go JSON libraries tried for grpc-go-best's json engine
// (go/README.md, "Go at its best"), each on the part of the work it would do: decode the
// document into the generic tree the transform needs (map[string]any, []any) and encode it
// back, the transform itself left out. A library whose round trip alone is slower than the
// hand-written scanner's whole run (package jsonscan) cannot make a faster engine. Run:
//
//	cd scripts/go_json_libs && HB_JSON=/path/to/in-json-1MB.bin go test -bench . -count 5
//
// (a document written by hybridbench.make_input("json", "1MB")). It is a module of its own
// so that the server's go.mod does not carry the rejected libraries.
package gojsonlibs

import (
	stdjson "encoding/json"
	"os"
	"testing"

	"github.com/bytedance/sonic"
	v2 "github.com/go-json-experiment/json"
	gojson "github.com/goccy/go-json"
	segjson "github.com/segmentio/encoding/json"

	"hybridbench/goengine/kernels/best/jsonscan"
	"hybridbench/goengine/kernels/jsonorders"
)

func document(b *testing.B) []byte {
	path := os.Getenv("HB_JSON")
	if path == "" {
		b.Skip("HB_JSON is not set")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

type codec struct {
	unmarshal func([]byte, any) error
	marshal   func(any) ([]byte, error)
}

func BenchmarkRoundTrip(b *testing.B) {
	doc := document(b)
	codecs := map[string]codec{
		"encoding-json-v1": {stdjson.Unmarshal, stdjson.Marshal},
		"encoding-json-v2": {func(d []byte, v any) error { return v2.Unmarshal(d, v) },
			func(v any) ([]byte, error) { return v2.Marshal(v) }},
		"goccy-go-json":   {gojson.Unmarshal, gojson.Marshal},
		"segmentio":       {segjson.Unmarshal, segjson.Marshal},
		"bytedance-sonic": {sonic.Unmarshal, sonic.Marshal},
	}
	for name, c := range codecs {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				var tree any
				if err := c.unmarshal(doc, &tree); err != nil {
					b.Fatal(err)
				}
				if _, err := c.marshal(tree); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEngine(b *testing.B) {
	doc := document(b)
	for name, run := range map[string]func([]byte) ([]byte, error){
		"idiomatic-jsontext": jsonorders.Run, "best-jsonscan": jsonscan.Run} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				if _, err := run(doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
