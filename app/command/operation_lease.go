package command

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
)

// keepLease renews the lease of attempt while it runs, so that a slow attempt
// (a wait for a Memory Bank slot or budget, a forget of thousands of
// memories, mem0 still doing an add) keeps the operation, and returns the
// context the attempt must make its calls in. That context ends a margin before
// the lease would run out unrenewed (the database is unreachable, or another
// attempt took the operation), so no two workers ever call the Memory Bank for
// one operation at once. stop ends the renewals and reports the lease's loss,
// if it was lost. In a run (see Turns) it also renews the leases of the
// writes before it whose ends wait for this one's: they would otherwise run
// out under a slow attempt.
func (r runner) keepLease(ctx context.Context, id string, attempt int) (context.Context, func() error) {
	held := heldClaims(ctx)
	lease := r.cfg.Lease
	margin := min(lease/10, 2*time.Second)
	every := lease / 3
	ctx, cancel := context.WithCancelCause(ctx)
	var (
		mu       sync.Mutex
		lost     error
		deadline = time.Now().Add(lease - margin)
	)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		renew := time.NewTimer(every)
		defer renew.Stop()
		for {
			mu.Lock()
			expire := time.Until(deadline)
			mu.Unlock()
			giveUp := time.NewTimer(expire)
			select {
			case <-done:
				giveUp.Stop()
				return
			case <-giveUp.C:
				mu.Lock()
				lost = operation.ErrLeaseLost
				mu.Unlock()
				cancel(operation.ErrLeaseLost)
				return
			case <-renew.C:
				giveUp.Stop()
				at := time.Now()
				err := r.tx.InTx(context.WithoutCancel(ctx), func(ctx context.Context, tx Tx) error {
					op, err := tx.LockOperation(ctx, id)
					if err != nil {
						return err
					}
					if err := op.Renew(attempt, time.Now(), lease); err != nil {
						return err
					}
					if err := tx.SaveOperation(ctx, op); err != nil {
						return err
					}
					return renewHeld(ctx, tx, held, lease)
				})
				switch {
				case err == nil:
					mu.Lock()
					deadline = at.Add(lease - margin)
					mu.Unlock()
				case isLost(err):
					mu.Lock()
					lost = err
					mu.Unlock()
					cancel(err)
					return
				}
				// Any other failure (the database out of reach) keeps the old
				// deadline: the attempt stops before the lease would run out.
				renew.Reset(every)
			}
		}
	}()
	return ctx, func() error {
		close(done)
		<-finished
		cancel(nil)
		mu.Lock()
		defer mu.Unlock()
		return lost
	}
}

func isLost(err error) bool {
	return errors.Is(err, operation.ErrLeaseLost) || errors.Is(err, operation.ErrTerminal)
}

// renewHeld renews the leases of held, the claims of writes whose ends wait:
// one that another delivery took or ended meanwhile is left as it is (the
// run's end skips what ended).
func renewHeld(ctx context.Context, tx Tx, held []claimed, lease time.Duration) error {
	now := time.Now()
	return eachClaimed(ctx, tx, held, func(op *operation.Operation, c claimed) bool {
		return op.Renew(c.attempt, now, lease) == nil
	})
}
