package audit

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strconv"
)

// Each application's entries form a hash chain, appended by the database in
// the transaction that writes them (migration 00020): a link whenever an
// entry is written in a terminal status or its status changes, so an entry's
// latest link hashes its current content. Verifying recomputes every hash
// here, from the columns, not with the database's own functions.

// HashSize is the size of a content hash and of a link's hash (SHA-256).
const HashSize = sha256.Size

// genesis is what an application's first link follows.
var genesis [HashSize]byte

// contentFormat names the bytes ContentHash hashes; a new format would need
// a new name, so old links stay checkable.
const contentFormat = "custom_gpt_audit/1"

// ContentHash is the hash of e as its link records it: every column, each as
// its byte length, ':' and its text, or '~' when NULL (no operation, not
// completed), times as microseconds since the epoch. It must agree with the
// SQL function custom_gpt_audit_content.
func ContentHash(e Entry) [HashSize]byte {
	var b bytes.Buffer
	b.WriteString(contentFormat)
	field := func(s string) {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	null := func() { b.WriteByte('~') }
	field(strconv.FormatInt(e.ID, 10))
	field(e.AppID)
	field(e.EndUser)
	field(string(e.Action))
	field(string(e.Status))
	field(e.RequestID)
	if e.OperationID == "" {
		null()
	} else {
		field(e.OperationID)
	}
	field(e.Detail)
	field(strconv.FormatInt(e.OccurredAt.UnixMicro(), 10))
	if e.CompletedAt.IsZero() {
		null()
	} else {
		field(strconv.FormatInt(e.CompletedAt.UnixMicro(), 10))
	}
	field(e.CorrelationID)
	field(e.Channel)
	field(e.TraceID)
	return sha256.Sum256(b.Bytes())
}

// LinkHash is the hash of a link whose entry's content hashes to content,
// following the link whose hash is prev.
func LinkHash(prev, content [HashSize]byte) [HashSize]byte {
	return sha256.Sum256(append(prev[:], content[:]...))
}

// Lanes is how many chains each application has: a transaction appends to
// one of them, so transactions of one application do not wait for each
// other's commit to chain their entries.
const Lanes = 8

// Link is one link of one of an application's chains (its lane), as stored.
type Link struct {
	Lane        int
	Seq         int64
	EntryID     int64
	ContentHash []byte
	Hash        []byte
}

// Head is the last link of one of an application's chains, as stored apart
// from it.
type Head struct {
	Lane int
	Seq  int64
	Hash []byte
}

// Break is where an application's audit trail stops matching its chain.
type Break struct {
	AppID   string
	Lane    int
	Seq     int64 // the link at fault, in its lane; 0 when the entry has none
	EntryID int64 // the entry at fault; 0 when the link names none
	Reason  string
}

func (b *Break) Error() string {
	switch {
	case b.EntryID != 0 && b.Seq != 0:
		return fmt.Sprintf("app %s: entry %d (lane %d, link %d) %s", b.AppID, b.EntryID, b.Lane, b.Seq, b.Reason)
	case b.EntryID != 0:
		return fmt.Sprintf("app %s: entry %d %s", b.AppID, b.EntryID, b.Reason)
	}
	return fmt.Sprintf("app %s: lane %d, link %d %s", b.AppID, b.Lane, b.Seq, b.Reason)
}

// ChainCheck walks an application's chains: each link, lane by lane and in
// order (Next), then the heads they must end at (End).
type ChainCheck struct {
	app   string
	lanes [Lanes]*laneCheck
}

func NewChainCheck(appID string) *ChainCheck { return &ChainCheck{app: appID} }

// Links is how many links checked out so far.
func (c *ChainCheck) Links() int64 {
	var n int64
	for _, l := range c.lanes {
		if l != nil {
			n += l.links
		}
	}
	return n
}

// lane is the walk of lane n, begun when first asked for; nil when no such
// lane exists.
func (c *ChainCheck) lane(n int) *laneCheck {
	if n < 0 || n >= Lanes {
		return nil
	}
	if c.lanes[n] == nil {
		c.lanes[n] = &laneCheck{app: c.app, lane: n, prev: genesis}
	}
	return c.lanes[n]
}

// Next checks the next link of its lane. current is the entry the link names
// as it is now (nil when it is gone); latest says whether no later link, in
// any lane, names it, in which case its content must still be what the link
// hashed.
func (c *ChainCheck) Next(l Link, current *Entry, latest bool) *Break {
	lc := c.lane(l.Lane)
	if lc == nil {
		return &Break{AppID: c.app, Lane: l.Lane, Seq: l.Seq, EntryID: l.EntryID, Reason: "is in a lane that does not exist"}
	}
	return lc.next(l, current, latest)
}

// End checks that every lane ends where its head says: links removed from
// the end would otherwise go unseen, and a head whose lane has no links left
// had them all removed.
func (c *ChainCheck) End(heads []Head) *Break {
	ends := map[int]Head{}
	for _, h := range heads {
		ends[h.Lane] = h
	}
	for n := range Lanes {
		h, headed := ends[n]
		if c.lanes[n] == nil && !headed {
			continue
		}
		if b := c.lane(n).end(h); b != nil {
			return b
		}
	}
	return nil
}

// laneCheck walks one lane's chain.
type laneCheck struct {
	app   string
	lane  int
	seq   int64
	prev  [HashSize]byte
	links int64
}

func (c *laneCheck) broken(seq, entryID int64, reason string) *Break {
	return &Break{AppID: c.app, Lane: c.lane, Seq: seq, EntryID: entryID, Reason: reason}
}

func (c *laneCheck) next(l Link, current *Entry, latest bool) *Break {
	if l.Seq != c.seq+1 {
		return c.broken(c.seq+1, 0, fmt.Sprintf("is missing (the chain goes on at link %d)", l.Seq))
	}
	content, ok := hashOf(l.ContentHash)
	if !ok {
		return c.broken(l.Seq, l.EntryID, "has a content hash of the wrong size")
	}
	want := LinkHash(c.prev, content)
	switch {
	case !bytes.Equal(l.Hash, want[:]):
		return c.broken(l.Seq, l.EntryID, "does not follow the link before it: the chain was edited")
	case current == nil:
		return c.broken(l.Seq, l.EntryID, "was deleted")
	case current.AppID != c.app:
		return c.broken(l.Seq, l.EntryID, "was moved to another application")
	case latest && ContentHash(*current) != content:
		return c.broken(l.Seq, l.EntryID, "was changed after it was written")
	}
	c.seq, c.prev = l.Seq, want
	c.links++
	return nil
}

func (c *laneCheck) end(h Head) *Break {
	if h.Seq != c.seq || !bytes.Equal(h.Hash, c.prev[:]) {
		return c.broken(c.seq+1, 0, fmt.Sprintf("is missing: the chain's head is at link %d, its links end at %d", h.Seq, c.seq))
	}
	return nil
}

func hashOf(b []byte) ([HashSize]byte, bool) {
	var h [HashSize]byte
	if len(b) != HashSize {
		return h, false
	}
	copy(h[:], b)
	return h, true
}
