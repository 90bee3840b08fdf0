package service

import "time"

// Variables that protect the Memory Bank and keep the dead letters.
const (
	envMemoryBankRate   = "CUSTOM_GPT_MEMORY_BANK_RATE"
	envMemoryBankBurst  = "CUSTOM_GPT_MEMORY_BANK_BURST"
	envDeadLetterRetain = "CUSTOM_GPT_DEAD_LETTER_RETENTION"
	envResendAfter      = "CUSTOM_GPT_RESEND_AFTER"
)

// Protection bounds the worker's pressure on the Memory Bank and how long
// parked commands are kept.
type Protection struct {
	// Rate is the Memory Bank requests per second all worker processes share
	// (through Redis); 0 is no budget. Burst is how many may go at once.
	Rate, Burst int
	// DeadLetterRetention is how long a parked command stays replayable.
	DeadLetterRetention time.Duration
	// ResendAfter is how long an operation may stall, its command stream idle,
	// before its kept command is sent again (Redis lost it).
	ResendAfter time.Duration
}

func loadProtection(p *parser) Protection {
	r := Protection{
		Rate:                p.integer(envMemoryBankRate, 0, 0, 1_000_000),
		DeadLetterRetention: p.duration(envDeadLetterRetain, 14*24*time.Hour),
		ResendAfter:         p.duration(envResendAfter, 2*time.Minute),
	}
	r.Burst = p.integer(envMemoryBankBurst, max(r.Rate, 1), 1, 1_000_000)
	if r.Rate == 0 && p.str(envMemoryBankBurst, "") != "" {
		p.fail(envMemoryBankBurst, "is set but "+envMemoryBankRate+" is 0 (no budget); set both or neither")
	}
	return r
}
