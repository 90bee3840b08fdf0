package redis_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	goredis "github.com/redis/go-redis/v9"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
)

// What watermill-redisstream's claim loop logs when a stop cancels its call
// or closes its client under it is no error; anything else Redis fails is.
func TestSubscriberLoggerKeepsStopsOutOfErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err   error
		error bool
	}{
		{goredis.ErrClosed, false},
		{fmt.Errorf("xpending: %w", context.Canceled), false},
		{errors.New("ERR syntax error"), true},
		{errors.New("LOADING Redis is loading the dataset in memory"), true},
		{context.DeadlineExceeded, true},
	} {
		rec := watermill.NewCaptureLogger()
		redis.SubscriberLogger(rec).With(watermill.LogFields{"topic": "t"}).Error("xpendingext fail", c.err, nil)
		errorsLogged := len(rec.Captured()[watermill.ErrorLogLevel])
		debugLogged := len(rec.Captured()[watermill.DebugLogLevel])
		if (errorsLogged == 1) != c.error || errorsLogged+debugLogged != 1 {
			t.Errorf("%v: %d errors, %d debug lines; want an error: %v", c.err, errorsLogged, debugLogged, c.error)
		}
	}
}
