package server

import (
	"errors"
	"os"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// parentPoll is how often the fallback watchdog checks that the parent is still alive.
const parentPoll = 200 * time.Millisecond

// watchParent makes sure a spawned server never outlives the harness: it asks the kernel to
// SIGTERM this process when the parent dies, and polls getppid() as a fallback (the death
// signal follows the parent *thread*). stop is told why when the parent goes. Call it from
// the main goroutine.
func watchParent(options Options, stop chan<- string) error {
	parent := options.ParentPID
	if parent == 0 {
		parent = os.Getppid()
	}
	if options.DeathSignal && runtime.GOOS == "linux" {
		// The setting belongs to the calling thread, and the kernel signals the process when
		// the parent dies only while that thread lives: the calling goroutine (main's) stays
		// locked to its thread for good, so the Go runtime never retires it.
		runtime.LockOSThread()
		if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0, 0, 0); err != nil {
			return err
		}
	}
	// The parent may have died before the death signal was set.
	if os.Getppid() != parent {
		return errors.New("parent process exited before the server started")
	}
	if parent <= 1 {
		return nil // started by init: nothing to watch
	}
	go func() {
		for range time.Tick(parentPoll) {
			if os.Getppid() != parent {
				stop <- "parent process exited"
				return
			}
		}
	}()
	return nil
}
