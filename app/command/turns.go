package command

import (
	"context"
	"fmt"
	"slices"
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

// DefaultMaxRun is how many writes of an additive kind (creates) the
// transaction that ends a write claims at most, to be run one after another
// and ended together: long enough that a busy scope's commits are a small
// share of its writes, short enough that a failure sends few back.
const DefaultMaxRun = 32

// chainKey marks a context that runs inside a chain of turns.
type chainKey struct{}

// turn is a write handed its turn: its command, and its claim when the write
// before it claimed it for the chain.
type turn struct {
	cmd   any
	claim *claimed
}

// chain carries the turns a write handed over back to the loop that runs them.
type chain struct {
	queue   []turn // to run, in order
	ran     int    // writes run so far
	until   time.Time
	running any      // the command of the write that runs now
	claim   *claimed // and its claim, when the run claimed it
	// deferred are the ends of the writes of a run that ran before the
	// current one, left to the transaction that ends the last of the run;
	// unended are their commands, until a transaction ended them; held
	// their claims, whose leases the running attempt renews with its own.
	deferred []ending
	unended  []any
	held     []claimed
	// noForgetAfter, while set, is a place after which no forget of the
	// scope succeeded, as asked during the current run (see forgotAfter).
	noForgetAfter *int64
	flush         func(context.Context, []ending) error // ends deferred on their own
	release       func(context.Context, []claimed)      // gives back claims of writes not run
}

// defers tells whether the end of operation id, the write the chain runs
// now, waits for the end of the write after it: the next write of the run
// is claimed already, so its attempt runs before this one's end commits.
// Only writes of an additive kind are claimed in runs (see runLength), whose
// attempts read nothing an earlier one's end writes.
func (c *chain) defers(id string) bool {
	return c != nil && events.OperationID(c.running) == id && len(c.queue) > 0 && c.queue[0].claim != nil
}

// deferEnd leaves e to the end of the run.
func (c *chain) deferEnd(e ending, flush func(context.Context, []ending) error) {
	c.deferred = append(c.deferred, e)
	c.unended = append(c.unended, c.running)
	if c.claim != nil {
		c.held = append(c.held, *c.claim)
	}
	c.flush = flush
}

// endDeferred ends, in a transaction of their own, the writes whose ends
// the run deferred; false when that failed: their commands stay in
// unended, for the first to be sent to its stream. Either way it is not
// tried again.
func (c *chain) endDeferred(ctx context.Context) bool {
	if len(c.deferred) == 0 {
		return true
	}
	ok := c.flush(ctx, c.deferred) == nil
	if ok {
		c.unended = nil
	}
	c.deferred, c.held = nil, nil
	return ok
}

// heldClaims are the claims of the writes whose ends wait in ctx's chain.
func heldClaims(ctx context.Context) []claimed {
	if c, ok := ctx.Value(chainKey{}).(*chain); ok {
		return slices.Clone(c.held)
	}
	return nil
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

// claimedRunKey carries, with the turn a write hands over, the run of writes
// its transaction claimed.
type claimedRunKey struct{}

// claimedRun is what the transaction that ended a write claimed: cmds, the
// first of them the one handed its turn; claims, for a prefix of cmds; and
// how to give those back should they not run.
type claimedRun struct {
	cmds    []any
	claims  []claimed
	release func(context.Context, []claimed)
}

// turns are the turns of the run that starts with cmd, carried by ctx; cmd
// alone, unclaimed, when ctx carries none for it.
func runOf(ctx context.Context, cmd any) ([]turn, func(context.Context, []claimed)) {
	r, _ := ctx.Value(claimedRunKey{}).(*claimedRun)
	if r == nil || len(r.cmds) == 0 || r.cmds[0] != cmd {
		return []turn{{cmd: cmd}}, nil
	}
	turns := make([]turn, len(r.cmds))
	for i, c := range r.cmds {
		turns[i].cmd = c
		if i < len(r.claims) {
			turns[i].claim = &r.claims[i]
		}
	}
	return turns, r.release
}

// runLength is how many of next, the writes waiting after one that ends in
// ctx, the worker runs here: none when it would send the first to its
// stream; after the first, the writes that follow it while all are of an
// additive kind, within the chain's bounds.
func (t *Turns) runLength(ctx context.Context, next []any) int {
	if len(next) == 0 || ctx.Err() != nil {
		return 0
	}
	if _, ok := t.handlers[events.Name(next[0])]; !ok {
		return 0
	}
	budget := t.most
	if c, ok := ctx.Value(chainKey{}).(*chain); ok {
		if !time.Now().Before(c.until) {
			return 0
		}
		budget -= c.ran
	}
	if budget <= 0 {
		return 0
	}
	if !additive(next[0]) {
		return 1
	}
	n := 1
	for n < len(next) && n < budget && additive(next[n]) {
		if _, ok := t.handlers[events.Name(next[n])]; !ok {
			break
		}
		n++
	}
	return n
}

// additive tells whether cmd is the command of an additive kind.
func additive(cmd any) bool {
	k, ok := events.KindOfCommand(events.Name(cmd))
	return ok && k.Additive
}

// Send hands the turn to cmd, with the run of writes claimed after it if ctx
// carries one. Inside a chain it only queues them for the loop that runs the
// chain, so a chain is a loop, not a recursion; otherwise it starts a chain
// here, or sends cmd to its stream when no handler takes it.
func (t *Turns) Send(ctx context.Context, cmd any) error {
	turns, release := runOf(ctx, cmd)
	if c, ok := ctx.Value(chainKey{}).(*chain); ok {
		c.queue, c.release, c.noForgetAfter = turns, release, nil
		return nil
	}
	if _, ok := t.handlers[events.Name(cmd)]; !ok {
		return t.sender.Send(context.WithoutCancel(ctx), cmd)
	}
	ctx = context.WithValue(context.WithValue(ctx, claimedKey{}, nil), claimedRunKey{}, nil)
	t.run(ctx, &chain{queue: turns, release: release})
	return nil
}

// run runs the chain's queue until no write waits for its turn, or the chain
// reached its bounds. A write the one before it claimed for the chain is
// always run: runLength said it would be.
func (t *Turns) run(ctx context.Context, c *chain) {
	ctx = context.WithValue(ctx, chainKey{}, c)
	c.until = time.Now().Add(t.within)
	var stopped any // the write whose attempt here failed
	for len(c.queue) > 0 {
		next := c.queue[0]
		handle, ok := t.handlers[events.Name(next.cmd)]
		if !ok || (next.claim == nil && (c.ran >= t.most || ctx.Err() != nil || time.Now().After(c.until))) {
			break
		}
		if next.claim != nil && !next.claim.fresh(time.Now()) {
			// The run's claims have waited a third of their lease (slow
			// Memory Bank calls): the writes run so far end now, and the
			// rest run unclaimed, each write claiming itself in its turn.
			if !t.unclaim(ctx, c) {
				break
			}
			continue
		}
		c.queue = c.queue[1:]
		runCtx := ctx
		if next.claim != nil {
			runCtx = withClaimed(ctx, *next.claim)
		}
		c.running, c.claim = next.cmd, next.claim
		c.ran++
		ended := func(error) {}
		if t.handover != nil {
			runCtx, ended = t.handover(runCtx, events.Name(next.cmd))
		}
		err := handle(runCtx, next.cmd)
		ended(err)
		if err != nil {
			// A "not yet" or a failure: the stream retries it (a claim made
			// for it was released or kept by its attempt, as for any attempt).
			stopped = next.cmd
			break
		}
	}
	t.settle(context.WithoutCancel(ctx), c, stopped)
}

// unclaim ends the writes of the run that ran, gives back the claims of
// those that did not, and queues the first of those, unclaimed: the others
// wait for their turns again. False when the ends failed.
func (t *Turns) unclaim(ctx context.Context, c *chain) bool {
	ctx = context.WithoutCancel(ctx)
	if !c.endDeferred(ctx) {
		return false
	}
	t.releaseQueued(ctx, c)
	c.queue, c.noForgetAfter = []turn{{cmd: c.queue[0].cmd}}, nil
	return true
}

// releaseQueued gives back the claims of the writes queued.
func (t *Turns) releaseQueued(ctx context.Context, c *chain) {
	var claims []claimed
	for _, q := range c.queue {
		if q.claim != nil {
			claims = append(claims, *q.claim)
		}
	}
	if len(claims) > 0 && c.release != nil {
		c.release(ctx, claims)
	}
}

// settle ends what a chain that stopped left: the ends its run deferred,
// the claims of writes it did not run; and sends to the stream the write
// whose turn it is then. A lost send is found again by LostCommands: the
// write keeps its command.
func (t *Turns) settle(ctx context.Context, c *chain, stopped any) {
	c.endDeferred(ctx)
	t.releaseQueued(ctx, c)
	send := stopped
	switch {
	case len(c.unended) > 0:
		send = c.unended[0] // its end failed: its retry ends it and hands over
	case send == nil && len(c.queue) > 0:
		send = c.queue[0].cmd
	}
	if send != nil {
		_ = t.sender.Send(ctx, send)
	}
}
