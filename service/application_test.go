package service_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

// NewApplication builds every use case in one pass: none is left for a
// later step to fill in, so a port never meets a nil handler.
func TestNewApplicationWiresEveryUseCase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, dbURL := pgtest.NewPool(t)
	env := map[string]string{
		"CUSTOM_GPT_DATABASE_URL":  dbURL,
		"CUSTOM_GPT_REDIS_URL":     redistest.URL(),
		"CUSTOM_GPT_STREAM_PREFIX": redistest.Prefix(t),
		"CUSTOM_GPT_INSECURE_DEV":  "true",
	}
	cfg, err := service.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	log := discardLogger()
	in, err := service.Connect(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Close)
	a := service.NewApplication(service.Deps{Config: cfg, Infra: in, Tokens: service.NewTokenVerifier(cfg, in), Log: log})

	for _, group := range []reflect.Value{reflect.ValueOf(a.Commands), reflect.ValueOf(a.Queries)} {
		for i := range group.NumField() {
			if f := group.Field(i); f.IsZero() {
				t.Errorf("%s.%s is not wired", group.Type().Name(), group.Type().Field(i).Name)
			}
		}
	}
}
