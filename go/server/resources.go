package server

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// rssBytes is the resident set size now and at its peak, in bytes: VmRSS and VmHWM of
// /proc/self/status (0 where there is no procfs).
func rssBytes() (rss, peak uint64) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	return parseStatus(string(status))
}

func parseStatus(status string) (rss, peak uint64) {
	field := func(name string) uint64 {
		for line := range strings.Lines(status) {
			if rest, ok := strings.CutPrefix(line, name); ok {
				kib, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(
					strings.TrimSpace(rest), "kB")), 10, 64)
				if err == nil {
					return kib * 1024
				}
			}
		}
		return 0
	}
	return field("VmRSS:"), field("VmHWM:")
}

// cpuSeconds is the user and system CPU time of the whole process (getrusage(RUSAGE_SELF)).
func cpuSeconds() (user, system float64) {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0, 0
	}
	seconds := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return seconds(usage.Utime), seconds(usage.Stime)
}

// pageFaults is the minor and major page faults of the whole process so far (getrusage).
func pageFaults() (minor, major uint64) {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0, 0
	}
	return uint64(max(usage.Minflt, 0)), uint64(max(usage.Majflt, 0))
}
