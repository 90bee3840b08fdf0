package postgres_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// BenchmarkRecordRead times the search path's write: a read's audit entry
// (and its chain link) and event, committed by the group commit before the
// answer, with many requests at once. ns/op is per read; entries/commit says
// how many reads a transaction held, which decides how often the commit's
// fixed part (the chain's head, the flush) is paid.
func BenchmarkRecordRead(b *testing.B) {
	for _, writers := range []int{1, 2, 4} {
		for _, callers := range []int{2, 8, 32} {
			b.Run(fmt.Sprintf("writers=%d/callers=%d", writers, callers), func(b *testing.B) {
				g, _ := newTxGroup(b, postgres.TxGroupConfig{Writers: writers})
				ctx := context.Background()
				measureGroup(b, g, callers, "entries/commit", func(i int) error {
					return g.RecordRead(ctx, readEntry(i), &events.MemoriesSearched{Version: 1, RequestID: "r"})
				})
			})
		}
	}
}

// cpuMeter reports, per op, the CPU time the whole machine spent besides this
// process (on this machine: Postgres) and this process's own, read from
// /proc/stat and getrusage: on a shared two-core host CPU per op, not wall
// time, is what a change of the write path saves the rest of the stack.
type cpuMeter struct{ machine, self time.Duration }

func startCPU(b *testing.B) cpuMeter {
	return cpuMeter{machine: machineCPU(b), self: selfCPU(b)}
}

func (c cpuMeter) report(b *testing.B) {
	self := selfCPU(b) - c.self
	others := machineCPU(b) - c.machine - self
	b.ReportMetric(float64(others.Microseconds())/float64(b.N), "others-µs/op")
	b.ReportMetric(float64(self.Microseconds())/float64(b.N), "self-µs/op")
}

func machineCPU(b *testing.B) time.Duration {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		b.Skip("no /proc/stat:", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	var ticks int64
	for i, f := range fields[1:] {
		if i == 3 || i == 4 || i >= 7 { // idle, iowait, steal and guests are not work
			continue
		}
		n, _ := strconv.ParseInt(f, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ
}

func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAccept times the create path's write: an operation with its kept
// command and pending audit entry, committed by the group commit before the
// 202, from many requests of one scope at once (the tightest case: every
// batch takes the scope's row). ns/op is per accept; accepts/commit says how
// many a transaction held.
func BenchmarkAccept(b *testing.B) {
	for _, callers := range []int{8, 32} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			tr, _ := newTransactor(b)
			g := postgres.NewTxGroup(tr, postgres.TxGroupConfig{Writers: 1})
			ctx := context.Background()
			measureGroup(b, g, callers, "accepts/commit", func(i int) error {
				return g.Accept(ctx, acceptedCreate(b, i, ""))
			})
		})
	}
}

// measureGroup runs unit i from callers at once through g, and reports the
// CPU per unit besides the time, and how many units a transaction held
// (perCommit names the metric).
func measureGroup(b *testing.B, g *postgres.TxGroup, callers int, perCommit string, unit func(i int) error) {
	var next atomic.Int64
	b.SetParallelism(max(1, callers/runtime.GOMAXPROCS(0)))
	cpu := startCPU(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := unit(int(next.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	cpu.report(b)
	if n := g.Commits(); n > 0 {
		b.ReportMetric(float64(b.N)/float64(n), perCommit)
	}
}
