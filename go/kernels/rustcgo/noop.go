package rustcgo

// #include <stdint.h>
// static void hb_noop(void) {}
import "C"

// noop is an empty C call: what cgo alone costs, the floor under BenchmarkCrossing.
func noop() { C.hb_noop() }
