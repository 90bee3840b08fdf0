package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// groupHook is the go-redis hook on every subscriber's client. Redis without
// persistence loses streams and their groups on a restart, a FLUSHALL or a
// failover to an empty replica; Watermill then reads with NOGROUP forever,
// since it creates the group only when it subscribes. The hook recreates the
// group at id 0 and retries the command once, so a subscriber heals without a
// restart. It also tells health how each consumer's reads go.
type groupHook struct {
	health *ConsumerHealth // nil: reads are not tracked
	log    *slog.Logger
	// block is how long the subscriber's reads wait for an entry.
	block time.Duration
	// closed is set, under health's lock, when the subscriber closes.
	closed bool
	lost   *lostReads
	broken brokenConns
}

func newGroupHook(health *ConsumerHealth, log *slog.Logger, block time.Duration) *groupHook {
	if log == nil {
		log = slog.Default()
	}
	return &groupHook{health: health, log: log, block: block, lost: newLostReads()}
}

var _ goredis.Hook = (*groupHook)(nil)

// DialHook watches each connection for failures: a read that spans one may
// have lost its answer (see lostReads).
func (h *groupHook) DialHook(next goredis.DialHook) goredis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		if err != nil {
			return c, err
		}
		return h.broken.watch(c), nil
	}
}

func (h *groupHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

func (h *groupHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if isXAck(cmd) {
			err := next(ctx, cmd)
			if err == nil {
				h.lost.acked(xackArgs(cmd.Args()))
			}
			return err
		}
		groups := groupsOf(cmd)
		if len(groups) == 0 {
			return next(ctx, cmd)
		}
		switch cmd.Name() {
		case "xreadgroup":
			return h.read(ctx, next, cmd, groups)
		case "xclaim":
			k := consumerOf(cmd, groups[0])
			h.lost.claimStarts(k)
			err := h.process(ctx, next, cmd, groups)
			var claimed []goredis.XMessage
			if c, ok := cmd.(*goredis.XMessageSliceCmd); ok && err == nil {
				claimed = c.Val()
			}
			h.lost.claimEnds(k, claimed)
			return err
		}
		return h.process(ctx, next, cmd, groups)
	}
}

// process runs a command of a group, recreating the group once if Redis lost it.
func (h *groupHook) process(ctx context.Context, next goredis.ProcessHook, cmd goredis.Cmder, groups []streamGroup) error {
	err := next(ctx, cmd)
	if lostGroup(cmd, err) && h.recreate(ctx, next, groups) {
		err = next(ctx, cmd)
	}
	return err
}

// read runs a consumer's XREADGROUP. A read of new entries is answered first
// with any entry an earlier read of the consumer lost (see lostReads); one
// that fails may have lost its own, which is looked for at once.
func (h *groupHook) read(ctx context.Context, next goredis.ProcessHook, cmd goredis.Cmder, groups []streamGroup) error {
	k := consumerOf(cmd, groups[0])
	xs, isSlice := cmd.(*goredis.XStreamSliceCmd)
	watch := isSlice && readsNew(cmd.Args(), groups)
	if watch && h.answerLost(ctx, next, k, xs) {
		h.recordRead(ctx, cmd, groups, nil)
		return nil
	}
	broken := h.broken.n.Load()
	err := h.process(ctx, next, cmd, groups)
	if watch {
		if err == nil {
			for _, s := range xs.Val() {
				h.lost.note(k, s.Messages)
			}
		}
		failed := err != nil && !errors.Is(err, goredis.Nil)
		if (failed || h.broken.n.Load() != broken) && ctx.Err() == nil {
			// An empty or failed read can be answered with what it lost
			// now; one that brought an entry leaves that to the next read.
			h.lost.markSuspect(k)
			if err != nil && h.answerLost(ctx, next, k, xs) {
				err = nil
			}
		}
	}
	h.recordRead(ctx, cmd, groups, err)
	return err
}

