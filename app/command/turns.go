package command

import (
	"context"
	"fmt"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// Turns hands a scope's turn to its next waiting write by running that write's
// command in the worker that ended the one before, instead of sending it to
// its stream again. Sent, it would queue behind every command the API
// published meanwhile, each of which the worker reads and finds waiting
// first: under a steady stream of writes to one scope the worker then stores
// almost nothing. Run here, the writes of a busy scope follow each other as
// fast as the Memory Bank takes them.
//
// A chain of turns is bounded (MaxChain writes, ChainFor long) so one scope
// does not keep a consumer from the others; the write at which it stops,
// and any whose attempt here failed, go to the stream as before, where
// their retries and dead-lettering apply. Its commands are delivered at least
// once either way: a write run here is also claimed under its lease.
type Turns struct {
	sender   CommandSender
	handlers map[string]func(context.Context, any) error
	most     int
	within   time.Duration
	handover Handover // nil: a write handed its turn runs in the context of the one that ended
}

// Handover gives a write handed its turn the context it runs in, and what to
// call with its outcome once it ran: the tracing of the wiring makes it a
// trace of its own, linked to the write that handed it over, since it
// belongs to another request than the one whose worker runs it.
type Handover func(ctx context.Context, command string) (context.Context, func(error))

// MarkHandovers runs each write handed its turn in the context h gives it.
// Call it while wiring, before any turn is handed over.
func (t *Turns) MarkHandovers(h Handover) { t.handover = h }

// Defaults of a chain of turns: long enough that a busy scope pays for the
// stream rarely, short enough that a consumer comes back to its stream often.
const (
	DefaultMaxChain = 256
	DefaultChainFor = 2 * time.Second
)

// NewTurns hands turns over through sender until handlers are routed to it
// with TakeTurns. A chain runs at most most writes for at most within; zero
// takes the defaults.
func NewTurns(sender CommandSender, most int, within time.Duration) *Turns {
	if most <= 0 {
		most = DefaultMaxChain
	}
	if within <= 0 {
		within = DefaultChainFor
	}
	return &Turns{sender: sender, handlers: map[string]func(context.Context, any) error{}, most: most, within: within}
}

// TakeTurns routes the commands of h's kind to h when a turn is handed to
// them. Call it while wiring, before any turn is handed over.
func TakeTurns[C any](t *Turns, h decorator.CommandHandler[C]) {
	var zero C
	t.handlers[events.Name(zero)] = func(ctx context.Context, cmd any) error {
		switch c := cmd.(type) {
		case *C:
			return h.Handle(ctx, *c)
		case C:
			return h.Handle(ctx, c)
		}
		return fmt.Errorf("a turn handed to %T, which the handler of %T does not take", cmd, zero)
	}
}

// chainKey marks a context that runs inside a chain of turns.
type chainKey struct{}

// chain carries the turn a write handed over back to the loop that runs them.
type chain struct {
	next    any
	claimed *claimed // next's claim, when the write before it claimed it
	ran     int      // writes run so far
	until   time.Time
}

// claimedKey carries, to the attempt of a write handed its turn, the claim
// the write before it made for it.
type claimedKey struct{}

func withClaimed(ctx context.Context, c claimed) context.Context {
	return context.WithValue(ctx, claimedKey{}, c)
}

// claimedFor is the claim made for operation id's attempt, if one was.
func claimedFor(ctx context.Context, id string) (claimed, bool) {
	c, ok := ctx.Value(claimedKey{}).(claimed)
	return c, ok && c.operationID == id
}

// willRun tells whether cmd, handed its turn in ctx, would be run here rather
// than sent: the write that ends may then claim it for the chain.
func (t *Turns) willRun(ctx context.Context, cmd any) bool {
	if _, ok := t.handlers[events.Name(cmd)]; !ok || ctx.Err() != nil {
		return false
	}
	c, ok := ctx.Value(chainKey{}).(*chain)
	return !ok || (c.ran < t.most && time.Now().Before(c.until))
}

// Send hands the turn to cmd. Inside a chain it only notes cmd for the loop
// that runs the chain, so a chain is a loop, not a recursion; otherwise it
// starts a chain here, or sends cmd to its stream when no handler takes it.
func (t *Turns) Send(ctx context.Context, cmd any) error {
	var claim *claimed
	if h, ok := cmd.(events.Command); ok {
		// ctx may carry the claim of the write that ended instead of cmd's.
		if c, ok := claimedFor(ctx, h.CommandHeader().OperationID); ok {
			claim = &c
		}
	}
	if c, ok := ctx.Value(chainKey{}).(*chain); ok {
		c.next, c.claimed = cmd, claim
		return nil
	}
	if _, ok := t.handlers[events.Name(cmd)]; !ok {
		return t.sender.Send(context.WithoutCancel(ctx), cmd)
	}
	t.run(context.WithValue(ctx, claimedKey{}, nil), &chain{next: cmd, claimed: claim})
	return nil
}

// run runs the chain that starts with c.next until no write waits for its
// turn, or the chain reached its bounds. A write the one before it claimed
// for the chain is always run: willRun said it would be.
func (t *Turns) run(ctx context.Context, c *chain) {
	ctx = context.WithValue(ctx, chainKey{}, c)
	c.until = time.Now().Add(t.within)
	for cmd := c.next; cmd != nil; cmd = c.next {
		handle, ok := t.handlers[events.Name(cmd)]
		if !ok || (c.claimed == nil && (c.ran >= t.most || ctx.Err() != nil || time.Now().After(c.until))) {
			break
		}
		runCtx := ctx
		if c.claimed != nil {
			runCtx = withClaimed(ctx, *c.claimed)
		}
		c.next, c.claimed = nil, nil
		c.ran++
		ended := func(error) {}
		if t.handover != nil {
			runCtx, ended = t.handover(runCtx, events.Name(cmd))
		}
		err := handle(runCtx, cmd)
		ended(err)
		if err != nil {
			// A "not yet" or a failure: the stream retries it (a claim made
			// for it was released or kept by its attempt, as for any attempt).
			c.next = cmd
			break
		}
	}
	if c.next != nil {
		// A lost send is found again by LostCommands: the write keeps its command.
		_ = t.sender.Send(context.WithoutCancel(ctx), c.next)
	}
}
