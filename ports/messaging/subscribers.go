package messaging

import (
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// Subscription is what a router asks of the subscriber it reads a stream
// with. Every consumer of one group shares the stream's messages: a group
// is named after a stable handler name, so a restart goes on where it stopped.
type Subscription struct {
	ConsumerGroup string
	Consumer      string // unique to the process and the handler
	// NackSleep delays the redelivery of a nacked message, so that a
	// failing message does not loop hot.
	NackSleep time.Duration
	// Commands says the subscriber reads a command stream: whether its reads
	// succeed tells whether the worker is ready.
	Commands bool
}

// SubscriberFactory opens the subscriber of a subscription. The wiring gives
// it, so the port knows no broker: how long an unacknowledged message waits
// before another consumer claims it, and readiness, are the broker's.
type SubscriberFactory func(Subscription) (message.Subscriber, error)
