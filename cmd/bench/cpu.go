package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of utime and stime in /proc/<pid>/stat (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// cpuTimes is the CPU time (user + system) each process of the stack and the harness
// itself (the load generator) had used when it was taken.
type cpuTimes map[string]time.Duration

// takeCPU reads the CPU time of every running process of s and of the harness.
func takeCPU(s *stack) cpuTimes {
	t := cpuTimes{"harness (load generator)": procCPU(os.Getpid())}
	for name, p := range s.procs {
		t[name] = procCPU(p.PID)
	}
	return t
}

// procCPU returns a process's utime + stime, or 0 if it cannot be read.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state); utime and stime are fields 14 and 15
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * clockTick
}

// cpuShare is one process's CPU time per command over a load.
type cpuShare struct {
	Name       string
	PerCommand time.Duration
}

// perCommand returns each process's CPU time between before and after divided by n,
// largest first, and the sum.
func perCommand(before, after cpuTimes, n int64) ([]cpuShare, time.Duration) {
	if n <= 0 {
		return nil, 0
	}
	var shares []cpuShare
	var total time.Duration
	for name, a := range after {
		d := (a - before[name]) / time.Duration(n)
		shares = append(shares, cpuShare{name, d})
		total += d
	}
	sort.Slice(shares, func(i, j int) bool { return shares[i].PerCommand > shares[j].PerCommand })
	return shares, total
}