// answerLost makes xs the answer of a read by k with an entry k lost, if any.
func (h *groupHook) answerLost(ctx context.Context, next goredis.ProcessHook, k consumerKey, xs *goredis.XStreamSliceCmd) bool {
	m, ok := h.lost.recover(ctx, next, k)
	if ok {
		h.log.WarnContext(ctx, "redis served a read whose answer was lost: the entry is delivered again",
			"stream", k.stream, "group", k.group, "consumer", k.consumer, "entry", m.ID)
		xs.SetVal([]goredis.XStream{{Stream: k.stream, Messages: []goredis.XMessage{m}}})
		xs.SetErr(nil)
	}
	return ok
}

// recreate creates every group the command names, with its stream if need
// be, and tells whether the command is worth retrying: whether each group now
// exists, made by this call or by a concurrent one (BUSYGROUP).
func (h *groupHook) recreate(ctx context.Context, next goredis.ProcessHook, groups []streamGroup) bool {
	for _, g := range groups {
		// Through next, so that a cluster client routes it by the stream's slot.
		create := goredis.NewStatusCmd(ctx, "xgroup", "create", g.stream, g.group, "0", "mkstream")
		err := next(ctx, create)
		if goredis.HasErrorPrefix(err, "BUSYGROUP") {
			continue
		}
		if err != nil {
			return false
		}
		h.log.WarnContext(ctx, "redis lost a consumer group: recreated it at the start of the stream",
			"stream", g.stream, "group", g.group)
	}
	return true
}

func (h *groupHook) recordRead(ctx context.Context, cmd goredis.Cmder, groups []streamGroup, err error) {
	if h.health == nil {
		return
	}
	if err != nil && !errors.Is(err, goredis.Nil) && ctx.Err() != nil {
		return // cut short by its own caller, not by Redis
	}
	for _, g := range groups {
		h.health.record(h, consumerOf(cmd, g), err, h.block)
	}
}

type streamGroup struct{ stream, group string }

// consumerOf is the consumer of g an XREADGROUP or XCLAIM is sent for: both
// name it third, after the stream or the word GROUP and the group.
func consumerOf(cmd goredis.Cmder, g streamGroup) consumerKey {
	return consumerKey{stream: g.stream, group: g.group, consumer: argString(cmd.Args(), 3)}
}

// groupsOf returns the streams and group of the commands a subscriber sends
// with its group, or nothing for any other command.
func groupsOf(cmd goredis.Cmder) []streamGroup {
	args := cmd.Args()
	switch cmd.Name() {
	case "xreadgroup":
		// XREADGROUP GROUP group consumer [options] STREAMS key... id...
		group := argString(args, 2)
		for i := 4; i < len(args); i++ {
			if !strings.EqualFold(argString(args, i), "streams") {
				continue
			}
			keys := args[i+1:]
			keys = keys[:len(keys)/2]
			out := make([]streamGroup, 0, len(keys))
			for j := range keys {
				out = append(out, streamGroup{stream: argString(keys, j), group: group})
			}
			return out
		}
	case "xpending", "xclaim", "xautoclaim":
		if len(args) > 2 {
			return []streamGroup{{stream: argString(args, 1), group: argString(args, 2)}}
		}
	case "xinfo":
		if len(args) > 3 && strings.EqualFold(argString(args, 1), "consumers") {
			return []streamGroup{{stream: argString(args, 2), group: argString(args, 3)}}
		}
	}
	return nil
}

// lostGroup tells whether err says the command's group (or, for XINFO, its
// stream) does not exist. A read blocked on a stream when it is deleted (a
// FLUSHALL) is woken with UNBLOCKED rather than NOGROUP.
func lostGroup(cmd goredis.Cmder, err error) bool {
	switch {
	case err == nil:
		return false
	case goredis.HasErrorPrefix(err, "NOGROUP"):
		return true
	case goredis.HasErrorPrefix(err, "UNBLOCKED"):
		return strings.Contains(err.Error(), "no longer exists")
	case cmd.Name() == "xinfo":
		return goredis.HasErrorPrefix(err, "no such key")
	}
	return false
}

func argString(args []any, i int) string {
	if i >= len(args) {
		return ""
	}
	switch a := args[i].(type) {
	case string:
		return a
	case []byte:
		return string(a)
	default:
		return fmt.Sprint(a)
	}
}
